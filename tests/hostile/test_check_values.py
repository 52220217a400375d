"""Values shaped to slip through the checks: ragged lists and empty arrays.

Before: ``check_close([1.0, [], []], [1.0, 2.0, 3.0])`` passed (the shape was read from the
first element only and ``zip`` stopped at the shorter list), and ``is_close(np.zeros(0), 0.5)``
was True (an empty array holds no wrong element).
"""

import numpy as np
import pytest

from nnlib import checks


@pytest.mark.parametrize("ragged", [
    [1.0, [], []],
    [[1.0, 2.0, 3.0], [4.0]],
    [[1.0], [2.0, 3.0], 4.0],
])
def test_a_ragged_list_is_rejected(ragged):
    expected = [1.0, 2.0, 3.0] if len(ragged) == 3 and not isinstance(ragged[0], list) \
        else [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    with pytest.raises(AssertionError, match="formato"):
        checks.check_close(ragged, expected)
    assert checks.is_close(ragged, expected) is False


def test_the_first_element_alone_does_not_decide_the_shape():
    with pytest.raises(AssertionError, match="formato irregular"):
        checks.check_close([[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, 4.0]])


def test_an_empty_array_is_not_close_to_a_number():
    assert checks.is_close(np.zeros(0), 0.5) is False
    assert checks.is_close(np.zeros((3, 0)), 0.0) is False
    with pytest.raises(AssertionError):
        checks.check_close(np.zeros(0), 0.5)
    with pytest.raises(AssertionError):
        checks.check_close(np.zeros(0), [1.0, 2.0])


def test_regular_values_still_pass():
    """The control: the same checks accept what is right."""
    checks.check_close([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]])
    checks.check_close(np.zeros(0), [])
    assert checks.is_close(np.full(3, 0.5), 0.5)
