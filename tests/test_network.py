"""The dense layer and the MLP: shapes, the flat weight vector, backpropagation checked by
finite differences, and bad input."""

import numpy as np
import pytest

from nnlib import losses
from nnlib.gradcheck import numerical_gradient, relative_error
from nnlib.layers import Dense
from nnlib.network import MLP, OUTPUT_BLOCK


def test_dense_layer_gradients_by_finite_differences():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    layer = Dense(W, b, dW, db, "tanh")
    X = rng.normal(size=(6, 4))
    upstream = rng.normal(size=(6, 3))  # J = Σ upstream ⊙ a, so ∂J/∂a = upstream

    def J():
        return float(np.sum(upstream * layer.forward(X)))

    layer.forward(X)
    dX = layer.backward(upstream)
    assert relative_error(dW, numerical_gradient(lambda _: J(), W)) < 1e-7
    assert relative_error(db, numerical_gradient(lambda _: J(), b)) < 1e-7
    f_of_X = lambda x: float(np.sum(upstream * layer.forward(x)))
    assert relative_error(dX, numerical_gradient(f_of_X, X.copy())) < 1e-7


CONFIGS = [
    ([3, 5, 2], "tanh", "linear", "mse"),
    ([4, 6, 5, 3], "logistic", "linear", "softmax_cross_entropy"),
    ([4, 7, 3], "elu", "linear", "softmax_cross_entropy"),
    ([2, 5, 5, 1], "selu", "logistic", "mse"),
    ([3, 4, 1], "leaky_relu", "linear", "binary_cross_entropy"),
    ([3, 4, 1], "relu", "linear", "focal_loss"),
]


@pytest.mark.parametrize("sizes, activation, output, loss", CONFIGS)
def test_whole_mlp_gradient_by_finite_differences(sizes, activation, output, loss):
    rng = np.random.default_rng(1)
    net = MLP(sizes, activation=activation, output=output, rng=rng)
    net.w += rng.normal(scale=0.1, size=net.w.shape)  # non-zero biases too
    X = rng.normal(size=(8, sizes[0]))
    if loss == "mse":
        Y = rng.normal(size=(8, sizes[-1]))
    elif loss == "softmax_cross_entropy":
        Y = rng.integers(0, sizes[-1], size=8)
    else:
        Y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    g = net.loss_and_gradient(X, Y, loss)[1].copy()  # net.g is overwritten by the next call
    numeric = numerical_gradient(lambda w: net.loss_and_gradient(X, Y, loss, w=w)[0], net.w.copy())
    assert relative_error(g, numeric) < 1e-7


def test_parameters_are_views_into_the_flat_vector():
    net = MLP([5, 4, 3], rng=np.random.default_rng(0))
    assert [p.shape for p in net.params] == [(5, 4), (4,), (4, 3), (3,)]
    assert [g.shape for g in net.grads] == [(5, 4), (4,), (4, 3), (3,)]
    assert net.w.size == 5 * 4 + 4 + 4 * 3 + 3
    net.w[:] = np.arange(net.w.size)
    assert net.params[0][0, 0] == 0 and net.params[1][0] == 20 and net.params[3][-1] == net.w.size - 1
    net.params[2][...] = -1.0
    assert np.all(net.w[24:36] == -1.0)


def test_biases_start_at_zero_and_weights_follow_the_initializer():
    rng = np.random.default_rng(0)
    net = MLP([400, 300, 10], init="he_uniform", rng=rng)
    assert np.all(net.params[1] == 0) and np.all(net.params[3] == 0)
    r = np.sqrt(6 / 400)
    assert np.max(np.abs(net.params[0])) <= r
    assert np.var(net.params[0]) == pytest.approx(r * r / 3, rel=0.02)


def test_same_rng_seed_gives_the_same_network():
    a = MLP([4, 6, 2], rng=np.random.default_rng(5))
    b = MLP([4, 6, 2], rng=np.random.default_rng(5))
    assert np.array_equal(a.w, b.w)


def test_forward_is_the_composition_of_the_layers():
    rng = np.random.default_rng(2)
    net = MLP([3, 4, 2], activation="tanh", rng=rng)
    X = rng.normal(size=(5, 3))
    W1, b1, W2, b2 = net.params
    assert np.allclose(net.forward(X), np.tanh(X @ W1 + b1) @ W2 + b2, rtol=1e-14, atol=0)


def test_evaluating_at_other_weights_leaves_the_network_unchanged():
    rng = np.random.default_rng(3)
    net = MLP([3, 4, 2], rng=rng)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    before = net.w.copy()
    other = before + 0.5
    J_other, _ = net.loss_and_gradient(X, Y, "mse", w=other)
    assert np.array_equal(net.w, before)
    twin = net.copy()
    twin.w[:] = other
    assert J_other == twin.loss(X, Y, "mse")


@pytest.mark.parametrize("n", [1, OUTPUT_BLOCK, OUTPUT_BLOCK + 1, 2 * OUTPUT_BLOCK + 477])
def test_output_in_blocks_equals_one_forward_pass(n):
    net = MLP([5, 7, 3], activation="tanh", rng=np.random.default_rng(3))
    X = np.random.default_rng(4).normal(size=(n, 5))
    y = np.random.default_rng(5).integers(0, 3, size=n)
    whole = net.forward(X).copy()
    blocks = net.output(X)
    assert blocks.shape == (n, 3)
    np.testing.assert_allclose(blocks, whole, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(net.predict(X), whole, rtol=1e-13, atol=1e-15)
    assert net.loss(X, y, "softmax_cross_entropy") == pytest.approx(
        losses.softmax_cross_entropy(whole, y), rel=1e-13)


def test_copy_is_independent():
    net = MLP([3, 4, 2], rng=np.random.default_rng(0))
    twin = net.copy()
    twin.w += 1.0
    assert not np.array_equal(twin.w, net.w)
    assert twin.params[0].base is twin.w or np.shares_memory(twin.params[0], twin.w)


def test_float32_network():
    net = MLP([3, 4, 2], rng=np.random.default_rng(0), dtype=np.float32)
    X = np.ones((2, 3), dtype=np.float32)
    J, g = net.loss_and_gradient(X, np.zeros((2, 2), dtype=np.float32), "mse")
    assert net.w.dtype == np.float32 and g.dtype == np.float32
    assert net.predict(np.ones((2, 3))).dtype == np.float32


def test_predict_classes():
    net = MLP([2, 3], activation="tanh", rng=np.random.default_rng(0))
    net.w[:] = 0
    net.params[0][0, 2] = 1.0  # class 2 wins when x0 > 0
    assert net.predict_classes(np.array([[1.0, 0.0], [-1.0, 0.0]])).tolist() == [2, 0]
    single = MLP([1, 1], rng=np.random.default_rng(0))
    single.w[:] = [1.0, 0.0]
    assert single.predict_classes(np.array([[2.0], [-2.0]])).tolist() == [1, 0]


def test_bad_input():
    with pytest.raises(ValueError, match="layer size must be >= 1, got 0"):
        MLP([3, 0, 2])
    with pytest.raises(TypeError, match="layer size must be an integer, got 2.5"):
        MLP([3, 2.5])
    with pytest.raises(ValueError, match="at least one layer"):
        MLP([3])
    with pytest.raises(ValueError, match="output='softmax' is not supported"):
        MLP([3, 2], output="softmax")
    with pytest.raises(ValueError, match="unknown activation 'sigmoid'"):
        MLP([3, 2], activation="sigmoid", output="sigmoid")
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        MLP([3, 2], rng=42)
    net = MLP([3, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"w must have shape \(8,\), got \(7,\)"):
        net.loss_and_gradient(np.ones((1, 3)), np.ones((1, 2)), "mse", w=np.ones(7))
    with pytest.raises(ValueError, match="NaN or inf"):
        net.predict(np.array([[1.0, np.nan, 0.0]]))
