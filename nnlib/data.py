"""Small data sets for the lectures and exercises, and two preprocessing helpers.

Every generator is deterministic given its ``rng`` (an explicit ``numpy.random.Generator``)
and returns float64 inputs ``X`` of shape ``(N, d)``. Classification targets are integer
labels of shape ``(N,)`` (use `one_hot` for the network's ``(N, K)`` targets); regression
targets are documented per function. Generated examples come in a random order, so any
slice mixes the classes.
"""

import importlib.util
import os

import numpy as np

from ._argument_validation import (check_finite_array, check_int, check_non_negative,
                                   check_real, check_rng)


def _check_fraction(name, value, high=1.0, include_high=False):
    """``0 < value < high`` (or ``<= high`` when ``include_high``)."""
    value = check_real(name, value)
    ok = 0.0 < value < high or (include_high and value == high)
    if not ok:
        raise ValueError(f"{name} must be in (0, {high:g}{']' if include_high else ')'}, "
                         f"got {value!r}")
    return value


def _shuffle(rng, X, y):
    """Apply one random permutation to the examples of ``X`` and ``y``."""
    order = rng.permutation(len(X))
    return X[order], y[order]


def one_hot(labels, k):
    """One-hot targets: row ``i`` has a 1 in column ``labels[i]``.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Class indices in ``[0, k)``.
    k : int
        Number of classes K >= 1.

    Returns
    -------
    numpy.ndarray, shape (N, k), float64
    """
    k = check_int("k", k, low=1)
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be a 1-D integer array, got shape {labels.shape} "
                        f"and dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must be in [0, {k - 1}], got values from {labels.min()} "
                         f"to {labels.max()}")
    Y = np.zeros((labels.size, k))
    Y[np.arange(labels.size), labels] = 1.0
    return Y


def _digits_table():
    """The (1797, 65) table of scikit-learn's digits: 64 pixels, then the label.

    Read straight from the file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``,
    what ``load_digits`` reads): importing ``sklearn.datasets`` takes about a second, a large
    part of the time nbgrader needs to grade a notebook that only wants these numbers.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin is not None:
        path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            return np.loadtxt(path, delimiter=",", dtype=np.float64)
    from sklearn.datasets import load_digits  # another layout: let scikit-learn find it

    bunch = load_digits()
    return np.column_stack([bunch.data, bunch.target]).astype(np.float64)


def digits(rng=None):
    """The 8x8 handwritten digits of scikit-learn (1797 images, 10 classes, no download).

    Parameters
    ----------
    rng : numpy.random.Generator or None
        If given, the examples are shuffled with it; if None, scikit-learn's order is kept.

    Returns
    -------
    X : numpy.ndarray, shape (1797, 64), float64
        Pixel intensities scaled from 0..16 to [0, 1] (divided by 16).
    y : numpy.ndarray, shape (1797,), int64
        Digit labels 0..9.
    """
    table = _digits_table()
    X = table[:, :-1] / 16.0
    y = table[:, -1].astype(np.int64)
    if rng is None:
        return X, y
    return _shuffle(check_rng(rng), X, y)


def two_moons(n, noise, rng):
    """Two interleaving half circles (same construction as scikit-learn's ``make_moons``).

    Class 0 is the upper moon ``(cos t, sin t)``, class 1 the lower
    ``(1 - cos t, 0.5 - sin t)``, t in [0, π]; then N(0, noise²) is added to each coordinate.

    Parameters
    ----------
    n : int
        Number of examples N >= 2 (``n // 2`` in class 0, the rest in class 1).
    noise : float
        Standard deviation of the Gaussian noise (>= 0).
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64
    """
    n = check_int("n", n, low=2)
    noise = check_non_negative("noise", noise)
    check_rng(rng)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + rng.normal(0.0, noise, size=(n, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n - n0])
    return _shuffle(rng, X, y)


def spirals(n_per_class, n_classes, noise, rng):
    """Interleaved spiral arms, one per class (the cs231n "spiral" data set).

    Arm k: radius r from 0 to 1 and angle θ from 4k to 4(k + 1) radians plus
    N(0, noise²); the point is ``(r sin θ, r cos θ)``. Not linearly separable.

    Parameters
    ----------
    n_per_class : int
        Examples per class (>= 1).
    n_classes : int
        Number of classes K >= 2.
    noise : float
        Standard deviation of the angle noise (>= 0, radians; 0.2 is a usual value).
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape (n_per_class * n_classes, 2), float64
    y : numpy.ndarray, shape (n_per_class * n_classes,), int64
    """
    n_per_class = check_int("n_per_class", n_per_class, low=1)
    n_classes = check_int("n_classes", n_classes, low=2)
    noise = check_non_negative("noise", noise)
    check_rng(rng)
    k = np.repeat(np.arange(n_classes), n_per_class)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    theta = 4.0 * (k + r) + rng.normal(0.0, noise, size=k.size)
    X = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return _shuffle(rng, X, k.astype(np.int64))


def regression_1d_target(x):
    """The smooth function behind `regression_1d`: f(x) = sin(2πx) + x / 2."""
    return np.sin(2 * np.pi * x) + 0.5 * x


def regression_1d(n, noise, rng):
    """Noisy samples of a smooth 1-D function, for an MLP regressor.

    ``x ~ U(-1, 1)``, ``y = sin(2πx) + x / 2 + N(0, noise²)`` (see `regression_1d_target`).

    Parameters
    ----------
    n : int
        Number of examples N >= 1.
    noise : float
        Standard deviation of the target noise (>= 0).
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape (n, 1), float64
    y : numpy.ndarray, shape (n, 1), float64
        Column targets, the shape of a one-output network's prediction.
    """
    n = check_int("n", n, low=1)
    noise = check_non_negative("noise", noise)
    check_rng(rng)
    X = rng.uniform(-1.0, 1.0, size=(n, 1))
    return X, regression_1d_target(X) + rng.normal(0.0, noise, size=(n, 1))


W_TRUE_2W = np.array([1.0, 2.0])
SCALES_2W = np.array([1.0, 0.25])


def regression_2w(n, rng, noise=0.1):
    """Linear regression with two weights and no bias: y = w1 x1 + w2 x2 + noise.

    ``x1 ~ N(0, 1)`` and ``x2 ~ N(0, 0.25²)``: the MSE surface J(w1, w2) is an elongated
    bowl (curvatures differ by about 16x), the classic picture for gradient descent
    zig-zagging and for momentum. The true weights are ``w = (1, 2)``.

    Parameters
    ----------
    n : int
        Number of examples N >= 2.
    rng : numpy.random.Generator
    noise : float
        Standard deviation of the target noise (>= 0).

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), float64
        A vector, so that ``X @ w - y`` is the error vector for ``w`` of shape (2,).
    w : numpy.ndarray, shape (2,), float64
        The true weights (a copy).
    """
    n = check_int("n", n, low=2)
    noise = check_non_negative("noise", noise)
    check_rng(rng)
    X = rng.normal(size=(n, 2)) * SCALES_2W
    y = X @ W_TRUE_2W + rng.normal(0.0, noise, size=n)
    return X, y, W_TRUE_2W.copy()


def mse_surface(X, y, W1, W2):
    """J(w1, w2) = (1/N) Σ_i (y_i - w1 x_i1 - w2 x_i2)² on a grid, without a loop.

    Expanding the square, J(w) = wᵀ A w - 2 bᵀ w + c with A = XᵀX / N, b = Xᵀy / N and
    c = yᵀy / N, so the cost of the grid does not grow with N.

    Parameters
    ----------
    X : array_like, shape (N, 2)
    y : array_like, shape (N,) or (N, 1)
    W1, W2 : array_like, same shape (for example from ``np.meshgrid``)

    Returns
    -------
    numpy.ndarray, shape of ``W1``
    """
    X = check_finite_array("X", X, ndim=2).astype(np.float64)
    y = check_finite_array("y", y).astype(np.float64).reshape(-1)
    if X.shape[1] != 2 or y.size != X.shape[0]:
        raise ValueError(f"X must have shape (N, 2) and y N values, got X {X.shape}, "
                         f"y {y.size} values")
    W1, W2 = np.asarray(W1, np.float64), np.asarray(W2, np.float64)
    if W1.shape != W2.shape:
        raise ValueError(f"W1 and W2 must have the same shape, got {W1.shape} and {W2.shape}")
    N = X.shape[0]
    A, b, c = X.T @ X / N, X.T @ y / N, y @ y / N
    quad = A[0, 0] * W1**2 + 2 * A[0, 1] * W1 * W2 + A[1, 1] * W2**2
    return quad - 2 * (b[0] * W1 + b[1] * W2) + c


def imbalanced(n, minority_fraction, rng):
    """Two overlapping Gaussian classes with a rare class 1 (for the focal loss).

    Class 0 ~ N((0, 0), I), class 1 ~ N((1.5, 1.5), I); ``round(n * minority_fraction)``
    examples (at least 1, at most n - 1) are of class 1.

    Parameters
    ----------
    n : int
        Number of examples N >= 2.
    minority_fraction : float
        Fraction of class 1, in (0, 0.5].
    rng : numpy.random.Generator

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64
    """
    n = check_int("n", n, low=2)
    minority_fraction = _check_fraction("minority_fraction", minority_fraction, 0.5, True)
    check_rng(rng)
    n1 = min(max(int(round(n * minority_fraction)), 1), n - 1)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n - n1, n1])
    X = rng.normal(size=(n, 2)) + 1.5 * y[:, None]
    return _shuffle(rng, X, y)


def standardize(X_train, *others):
    """Standardize with the TRAINING mean and standard deviation: (X - mean) / std.

    Columns with std = 0 (constant features, e.g. blank digit pixels) are divided by 1.

    Parameters
    ----------
    X_train : array_like, shape (N, d)
    *others : array_like, shape (M, d)
        Validation or test sets, transformed with the training statistics.

    Returns
    -------
    tuple
        ``(X_train_s, *others_s, mean, std)``, new float64 arrays, e.g.
        ``Xtr, Xva, mean, std = standardize(Xtr, Xva)``.
    """
    X_train = check_finite_array("X_train", X_train, ndim=2).astype(np.float64)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    out = [(X_train - mean) / std]
    for i, X in enumerate(others):
        X = check_finite_array(f"others[{i}]", X, ndim=2).astype(np.float64)
        if X.shape[1] != X_train.shape[1]:
            raise ValueError(f"others[{i}] must have {X_train.shape[1]} columns, "
                             f"got shape {X.shape}")
        out.append((X - mean) / std)
    return (*out, mean, std)


def train_val_split(X, y, val_fraction, rng):
    """Random split into training and validation sets (not stratified).

    Parameters
    ----------
    X : array_like, shape (N, d)
    y : array_like, first dimension N
    val_fraction : float
        Fraction in (0, 1) of the examples for validation (rounded, at least 1 example
        on each side).
    rng : numpy.random.Generator

    Returns
    -------
    X_train, X_val, y_train, y_val : numpy.ndarray
        In scikit-learn's ``train_test_split`` order.
    """
    X, y = np.asarray(X), np.asarray(y)
    val_fraction = _check_fraction("val_fraction", val_fraction)
    check_rng(rng)
    N = len(X)
    if N < 2 or len(y) != N:
        raise ValueError(f"X and y need the same number N >= 2 of examples, got {N} and {len(y)}")
    n_val = min(max(int(round(N * val_fraction)), 1), N - 1)
    order = rng.permutation(N)
    val, train = order[:n_val], order[n_val:]
    return X[train], X[val], y[train], y[val]
