"""Specification of nnlib.schedules: α_j for j = steps already taken.

LinearDecay is the slides' α_j = (1 - j/τ) α_0 + (j/τ) α_τ, then α_τ. It equals PyTorch's
LinearLR(start_factor=1, end_factor=α_τ/α_0, total_iters=τ) and Keras' PolynomialDecay(power=1);
StepDecay and ExponentialDecay equal StepLR and ExponentialLR. Checked live when torch / keras
import, and always against tests/golden/schedules.json (made by tests/golden/make_golden.py).
"""

import importlib.util
import json
import pathlib
import warnings

import numpy as np
import pytest

from nnlib import schedules

GOLDEN_DIR = pathlib.Path(__file__).resolve().parent / "golden"
GOLDEN = json.loads((GOLDEN_DIR / "schedules.json").read_text())
RTOL = 1e-12


def _load_make_golden():
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN_DIR / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mg = _load_make_golden()
J = np.array(mg.SCHEDULE_J)


def linear():
    return schedules.LinearDecay(**mg.LINEAR_DECAY)


def step():
    return schedules.StepDecay(**mg.STEP_DECAY)


def exponential():
    return schedules.ExponentialDecay(**mg.EXPONENTIAL_DECAY)


# --- the formulas ----------------------------------------------------------------------------


def test_linear_decay_by_hand():
    """alpha0 = 0.1, alpha_tau = 0.01, tau = 10: 0.1 at j = 0, halfway at j = 5, 0.01 from j = 10 on."""
    s = schedules.LinearDecay(alpha0=0.1, alpha_tau=0.01, tau=10)
    assert s(0) == 0.1
    assert s(5) == pytest.approx(0.055, rel=1e-15)
    assert s(1) == pytest.approx(0.091, rel=1e-15)  # 0.9 * 0.1 + 0.1 * 0.01
    assert s(10) == 0.01
    assert s(11) == 0.01 and s(1000) == 0.01
    assert s(2.5) == pytest.approx(0.0775, rel=1e-15)  # j may be a float


def test_linear_decay_equals_the_slides_formula_and_float_tau():
    for alpha0, alpha_tau, tau in [(0.1, 0.01, 10), (0.5, 0.05, 7.5), (0.01, 0.1, 4)]:
        s = schedules.LinearDecay(alpha0, alpha_tau, tau)
        for j in np.arange(0, 2 * tau + 1, 0.5):
            expected = (1 - j / tau) * alpha0 + (j / tau) * alpha_tau if j <= tau else alpha_tau
            assert s(j) == pytest.approx(expected, rel=RTOL)


def test_step_and_exponential_decay_by_hand():
    s = schedules.StepDecay(alpha0=0.1, drop=0.5, every=3)
    assert [s(j) for j in range(7)] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    e = schedules.ExponentialDecay(alpha0=0.1, gamma=0.5)
    assert [e(j) for j in range(4)] == [0.1, 0.05, 0.025, 0.0125]
    c = schedules.Constant(0.3)
    assert c(0) == c(7) == 0.3


@pytest.mark.parametrize("make", [linear, step, exponential, lambda: schedules.Constant(0.2)])
def test_scalar_gives_float_array_gives_array(make):
    s = make()
    assert type(s(3)) is float
    assert type(s(np.int64(3))) is float
    assert type(s(3.0)) is float
    values = s(np.arange(12).reshape(3, 4))
    assert isinstance(values, np.ndarray) and values.shape == (3, 4)
    np.testing.assert_array_equal(values.ravel(), [s(j) for j in range(12)])
    np.testing.assert_array_equal(s([0, 1, 2]), [s(0), s(1), s(2)])


# --- against PyTorch and Keras ---------------------------------------------------------------


def test_golden_file_holds_the_current_cases():
    assert GOLDEN["meta"]["j"] == mg.SCHEDULE_J
    assert GOLDEN["linear_decay"]["hyper"] == mg.LINEAR_DECAY
    assert GOLDEN["step_decay"]["hyper"] == mg.STEP_DECAY
    assert GOLDEN["exponential_decay"]["hyper"] == mg.EXPONENTIAL_DECAY
    assert mg.LINEAR_DECAY["tau"] < J.max()  # the values go past tau


@pytest.mark.parametrize(
    "make, key, reference",
    [
        (linear, "linear_decay", "torch_LinearLR"),
        (linear, "linear_decay", "keras_PolynomialDecay"),
        (step, "step_decay", "torch_StepLR"),
        (exponential, "exponential_decay", "torch_ExponentialLR"),
        (exponential, "exponential_decay", "keras_ExponentialDecay"),
    ],
)
def test_matches_stored_torch_and_keras(make, key, reference):
    stored = GOLDEN[key][reference]
    assert len(stored) == len(J)
    np.testing.assert_allclose(make()(J), stored, rtol=RTOL)


@pytest.mark.parametrize(
    "make, kind, key, reference",
    [
        (linear, "linear", "linear_decay", "torch_LinearLR"),
        (step, "step", "step_decay", "torch_StepLR"),
        (exponential, "exponential", "exponential_decay", "torch_ExponentialLR"),
    ],
)
def test_matches_live_torch(make, kind, key, reference):
    pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        live = mg.torch_schedule(kind)
    np.testing.assert_allclose(make()(J), live, rtol=RTOL)
    np.testing.assert_allclose(live, GOLDEN[key][reference], rtol=RTOL)


def test_linear_decay_matches_live_keras_polynomial_decay():
    """Keras PolynomialDecay(alpha0, decay_steps=tau, end_learning_rate=alpha_tau, power=1)."""
    keras = mg.import_keras()
    if keras is None:
        pytest.skip("keras does not import with the torch backend")
    np.testing.assert_allclose(linear()(J), mg.keras_polynomial_decay(keras), rtol=RTOL)
    np.testing.assert_allclose(exponential()(J), mg.keras_exponential_decay(keras), rtol=RTOL)


def test_wrong_linear_lr_setup_would_be_caught():
    """PyTorch's LinearLR defaults (start_factor=1/3, end_factor=1: a warm-up) give other values."""
    warmup = [0.1 * (1 / 3 + (1 - 1 / 3) * min(j, 5) / 5) for j in J]
    assert not np.allclose(linear()(J), warmup, rtol=RTOL)
    shifted = linear()(J + 1)  # j counted from 1 instead of 0
    assert not np.allclose(shifted, GOLDEN["linear_decay"]["torch_LinearLR"], rtol=RTOL)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [linear, step, exponential, lambda: schedules.Constant(0.2)])
def test_bad_j(make):
    s = make()
    with pytest.raises(ValueError, match=r"j \(the iteration number\) must be >= 0, got -1"):
        s(-1)
    with pytest.raises(ValueError, match=r"must be >= 0, got array\(\[ 0,  1, -2\]\)"):
        s(np.array([0, 1, -2]))
    with pytest.raises(ValueError, match="must be >= 0, got nan"):
        s(float("nan"))
    with pytest.raises(TypeError, match=r"j must be a number or an array of numbers, got '3' \(str\)"):
        s("3")
    with pytest.raises(TypeError, match=r"got True \(bool\)"):
        s(True)


@pytest.mark.parametrize(
    "cls, kwargs, error, message",
    [
        (schedules.Constant, {"alpha": 0.0}, ValueError, r"alpha must be > 0, got 0\.0"),
        (schedules.Constant, {"alpha": "0.1"}, TypeError, r"alpha must be a real number, got '0\.1'"),
        (schedules.LinearDecay, {"alpha0": -0.1, "alpha_tau": 0.01, "tau": 10}, ValueError, r"alpha0 must be > 0, got -0\.1"),
        (schedules.LinearDecay, {"alpha0": 0.1, "alpha_tau": 0.0, "tau": 10}, ValueError, r"alpha_tau must be > 0, got 0\.0"),
        (schedules.LinearDecay, {"alpha0": 0.1, "alpha_tau": 0.01, "tau": 0}, ValueError, r"tau must be > 0, got 0\.0"),
        (schedules.LinearDecay, {"alpha0": 0.1, "alpha_tau": 0.01, "tau": -5}, ValueError, r"tau must be > 0, got -5\.0"),
        (schedules.LinearDecay, {"alpha0": 0.1, "alpha_tau": 0.01, "tau": float("inf")}, ValueError, r"tau must be finite, got inf"),
        (schedules.LinearDecay, {"alpha0": 0.1, "alpha_tau": 0.01, "tau": None}, TypeError, r"tau must be a real number, got None"),
        (schedules.StepDecay, {"alpha0": 0.1, "drop": 0.0, "every": 3}, ValueError, r"drop must be > 0, got 0\.0"),
        (schedules.StepDecay, {"alpha0": 0.1, "drop": 1.5, "every": 3}, ValueError, r"drop must be in \(0, 1\], got 1\.5"),
        (schedules.StepDecay, {"alpha0": 0.1, "drop": 0.5, "every": 0}, ValueError, r"every must be >= 1, got 0"),
        (schedules.StepDecay, {"alpha0": 0.1, "drop": 0.5, "every": 2.5}, TypeError, r"every must be an integer, got 2\.5"),
        (schedules.ExponentialDecay, {"alpha0": 0.1, "gamma": 1.1}, ValueError, r"gamma must be in \(0, 1\], got 1\.1"),
        (schedules.ExponentialDecay, {"alpha0": 0.0, "gamma": 0.9}, ValueError, r"alpha0 must be > 0, got 0\.0"),
    ],
)
def test_bad_arguments_name_parameter_value_and_range(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(**kwargs)


def test_repr_shows_the_arguments():
    assert repr(linear()) == "LinearDecay(alpha0=0.1, alpha_tau=0.01, tau=10.0)"
