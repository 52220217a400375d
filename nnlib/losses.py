"""Cost functions J and their gradients with respect to the network's output.

Reduction: every loss is the MEAN over the N examples of the batch it is given, so the
gradient of a mini-batch is the mean of the per-example gradients (the slides' identity).
MSE is also averaged over the outputs, exactly as the slides define J.

Classification losses take logits (the output layer is linear) and apply softmax or the
logistic function inside, which is both the numerically stable way and what PyTorch's
``CrossEntropyLoss`` / ``BCEWithLogitsLoss`` do (Keras needs ``from_logits=True``).
Targets of ``softmax_cross_entropy`` are integer labels of shape (N,) or one-hot (N, K);
binary losses take 0/1 targets of shape (N,) or (N, 1).
"""

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from nnlib._argument_validation import check_choice, check_non_negative, check_real
from nnlib.activations import logistic, softmax


def _targets_like(y_pred, y):
    """Regression targets in the output's float dtype and shape ((N,) is accepted for (N, 1))."""
    y = np.asarray(y, dtype=np.result_type(y_pred, np.float32))
    if y.size == y_pred.size:
        y = y.reshape(y_pred.shape)
    if y_pred.shape != y.shape:
        raise ValueError(f"targets have shape {y.shape}, but the network's output has shape {y_pred.shape}")
    return y


def mse(y_pred, y):
    """Mean squared error, J = 1/(N N_M) Σ_n Σ_j (d_j(n) - y_j(n))².

    Mean over examples AND outputs, as in the slides. PyTorch ``MSELoss()`` and Keras
    ``MeanSquaredError`` reduce the same way; scikit-learn's MLPRegressor uses half of it.
    """
    y_pred = np.asarray(y_pred)
    y = _targets_like(y_pred, y)
    e = y - y_pred
    return float(np.mean(e * e))


def mse_grad(y_pred, y):
    """∂J/∂y_pred = 2 (y_pred - d) / (N N_M)."""
    y_pred = np.asarray(y_pred)
    y = _targets_like(y_pred, y)
    return 2.0 * (y_pred - y) / y_pred.size


def softmax_cross_entropy_value_and_grad(logits, y):
    """J and ∂J/∂z of :func:`softmax_cross_entropy` from one softmax (what training calls).

    With integer labels no one-hot matrix is built: the gradient is softmax(z) with 1
    subtracted at each example's class, divided by N.
    """
    logits = np.asarray(logits)
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        one_hot = _one_hot_like(logits, y)
        log_p = log_softmax(logits)
        n = logits.shape[0]
        return float(-np.sum(one_hot * log_p) / n), (np.exp(log_p) - one_hot) / n
    n, k = logits.shape
    if y.shape != (n,) or y.min() < 0 or y.max() >= k:
        _one_hot_like(logits, y)  # raises the error that says what is wrong
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1)
    J = float((np.log(total) - shifted[rows, y]).sum()) / n
    grad = e / total[:, None]
    grad[rows, y] -= 1.0
    grad /= n
    return J, grad


def _one_hot_like(logits, y):
    """Targets as a one-hot (N, K) array of the logits' dtype."""
    y = np.asarray(y)
    n, k = logits.shape
    if y.shape == (n,):
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"class labels must be integers, got dtype {y.dtype}")
        if y.min() < 0 or y.max() >= k:
            raise ValueError(f"class labels must be in [0, {k - 1}], got values in [{y.min()}, {y.max()}]")
        one_hot = np.zeros((n, k), dtype=logits.dtype)
        one_hot[np.arange(n), y] = 1.0
        return one_hot
    if y.shape == (n, k):
        return y.astype(logits.dtype, copy=False)
    raise ValueError(f"targets must be labels of shape ({n},) or one-hot of shape ({n}, {k}), got shape {y.shape}")


def log_softmax(z):
    """log softmax(z) over the last axis, computed as z - max - log Σ e^{z - max}."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax_cross_entropy(logits, y):
    """Cross-entropy of softmax(logits), J = -1/N Σ_n Σ_k d_k(n) log softmax(z(n))_k.

    Same value as PyTorch ``CrossEntropyLoss()`` on logits and Keras
    ``CategoricalCrossentropy(from_logits=True)``.
    """
    logits = np.asarray(logits)
    one_hot = _one_hot_like(logits, y)
    return float(-np.sum(one_hot * log_softmax(logits)) / logits.shape[0])


def softmax_cross_entropy_grad(logits, y):
    """∂J/∂z = (softmax(z) - d) / N."""
    logits = np.asarray(logits)
    return (softmax(logits) - _one_hot_like(logits, y)) / logits.shape[0]


def _binary_targets(logits, y):
    y = np.asarray(y, dtype=logits.dtype)
    if y.size != logits.size:
        raise ValueError(f"targets have shape {y.shape}, but the network's output has shape {logits.shape}")
    y = y.reshape(logits.shape)
    if np.any((y != 0) & (y != 1)):
        raise ValueError("binary targets must be 0 or 1")
    return y


def _softplus(x):
    """log(1 + e^x) without overflow."""
    return np.logaddexp(0.0, x)


def binary_cross_entropy(logits, y):
    """Binary cross-entropy of σ(z): J = -1/N Σ [d log σ(z) + (1 - d) log(1 - σ(z))].

    Written as softplus(z) - d z, which never takes the log of 0 (PyTorch
    ``BCEWithLogitsLoss``).
    """
    logits = np.asarray(logits)
    y = _binary_targets(logits, y)
    return float(np.mean(_softplus(logits) - y * logits))


def binary_cross_entropy_grad(logits, y):
    """∂J/∂z = (σ(z) - d) / N."""
    logits = np.asarray(logits)
    y = _binary_targets(logits, y)
    return (logistic(logits) - y) / logits.size


def focal_loss(logits, y, gamma=2.0, alpha=0.25):
    """Binary focal loss (Lin et al., 2017), mean over examples.

    FL = -1/N Σ α_t (1 - p_t)^γ log p_t, with p = σ(z), p_t = p if d = 1 else 1 - p,
    α_t = α if d = 1 else 1 - α. γ = 0 and α = 0.5 give half the binary cross-entropy.
    torchvision's ``sigmoid_focal_loss`` (reduction="mean") computes the same value.
    """
    gamma, _, alpha_t, pt, log_pt = _focal_terms(logits, y, gamma, alpha)
    return _focal_value(gamma, alpha_t, pt, log_pt)


def focal_loss_grad(logits, y, gamma=2.0, alpha=0.25):
    """∂FL/∂z = s α_t [γ p_t (1 - p_t)^γ log p_t - (1 - p_t)^(γ+1)] / N, with s = 2d - 1."""
    gamma, s, alpha_t, pt, log_pt = _focal_terms(logits, y, gamma, alpha)
    return _focal_grad(gamma, s, alpha_t, pt, log_pt)


def focal_loss_value_and_grad(logits, y, gamma=2.0, alpha=0.25):
    """FL and ∂FL/∂z of :func:`focal_loss` from one p_t (what training calls)."""
    gamma, s, alpha_t, pt, log_pt = _focal_terms(logits, y, gamma, alpha)
    return _focal_value(gamma, alpha_t, pt, log_pt), _focal_grad(gamma, s, alpha_t, pt, log_pt)


def _focal_terms(logits, y, gamma, alpha):
    """γ, s = 2d - 1, α_t, p_t and log p_t of every example."""
    logits = np.asarray(logits)
    y = _binary_targets(logits, y)
    gamma, alpha = _check_focal(gamma, alpha)
    s = 2.0 * y - 1.0  # +1 for the positive class, -1 for the negative one
    log_pt = -_softplus(-s * logits)  # log σ(s z) = log p_t
    pt = np.exp(log_pt)
    alpha_t = np.where(y == 1, alpha, 1.0 - alpha)
    return gamma, s, alpha_t, pt, log_pt


def _focal_value(gamma, alpha_t, pt, log_pt):
    return float(np.mean(-alpha_t * (1.0 - pt) ** gamma * log_pt))


def _focal_grad(gamma, s, alpha_t, pt, log_pt):
    per_example = s * alpha_t * (gamma * pt * (1.0 - pt) ** gamma * log_pt - (1.0 - pt) ** (gamma + 1.0))
    return per_example / pt.size


def _check_focal(gamma, alpha):
    gamma = check_non_negative("gamma", gamma)
    alpha = check_real("alpha", alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    return gamma, alpha


@dataclass(frozen=True)
class Loss:
    """A cost function J(output, targets) with its gradient ∂J/∂output.

    ``output`` names the activation the network's last layer must have for this loss
    (cross-entropy losses take logits, so their network ends with a linear layer).
    """

    name: str
    value: Callable
    grad: Callable
    output: str = "any"
    classification: bool = False
    fused: Callable = None  # value and gradient in one pass, where that saves work

    def value_and_grad(self, out, y):
        """(J, ∂J/∂output) together."""
        if self.fused is not None:
            return self.fused(out, y)
        return self.value(out, y), self.grad(out, y)


LOSSES = {
    "mse": Loss("mse", mse, mse_grad),
    "softmax_cross_entropy": Loss(
        "softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_grad, "linear", True,
        softmax_cross_entropy_value_and_grad,
    ),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_grad, "linear", True
    ),
    "focal_loss": Loss("focal_loss", focal_loss, focal_loss_grad, "linear", True, focal_loss_value_and_grad),
}


def get(name, **hyper):
    """Return the :class:`Loss` called ``name``; keyword hyper-parameters (focal: gamma, alpha).

    ``get("focal_loss", gamma=2.0, alpha=0.25)``. A Loss is returned as is.
    """
    if isinstance(name, Loss):
        return name
    check_choice("loss", name, LOSSES)
    loss = LOSSES[name]
    if not hyper:
        return loss
    if name != "focal_loss":
        raise TypeError(f"loss {name!r} takes no hyper-parameters, got {sorted(hyper)}")
    unknown = set(hyper) - {"gamma", "alpha"}
    if unknown:
        raise TypeError(f"focal_loss takes gamma and alpha, got {sorted(unknown)}")
    _check_focal(hyper.get("gamma", 2.0), hyper.get("alpha", 0.25))
    return Loss(
        "focal_loss", partial(focal_loss, **hyper), partial(focal_loss_grad, **hyper), "linear", True,
        partial(focal_loss_value_and_grad, **hyper),
    )
