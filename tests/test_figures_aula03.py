"""nnlib.figures.aula03: figures return a Figure; the trajectory and momentum-map widgets'
callbacks are plain functions whose PNG equals a full draw of the same picture."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib import optim, surfaces
from nnlib.figures import aula03
from nnlib.liveplot import differing_pixels

QUAD = surfaces.Quadratic(1.0, 20.0)
GRID = surfaces.contour_grid(QUAD, n=40)
LEVELS = np.logspace(-2, 2, 8)


def make(kind, alpha, mu):
    return optim.SGD(alpha=alpha) if kind == "sgd" else optim.get(kind, alpha=alpha, mu=mu)


def factor(alpha, mu, lam):
    b = 1.0 + mu - alpha * lam
    root = np.sqrt(np.asarray(b ** 2 - 4.0 * mu, dtype=complex))
    return np.maximum(np.abs((b + root) / 2), np.abs((b - root) / 2))


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def test_static_figures_return_a_figure():
    paths = {k: surfaces.run(make(k, 0.06, 0.7), QUAD, steps=20) for k in ("sgd", "momentum")}
    t = np.arange(1, 11)
    figs = [aula03.figura_velocidades(t, {0.5: (np.ones(10), -np.ones(10))}, 0.1),
            aula03.figura_trajetorias(QUAD, GRID, paths, "título", LEVELS),
            aula03.figura_trajetorias(QUAD, GRID, paths, "título", LEVELS, estilos={"sgd": dict(lw=3)}),
            aula03.figura_passo_e_velocidade(np.ones((10, 2)), np.ones((10, 2)), 0.7)]
    assert all(type(f) is Figure for f in figs)
    assert [len(f.axes) for f in figs] == [2, 2, 2, 2]


def test_trajectory_widget_matches_a_full_draw_and_marks_divergence():
    box = aula03.interativo_trajetorias(QUAD, make, GRID, LEVELS, passos=30)
    for args in ((0.06, 0.7, "todos"), (0.11, 0.5, "sgd"), (0.03, 0.95, "nesterov")):
        assert differing_pixels(box.atualizar(*args), box.figura(*args)) == 0
    labels = [t.get_text() for t in box.artistas["legenda"].get_texts()]
    assert labels == ["Nesterov"]
    fig = box.figura(0.11, 0.5, "todos")
    assert "gradiente descendente (diverge)" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_best_momentum_is_polyaks_and_beats_its_neighbours():
    for kappa in (5.0, 20.0, 200.0):
        alpha, mu, rho = aula03.melhor_momentum(kappa)
        worst = lambda a, m: max(float(factor(a, m, 1.0)), float(factor(a, m, kappa)))
        assert worst(alpha, mu) == pytest.approx(rho, rel=1e-6)
        for da, dm in ((1.05, 0), (0.95, 0), (1, 0.02), (1, -0.02)):
            assert worst(alpha * da, mu + dm) > rho


def test_map_widget_matches_a_full_draw_and_reports_divergence():
    box = aula03.interativo_mapa_momentum(factor, kappa=[5, 20, 200], passos=60, resolucao=40)
    assert set(box.controles) == {"kappa", "alpha_lambda", "mu"}
    pngs = [box.atualizar(*v) for v in ((20, 1.0, 0.7), (200, 1.0, 0.7), (20, 1.0, 0.7))]
    assert pngs[0] == pngs[2] != pngs[1]   # back to a κ already drawn: the same picture
    for args in ((20, 1.0, 0.7), (200, 3.5, 0.9), (5, 3.9, 0.1)):
        assert differing_pixels(box.atualizar(*args), box.figura(*args)) == 0
    box.atualizar(20, 3.0, 0.3)   # αλ_máx = 3 > 2(1 + μ) = 2.6
    assert "diverge" in box.artistas["titulo"].get_text()
    box.atualizar(20, 1.0, 0.7)
    assert "ρ = max(ρ₁, ρ₂) = 0.837" in box.artistas["titulo"].get_text()   # √0.7, both roots complex
