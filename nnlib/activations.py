"""Activation functions φ(z) and their derivatives φ'(z).

Every function takes the pre-activation ``z`` (any shape) and returns an array of the same
shape. The derivative functions take ``z`` and the already computed ``a = φ(z)``, because
backpropagation has both and several derivatives are cheapest written with ``a``
(tanh: 1 - a², logistic: a(1 - a)).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnlib._argument_validation import check_choice

# SELU constants (Klambauer et al., 2017), the same as PyTorch and Keras.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def linear(z):
    """Identity: φ(z) = z."""
    return z


def linear_derivative(z, a):
    """φ'(z) = 1."""
    return np.ones_like(z)


def logistic(z):
    """Logistic (sigmoid): φ(z) = 1 / (1 + e^{-z}).

    Written as ``0.5 * (1 + tanh(z / 2))``, the same function without overflow of e^{-z}
    for very negative z.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def logistic_derivative(z, a):
    """φ'(z) = φ(z) (1 - φ(z))."""
    return a * (1.0 - a)


def tanh(z):
    """Hyperbolic tangent: φ(z) = tanh(z)."""
    return np.tanh(z)


def tanh_derivative(z, a):
    """φ'(z) = 1 - tanh²(z)."""
    return 1.0 - a * a


def relu(z):
    """Rectified linear unit: φ(z) = max(0, z)."""
    return np.maximum(z, 0.0)


def relu_derivative(z, a):
    """φ'(z) = 1 if z > 0 else 0 (0 at z = 0, as PyTorch and Keras)."""
    return (z > 0).astype(z.dtype)


LEAKY_SLOPE = 0.01


def leaky_relu(z, slope=LEAKY_SLOPE):
    """Leaky ReLU: φ(z) = z if z > 0 else slope·z (slope 0.01, PyTorch's default).

    Keras' ``LeakyReLU`` uses a slope of 0.3 by default.
    """
    return np.where(z > 0, z, slope * z)


def leaky_relu_derivative(z, a, slope=LEAKY_SLOPE):
    """φ'(z) = 1 if z > 0 else slope."""
    return np.where(z > 0, 1.0, slope).astype(z.dtype)


def elu(z, alpha=1.0):
    """Exponential linear unit: φ(z) = z if z > 0 else α(e^z - 1), with α = 1."""
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_derivative(z, a, alpha=1.0):
    """φ'(z) = 1 if z > 0 else φ(z) + α."""
    return np.where(z > 0, 1.0, a + alpha).astype(z.dtype)


def selu(z):
    """Scaled ELU: φ(z) = λ z if z > 0 else λ α (e^z - 1), with the self-normalizing λ, α."""
    return SELU_SCALE * elu(z, SELU_ALPHA)


def selu_derivative(z, a):
    """φ'(z) = λ if z > 0 else φ(z) + λ α."""
    return np.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA).astype(z.dtype)


def softmax(z):
    """Softmax over the last axis: φ(z)_k = e^{z_k} / Σ_j e^{z_j}.

    The maximum of each row is subtracted first, which leaves the result unchanged and keeps
    e^{z} from overflowing.
    """
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_derivative(z, a):
    """Diagonal of the softmax Jacobian, a_k (1 - a_k).

    The full Jacobian is not diagonal; nnlib never backpropagates through a softmax with
    this function: the output layer pairs softmax with cross-entropy
    (:func:`nnlib.losses.softmax_cross_entropy`), whose gradient with respect to the
    logits is simply (a - y) / N.
    """
    return a * (1.0 - a)


@dataclass(frozen=True)
class Activation:
    """An activation function φ with its derivative φ'(z, a)."""

    name: str
    f: Callable
    df: Callable


ACTIVATIONS = {
    "linear": Activation("linear", linear, linear_derivative),
    "logistic": Activation("logistic", logistic, logistic_derivative),
    "tanh": Activation("tanh", tanh, tanh_derivative),
    "relu": Activation("relu", relu, relu_derivative),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_derivative),
    "elu": Activation("elu", elu, elu_derivative),
    "selu": Activation("selu", selu, selu_derivative),
    "softmax": Activation("softmax", softmax, softmax_derivative),
}


def get(name):
    """Return the :class:`Activation` called ``name`` (an Activation is returned as is)."""
    if isinstance(name, Activation):
        return name
    check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]
