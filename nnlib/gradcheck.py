"""Gradient checking with central finite differences.

Back-propagation code is easy to get subtly wrong; comparing its gradient with

    ∂J/∂w_i ≈ (J(w + ε e_i) - J(w - ε e_i)) / (2ε)

(error O(ε²)) catches almost every bug. With float64 and ε = 1e-6 a correct gradient gives
a relative error around 1e-9 or smaller; a wrong one, around 1e-2 or larger.
"""

import numpy as np

from ._argument_validation import check_positive

TINY = np.finfo(np.float64).tiny


def numerical_gradient(f, w, eps=1e-6):
    """Central-difference gradient of a scalar function ``f`` at ``w``.

    Parameters
    ----------
    f : callable
        ``f(w) -> float``. It may read ``w`` through any alias (e.g. ``net.w``), because the
        entries are perturbed IN PLACE.
    w : numpy.ndarray of float64
        The point. Each entry is perturbed, then restored to its exact original value
        (also if ``f`` raises), so ``w`` is unchanged bit for bit on return.
    eps : float
        Step ε > 0.

    Returns
    -------
    numpy.ndarray
        New array g, same shape as ``w``, g_i = (f(w + ε e_i) - f(w - ε e_i)) / (2ε).
    """
    eps = check_positive("eps", eps)
    if not isinstance(w, np.ndarray) or w.dtype != np.float64:
        raise TypeError(f"w must be a float64 numpy array, got {type(w).__name__} "
                        f"{getattr(w, 'dtype', '')}")
    g = np.empty_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        try:
            w[i] = old + eps
            f_plus = _scalar(f(w))
            w[i] = old - eps
            f_minus = _scalar(f(w))
        finally:
            w[i] = old
        g[i] = (f_plus - f_minus) / (2 * eps)
    return g


def _scalar(value):
    """The value of f as a float; f must return one number."""
    if np.ndim(value) != 0 and np.size(value) != 1:
        raise ValueError(f"f must return a scalar, got shape {np.shape(value)}")
    return float(np.asarray(value).reshape(()))


def relative_error(a, b):
    """max|a - b| / max(|a| + |b|), the denominator floored at the smallest positive float.

    Parameters
    ----------
    a, b : array_like, same shape

    Returns
    -------
    float
        0 for identical arrays (also all-zero ones); at most 1.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), TINY))


def check_network(net, X, Y, loss, eps=1e-6):
    """Relative error between a network's back-propagated gradient and finite differences.

    Parameters
    ----------
    net : object
        With a flat float64 parameter vector ``net.w`` and
        ``net.loss_and_gradient(X, Y, loss) -> (J, g)``, like ``nnlib.network.MLP``.
    X, Y : numpy.ndarray
        Inputs and targets (a few examples suffice).
    loss : str or callable
        Passed through to ``net.loss_and_gradient``.
    eps : float
        Finite-difference step ε > 0.

    Returns
    -------
    float
        ``relative_error(g_backprop, g_numerical)``; ``net.w`` is left unchanged.
    """
    g = np.array(net.loss_and_gradient(X, Y, loss)[1], dtype=np.float64)  # copy: net.g is reused
    g_num = numerical_gradient(lambda _: net.loss_and_gradient(X, Y, loss)[0], net.w, eps)
    return relative_error(g, g_num)
