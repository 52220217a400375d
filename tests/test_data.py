"""Tests for nnlib.data: shapes, dtypes, determinism, references, argument checks."""

import numpy as np
import pytest

from nnlib import data


def rng(seed=0):
    return np.random.default_rng(seed)


def sort_rows(X, y):
    order = np.lexsort((y, X[:, 1], X[:, 0]))
    return X[order], y[order]


GENERATORS = {
    "two_moons": lambda g: data.two_moons(101, 0.1, g),
    "spirals": lambda g: data.spirals(50, 3, 0.2, g),
    "regression_1d": lambda g: data.regression_1d(40, 0.1, g),
    "regression_2w": lambda g: data.regression_2w(40, g, noise=0.1),
    "imbalanced": lambda g: data.imbalanced(200, 0.1, g),
    "digits": lambda g: data.digits(g),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_deterministic_given_rng(name):
    a, b = GENERATORS[name](rng(3)), GENERATORS[name](rng(3))
    c = GENERATORS[name](rng(4))
    for u, v in zip(a, b):
        assert np.array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name", GENERATORS)
def test_float64_inputs_and_target_types(name):
    X, y = GENERATORS[name](rng(1))[:2]
    assert type(X) is np.ndarray and X.dtype == np.float64 and X.ndim == 2
    assert len(y) == len(X) and np.all(np.isfinite(X))
    if name.startswith("regression"):
        assert y.dtype == np.float64
    else:
        assert y.dtype == np.int64 and y.ndim == 1


def test_two_moons_matches_sklearn_without_noise():
    make_moons = pytest.importorskip("sklearn.datasets").make_moons
    for n in (10, 11):
        X, y = data.two_moons(n, 0.0, rng(0))
        Xr, yr = make_moons(n_samples=n, shuffle=False, noise=None)
        Xa, ya = sort_rows(X, y)
        Xb, yb = sort_rows(Xr, yr)
        np.testing.assert_allclose(Xa, Xb, rtol=0, atol=1e-15)
        assert np.array_equal(ya, yb)


def test_two_moons_noise_level():
    X0, y0 = data.two_moons(4000, 0.0, rng(5))
    X, y = data.two_moons(4000, 0.2, rng(5))
    assert np.array_equal(y, y0)  # same shuffle, noise drawn before it
    assert np.std(X - X0) == pytest.approx(0.2, rel=0.03)
    assert np.bincount(y).tolist() == [2000, 2000]


def test_spirals_without_noise_match_cs231n_loop():
    n, K = 20, 3
    X, y = data.spirals(n, K, 0.0, rng(0))
    ref = []
    for k in range(K):  # cs231n's loop, with the noise removed
        r = np.linspace(0.0, 1, n)
        t = np.linspace(k * 4, (k + 1) * 4, n)
        ref.append(np.c_[r * np.sin(t), r * np.cos(t)])
    Xr, yr = np.vstack(ref), np.repeat(np.arange(K), n)
    Xa, ya = sort_rows(X, y)
    Xb, yb = sort_rows(Xr, yr)
    np.testing.assert_allclose(Xa, Xb, atol=1e-12)
    assert np.array_equal(ya, yb)


def test_spirals_classes_and_radius():
    X, y = data.spirals(30, 4, 0.3, rng(2))
    assert X.shape == (120, 2) and np.bincount(y).tolist() == [30] * 4
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1 + 1e-12)
    assert len(np.unique(y[:20])) > 1  # shuffled: a slice mixes the classes


def test_regression_1d_shape_and_function():
    X, y = data.regression_1d(500, 0.0, rng(0))
    assert X.shape == (500, 1) and y.shape == (500, 1)
    assert np.all(np.abs(X) <= 1)
    np.testing.assert_allclose(y, np.sin(2 * np.pi * X) + X / 2, rtol=0, atol=1e-15)
    _, y_noisy = data.regression_1d(500, 0.3, rng(0))
    assert np.std(y_noisy - y) == pytest.approx(0.3, rel=0.1)


def test_regression_2w_least_squares_recovers_w_and_bowl_is_elongated():
    X, y, w = data.regression_2w(2000, rng(0), noise=0.1)
    assert X.shape == (2000, 2) and y.shape == (2000,) and w.shape == (2,)
    w_hat = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(w_hat, w, atol=0.05)
    curvatures = np.linalg.eigvalsh(X.T @ X / len(X))
    assert curvatures[1] / curvatures[0] > 10
    w[0] = 99.0  # the returned w is a copy
    assert data.regression_2w(5, rng(0))[2][0] != 99.0


def test_mse_surface_equals_direct_mean():
    X, y, w = data.regression_2w(50, rng(1), noise=0.3)
    W1, W2 = np.meshgrid(np.linspace(-1, 3, 7), np.linspace(0, 4, 5))
    J = data.mse_surface(X, y, W1, W2)
    direct = np.array([[np.mean((y - X @ np.array([a, b])) ** 2) for a, b in zip(r1, r2)]
                       for r1, r2 in zip(W1, W2)])
    assert J.shape == W1.shape
    np.testing.assert_allclose(J, direct, rtol=1e-12)
    np.testing.assert_allclose(data.mse_surface(X, y[:, None], W1, W2), J)


def test_mse_surface_minimum_at_least_squares():
    X, y, _ = data.regression_2w(100, rng(2))
    w_hat = np.linalg.lstsq(X, y, rcond=None)[0]
    d = 1e-3
    J = data.mse_surface(X, y, w_hat[0] + np.array([0, d, -d, 0, 0]),
                         w_hat[1] + np.array([0, 0, 0, d, -d]))
    assert np.all(J[1:] > J[0])


def test_imbalanced_counts_and_separation():
    X, y = data.imbalanced(1000, 0.05, rng(0))
    assert np.bincount(y).tolist() == [950, 50]
    assert X[y == 1].mean(axis=0) == pytest.approx([1.5, 1.5], abs=0.35)
    assert X[y == 0].mean(axis=0) == pytest.approx([0.0, 0.0], abs=0.1)
    assert np.bincount(data.imbalanced(10, 0.01, rng(0))[1]).tolist() == [9, 1]


def test_digits():
    X, y = data.digits()
    assert X.shape == (1797, 64) and X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.unique(y), np.arange(10))
    Xs, ys = data.digits(rng(0))
    assert not np.array_equal(ys, y)
    order = np.lexsort(np.column_stack([Xs, ys]).T)
    ref = np.lexsort(np.column_stack([X, y]).T)
    assert np.array_equal(Xs[order], X[ref]) and np.array_equal(ys[order], y[ref])


def test_digits_are_scikit_learns_load_digits_without_importing_it():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    X, y = data.digits()
    bunch = load_digits()
    np.testing.assert_array_equal(X, bunch.data / 16.0)
    np.testing.assert_array_equal(y, bunch.target)
    assert y.dtype == np.int64 and X.dtype == np.float64
    code = "import sys, nnlib.data; nnlib.data.digits(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_one_hot():
    Y = data.one_hot(np.array([2, 0, 1, 2]), 3)
    assert Y.dtype == np.float64
    assert Y.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert np.array_equal(Y.argmax(axis=1), [2, 0, 1, 2])
    with pytest.raises(ValueError, match="labels"):
        data.one_hot([0, 3], 3)
    with pytest.raises(TypeError, match="labels"):
        data.one_hot([0.0, 1.0], 3)


def test_standardize_uses_training_statistics_and_guards_zero_std():
    Xtr = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]])
    Xva = np.array([[3.0, 7.0, 5.0]])
    Ztr, Zva, mean, std = data.standardize(Xtr, Xva)
    np.testing.assert_allclose(Ztr.mean(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(Ztr.std(axis=0), [1, 0, 1], atol=1e-15)
    assert np.all(np.isfinite(Zva))
    np.testing.assert_allclose(Zva, (Xva - Xtr.mean(0)) / [Xtr[:, 0].std(), 1, Xtr[:, 2].std()])
    assert mean.tolist() == [3.0, 5.0, 5.0] and std[1] == 1.0
    Z, m, s = data.standardize(Xtr)
    np.testing.assert_array_equal(Z, Ztr)
    assert Xtr[0, 0] == 1.0  # input untouched
    with pytest.raises(ValueError, match="others"):
        data.standardize(Xtr, np.ones((2, 2)))


def test_train_val_split():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    Xtr, Xva, ytr, yva = data.train_val_split(X, y, 0.3, rng(0))
    assert len(Xva) == 3 and len(Xtr) == 7
    assert sorted(np.concatenate([ytr, yva]).tolist()) == list(range(10))
    np.testing.assert_array_equal(Xtr[:, 0], 2 * ytr)  # rows stay paired
    np.testing.assert_array_equal(Xva[:, 0], 2 * yva)
    again = data.train_val_split(X, y, 0.3, rng(0))
    assert np.array_equal(again[3], yva)
    assert len(data.train_val_split(X, y, 0.01, rng(0))[1]) == 1


@pytest.mark.parametrize("call, exc, word", [
    (lambda: data.two_moons(1, 0.1, rng()), ValueError, "n"),
    (lambda: data.two_moons(10, -0.1, rng()), ValueError, "noise"),
    (lambda: data.two_moons(10.0, 0.1, rng()), TypeError, "n"),
    (lambda: data.two_moons(10, 0.1, 42), TypeError, "rng"),
    (lambda: data.spirals(0, 3, 0.1, rng()), ValueError, "n_per_class"),
    (lambda: data.spirals(5, 1, 0.1, rng()), ValueError, "n_classes"),
    (lambda: data.regression_1d(0, 0.1, rng()), ValueError, "n"),
    (lambda: data.regression_2w(10, None), TypeError, "rng"),
    (lambda: data.imbalanced(10, 0.0, rng()), ValueError, "minority_fraction"),
    (lambda: data.imbalanced(10, 0.7, rng()), ValueError, "minority_fraction"),
    (lambda: data.train_val_split(np.ones((4, 1)), np.ones(4), 1.0, rng()),
     ValueError, "val_fraction"),
    (lambda: data.train_val_split(np.ones((4, 1)), np.ones(3), 0.5, rng()), ValueError, "N"),
    (lambda: data.digits(0), TypeError, "rng"),
    (lambda: data.mse_surface(np.ones((3, 3)), np.ones(3), 0.0, 0.0), ValueError, "X"),
])
def test_bad_arguments(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
