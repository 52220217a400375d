"""Weight-update rules: SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam.

Every optimizer has the same interface::

    opt = Momentum(alpha=0.01, mu=0.9)
    g = opt.step(params, grad_fn)

``params`` is a list of float arrays (for a network, ``net.params``: views into the flat
weight vector w). ``step`` updates them **in place** and returns the list of gradients it
used. ``grad_fn(ws)`` must return the list of gradients of J at the arrays ``ws`` it is
given: every rule calls ``grad_fn(params)`` except Nesterov, which calls it at the
look-ahead point ``[w + mu * v for each w]``, as in the slides.

``alpha`` (the passo de aprendizagem α) is a float or a schedule: any callable ``j -> α_j``
(see :mod:`nnlib.schedules`), where ``j`` is the number of steps already taken (0 at the
first step). The attribute ``t`` counts the steps taken; ``reset()`` clears ``t`` and the
state (v, r, m, s), which is allocated from the parameter shapes at the first step, one
array per parameter array, with the parameter's dtype.

The body of each rule is written line for line in the slides' symbols; see
``docs/conventions.md`` for how PyTorch, Keras and scikit-learn differ.
"""

import numbers

import numpy as np

from nnlib._argument_validation import check_choice, check_positive, check_unit_interval

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam", "get"]


def _check_alpha(alpha):
    """``alpha`` is a number > 0 or a schedule (a callable ``j -> α_j``)."""
    if callable(alpha):
        return alpha
    return check_positive("alpha", alpha)


def _check_eps(eps):
    return check_positive("eps", eps)


class Optimizer:
    """Common machinery: argument checks, the state, the step counter ``t``.

    Subclasses list their state arrays in ``_state_names`` and write the rule for one
    parameter array in ``_update(w, g, alpha, *state)``.
    """

    _state_names = ()

    def __init__(self, alpha):
        self.alpha = _check_alpha(alpha)
        self.reset()

    def reset(self):
        """Forget the state and set ``t = 0``: the next step is a first step again."""
        self.t = 0
        for name in self._state_names:
            setattr(self, name, None)

    def learning_rate(self):
        """α_j for the next step, with j = ``t`` (the number of steps already taken)."""
        if not callable(self.alpha):
            return self.alpha
        j = self.t
        alpha = self.alpha(j)
        if isinstance(alpha, np.ndarray) and alpha.ndim == 0:
            alpha = alpha.item()
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise TypeError(
                f"alpha schedule must return a real number, got {alpha!r} "
                f"({type(alpha).__name__}) at step j={j}"
            )
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(
                f"alpha schedule returned {alpha!r} at step j={j}; alpha must be a finite number > 0"
            )
        return alpha

    def step(self, params, grad_fn):
        """Update ``params`` in place with one step of the rule; return the gradients used.

        Parameters
        ----------
        params : list of numpy.ndarray
            Float arrays, updated in place (views into a larger array are fine).
        grad_fn : callable
            ``grad_fn(ws)`` returns the list of gradients of J at the arrays ``ws``.

        Returns
        -------
        list of numpy.ndarray
            The gradients g the update used (at the look-ahead point for Nesterov).
        """
        self._check_params(params)
        if not callable(grad_fn):
            raise TypeError(f"grad_fn must be callable, got {type(grad_fn).__name__}")
        if self._state_names and getattr(self, self._state_names[0]) is None:
            self._allocate_state(params)  # first step after creation or reset()
        self._check_state(params)
        alpha = self.learning_rate()
        grads = self._check_grads(self._gradients(params, grad_fn), params)
        self.t += 1  # t counts this step: t = 1 during the first update (Adam's bias correction)
        states = [getattr(self, name) for name in self._state_names]
        for w, g, *state in zip(params, grads, *states):
            self._update(w, g, alpha, *state)
        return grads

    # -- pieces a subclass may override -------------------------------------------------

    def _gradients(self, params, grad_fn):
        """g at the current weights (Nesterov overrides this with the look-ahead point)."""
        return grad_fn(params)

    def _update(self, w, g, alpha, *state):
        raise NotImplementedError

    # -- checks and state ---------------------------------------------------------------

    def _allocate_state(self, params):
        for name in self._state_names:
            setattr(self, name, [np.zeros_like(w) for w in params])

    def _check_params(self, params):
        if not isinstance(params, (list, tuple)):
            raise TypeError(f"params must be a list of float numpy arrays, got {type(params).__name__}")
        if len(params) == 0:
            raise ValueError("params must be a non-empty list of float numpy arrays, got []")
        for i, w in enumerate(params):
            if not isinstance(w, np.ndarray) or not np.issubdtype(w.dtype, np.floating):
                kind = f"array of dtype {w.dtype}" if isinstance(w, np.ndarray) else type(w).__name__
                raise TypeError(f"params[{i}] must be a float numpy array, got {kind}")

    def _check_state(self, params):
        if not self._state_names:
            return
        state = getattr(self, self._state_names[0])
        shapes = [w.shape for w in params]
        if len(state) != len(params) or [s.shape for s in state] != shapes:
            raise ValueError(
                f"params must have the shapes the state was allocated for, "
                f"{[s.shape for s in state]}, got {shapes}; call reset() to start over"
            )

    @staticmethod
    def _check_grads(grads, params):
        grads = [np.asarray(g) for g in grads]
        if len(grads) != len(params):
            raise ValueError(f"grad_fn must return {len(params)} gradient(s), one per parameter array, got {len(grads)}")
        for i, (g, w) in enumerate(zip(grads, params)):
            if g.shape != w.shape:
                raise ValueError(f"gradient {i} must have shape {w.shape}, like params[{i}], got {g.shape}")
        return grads

    def _hyper(self):
        return {"alpha": self.alpha}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Gradient descent: ``w = w - alpha * g``.

    Parameters
    ----------
    alpha : float or callable, default 0.01
        Passo de aprendizagem α > 0, or a schedule ``j -> α_j``.

    Notes
    -----
    .. math:: w \leftarrow w - \alpha g

    With ``g`` from one example, a mini-batch or the whole set this is online, mini-batch or
    batch gradient descent. PyTorch: ``torch.optim.SGD(lr=alpha)``.
    """

    def __init__(self, alpha=0.01):
        super().__init__(alpha)

    def _update(self, w, g, alpha):
        w -= alpha * g


class Momentum(Optimizer):
    r"""Gradient descent with the termo momento.

    Parameters
    ----------
    alpha : float or callable, default 0.01
        Passo de aprendizagem α > 0, or a schedule ``j -> α_j``.
    mu : float, default 0.9
        Coeficiente de momento μ in [0, 1).

    Attributes
    ----------
    v : list of numpy.ndarray or None
        The velocity, one array per parameter array (None before the first step).

    Notes
    -----
    The slides' form (Keras and scikit-learn use it too), with :math:`v_0 = 0`:

    .. math::
        v \leftarrow \mu v - \alpha g, \qquad w \leftarrow w + v

    PyTorch ``SGD(lr=alpha, momentum=mu)`` stores :math:`b \leftarrow \mu b + g` and does
    :math:`w \leftarrow w - \alpha b`: the same as :math:`v = -\alpha b` while α is constant,
    but different under a decaying α (PyTorch rescales the whole history by the current α).
    """

    _state_names = ("v",)

    def __init__(self, alpha=0.01, mu=0.9):
        super().__init__(alpha)
        self.mu = check_unit_interval("mu", mu)

    def _update(self, w, g, alpha, v):
        v[...] = self.mu * v - alpha * g
        w += v

    def _hyper(self):
        return {"alpha": self.alpha, "mu": self.mu}


class Nesterov(Momentum):
    r"""Momento de Nesterov: the momentum rule with the gradient at the look-ahead point.

    Parameters
    ----------
    alpha : float or callable, default 0.01
        Passo de aprendizagem α > 0, or a schedule ``j -> α_j``.
    mu : float, default 0.9
        Coeficiente de momento μ in [0, 1).

    Notes
    -----
    As in the slides, ``grad_fn`` is called at :math:`w + \mu v`:

    .. math::
        v \leftarrow \mu v - \alpha g(w + \mu v), \qquad w \leftarrow w + v

    PyTorch (``SGD(momentum=mu, nesterov=True)``), Keras and scikit-learn store the
    look-ahead point :math:`\tilde w = w + \mu v` instead of w and take the gradient at the
    stored parameters. Their parameters equal this class's ``w + mu * v`` at every step.
    """

    def _gradients(self, params, grad_fn):
        lookahead = [w + self.mu * v for w, v in zip(params, self.v)]
        return grad_fn(lookahead)


class AdaGrad(Optimizer):
    r"""AdaGrad: a passo de aprendizagem per weight, shrinking with the squared gradients.

    Parameters
    ----------
    alpha : float or callable, default 0.01
        Global passo de aprendizagem α > 0, or a schedule ``j -> α_j``.
    eps : float, default 1e-10
        ε > 0, added outside the square root to avoid a division by zero.

    Attributes
    ----------
    r : list of numpy.ndarray or None
        Sum of the squared gradients, one array per parameter array, :math:`r_0 = 0`.

    Notes
    -----
    .. math::
        r \leftarrow r + g \odot g, \qquad
        w \leftarrow w - \frac{\alpha}{\sqrt{r} + \epsilon} \odot g

    This is PyTorch's ``Adagrad(lr=alpha, eps=eps, initial_accumulator_value=0)``.
    Keras starts from :math:`r_0 = 0.1` and puts ε inside the root,
    :math:`\sqrt{r + \epsilon}` (ε = 1e-7).
    """

    _state_names = ("r",)

    def __init__(self, alpha=0.01, eps=1e-10):
        super().__init__(alpha)
        self.eps = _check_eps(eps)

    def _update(self, w, g, alpha, r):
        r[...] = r + g * g
        w -= alpha * g / (np.sqrt(r) + self.eps)

    def _hyper(self):
        return {"alpha": self.alpha, "eps": self.eps}


class RMSProp(Optimizer):
    r"""RMSProp: AdaGrad with an exponentially decaying average of squared gradients.

    Parameters
    ----------
    alpha : float or callable, default 0.001
        Global passo de aprendizagem α > 0, or a schedule ``j -> α_j``.
    rho : float, default 0.9
        Decay rate ρ in [0, 1).
    eps : float, default 1e-8
        ε > 0, added outside the square root.

    Attributes
    ----------
    r : list of numpy.ndarray or None
        Moving average of the squared gradients, one array per parameter array, :math:`r_0 = 0`.

    Notes
    -----
    .. math::
        r \leftarrow \rho r + (1 - \rho) g \odot g, \qquad
        w \leftarrow w - \frac{\alpha}{\sqrt{r} + \epsilon} \odot g

    This is PyTorch's ``RMSprop(lr=alpha, alpha=rho, eps=eps)``: beware, PyTorch names the
    decay rate ``alpha`` (default 0.99). Keras uses ρ = 0.9 and :math:`\sqrt{r + \epsilon}`
    (ε inside the root, 1e-7).
    """

    _state_names = ("r",)

    def __init__(self, alpha=0.001, rho=0.9, eps=1e-8):
        super().__init__(alpha)
        self.rho = check_unit_interval("rho", rho)
        self.eps = _check_eps(eps)

    def _update(self, w, g, alpha, r):
        r[...] = self.rho * r + (1 - self.rho) * g * g
        w -= alpha * g / (np.sqrt(r) + self.eps)

    def _hyper(self):
        return {"alpha": self.alpha, "rho": self.rho, "eps": self.eps}


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, Algorithm 1): moving averages of g and g², bias-corrected.

    Parameters
    ----------
    alpha : float or callable, default 0.001
        Passo de aprendizagem α > 0, or a schedule ``j -> α_j``.
    beta1 : float, default 0.9
        Decay rate β1 in [0, 1) of the first moment m.
    beta2 : float, default 0.999
        Decay rate β2 in [0, 1) of the second moment s.
    eps : float, default 1e-8
        ε > 0, added outside the square root.

    Attributes
    ----------
    m, s : list of numpy.ndarray or None
        First and second moment estimates, one array per parameter array, zero at the start.
        (Libraries call the second moment ``v``; in nnlib ``v`` is the slides' velocity.)

    Notes
    -----
    With t incremented *before* it is used (t = 1 at the first step):

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        s \leftarrow \beta_2 s + (1 - \beta_2) g \odot g,

        \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat s = \frac{s}{1 - \beta_2^t}, \qquad
        w \leftarrow w - \frac{\alpha\, \hat m}{\sqrt{\hat s} + \epsilon}

    This is PyTorch's ``Adam(lr=alpha, betas=(beta1, beta2), eps=eps)``. Keras and
    scikit-learn use the "epsilon hat" form :math:`\alpha_t = \alpha\sqrt{1-\beta_2^t}/(1-\beta_1^t)`,
    :math:`w \leftarrow w - \alpha_t m / (\sqrt{s} + \hat\epsilon)`, which equals this one with
    :math:`\epsilon_t = \hat\epsilon / \sqrt{1 - \beta_2^t}`: equal defaults do not give
    identical trajectories.
    """

    _state_names = ("m", "s")

    def __init__(self, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(alpha)
        self.beta1 = check_unit_interval("beta1", beta1)
        self.beta2 = check_unit_interval("beta2", beta2)
        self.eps = _check_eps(eps)

    def _update(self, w, g, alpha, m, s):
        t = self.t  # already incremented by step(): 1 at the first step
        m[...] = self.beta1 * m + (1 - self.beta1) * g
        s[...] = self.beta2 * s + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**t)
        s_hat = s / (1 - self.beta2**t)
        w -= alpha * m_hat / (np.sqrt(s_hat) + self.eps)

    def _hyper(self):
        return {"alpha": self.alpha, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def get(name, **hyper):
    """Build an optimizer from its name.

    Parameters
    ----------
    name : str
        One of ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
        ``"adam"`` (case-insensitive).
    **hyper
        Keyword hyper-parameters of that class (``alpha``, ``mu``, ``rho``, ``beta1``,
        ``beta2``, ``eps``).

    Examples
    --------
    >>> get("adam", alpha=0.01)
    Adam(alpha=0.01, beta1=0.9, beta2=0.999, eps=1e-08)
    """
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {name!r} ({type(name).__name__})")
    key = check_choice("optimizer", name.lower(), OPTIMIZERS)
    return OPTIMIZERS[key](**hyper)
