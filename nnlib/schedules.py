"""Schedules for the passo de aprendizagem: callables ``j -> α_j``.

``j`` is the number of training iterations (steps) already taken, 0 at the first step; this
is what the optimizers in :mod:`nnlib.optim` pass when ``alpha`` is a schedule. Each
schedule accepts a scalar ``j`` (int or float, returns a float) or an array of ``j``
(returns an array of α_j, handy for plotting).
"""

import numbers

import numpy as np

from nnlib._argument_validation import check_int, check_positive

__all__ = ["Schedule", "Constant", "LinearDecay", "StepDecay", "ExponentialDecay"]


def _check_decay_factor(name, value):
    """A multiplicative decay factor in (0, 1]."""
    value = check_positive(name, value)
    if value > 1:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return value


class Schedule:
    """Base class: checks ``j`` and calls ``_alpha(j)`` on a float array."""

    def __call__(self, j):
        scalar = np.ndim(j) == 0
        if scalar and (isinstance(j, bool) or not isinstance(j, (numbers.Real, np.ndarray))):
            raise TypeError(f"j must be a number or an array of numbers, got {j!r} ({type(j).__name__})")
        j_array = np.asarray(j)
        if j_array.dtype == bool or not np.issubdtype(j_array.dtype, np.number):
            raise TypeError(f"j must be a number or an array of numbers, got dtype {j_array.dtype}")
        j_array = j_array.astype(float)
        if np.any(np.isnan(j_array)) or np.any(j_array < 0):
            raise ValueError(f"j (the iteration number) must be >= 0, got {j!r}")
        alpha = self._alpha(j_array)
        return float(alpha) if scalar else alpha

    def _alpha(self, j):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    r"""A fixed passo de aprendizagem: :math:`\alpha_j = \alpha`.

    Parameters
    ----------
    alpha : float
        α > 0.
    """

    def __init__(self, alpha):
        self.alpha = check_positive("alpha", alpha)

    def _alpha(self, j):
        return np.full_like(j, self.alpha)


class LinearDecay(Schedule):
    r"""The slides' linear decay from α_0 (at j = 0) to α_τ (at j = τ), then constant.

    Parameters
    ----------
    alpha0 : float
        α_0 > 0, the passo de aprendizagem at the first iteration.
    alpha_tau : float
        α_τ > 0, the value reached at iteration τ and kept afterwards.
    tau : int or float
        τ > 0, the iteration at which the decay ends.

    Notes
    -----
    .. math::
        \alpha_j = \left(1 - \frac{j}{\tau}\right)\alpha_0 + \frac{j}{\tau}\alpha_\tau
        \quad (j \le \tau), \qquad \alpha_j = \alpha_\tau \quad (j > \tau)

    Same α_j as Keras ``PolynomialDecay(initial_learning_rate=alpha0, decay_steps=tau,
    end_learning_rate=alpha_tau, power=1)`` and as PyTorch
    ``LinearLR(optimizer, start_factor=1.0, end_factor=alpha_tau / alpha0, total_iters=tau)``
    on an optimizer with ``lr=alpha0`` (PyTorch's defaults are set up for warm-up instead).
    """

    def __init__(self, alpha0, alpha_tau, tau):
        self.alpha0 = check_positive("alpha0", alpha0)
        self.alpha_tau = check_positive("alpha_tau", alpha_tau)
        self.tau = check_positive("tau", tau)

    def _alpha(self, j):
        frac = np.minimum(j / self.tau, 1.0)  # j / τ, held at 1 after τ
        return (1 - frac) * self.alpha0 + frac * self.alpha_tau


class StepDecay(Schedule):
    r"""Multiply the passo de aprendizagem by ``drop`` every ``every`` iterations.

    Parameters
    ----------
    alpha0 : float
        α_0 > 0.
    drop : float
        Factor in (0, 1].
    every : int
        Number of iterations ≥ 1 between drops.

    Notes
    -----
    .. math:: \alpha_j = \alpha_0 \cdot \text{drop}^{\lfloor j / \text{every} \rfloor}

    PyTorch: ``StepLR(optimizer, step_size=every, gamma=drop)`` with ``lr=alpha0``.
    """

    def __init__(self, alpha0, drop, every):
        self.alpha0 = check_positive("alpha0", alpha0)
        self.drop = _check_decay_factor("drop", drop)
        self.every = check_int("every", every, low=1)

    def _alpha(self, j):
        return self.alpha0 * self.drop ** np.floor(j / self.every)


class ExponentialDecay(Schedule):
    r"""Multiply the passo de aprendizagem by γ at every iteration.

    Parameters
    ----------
    alpha0 : float
        α_0 > 0.
    gamma : float
        Factor γ in (0, 1].

    Notes
    -----
    .. math:: \alpha_j = \alpha_0 \gamma^j

    PyTorch: ``ExponentialLR(optimizer, gamma=gamma)`` with ``lr=alpha0``; Keras:
    ``ExponentialDecay(alpha0, decay_steps=1, decay_rate=gamma)``.
    """

    def __init__(self, alpha0, gamma):
        self.alpha0 = check_positive("alpha0", alpha0)
        self.gamma = _check_decay_factor("gamma", gamma)

    def _alpha(self, j):
        return self.alpha0 * self.gamma**j
