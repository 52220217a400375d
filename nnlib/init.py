"""Weight initialization heuristics (slides: "Inicialização dos Pesos").

For a layer with ``m`` inputs (``fan_in``) and ``n`` outputs (``fan_out``) the slides' table is

=============  ==========================  ==========================
heuristic      uniform U(-r, r)            normal N(0, σ²)
=============  ==========================  ==========================
Xavier/Glorot  r = sqrt(6 / (m + n))       σ² = 2 / (m + n)
He             r = sqrt(6 / m)             σ² = 2 / m
LeCun          r = sqrt(3 / m)             σ² = 1 / m
=============  ==========================  ==========================

and biases start at zero. All six weight rules are one rule, Keras' ``VarianceScaling``:
with ``n_mode`` = ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2``,

    uniform:  r = sqrt(3 * scale / n_mode)
    normal:   σ = sqrt(scale / n_mode)

(Glorot: scale 1, fan_avg; He: scale 2, fan_in; LeCun: scale 1, fan_in). Since the variance
of U(-r, r) is r² / 3, both variants of one heuristic give weights with the same σ.

Conventions of nnlib: W has shape ``(fan_in, fan_out)`` (forward pass ``A @ W + b``), like
Keras; PyTorch stores W as ``(out, in)``, so its ``fan_in`` is ``W.shape[1]``. The normal
variants here are PLAIN normals (not truncated), like PyTorch; Keras truncates its normals
at 2σ and rescales them by 1 / 0.8796 so the final σ is right. Every function returns a new
array drawn from the ``rng`` it is given.
"""

import numpy as np

from ._argument_validation import check_choice, check_int, check_positive, check_rng

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("uniform", "normal")

# family -> (scale, mode), the Keras VarianceScaling arguments of the slides' table
FAMILIES = {
    "glorot": (1.0, "fan_avg"),
    "he": (2.0, "fan_in"),
    "lecun": (1.0, "fan_in"),
}


def _check_fans(fan_in, fan_out):
    """Both fans are integers >= 1."""
    return check_int("fan_in", fan_in, low=1), check_int("fan_out", fan_out, low=1)


def _check_dtype(dtype):
    """A floating dtype (float32 or float64)."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating dtype such as np.float64, got {dtype}")
    return dtype


def _mode_count(mode, fan_in, fan_out):
    """The ``n`` of VarianceScaling: fan_in, fan_out or their mean."""
    check_choice("mode", mode, MODES)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def scaling_std(fan_in, fan_out, scale=1.0, mode="fan_in"):
    """Standard deviation σ = sqrt(scale / n) of the VarianceScaling rule.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs ``m`` and outputs ``n`` of the layer (>= 1).
    scale : float
        Positive scale (1 for Glorot and LeCun, 2 for He).
    mode : {"fan_in", "fan_out", "fan_avg"}
        Which count divides ``scale``.

    Returns
    -------
    float
        σ. The uniform limit is ``r = sqrt(3) * σ``.
    """
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    scale = check_positive("scale", scale)
    return float(np.sqrt(scale / _mode_count(mode, fan_in, fan_out)))


def variance_scaling(fan_in, fan_out, rng, scale=1.0, mode="fan_in", distribution="uniform",
                     dtype=np.float64):
    """Draw a ``(fan_in, fan_out)`` weight matrix with variance ``scale / n``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs ``m`` and outputs ``n`` of the layer (>= 1).
    rng : numpy.random.Generator
        Source of randomness.
    scale : float
        Positive variance scale.
    mode : {"fan_in", "fan_out", "fan_avg"}
        ``n`` = fan_in, fan_out or (fan_in + fan_out) / 2.
    distribution : {"uniform", "normal"}
        U(-r, r) with r = sqrt(3 scale / n), or a plain N(0, σ²) with σ = sqrt(scale / n).
    dtype : numpy dtype
        Floating dtype of the result (the draw itself is in float64, so a float32 matrix
        is the float64 one rounded).

    Returns
    -------
    numpy.ndarray
        New array of shape ``(fan_in, fan_out)``.

    Notes
    -----
    Same rule as Keras ``VarianceScaling``, except that the normal is NOT truncated
    (Keras' "truncated_normal" cuts at 2σ and rescales by 1 / 0.8796).
    """
    sigma = scaling_std(fan_in, fan_out, scale, mode)
    check_rng(rng)
    check_choice("distribution", distribution, DISTRIBUTIONS)
    dtype = _check_dtype(dtype)
    shape = (int(fan_in), int(fan_out))
    if distribution == "uniform":
        r = np.sqrt(3.0) * sigma
        W = rng.uniform(-r, r, size=shape)
    else:
        W = rng.normal(0.0, sigma, size=shape)
    return W.astype(dtype, copy=False)


def glorot_uniform(fan_in, fan_out, rng, dtype=np.float64):
    """Xavier/Glorot uniform: W ~ U(-r, r), r = sqrt(6 / (m + n)).

    For linear, tanh, logistic and softmax layers. scikit-learn's MLP uses this rule and
    draws the biases from the same uniform (nnlib's biases start at zero, see `zero_bias`).
    Parameters and return value as in `variance_scaling` (scale 1, mode "fan_avg").
    """
    return variance_scaling(fan_in, fan_out, rng, 1.0, "fan_avg", "uniform", dtype)


def glorot_normal(fan_in, fan_out, rng, dtype=np.float64):
    """Xavier/Glorot normal: W ~ N(0, σ²), σ² = 2 / (m + n), a plain (not truncated) normal.

    Keras' ``GlorotNormal`` truncates at 2σ. Note: σ = sqrt(1 / m) is LeCun, not Xavier,
    a common mislabel. Parameters and return value as in `variance_scaling`.
    """
    return variance_scaling(fan_in, fan_out, rng, 1.0, "fan_avg", "normal", dtype)


def he_uniform(fan_in, fan_out, rng, dtype=np.float64):
    """He uniform: W ~ U(-r, r), r = sqrt(6 / m), for ReLU and its variants.

    PyTorch's ``kaiming_uniform_`` gives the same r for ``a=0, nonlinearity="relu"``, but
    reads fan_in from ``W.shape[1]`` (W stored as (out, in)). Parameters and return value
    as in `variance_scaling` (scale 2, mode "fan_in").
    """
    return variance_scaling(fan_in, fan_out, rng, 2.0, "fan_in", "uniform", dtype)


def he_normal(fan_in, fan_out, rng, dtype=np.float64):
    """He normal: W ~ N(0, σ²), σ² = 2 / m, a plain (not truncated) normal.

    Keras' ``HeNormal`` truncates at 2σ. Parameters and return value as in
    `variance_scaling`.
    """
    return variance_scaling(fan_in, fan_out, rng, 2.0, "fan_in", "normal", dtype)


def lecun_uniform(fan_in, fan_out, rng, dtype=np.float64):
    """LeCun uniform: W ~ U(-r, r), r = sqrt(3 / m), for SELU.

    PyTorch's ``nn.Linear`` default, U(±1/sqrt(m)) for weights AND bias, is a different,
    smaller rule. Parameters and return value as in `variance_scaling`.
    """
    return variance_scaling(fan_in, fan_out, rng, 1.0, "fan_in", "uniform", dtype)


def lecun_normal(fan_in, fan_out, rng, dtype=np.float64):
    """LeCun normal: W ~ N(0, σ²), σ² = 1 / m, a plain (not truncated) normal.

    σ = sqrt(1 / m) is often mislabelled "Xavier"; it is LeCun. Keras' ``LecunNormal``
    truncates at 2σ. Parameters and return value as in `variance_scaling`.
    """
    return variance_scaling(fan_in, fan_out, rng, 1.0, "fan_in", "normal", dtype)


def zeros(fan_in, fan_out, rng=None, dtype=np.float64):
    """All-zero ``(fan_in, fan_out)`` matrix (``rng`` accepted for a uniform signature, unused).

    Zero weights do not break the symmetry between nodes: every hidden node of a layer then
    gets the same gradient. Use it to show that, not to train.
    """
    fan_in, fan_out = _check_fans(fan_in, fan_out)
    if rng is not None:
        check_rng(rng)
    return np.zeros((fan_in, fan_out), dtype=_check_dtype(dtype))


def zero_bias(fan_out, dtype=np.float64):
    """The slides' bias heuristic: a zero vector of shape ``(fan_out,)``.

    PyTorch's ``nn.Linear`` draws biases from U(±1/sqrt(m)) and scikit-learn's MLP from the
    Glorot uniform; both differ from the slides.
    """
    fan_out = check_int("fan_out", fan_out, low=1)
    return np.zeros(fan_out, dtype=_check_dtype(dtype))


INITIALIZERS = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
}


def get(name):
    """Return the initializer called ``name`` (one of `INITIALIZERS`).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the choices.
    """
    check_choice("initializer", name, INITIALIZERS)
    return INITIALIZERS[name]


def _family(name, allowed_suffixes):
    """Split "glorot", "glorot_uniform"... into the family and check the suffix."""
    family, _, suffix = str(name).partition("_")
    choices = list(FAMILIES) + [f"{f}_{s}" for f in FAMILIES for s in allowed_suffixes]
    if family not in FAMILIES or (suffix and suffix not in allowed_suffixes):
        check_choice("heuristic", name, choices)
    return family


def std(name, fan_in, fan_out):
    """σ of the weights drawn by heuristic ``name`` ("glorot", "he", "lecun" or a full name).

    Uniform and normal variants of one heuristic share σ (Var U(-r, r) = r² / 3), so
    ``std("glorot_uniform", m, n) == std("glorot_normal", m, n) == sqrt(2 / (m + n))``.
    """
    scale, mode = FAMILIES[_family(name, DISTRIBUTIONS)]
    return scaling_std(fan_in, fan_out, scale, mode)


def limit(name, fan_in, fan_out):
    """Uniform limit r of heuristic ``name`` ("glorot", "he", "lecun" or "<family>_uniform").

    A normal has no limit, so "<family>_normal" raises ``ValueError``.
    """
    return float(np.sqrt(3.0) * std(_family(name, ("uniform",)), fan_in, fan_out))
