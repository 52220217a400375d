"""The training loop: the slides' three algorithms (online, mini-batch, batch), the
mean-of-local-gradients identity, sampling without replacement, history and bad input."""

import warnings

import numpy as np
import pytest

from nnlib import optim
from nnlib.network import MLP
from nnlib.training import DivergenceError, DivergenceWarning, minibatches, train

N = 30


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 3))
    labels = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X, labels


def test_batch_gradient_is_the_mean_of_the_per_example_gradients(problem):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(1))
    _, g = net.loss_and_gradient(X, Y, "softmax_cross_entropy")
    g_full = g.copy()
    local = [net.loss_and_gradient(X[n:n + 1], Y[n:n + 1], "softmax_cross_entropy")[1].copy() for n in range(N)]
    assert np.allclose(g_full, np.mean(local, axis=0), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("m", [1, 4, 7, N])
def test_each_example_exactly_once_per_epoch(m):
    rng = np.random.default_rng(2)
    batches = list(minibatches(N, m, rng))
    assert sorted(np.concatenate(batches).tolist()) == list(range(N))
    assert [len(b) for b in batches[:-1]] == [m] * (len(batches) - 1)
    assert len(batches[-1]) == N - m * (len(batches) - 1)


def test_orders_differ_across_epochs():
    rng = np.random.default_rng(3)
    first, second = (np.concatenate(list(minibatches(N, 5, rng))) for _ in range(2))
    assert not np.array_equal(first, second)


def hand_written_sgd(net, X, Y, alpha, m, seed, epochs):
    """The slides' algorithm box, written out: shuffle, then w <- w - α mean of local gradients."""
    rng = np.random.default_rng(seed)
    w = net.w.copy()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), m):
            idx = order[start:start + m]
            local = [net.loss_and_gradient(X[l:l + 1], Y[l:l + 1], "softmax_cross_entropy", w=w)[1].copy()
                     for l in idx]
            w = w - alpha / len(idx) * np.sum(local, axis=0)
    return w


@pytest.mark.parametrize("m", [1, 8, None])
def test_online_minibatch_and_batch_match_hand_written_loops(problem, m):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(4))
    expected = hand_written_sgd(net, X, Y, alpha=0.3, m=m or N, seed=11, epochs=2)
    history = train(net, X, Y, "softmax_cross_entropy", optim.SGD(alpha=0.3), epochs=2,
                    batch_size=m, rng=np.random.default_rng(11))
    assert np.allclose(net.w, expected, rtol=1e-12, atol=1e-14)
    updates_per_epoch = {1: N, 8: 4, None: 1}[m]
    assert history.updates == [0, updates_per_epoch, 2 * updates_per_epoch]
    assert len(history.J_batch) == 2 * updates_per_epoch


def test_history_records_J_on_the_whole_set_per_epoch(problem):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(5))
    start = net.copy()
    history = train(net, X, Y, "softmax_cross_entropy", optim.SGD(alpha=0.5), epochs=3, batch_size=10,
                    rng=np.random.default_rng(0), X_val=X[:10], Y_val=Y[:10])
    assert history.epochs == 3 and len(history.J) == 4
    assert history.J[0] == start.loss(X, Y, "softmax_cross_entropy")
    assert history.J[-1] == net.loss(X, Y, "softmax_cross_entropy")
    assert history.J[-1] < history.J[0]
    assert len(history.val_J) == 4 and len(history.accuracy) == 4 and len(history.val_accuracy) == 4
    assert history.seconds[0] == 0 and all(a <= b for a, b in zip(history.seconds, history.seconds[1:]))
    assert history.diverged is None


def test_same_seed_gives_a_bit_identical_history(problem):
    X, Y = problem
    runs = []
    for _ in range(2):
        net = MLP([3, 5, 3], rng=np.random.default_rng(6))
        h = train(net, X, Y, "softmax_cross_entropy", optim.Adam(alpha=0.01), epochs=3, batch_size=4,
                  rng=np.random.default_rng(9))
        runs.append((h.J, h.J_batch, net.w.tobytes()))
    assert runs[0] == runs[1]


def test_nesterov_trains_through_the_loop(problem):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(7))
    h = train(net, X, Y, "softmax_cross_entropy", optim.Nesterov(alpha=0.1, mu=0.9), epochs=5, batch_size=10,
              rng=np.random.default_rng(0))
    assert h.J[-1] < h.J[0]


def test_divergence_stops_with_a_message_naming_the_iteration(problem):
    X, _ = problem
    Y = X @ np.array([[50.0], [-40.0], [30.0]])
    net = MLP([3, 8, 1], activation="relu", rng=np.random.default_rng(0))
    with pytest.warns(DivergenceWarning, match=r"diverged at iteration \d+ \(epoch \d+\).*smaller learning rate"):
        h = train(net, X, Y, "mse", optim.SGD(alpha=5.0), epochs=50, batch_size=5, rng=np.random.default_rng(0))
    assert h.diverged is not None and h.epochs < 50
    net = MLP([3, 8, 1], activation="relu", rng=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from numpy leaks out either
        with pytest.raises(DivergenceError, match="iteration"):
            train(net, X, Y, "mse", optim.SGD(alpha=5.0), epochs=50, batch_size=5, rng=np.random.default_rng(0),
                  on_divergence="raise")


def test_callback_can_stop_and_tol_stops(problem):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(8))
    seen = []
    h = train(net, X, Y, "softmax_cross_entropy", optim.SGD(alpha=0.1), epochs=10, rng=np.random.default_rng(0),
              callback=lambda hist: seen.append(hist.epochs) or hist.epochs < 3)
    assert seen == [1, 2, 3] and h.epochs == 3
    h = train(net, X, Y, "softmax_cross_entropy", optim.SGD(alpha=1e-9), epochs=10, rng=np.random.default_rng(0),
              tol=1e-6)
    assert h.epochs == 1


def test_bad_input(problem):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(0))
    sgd, rng = optim.SGD(alpha=0.1), np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 30\], got 0"):
        train(net, X, Y, "softmax_cross_entropy", sgd, 1, batch_size=0, rng=rng)
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, 30\], got 31"):
        train(net, X, Y, "softmax_cross_entropy", sgd, 1, batch_size=31, rng=rng)
    with pytest.raises(ValueError, match="X has 2 features per example, but the network expects 3"):
        train(net, X[:, :2], Y, "softmax_cross_entropy", sgd, 1, rng=rng)
    with pytest.raises(ValueError, match="X has 30 examples but Y has 29"):
        train(net, X, Y[:29], "softmax_cross_entropy", sgd, 1, rng=rng)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X contains 1 NaN or inf"):
        train(net, bad, Y, "softmax_cross_entropy", sgd, 1, rng=rng)
    with pytest.raises(ValueError, match="unknown loss"):
        train(net, X, Y, "hinge", sgd, 1, rng=rng)
    with pytest.raises(TypeError, match="step"):
        train(net, X, Y, "softmax_cross_entropy", object(), 1, rng=rng)
    with pytest.raises(TypeError, match="Generator"):
        train(net, X, Y, "softmax_cross_entropy", sgd, 1, rng=0)


@pytest.mark.parametrize("m", [4, 7])
def test_batch_mean_J_is_the_size_weighted_mean_of_the_epochs_minibatch_J(problem, m):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(1))
    hist = train(net, X, Y, "softmax_cross_entropy", optim.Momentum(0.1, 0.9), epochs=3, batch_size=m,
                 rng=np.random.default_rng(2), J_epoch="batch_mean")
    sizes = [len(b) for b in minibatches(N, m, np.random.default_rng(0))]  # sizes do not depend on the order
    per_epoch = len(sizes)
    assert len(hist.J_batch) == 3 * per_epoch and len(hist.J) == 4
    for k in range(1, 4):
        J_b = hist.J_batch[(k - 1) * per_epoch:k * per_epoch]
        assert hist.J[k] == pytest.approx(np.dot(J_b, sizes) / N, rel=1e-12)
    assert hist.accuracy == []  # accuracy needs the pass over the training set


def test_batch_mean_J_changes_the_record_not_the_training(problem):
    X, Y = problem
    runs = {}
    for mode in ("full", "batch_mean"):
        net = MLP([3, 5, 3], rng=np.random.default_rng(1))
        hist = train(net, X, Y, "softmax_cross_entropy", optim.Adam(0.05), epochs=4, batch_size=7,
                     rng=np.random.default_rng(2), J_epoch=mode)
        runs[mode] = (net.w.copy(), hist)
    (w_full, full), (w_mean, mean) = runs["full"], runs["batch_mean"]
    np.testing.assert_array_equal(w_full, w_mean)
    assert full.J_batch == mean.J_batch and full.J[0] == mean.J[0]
    assert full.J[1:] != mean.J[1:]  # w changes during an epoch: the two records differ


def test_batch_mean_J_of_full_batch_training_is_J_at_the_start_of_the_epoch(problem):
    """With m = N the only mini-batch is the whole set, seen at the weights w(k-1)."""
    X, Y = problem
    hists = {}
    for mode in ("full", "batch_mean"):
        net = MLP([3, 5, 3], rng=np.random.default_rng(1))
        hists[mode] = train(net, X, Y, "softmax_cross_entropy", optim.SGD(0.5), epochs=5,
                            rng=np.random.default_rng(2), J_epoch=mode)
    np.testing.assert_allclose(hists["batch_mean"].J[1:], hists["full"].J[:-1], rtol=1e-12)


def test_J_epoch_must_be_full_or_batch_mean(problem):
    X, Y = problem
    net = MLP([3, 5, 3], rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="J_epoch must be 'full' or 'batch_mean', got 'mean'"):
        train(net, X, Y, "softmax_cross_entropy", optim.SGD(0.1), epochs=1, rng=np.random.default_rng(0),
              J_epoch="mean")


class LinearModel:
    """Not an MLP: y = X w, what aula01 trains with `train` (only the attributes train uses)."""

    def __init__(self, d):
        self.sizes, self.dtype = [d, 1], np.float64
        self.w = np.zeros(d)

    def forward(self, X):
        return X @ self.w[:, None]

    def loss_and_gradient(self, X, Y, loss, w=None):
        w = self.w if w is None else w
        e = X @ w - Y.ravel()
        return float(np.mean(e * e)), 2.0 * X.T @ e / len(X)


@pytest.mark.parametrize("N_examples", [50, 2 * 1024 + 3])
def test_train_accepts_any_model_with_forward_and_loss_and_gradient(N_examples):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_examples, 2))
    Y = X @ np.array([1.5, -0.5]) + 0.01 * rng.normal(size=N_examples)
    model = LinearModel(2)
    hist = train(model, X, Y, "mse", optim.SGD(0.1), epochs=20, batch_size=16, rng=rng)
    np.testing.assert_allclose(model.w, [1.5, -0.5], atol=0.02)
    assert hist.J[-1] == pytest.approx(np.mean((X @ model.w - Y) ** 2), rel=1e-12)
