"""nnlib.checks.check_agrees: check_close's comparison, but the failure says only the message
(visible tests say what is wrong without printing the expected value, issue #13)."""

import traceback

import numpy as np
import pytest

from nnlib import checks


def test_passes_within_tolerance():
    checks.check_agrees(np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9], "não passa", rtol=1e-7)
    checks.check_agrees(3, 3.0, "não passa")


@pytest.mark.parametrize("actual", [np.array([1.0, 2.5]), np.array([1.0]), np.array([1.0, np.nan]), [1.0, 2.0]])
def test_fails_with_the_message_only(actual):
    with pytest.raises(AssertionError) as info:
        checks.check_agrees(actual if not isinstance(actual, list) else tuple(actual) + ("x",),
                            np.array([1.0, 2.0]), "o passo deve ser o do gradiente descendente")
    assert str(info.value) == "o passo deve ser o do gradiente descendente"
    shown = "".join(traceback.format_exception(info.value))
    assert "esperava" not in shown and "2.0" not in shown   # the expected value is not printed
