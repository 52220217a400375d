"""nnlib/figures/aula05.py: the figures draw what they are given; the widget runs the
``layer_statistics`` it is passed and redraws what `layer_statistics_figure` draws."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.figures import aula05 as figures  # noqa: E402
from nnlib.liveplot import differing_pixels  # noqa: E402


def fake_statistics(depth, activation, heuristic, distribution="normal", scale=1.0, batch=500):
    """Deterministic stand-in for the notebook's layer_statistics (growth set by scale)."""
    rng = np.random.default_rng(depth)
    growth = scale ** np.arange(depth)
    return {"z_std": growth, "a_std": growth / 2, "grad_norm": 1.0 / growth,
            "a": [np.tanh(g * rng.standard_normal(batch)) for g in growth], "calls": batch}


def test_log_limits_and_round_up():
    assert figures.log_limits(np.array([1e-2, 10.0])) == (-3, 3)
    assert figures.log_limits(np.array([np.nan, 1e-20, 1e30])) == (-24, 36)
    assert figures.round_up_125(3.2) == 5 and figures.round_up_125(0.011) == 0.02


def test_layer_statistics_figure_uses_the_function_it_is_given():
    fig = figures.layer_statistics_figure(fake_statistics, depth=7, activation="tanh", scale=2.0)
    assert type(fig) is Figure and len(fig.axes) == 3
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), 2.0 ** np.arange(7))
    assert "7 camadas" in fig.get_suptitle() and "× 2" in fig.get_suptitle()


def test_widget_redraws_what_the_figure_draws_and_bounds_its_memory():
    box = figures.interativo_estatisticas(fake_statistics, max_backgrounds=2)
    for move in [(30, "relu", "he", "normal", 3.0), (2, "tanh", "glorot", "uniform", 0.5),
                 (10, "logistic", "lecun", "normal", 1.0)]:
        png = box.atualizar(*move)
        assert len(box.seen_keys) <= 2
        assert differing_pixels(png, figures.layer_statistics_figure(fake_statistics, *move)) == 0


def test_static_figures():
    stats = {(a, h): fake_statistics(5, a, h) for a in ("tanh", "relu") for h in ("glorot", "he")}
    assert len(figures.activation_std_figure(stats, 5).axes) == 2
    assert len(figures.histograms_figure({0.5: stats["tanh", "he"], 1.0: stats["relu", "he"]}, [1, 5]).axes) == 2
    fig = figures.gradient_norms_figure({"a": {"x": np.ones(4)}, "b": {"y": np.ones(4), "z": np.ones(4)}})
    assert [len(ax.get_lines()) for ax in fig.axes] == [1, 2]


def test_widget_is_a_panel_not_displayed_with_its_layout_and_limit_read_at_every_call(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append(a))
    box = figures.interativo_estatisticas(fake_statistics, max_backgrounds=3)
    assert shown == [] and set(box.controles) == {"depth", "activation", "heuristic", "distribution", "scale"}
    assert [[c.description for c in row.children] for row in box.children[:2]] == \
        [["camadas L", "escala ×"], ["ativação", "heurística", "distribuição"]]
    box.max_backgrounds = 1
    box.atualizar(30, "relu", "he", "normal", 3.0)
    assert len(box.seen_keys) == 1
    move = (2, "tanh", "glorot", "uniform", 0.5)
    assert differing_pixels(box.atualizar(*move), box.figura(*move)) == 0
