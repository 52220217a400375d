"""Tests for nnlib.gradcheck on functions with known gradients and a fake network."""

import numpy as np
import pytest

from nnlib import gradcheck


def test_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    b = rng.normal(size=4)
    w = rng.normal(size=4)
    f = lambda v: 0.5 * v @ A @ v + b @ v  # noqa: E731
    exact = 0.5 * (A + A.T) @ w + b
    assert gradcheck.relative_error(gradcheck.numerical_gradient(f, w), exact) < 1e-8


def test_sin_on_a_matrix():
    w = np.linspace(-2, 2, 12).reshape(3, 4)
    g = gradcheck.numerical_gradient(lambda v: np.sum(np.sin(v) * v), w)
    assert g.shape == (3, 4)
    assert gradcheck.relative_error(g, np.cos(w) * w + np.sin(w)) < 1e-8


def test_detects_wrong_gradient():
    w = np.array([0.3, -1.2, 2.0])
    f = lambda v: np.sum(v**3)  # noqa: E731
    g = gradcheck.numerical_gradient(f, w)
    assert gradcheck.relative_error(g, 3 * w**2) < 1e-8
    assert gradcheck.relative_error(g, 2 * w**2) > 1e-2  # wrong factor
    assert gradcheck.relative_error(g, 3 * w**2 * [1, 1, -1]) > 1e-2  # one wrong sign


def test_w_restored_bit_for_bit_and_f_sees_perturbations():
    w = np.array([0.1, 1 / 3, np.pi, -7e-5])
    before = w.copy()
    seen = []

    def f(v):
        assert v is w  # perturbed in place, so aliases (net.w) see it
        seen.append(v.copy())
        return np.sum(np.exp(v))

    gradcheck.numerical_gradient(f, w, eps=1e-4)
    assert w.tobytes() == before.tobytes()
    assert len(seen) == 2 * w.size
    assert seen[0][0] == before[0] + 1e-4 and seen[1][0] == before[0] - 1e-4


def test_w_restored_when_f_raises():
    w = np.array([1.0, 2.0])

    def f(v):
        if v[0] != 1.0:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError):
        gradcheck.numerical_gradient(f, w)
    assert w.tolist() == [1.0, 2.0]


def test_relative_error_values():
    assert gradcheck.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert gradcheck.relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert gradcheck.relative_error([1.0, -2.0], [1.5, -2.0]) == pytest.approx(0.5 / 4.0)
    assert gradcheck.relative_error([1e-20], [0.0]) == 1.0
    with pytest.raises(ValueError, match="same shape"):
        gradcheck.relative_error([1.0], [1.0, 2.0])


def test_bad_arguments():
    with pytest.raises(TypeError, match="float64"):
        gradcheck.numerical_gradient(np.sum, np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64"):
        gradcheck.numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps"):
        gradcheck.numerical_gradient(np.sum, np.ones(3), eps=0.0)
    with pytest.raises(ValueError, match="scalar"):
        gradcheck.numerical_gradient(lambda v: v * 2, np.ones(3))


class FakeLinearNet:
    """Linear model Y ≈ X W + b with MSE (mean over examples and outputs); flat net.w."""

    def __init__(self, d, k, rng, bug=False):
        self.w = rng.normal(size=d * k + k)
        self.g = np.zeros_like(self.w)
        self.W = self.w[: d * k].reshape(d, k)  # views into w, like MLP.params
        self.b = self.w[d * k:]
        self.bug = bug

    def loss_and_gradient(self, X, Y, loss):
        assert loss == "mse"
        E = X @ self.W + self.b - Y
        J = np.mean(E**2)
        dE = 2 * E / E.size
        if self.bug:
            dE = E / E.size  # forgot the 2
        self.g[: self.W.size] = (X.T @ dE).ravel()
        self.g[self.W.size:] = dE.sum(axis=0)
        return J, self.g  # the same buffer every call, like MLP.g


def test_check_network_correct_and_buggy():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    net = FakeLinearNet(3, 2, rng)
    before = net.w.copy()
    assert gradcheck.check_network(net, X, Y, "mse") < 1e-8
    assert net.w.tobytes() == before.tobytes()
    buggy = FakeLinearNet(3, 2, np.random.default_rng(1), bug=True)
    assert gradcheck.check_network(buggy, X, Y, "mse") > 0.1


def test_check_network_against_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    net = FakeLinearNet(3, 2, rng)
    W = torch.tensor(net.W, requires_grad=True)
    b = torch.tensor(net.b, requires_grad=True)
    torch.mean((torch.tensor(X) @ W + b - torch.tensor(Y)) ** 2).backward()
    g_torch = np.concatenate([W.grad.numpy().ravel(), b.grad.numpy()])
    g_num = gradcheck.numerical_gradient(lambda _: net.loss_and_gradient(X, Y, "mse")[0], net.w)
    assert gradcheck.relative_error(g_num, g_torch) < 1e-8
