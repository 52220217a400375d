"""Activations: values against their definitions, derivatives against finite differences."""

import numpy as np
import pytest

from nnlib import activations

ELEMENTWISE = ["linear", "logistic", "tanh", "relu", "leaky_relu", "elu", "selu"]


def central_difference(f, z, eps=1e-6):
    return (f(z + eps) - f(z - eps)) / (2 * eps)


@pytest.fixture
def z():
    # Points away from the kinks of relu-like functions at 0, where the derivative jumps.
    rng = np.random.default_rng(7)
    z = rng.uniform(-4, 4, size=(50, 3))
    return z[np.abs(z) > 1e-3].reshape(-1, 2)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_finite_differences(name, z):
    act = activations.get(name)
    numeric = central_difference(act.f, z)
    analytic = act.df(z, act.f(z))
    rel = np.max(np.abs(numeric - analytic)) / np.max(np.abs(numeric) + np.abs(analytic))
    assert rel < 1e-7


def test_values_match_their_definitions():
    z = np.linspace(-3, 3, 13)
    assert np.allclose(activations.logistic(z), 1 / (1 + np.exp(-z)), rtol=1e-14, atol=0)
    assert np.array_equal(activations.relu(z), np.where(z > 0, z, 0))
    assert np.allclose(activations.leaky_relu(z), np.where(z > 0, z, 0.01 * z))
    assert np.allclose(activations.elu(z), np.where(z > 0, z, np.exp(z) - 1))
    lam, alpha = 1.0507009873554805, 1.6732632423543772
    assert np.allclose(activations.selu(z), lam * np.where(z > 0, z, alpha * (np.exp(z) - 1)))


@pytest.mark.parametrize("name", ["logistic", "tanh", "elu", "selu", "softmax"])
def test_stable_for_huge_inputs(name):
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        a = activations.get(name).f(z)
    assert np.all(np.isfinite(a))


def test_logistic_saturates_to_exact_limits():
    assert activations.logistic(np.array([-1e4, 1e4])).tolist() == [0.0, 1.0]


def test_softmax_rows_are_probabilities_and_shift_invariant():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 4)) * 10
    a = activations.softmax(z)
    assert np.allclose(a.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.allclose(activations.softmax(z + 1000.0), a, rtol=1e-12, atol=0)


def test_softmax_jacobian_diagonal_matches_finite_differences():
    z = np.array([[0.3, -1.2, 2.0]])
    a = activations.softmax(z)
    for k in range(3):
        e = np.zeros_like(z)
        e[0, k] = 1e-6
        numeric = (activations.softmax(z + e) - activations.softmax(z - e))[0, k] / 2e-6
        assert abs(numeric - activations.softmax_derivative(z, a)[0, k]) < 1e-9


def test_relu_derivative_is_zero_at_zero():
    z = np.array([-1.0, 0.0, 2.0])
    assert activations.relu_derivative(z, activations.relu(z)).tolist() == [0.0, 0.0, 1.0]


def test_float32_stays_float32():
    z = np.linspace(-2, 2, 5, dtype=np.float32)
    for name in ELEMENTWISE + ["softmax"]:
        act = activations.get(name)
        a = act.f(z)
        assert a.dtype == np.float32, name
        assert act.df(z, a).dtype == np.float32, name


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'sigmoid'.*'logistic'"):
        activations.get("sigmoid")
