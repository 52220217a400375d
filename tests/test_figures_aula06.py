"""nnlib/figures/aula06.py: the figures draw what they are given; the widget's callback
redraws, pixel for pixel, what `framework_curves_figure` draws, with and without a curve."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.figures import aula06 as figures  # noqa: E402
from nnlib.liveplot import differing_pixels  # noqa: E402

CURVES = {("nnlib", "SGD"): [2.0, 1.0, 0.5], ("nnlib", "Adam"): [2.0, 0.8, 0.4],
          ("PyTorch", "SGD"): [2.0, 1.0, 0.5], ("PyTorch", "Adam"): [2.0, 0.81, 0.41],
          ("scikit-learn", "SGD"): [2.0, 1.0, 0.5], ("scikit-learn", "Adam"): "não tem"}
NOTES = {"PyTorch": {"Adam": "mesma regra"}}


def test_framework_curves_figure():
    fig = figures.framework_curves_figure(CURVES, NOTES, "PyTorch", "Adam")
    assert type(fig) is Figure and "mesma regra" in fig.get_suptitle()
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_visible()]
    np.testing.assert_allclose(lines[1].get_ydata(), [2.0, 0.81, 0.41])
    missing = figures.framework_curves_figure(CURVES, NOTES, "scikit-learn", "Adam")
    assert not missing.axes[1].axison and any(t.get_text() == "não tem" for t in missing.axes[1].texts)


def test_widget_redraws_what_the_figure_draws():
    box = figures.interativo_bibliotecas(CURVES, NOTES, ["PyTorch", "scikit-learn"], ["SGD", "Adam"],
                                         inicial=("PyTorch", "SGD"))
    for target in [("scikit-learn", "Adam"), ("PyTorch", "SGD"), ("scikit-learn", "Adam"), ("PyTorch", "Adam")]:
        png = box.atualizar(*target)
        assert differing_pixels(png, figures.framework_curves_figure(CURVES, NOTES, *target)) == 0


def test_static_figures():
    z = np.linspace(-8, 8, 50)
    a = 1 / (1 + np.exp(-z))
    assert len(figures.saturation_figure(z, a, 1.0, a - 1, a - 1).axes) == 2
    fig = figures.single_node_figure({"z = -5": {"MSE": [0.1, 0.2], "BCE": [0.1, 0.9]}})
    assert len(fig.axes[0].get_lines()) == 2
    assert len(figures.focal_factor_figure(np.linspace(0.1, 1, 5), {0.0: np.ones(5)}).axes[0].get_lines()) == 1
    assert len(figures.speed_figure({"nnlib": 0.1, "PyTorch": 0.2}, 1797, 32).axes[0].patches) == 2


def test_widget_figura_draws_what_the_callback_shows():
    box = figures.interativo_bibliotecas(CURVES, NOTES, ["PyTorch", "scikit-learn"], ["SGD", "Adam"], inicial=("PyTorch", "Adam"))
    assert set(box.controles) == {"framework", "optimizer"}
    for target in [("scikit-learn", "Adam"), ("PyTorch", "SGD")]:
        assert differing_pixels(box.atualizar(*target), box.figura(*target)) == 0
