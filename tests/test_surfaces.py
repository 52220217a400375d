"""Tests for nnlib.surfaces: gradients vs finite differences, vectorized J, run(), grids."""


import numpy as np
import pytest

from nnlib import gradcheck, surfaces

NAMES = list(surfaces.SURFACES)


class GD:
    """Minimal gradient-descent stand-in with the nnlib optimizer interface."""

    def __init__(self, alpha):
        self.alpha = alpha
        self.t = 0

    def step(self, params, grad_fn):
        grads = grad_fn(params)
        for w, g in zip(params, grads):
            w -= self.alpha * g  # in place
        self.t += 1
        return grads


def points_in_bounds(surface, n=20, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.bounds
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    s = surfaces.get(name)
    for w in list(points_in_bounds(s)) + [s.w0]:
        w = np.array(w)
        num = gradcheck.numerical_gradient(lambda v: s.J(v), w)
        assert gradcheck.relative_error(s.grad(w), num) < 1e-7, w


@pytest.mark.parametrize("name", NAMES)
def test_vectorized_J_equals_pointwise(name):
    s = surfaces.get(name)
    P = points_in_bounds(s, 12, seed=1).reshape(3, 4, 2)
    J = s.J(P)
    assert J.shape == (3, 4)
    pointwise = np.array([[s.J(P[i, j]) for j in range(4)] for i in range(3)])
    np.testing.assert_array_equal(J, pointwise)
    G = s.grad(P)
    assert G.shape == (3, 4, 2)
    np.testing.assert_array_equal(G[1, 2], s.grad(P[1, 2]))


@pytest.mark.parametrize("name", NAMES)
def test_known_minima_and_saddles_are_stationary(name):
    s = surfaces.get(name)
    for point in (s.minimum, s.saddle_point):
        if point is not None:
            np.testing.assert_allclose(s.grad(point), 0.0, atol=1e-12)
    if s.minimum is not None:  # a minimum: nothing nearby is lower
        rng = np.random.default_rng(0)
        near = s.minimum + 1e-3 * rng.normal(size=(50, 2))
        assert np.all(s.J(near) >= s.J(s.minimum))
    assert s.J(s.w0) > (s.J(s.minimum) if s.minimum is not None else -np.inf)


def test_known_values():
    assert surfaces.Quadratic(a=1, b=20).J(np.array([2.0, 1.0])) == 12.0
    assert surfaces.Rosenbrock().J(np.array([-1.2, 1.0])) == pytest.approx(24.2)
    assert surfaces.Rosenbrock(a=2, b=10).minimum.tolist() == [2.0, 4.0]
    assert surfaces.Beale().J(np.array([3.0, 0.5])) == 0.0
    assert surfaces.Beale().J(np.array([0.0, 0.0])) == pytest.approx(14.203125)
    assert surfaces.Saddle().J(np.array([1.0, 2.0])) == -3.0
    assert surfaces.BoundedSaddle().J(np.array([0.0, -1.0])) == -0.5


def test_saddle_point_is_not_a_minimum():
    s = surfaces.Saddle()
    assert s.minimum is None
    assert s.J(np.array([0.0, 0.1])) < s.J(s.saddle_point) < s.J(np.array([0.1, 0.0]))


def test_run_trajectory_matches_hand_written_gd():
    s = surfaces.Quadratic(a=1.0, b=20.0)
    path = surfaces.run(GD(0.04), s, [-4.0, 1.5], steps=30)
    assert path.shape == (31, 2) and path.dtype == np.float64
    assert path[0].tolist() == [-4.0, 1.5]
    t = np.arange(31)
    # GD on a diagonal quadratic: w_t = (1 - α a)^t w1_0, (1 - α b)^t w2_0
    np.testing.assert_allclose(path[:, 0], -4.0 * 0.96**t, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], 1.5 * 0.2**t, rtol=1e-12)


def test_run_uses_default_start_and_does_not_touch_w0():
    s = surfaces.Rosenbrock()
    w0 = np.array([-1.2, 1.0])
    path = surfaces.run(GD(1e-3), s, w0, steps=5)
    assert w0.tolist() == [-1.2, 1.0]
    np.testing.assert_array_equal(surfaces.run(GD(1e-3), s, None, steps=5), path)
    assert s.J(path[-1]) < s.J(path[0])
    assert surfaces.run(GD(1e-3), s, w0, steps=0).shape == (1, 2)


def test_run_passes_lookahead_point_to_grad_fn():
    """grad_fn must use the ws it receives (Nesterov's look-ahead), not the current w."""

    class LookAhead:
        def step(self, params, grad_fn):
            g = grad_fn([p + 1.0 for p in params])
            for p, gi in zip(params, g):
                p -= 0.1 * gi

    s = surfaces.Quadratic()
    path = surfaces.run(LookAhead(), s, [1.0, 1.0], steps=1)
    np.testing.assert_allclose(path[1], [1.0, 1.0] - 0.1 * s.grad(np.array([2.0, 2.0])))


def test_run_stops_early_on_divergence():
    s = surfaces.Quadratic(a=1.0, b=20.0)
    path = surfaces.run(GD(0.5), s, [1.0, 1.0], steps=2000)  # α > 2/b: |1 - α b| = 9
    assert 2 < len(path) < 2001
    assert np.all(np.isfinite(path))
    assert abs(path[-1, 1]) > 1e100
    path_sad = surfaces.run(GD(0.4), surfaces.Saddle(), None, steps=5000)
    assert len(path_sad) < 5001 and np.all(np.isfinite(path_sad))


def test_contour_grid_shape_and_values():
    s = surfaces.Rosenbrock()
    W1, W2, J = surfaces.contour_grid(s, n=200)
    assert W1.shape == W2.shape == J.shape == (200, 200)
    assert (W1[0, 0], W1[0, -1], W2[0, 0], W2[-1, 0]) == (-2.0, 2.0, -1.0, 3.0)
    assert J[17, 123] == s.J(np.array([W1[17, 123], W2[17, 123]]))
    W1, _, J = surfaces.contour_grid(s, n=3, bounds=((0, 1), (0, 1)))
    assert W1[0].tolist() == [0.0, 0.5, 1.0] and J.shape == (3, 3)


def test_get_and_bad_arguments():
    assert isinstance(surfaces.get("quadratic", b=50), surfaces.Quadratic)
    assert surfaces.get("quadratic", b=50).b == 50.0
    with pytest.raises(ValueError, match="rosenbrock"):
        surfaces.get("himmelblau")
    with pytest.raises(ValueError, match="b"):
        surfaces.Quadratic(b=0)
    with pytest.raises(ValueError, match="shape"):
        surfaces.Beale().J(np.zeros(3))
    with pytest.raises(ValueError, match="steps"):
        surfaces.run(GD(0.1), surfaces.Saddle(), None, steps=-1)
    with pytest.raises(ValueError, match="w0"):
        surfaces.run(GD(0.1), surfaces.Saddle(), [1.0, np.nan], steps=3)
    with pytest.raises(ValueError, match="w0"):
        surfaces.run(GD(0.1), surfaces.Saddle(), [1.0, 2.0, 3.0], steps=3)
    with pytest.raises(ValueError, match="n"):
        surfaces.contour_grid(surfaces.Saddle(), n=1)
