"""Tests for nnlib.init: the slides' table (bounds, variances), fans, dtype, determinism."""

import numpy as np
import pytest

from nnlib import init

M, N = 400, 300  # non-square on purpose: a swapped fan changes r and σ

# The slides' table written out independently of the VarianceScaling core.
SLIDES_R = {
    "glorot": lambda m, n: np.sqrt(6.0 / (m + n)),
    "he": lambda m, n: np.sqrt(6.0 / m),
    "lecun": lambda m, n: np.sqrt(3.0 / m),
}
SLIDES_VAR = {
    "glorot": lambda m, n: 2.0 / (m + n),
    "he": lambda m, n: 2.0 / m,
    "lecun": lambda m, n: 1.0 / m,
}
FAMILIES = list(SLIDES_R)
UNIFORMS = [f"{f}_uniform" for f in FAMILIES]
NORMALS = [f"{f}_normal" for f in FAMILIES]


def draw(name, m=M, n=N, seed=0, **kw):
    return init.get(name)(m, n, np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("name", UNIFORMS + NORMALS + ["zeros"])
def test_shape_dtype_and_new_array(name):
    W = draw(name)
    assert type(W) is np.ndarray and W.shape == (M, N) and W.dtype == np.float64


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("m, n", [(M, N), (N, M)])
def test_uniform_bounds_exact(family, m, n):
    """|W| <= r from the slides, and the largest |W| is close to r (the whole range is used)."""
    W = draw(f"{family}_uniform", m, n)
    r = SLIDES_R[family](m, n)
    assert np.max(np.abs(W)) <= r
    assert np.max(np.abs(W)) > 0.999 * r
    assert init.limit(family, m, n) == pytest.approx(r, rel=1e-14)
    assert init.limit(f"{family}_uniform", m, n) == pytest.approx(r, rel=1e-14)


@pytest.mark.parametrize("name", UNIFORMS + NORMALS)
@pytest.mark.parametrize("m, n", [(M, N), (N, M)])
def test_variance_within_two_percent(name, m, n):
    family = name.split("_")[0]
    W = draw(name, m, n, seed=1)
    expected = SLIDES_VAR[family](m, n)
    assert abs(W.var() / expected - 1.0) < 0.02
    assert init.std(name, m, n) ** 2 == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("name", ["he_uniform", "he_normal", "lecun_uniform", "lecun_normal"])
def test_swapped_fans_detected(name):
    """Drawing with (fan_out, fan_in) instead of (fan_in, fan_out) misses the 2% tolerance."""
    family = name.split("_")[0]
    swapped = draw(name, N, M, seed=2).T  # same shape (M, N), fans swapped
    expected = SLIDES_VAR[family](M, N)
    assert swapped.shape == (M, N)
    assert abs(swapped.var() / expected - 1.0) > 0.02


@pytest.mark.parametrize("name", UNIFORMS + NORMALS)
def test_mean_close_to_zero(name):
    W = draw(name, seed=3)
    sigma = init.std(name, M, N)
    # standard error of the mean of M*N draws is sigma / sqrt(M*N); allow 5 of them
    assert abs(W.mean()) < 5 * sigma / np.sqrt(M * N)


@pytest.mark.parametrize("name", NORMALS)
def test_normals_are_not_truncated(name):
    """A plain normal has about 4.55% of |W| > 2σ; Keras' truncated normal has none."""
    W = draw(name, seed=4)
    frac = np.mean(np.abs(W) > 2 * init.std(name, M, N))
    assert 0.04 < frac < 0.051
    assert np.max(np.abs(W)) > 3 * init.std(name, M, N)


def test_uniform_and_normal_share_sigma():
    for family in FAMILIES:
        assert init.std(f"{family}_uniform", M, N) == init.std(f"{family}_normal", M, N)


def test_zeros_and_zero_bias():
    Z = init.zeros(3, 5, np.random.default_rng(0))
    assert Z.shape == (3, 5) and not Z.any()
    assert init.zeros(3, 5).shape == (3, 5)
    b = init.zero_bias(5)
    assert b.shape == (5,) and b.dtype == np.float64 and not b.any()
    assert init.zero_bias(4, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("name", UNIFORMS + NORMALS)
def test_same_seed_same_weights(name):
    assert np.array_equal(draw(name, 7, 5, seed=9), draw(name, 7, 5, seed=9))
    assert not np.array_equal(draw(name, 7, 5, seed=9), draw(name, 7, 5, seed=10))


@pytest.mark.parametrize("name", UNIFORMS + NORMALS + ["zeros"])
def test_float32_option(name):
    W32 = draw(name, 7, 5, seed=5, dtype=np.float32)
    assert W32.dtype == np.float32
    np.testing.assert_array_equal(W32, draw(name, 7, 5, seed=5).astype(np.float32))


def test_variance_scaling_core_modes():
    rng = np.random.default_rng(6)
    W = init.variance_scaling(M, N, rng, scale=3.0, mode="fan_out", distribution="uniform")
    assert np.max(np.abs(W)) <= np.sqrt(9.0 / N)
    assert abs(W.var() / (3.0 / N) - 1) < 0.02


def test_against_torch_conventions():
    """PyTorch stores W as (out, in): its xavier/kaiming bounds equal nnlib's for W.T."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    Wt = torch.empty(N, M, dtype=torch.float64)  # (out, in): fan_in = M
    torch.nn.init.xavier_uniform_(Wt)
    assert Wt.abs().max().item() == pytest.approx(init.limit("glorot", M, N), rel=1e-3)
    torch.nn.init.kaiming_uniform_(Wt, nonlinearity="relu")
    assert Wt.abs().max().item() == pytest.approx(init.limit("he", M, N), rel=1e-3)
    torch.nn.init.kaiming_normal_(Wt, nonlinearity="relu")
    assert Wt.std().item() == pytest.approx(init.std("he_normal", M, N), rel=0.01)


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-3, ValueError), (2.0, TypeError),
                                      (True, TypeError), ("4", TypeError)])
def test_bad_fans(bad, exc):
    rng = np.random.default_rng(0)
    with pytest.raises(exc, match="fan_in"):
        init.glorot_uniform(bad, 3, rng)
    with pytest.raises(exc, match="fan_out"):
        init.he_normal(3, bad, rng)


def test_bad_rng_dtype_and_names():
    with pytest.raises(TypeError, match="rng"):
        init.glorot_uniform(3, 4, 0)
    with pytest.raises(TypeError, match="rng"):
        init.he_normal(3, 4, np.random.RandomState(0))
    with pytest.raises(TypeError, match="dtype"):
        init.lecun_uniform(3, 4, np.random.default_rng(0), dtype=np.int64)
    with pytest.raises(ValueError, match="glorot_uniform"):
        init.get("xavier")
    with pytest.raises(ValueError, match="normal"):
        init.limit("he_normal", 3, 4)
    with pytest.raises(ValueError, match="mode"):
        init.variance_scaling(3, 4, np.random.default_rng(0), mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        init.variance_scaling(3, 4, np.random.default_rng(0), distribution="truncated")
    with pytest.raises(ValueError, match="scale"):
        init.variance_scaling(3, 4, np.random.default_rng(0), scale=0.0)
