"""Losses: values against independent formulas (and PyTorch when installed), gradients by
finite differences, the stated reduction (mean over examples) and bad targets."""

import numpy as np
import pytest

from nnlib import losses
from nnlib.gradcheck import numerical_gradient, relative_error

rng = np.random.default_rng(3)
LOGITS = rng.normal(size=(7, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 0, 3])
BIN_LOGITS = rng.normal(size=(9, 1)) * 3
BIN_Y = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0]).reshape(-1, 1)
Y_PRED = rng.normal(size=(5, 3))
Y_TRUE = rng.normal(size=(5, 3))

CASES = {
    "mse": (Y_PRED, Y_TRUE),
    "softmax_cross_entropy": (LOGITS, LABELS),
    "binary_cross_entropy": (BIN_LOGITS, BIN_Y),
    "focal_loss": (BIN_LOGITS, BIN_Y),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    out, y = CASES[name]
    loss = losses.get(name)
    numeric = numerical_gradient(lambda z: loss.value(z, y), out.copy())
    assert relative_error(loss.grad(out, y), numeric) < 1e-7


@pytest.mark.parametrize("gamma, alpha", [(0.0, 0.5), (0.5, 0.25), (2.0, 0.75), (5.0, 0.1)])
def test_focal_gradient_for_several_hyper_parameters(gamma, alpha):
    loss = losses.get("focal_loss", gamma=gamma, alpha=alpha)
    numeric = numerical_gradient(lambda z: loss.value(z, BIN_Y), BIN_LOGITS.copy())
    assert relative_error(loss.grad(BIN_LOGITS, BIN_Y), numeric) < 1e-7


@pytest.mark.parametrize("name, hyper", [(name, {}) for name in sorted(CASES)]
                         + [("focal_loss", {"gamma": 0.5, "alpha": 0.9})])
def test_value_and_grad_is_value_and_grad_to_the_last_bit(name, hyper):
    """Training calls value_and_grad (one pass where a loss has a fused form); it must give
    exactly what value and grad give, so a trajectory does not depend on which one is called."""
    out, y = CASES[name]
    loss = losses.get(name, **hyper)
    J, g = loss.value_and_grad(out, y)
    assert J == loss.value(out, y)
    assert np.array_equal(g, loss.grad(out, y))


def test_mse_is_the_mean_over_examples_and_outputs():
    e = Y_TRUE - Y_PRED
    expected = sum(float(x) ** 2 for x in e.ravel()) / e.size
    assert losses.mse(Y_PRED, Y_TRUE) == pytest.approx(expected, rel=1e-14)


def test_mse_hand_computed():
    assert losses.mse(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 6.0]])) == 1.25


def test_cross_entropy_against_a_naive_formula():
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(len(LABELS)), LABELS]))
    assert losses.softmax_cross_entropy(LOGITS, LABELS) == pytest.approx(expected, rel=1e-13)


def test_cross_entropy_accepts_one_hot_targets():
    one_hot = np.eye(4)[LABELS]
    assert losses.softmax_cross_entropy(LOGITS, one_hot) == losses.softmax_cross_entropy(LOGITS, LABELS)
    assert np.array_equal(losses.softmax_cross_entropy_grad(LOGITS, one_hot),
                          losses.softmax_cross_entropy_grad(LOGITS, LABELS))


def test_cross_entropy_is_finite_for_extreme_logits():
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    assert losses.softmax_cross_entropy(logits, np.array([1, 0])) == pytest.approx(2000.0)
    assert losses.binary_cross_entropy(np.array([[800.0]]), np.array([0])) == pytest.approx(800.0)


def test_binary_cross_entropy_against_a_naive_formula():
    p = 1 / (1 + np.exp(-BIN_LOGITS))
    expected = -np.mean(BIN_Y * np.log(p) + (1 - BIN_Y) * np.log(1 - p))
    assert losses.binary_cross_entropy(BIN_LOGITS, BIN_Y) == pytest.approx(expected, rel=1e-12)


def naive_focal(z, y, gamma, alpha):
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    return float(np.mean(-at * (1 - pt) ** gamma * np.log(pt)))


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (1.0, 0.9)])
def test_focal_loss_against_the_paper_formula(gamma, alpha):
    assert losses.focal_loss(BIN_LOGITS, BIN_Y, gamma, alpha) == pytest.approx(
        naive_focal(BIN_LOGITS, BIN_Y, gamma, alpha), rel=1e-12)


def test_focal_with_gamma_0_and_alpha_half_is_half_the_cross_entropy():
    assert losses.focal_loss(BIN_LOGITS, BIN_Y, 0.0, 0.5) == pytest.approx(
        0.5 * losses.binary_cross_entropy(BIN_LOGITS, BIN_Y), rel=1e-13)


def test_focal_down_weights_easy_examples():
    easy, hard = np.array([[4.0]]), np.array([[-1.0]])
    ratio_focal = losses.focal_loss(easy, [1]) / losses.focal_loss(hard, [1])
    ratio_ce = losses.binary_cross_entropy(easy, [1]) / losses.binary_cross_entropy(hard, [1])
    assert ratio_focal < ratio_ce / 10


@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_is_the_mean_over_examples(name):
    out, y = CASES[name]
    loss = losses.get(name)
    per_example = [loss.value(out[i:i + 1], y[i:i + 1]) for i in range(len(out))]
    assert loss.value(out, y) == pytest.approx(np.mean(per_example), rel=1e-12)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    t = torch.tensor
    assert losses.mse(Y_PRED, Y_TRUE) == pytest.approx(
        torch.nn.MSELoss()(t(Y_PRED), t(Y_TRUE)).item(), rel=1e-13)
    assert losses.softmax_cross_entropy(LOGITS, LABELS) == pytest.approx(
        torch.nn.CrossEntropyLoss()(t(LOGITS), t(LABELS)).item(), rel=1e-13)
    assert losses.binary_cross_entropy(BIN_LOGITS, BIN_Y) == pytest.approx(
        torch.nn.BCEWithLogitsLoss()(t(BIN_LOGITS), t(BIN_Y, dtype=torch.float64)).item(), rel=1e-13)
    z = t(LOGITS, requires_grad=True)
    torch.nn.CrossEntropyLoss()(z, t(LABELS)).backward()
    assert np.allclose(losses.softmax_cross_entropy_grad(LOGITS, LABELS), z.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"targets have shape \(5, 2\).*output has shape \(5, 3\)"):
        losses.mse(Y_PRED, np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"labels of shape \(7,\)"):
        losses.softmax_cross_entropy(LOGITS, LABELS[:5])
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\]"):
        losses.softmax_cross_entropy(LOGITS, LABELS + 1)
    with pytest.raises(TypeError, match="integers"):
        losses.softmax_cross_entropy(LOGITS, LABELS.astype(float))
    with pytest.raises(ValueError, match="0 or 1"):
        losses.binary_cross_entropy(BIN_LOGITS, BIN_Y * 2)


def test_bad_hyper_parameters_and_names():
    with pytest.raises(ValueError, match=r"gamma must be >= 0, got -1.0"):
        losses.get("focal_loss", gamma=-1.0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\], got 1.5"):
        losses.focal_loss(BIN_LOGITS, BIN_Y, alpha=1.5)
    with pytest.raises(ValueError, match="unknown loss 'cross_entropy'"):
        losses.get("cross_entropy")
    with pytest.raises(TypeError, match="takes no hyper-parameters"):
        losses.get("mse", gamma=2)
