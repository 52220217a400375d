"""nnlib/figures/aula04.py: each figure draws what it is given and returns it; the widgets'
callbacks redraw, pixel for pixel, what the figure functions draw."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib import surfaces  # noqa: E402
from nnlib.figures import aula04 as figures  # noqa: E402
from nnlib.liveplot import differing_pixels  # noqa: E402

SURFACES = {"quadratic": surfaces.Quadratic(a=1.0, b=20.0), "rosenbrock": surfaces.Rosenbrock(),
            "beale": surfaces.Beale(), "bounded_saddle": surfaces.BoundedSaddle()}


def visible_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_visible() and not ln.get_label().startswith("_")]


def test_static_figures_return_figures_with_the_data_given():
    quad = SURFACES["quadratic"]
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]])
    fig = figures.single_alpha_figure(quad, {"a": path, "b": path * 2})
    assert type(fig) is Figure and len(fig.axes) == 2
    np.testing.assert_array_equal(visible_lines(fig.axes[0])[0].get_xdata(), path[:, 0])
    steps = np.abs(np.random.default_rng(0).normal(size=(20, 2))) + 0.1
    fig = figures.effective_steps_figure(steps, steps / 2, reference=("ref", np.ones(20)))
    assert len(fig.axes[0].get_lines()) == 5
    moments = np.ones((10, 4))
    fig = figures.bias_correction_figure(np.ones(10), moments, {"x": np.linspace(3, 1, 50)})
    assert fig.axes[1].get_yscale() == "log" and len(visible_lines(fig.axes[1])) == 1


def test_preconditioning_figure_draws_each_optimizer_and_weight():
    steps = 30
    run = {"kappa": 10, "angle": 0, "H": np.diag([1.0, 10.0]), "paths": {}, "steps": {}, "conditions": {}}
    for name in figures.PRECONDITIONING_LINES:
        run["paths"][name] = np.linspace([1.0, 0.5], [0.0, 0.0], steps + 1)
        run["steps"][name] = np.full((steps, 2), 0.1)
        run["conditions"][name] = np.full(steps, 2.0)
    fig = figures.preconditioning_figure(run)
    ax_path, ax_step, ax_kappa = fig.axes
    assert len(visible_lines(ax_step)) == 6 and len(visible_lines(ax_kappa)) == 3
    assert "κ = 10" in ax_path.get_title()


@pytest.mark.parametrize("kwargs", [dict(optimizers=("sgd", "adam"), alpha=0.01, surface="beale"),
                                    dict(optimizers=(), surface="quadratic"),
                                    dict(optimizers=("sgd",), alpha=3.0, surface="quadratic")])
def test_optimizers_widget_callback_equals_a_full_draw(kwargs):
    box = figures.interativo_otimizadores(SURFACES)
    box.atualizar(optimizers=figures.OPTIMIZER_NAMES, alpha=0.1, surface="rosenbrock")
    png = box.atualizar(**kwargs)
    assert png[:4] == b"\x89PNG" and box.live.image.value == png
    assert differing_pixels(png, figures.optimizers_figure(SURFACES, **kwargs)) == 0


def test_optimizers_widget_lays_out_two_columns_of_controls_and_figura_draws_the_same():
    box = figures.interativo_otimizadores(SURFACES, otimizadores=("adam",), superficie="beale")
    left, right = box.children[0].children
    assert [c.description for c in left.children] == ["otimizadores", "superfície"]
    assert [c.description for c in right.children] == ["passo α", "μ", "ρ", "β1", "β2"]
    assert differing_pixels(box.atualizar(optimizers=("adam",), surface="beale"), box.figura()) == 0


def test_preconditioning_widget_figura_draws_what_the_callback_shows():
    def run(kappa, angle):
        steps = 20
        paths = {n: np.linspace([1.0, 0.5], [0.0, 0.1 * angle / 45], steps + 1) for n in figures.PRECONDITIONING_LINES}
        return {"kappa": kappa, "angle": angle, "H": np.diag([1.0, float(kappa)]), "paths": paths,
                "steps": {n: np.full((steps, 2), 0.1 / kappa) for n in paths},
                "conditions": {n: np.full(steps, float(kappa)) for n in paths}}

    box = figures.interativo_precondicionamento(run, kappa=(1, 10, 100), angulo=(0, 45), inicial=(10, 0))
    assert set(box.controles) == {"kappa", "angle"}
    for move in [(100, 45), (1, 0), (100, 45)]:
        assert differing_pixels(box.atualizar(*move), box.figura(*move)) == 0


def test_unknown_surface_is_rejected():
    with pytest.raises(ValueError, match="plana"):
        figures.optimizers_figure(SURFACES, surface="plana")
