"""nnlib.checks.check_true and is_close: yes/no properties in words, compared safely."""

import numpy as np
import pytest

from nnlib import checks


def test_check_true_passes_and_fails_with_the_message():
    checks.check_true(True, "nunca aparece")
    checks.check_true(np.bool_(True), "nunca aparece")
    with pytest.raises(AssertionError, match="^os pesos devem ficar dentro de \\[-r, r\\]$"):
        checks.check_true(False, "os pesos devem ficar dentro de [-r, r]")


@pytest.mark.parametrize("condition", [1, 1.0, "sim", [True], np.array([True, True]), None])
def test_check_true_accepts_only_a_bool(condition):
    with pytest.raises(AssertionError, match="deve ser True ou False"):
        checks.check_true(condition, "x")


def test_is_close_compares_like_check_close():
    assert checks.is_close(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9], rtol=1e-7)
    assert not checks.is_close(np.array([1.0, 2.0]), [1.0, 2.1])
    assert checks.is_close(np.full(3, 0.1), 0.1) and not checks.is_close(np.array([0.1, 0.2]), 0.1)
    assert checks.is_close(np.array([3.0, 3.0]), np.float64(3.0))
    assert not checks.is_close(np.zeros(2), np.zeros(3))          # another shape: False, no error
    assert not checks.is_close("0.0", 0.0) and not checks.is_close(np.array([np.nan]), [np.nan])
    assert checks.is_close(np.zeros(2), [0.0, 0.0], rtol=0.0, atol=0.0)
    assert not checks.is_close(np.array([0.0, 1e-300]), [0.0, 0.0], rtol=0.0, atol=0.0)


def test_is_close_is_not_fooled_by_look_alikes_or_a_patched_numpy(monkeypatch):
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return True

    assert not checks.is_close(np.zeros(2).view(AlwaysEqual), [1.0, 1.0])
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: np.array([True, True]))
    assert not checks.is_close(np.zeros(2), [1.0, 1.0])
