"""Argument checks shared by every nnlib module.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the parameter,
the value it got and the range it allows, so a student can fix the call at once.
"""

import numbers

import numpy as np


def check_real(name, value):
    """Return ``value`` as a float, or raise ``TypeError`` if it is not a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive(name, value):
    """``value > 0``."""
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_non_negative(name, value):
    """``value >= 0``."""
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_unit_interval(name, value):
    """``0 <= value < 1`` (momentum coefficient μ, decay rates ρ, β1, β2)."""
    value = check_real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


def check_int(name, value, low=None, high=None):
    """An integer (not bool) with ``low <= value <= high`` where given."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    too_low = low is not None and value < low
    too_high = high is not None and value > high
    if too_low or too_high:
        if low is not None and high is not None:
            allowed = f"in [{low}, {high}]"
        else:
            allowed = f">= {low}" if low is not None else f"<= {high}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def check_choice(name, value, choices):
    """``value`` is one of ``choices`` (names of activations, losses, initializers...)."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(choices)}")
    return value


def check_finite_array(name, array, ndim=None):
    """A float array without NaN or inf, optionally of a given number of dimensions."""
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or inf value(s)")
    return array


def check_rng(rng):
    """An explicit ``numpy.random.Generator``: nnlib never seeds a global state."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng
