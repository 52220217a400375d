"""nnlib.figures.aula02: figures return a Figure; the schedule widget's callback is a plain
function whose PNG equals a full draw, with divergent curves left out, not drawn as NaN."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib import schedules
from nnlib.figures import aula02
from nnlib.liveplot import differing_pixels

CALLS = []


def fake_curve(alpha0, alpha_tau, tau):
    """J − J* per epoch: decays to a plateau ∝ the final step; diverges when α₀ > 1.5."""
    CALLS.append((alpha0, alpha_tau, tau))
    if alpha0 > 1.5:
        return (1.0, 1e3, 1e40, float("inf")) + (float("nan"),) * 37, "J não finito"
    k = np.arange(41)
    return tuple(np.exp(-alpha0 * k) + alpha_tau * 0.01), None


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def test_static_figures_return_a_figure():
    rng = np.random.default_rng(0)
    j = np.arange(0, 801)
    s = schedules.LinearDecay(0.3, 0.02, 400)
    figs = [aula02.figura_estimativas({1: rng.normal(size=(50, 3)), 5: rng.normal(size=(50, 3))}, np.zeros(3)),
            aula02.figura_excesso({"a": np.geomspace(1, 1e-3, 41)}, "título", marca_tau=20),
            aula02.figura_decaimento_linear(j, s(j), 0.3, 0.02, 400),
            aula02.figura_decaimentos(j, {"linear": s(j)}, {"linear": np.geomspace(1, 1e-3, 41)})]
    assert all(type(f) is Figure for f in figs)
    assert [len(f.axes) for f in figs] == [2, 1, 1, 2]


def test_widget_callback_matches_a_full_draw():
    box = aula02.interativo_reducao_do_passo(fake_curve, iteracoes_por_epoca=20, epocas=40)
    assert set(box.controles) == {"alpha0", "alpha_tau", "tau"}
    pngs = [box.atualizar(*v) for v in ((0.3, 0.02, 400), (0.5, 0.02, 400), (0.5, 0.05, 100))]
    assert all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs) and len(set(pngs)) == 3
    for args in ((0.3, 0.02, 400), (2.0, 0.02, 400), (0.05, 0.05, 200)):
        assert differing_pixels(box.atualizar(*args), box.figura(*args)) == 0


def test_schedule_panel_is_the_slides_linear_decay():
    fig = aula02.interativo_reducao_do_passo(fake_curve, iteracoes_por_epoca=20, epocas=40).figura(0.5, 0.01, 100)
    alpha_j = fig.axes[0].lines[0].get_ydata()
    assert len(alpha_j) == 801 and alpha_j[0] == pytest.approx(0.5) and np.allclose(alpha_j[100:], 0.01)
    assert "época 5" in fig.axes[0].get_title()   # τ = 100 iterations at 20 per epoch


def test_constant_step_asks_for_the_constant_curve():
    CALLS.clear()
    aula02.interativo_reducao_do_passo(fake_curve, iteracoes_por_epoca=20, epocas=40).figura(0.3, 0.02, 400)
    assert (0.3, 0.3, 0) in CALLS and (0.02, 0.02, 0) in CALLS and (0.3, 0.02, 400) in CALLS


def test_divergent_curve_left_out():
    fig = aula02.interativo_reducao_do_passo(fake_curve, iteracoes_por_epoca=20, epocas=40).figura(2.0, 0.02, 400)
    ax = fig.axes[1]
    assert "divergiu" in ax.get_title()
    assert [line.get_visible() for line in ax.lines] == [False, True, False]
    assert all(np.all(np.isfinite(line.get_xydata())) for line in ax.lines)
