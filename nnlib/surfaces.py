"""Two-dimensional cost surfaces J(w1, w2) for watching optimizers move.

Each surface has

- ``J(w)``: the cost for ``w`` of shape ``(..., 2)`` (one point, or a whole grid at once for
  contour plots);
- ``grad(w)``: the gradient ∇J, same shape as ``w`` (usually one point of shape (2,));
- ``minimum``: a known minimizer, shape (2,), or None; ``w0``: a good default start;
  ``bounds``: ``((w1_min, w1_max), (w2_min, w2_max))`` for plots; ``name``.

`run` drives any nnlib optimizer over a surface and returns the trajectory;
`contour_grid` evaluates J on a grid for ``plt.contour``.
"""

import numpy as np

from ._argument_validation import check_choice, check_finite_array, check_int, check_positive


def _split(w):
    """Return ``(w1, w2)`` from an array whose last axis has length 2."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w must have shape (..., 2), got shape {w.shape}")
    return w[..., 0], w[..., 1]


def _stack(d1, d2):
    """Stack two partial derivatives along a last axis of length 2."""
    return np.stack([d1, d2], axis=-1)


class Surface:
    """Base class: subclasses define ``J``, ``grad`` and the plotting attributes."""

    name = "surface"
    minimum = None
    saddle_point = None

    def __repr__(self):
        return f"{type(self).__name__}()"


class Quadratic(Surface):
    """Ill-conditioned bowl J(w) = (a w1² + b w2²) / 2.

    ∇J = (a w1, b w2); the Hessian is diag(a, b), so the condition number is b / a and
    gradient descent needs α < 2 / b to converge, while progress along w1 goes as (1 - α a).

    Parameters
    ----------
    a, b : float
        Positive curvatures along w1 and w2 (defaults 1 and 20).
    """

    name = "quadratic"

    def __init__(self, a=1.0, b=20.0):
        self.a = check_positive("a", a)
        self.b = check_positive("b", b)
        self.minimum = np.zeros(2)
        self.w0 = np.array([-4.0, 1.5])
        self.bounds = ((-5.0, 5.0), (-2.0, 2.0))

    def J(self, w):
        """J(w) = (a w1² + b w2²) / 2 for w of shape (..., 2)."""
        w1, w2 = _split(w)
        return 0.5 * (self.a * w1**2 + self.b * w2**2)

    def grad(self, w):
        """∇J(w) = (a w1, b w2)."""
        w1, w2 = _split(w)
        return _stack(self.a * w1, self.b * w2)

    def __repr__(self):
        return f"Quadratic(a={self.a:g}, b={self.b:g})"


class Rosenbrock(Surface):
    """Rosenbrock's banana valley J(w) = (a - w1)² + b (w2 - w1²)².

    ∇J = (-2 (a - w1) - 4 b w1 (w2 - w1²), 2 b (w2 - w1²)); minimum at (a, a²), at the end
    of a long, flat, curved valley.

    Parameters
    ----------
    a, b : float
        Defaults 1 and 100 (b > 0).
    """

    name = "rosenbrock"

    def __init__(self, a=1.0, b=100.0):
        self.a = float(np.asarray(a, dtype=np.float64))
        self.b = check_positive("b", b)
        self.minimum = np.array([self.a, self.a**2])
        self.w0 = np.array([-1.2, 1.0])
        self.bounds = ((-2.0, 2.0), (-1.0, 3.0))

    def J(self, w):
        """J(w) = (a - w1)² + b (w2 - w1²)² for w of shape (..., 2)."""
        w1, w2 = _split(w)
        return (self.a - w1) ** 2 + self.b * (w2 - w1**2) ** 2

    def grad(self, w):
        """∇J(w) = (-2 (a - w1) - 4 b w1 (w2 - w1²), 2 b (w2 - w1²))."""
        w1, w2 = _split(w)
        valley = w2 - w1**2
        return _stack(-2 * (self.a - w1) - 4 * self.b * w1 * valley, 2 * self.b * valley)

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Beale(Surface):
    """Beale's function J(w) = Σ_k (c_k - w1 + w1 w2^k)², k = 1, 2, 3, c = (1.5, 2.25, 2.625).

    ∂J/∂w1 = Σ_k 2 t_k (w2^k - 1), ∂J/∂w2 = Σ_k 2 t_k k w1 w2^(k-1), with t_k the k-th
    residual. Minimum J = 0 at (3, 0.5); flat plateaus and steep walls elsewhere.
    """

    name = "beale"
    C = (1.5, 2.25, 2.625)

    def __init__(self):
        self.minimum = np.array([3.0, 0.5])
        self.w0 = np.array([1.0, 1.5])
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))

    def _powers(self, w2):
        """(w2, w2², w2³), by products (faster than ``**`` on large grids)."""
        w2_sq = w2 * w2
        return w2, w2_sq, w2_sq * w2

    def _residuals(self, w1, w2):
        """t_k = c_k - w1 + w1 w2^k for k = 1, 2, 3."""
        return [c - w1 + w1 * p for c, p in zip(self.C, self._powers(w2))]

    def J(self, w):
        """J(w) = Σ_k t_k² for w of shape (..., 2)."""
        t = self._residuals(*_split(w))
        return t[0] ** 2 + t[1] ** 2 + t[2] ** 2

    def grad(self, w):
        """∇J(w) = (Σ_k 2 t_k (w2^k - 1), Σ_k 2 t_k k w1 w2^(k-1))."""
        w1, w2 = _split(w)
        t = self._residuals(w1, w2)
        p1, p2, p3 = self._powers(w2)
        d1 = 2 * (t[0] * (p1 - 1) + t[1] * (p2 - 1) + t[2] * (p3 - 1))
        d2 = 2 * w1 * (t[0] + 2 * t[1] * p1 + 3 * t[2] * p2)
        return _stack(d1, d2)


class Saddle(Surface):
    """Saddle J(w) = w1² - w2², ∇J = (2 w1, -2 w2); no minimum (J is unbounded below).

    The origin is a saddle point (``saddle_point``): ∇J = 0 there but it is a minimum
    along w1 and a maximum along w2. Starting on the w1 axis, gradient descent stops at
    the saddle; any w2 ≠ 0 grows as (1 + 2α)^t and the trajectory eventually diverges.
    """

    name = "saddle"

    def __init__(self):
        self.saddle_point = np.zeros(2)
        self.w0 = np.array([-1.5, 1e-3])
        self.bounds = ((-2.0, 2.0), (-2.0, 2.0))

    def J(self, w):
        """J(w) = w1² - w2² for w of shape (..., 2)."""
        w1, w2 = _split(w)
        return w1**2 - w2**2

    def grad(self, w):
        """∇J(w) = (2 w1, -2 w2)."""
        w1, w2 = _split(w)
        return _stack(2 * w1, -2 * w2)


class BoundedSaddle(Surface):
    """A saddle with a floor: J(w) = w1² - w2² + w2⁴ / 2, ∇J = (2 w1, 2 w2³ - 2 w2).

    Saddle point at the origin (J = 0) and two minima at (0, ±1) (J = -1/2): an optimizer
    that escapes the saddle lands in one of them. ``minimum`` is (0, 1).
    """

    name = "bounded_saddle"

    def __init__(self):
        self.saddle_point = np.zeros(2)
        self.minimum = np.array([0.0, 1.0])
        self.w0 = np.array([-1.5, 1e-3])
        self.bounds = ((-2.0, 2.0), (-1.6, 1.6))

    def J(self, w):
        """J(w) = w1² - w2² + w2⁴ / 2 for w of shape (..., 2)."""
        w1, w2 = _split(w)
        w2_sq = w2 * w2
        return w1**2 - w2_sq + 0.5 * w2_sq * w2_sq

    def grad(self, w):
        """∇J(w) = (2 w1, 2 w2³ - 2 w2)."""
        w1, w2 = _split(w)
        return _stack(2 * w1, 2 * w2 * w2 * w2 - 2 * w2)


SURFACES = {cls.name: cls for cls in (Quadratic, Rosenbrock, Beale, Saddle, BoundedSaddle)}


def get(name, **kwargs):
    """Return a new surface by name (a key of `SURFACES`), e.g. ``get("quadratic", b=50)``."""
    check_choice("surface", name, SURFACES)
    return SURFACES[name](**kwargs)


def run(optimizer, surface, w0=None, steps=100):
    """Run ``steps`` optimizer steps on ``surface`` and return the trajectory.

    Each step calls ``optimizer.step([w], lambda ws: [surface.grad(ws[0])])``, which updates
    ``w`` in place (Nesterov evaluates the gradient at its look-ahead point through ``ws``).

    Parameters
    ----------
    optimizer : object with ``step(params, grad_fn)``
        Any nnlib optimizer (its state is NOT reset here; call ``reset()`` to reuse it).
    surface : Surface
    w0 : array_like, shape (2,), optional
        Start; default ``surface.w0``.
    steps : int
        Number of steps (>= 0).

    Returns
    -------
    numpy.ndarray, shape (steps + 1, 2), float64
        Row 0 is w0, row t the weights after t steps. If w stops being finite (divergence)
        the run stops and only the finite rows are returned, so fewer than steps + 1.
    """
    steps = check_int("steps", steps, low=0)
    w0 = surface.w0 if w0 is None else w0
    w = check_finite_array("w0", w0, ndim=1).astype(np.float64)  # a new array
    if w.shape != (2,):
        raise ValueError(f"w0 must have shape (2,), got {w.shape}")
    path = np.empty((steps + 1, 2))
    path[0] = w
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            optimizer.step([w], lambda ws: [surface.grad(ws[0])])
            if not np.all(np.isfinite(w)):
                return path[:t].copy()
            path[t] = w
    return path


def contour_grid(surface, n=200, bounds=None):
    """Evaluate J on an ``n`` x ``n`` grid for ``plt.contour(W1, W2, J)``.

    Parameters
    ----------
    surface : Surface
    n : int
        Points per axis (>= 2).
    bounds : ((float, float), (float, float)), optional
        Default ``surface.bounds``.

    Returns
    -------
    W1, W2, J : numpy.ndarray, each shape (n, n)
        ``W1, W2 = np.meshgrid(...)``, so rows follow w2 and columns w1.
    """
    n = check_int("n", n, low=2)
    (x0, x1), (y0, y1) = surface.bounds if bounds is None else bounds
    W1, W2 = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return W1, W2, surface.J(np.stack([W1, W2], axis=-1))
