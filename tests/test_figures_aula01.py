"""nnlib.figures.aula01: figures return a Figure, the
widget's callback is a plain function whose PNG equals a full draw of the same picture."""

from types import SimpleNamespace

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib import data
from nnlib.figures import aula01
from nnlib.liveplot import differing_pixels

X, Y, W_TRUE = data.regression_2w(50, np.random.default_rng(0), noise=0.3)
W1, W2 = np.meshgrid(np.linspace(-1.5, 2.5, 30), np.linspace(-1.5, 3.5, 30))
J = data.mse_surface(X, Y, W1, W2)
CONTORNO = dict(W1=W1, W2=W2, J=J, niveis=np.quantile(J, np.linspace(0, 1, 8) ** 2)[1:],
                w_verdadeiro=W_TRUE, w_inicial=np.array([-1.0, -1.0]))


def history(J_values, updates):
    return SimpleNamespace(J=list(J_values), updates=list(updates), epochs=len(J_values) - 1,
                           seconds=list(np.linspace(0, 1, len(J_values))), diverged=None)


def fake_training(m, alpha):
    """A straight path from w0 towards the true weights, shorter steps for small α; diverges at α > 2."""
    steps = 5 * -(-50 // m)
    if alpha > 2:
        path = np.array([[-1.0, -1.0]] + [[10.0 ** k, 0.0] for k in range(1, 300)] + [[np.inf, 0.0]] * 100)
        path = path[:steps + 1]
        J_epochs = [10.0, 1e30, float("inf")]
        return path, SimpleNamespace(**{**vars(history(J_epochs, [0, 1, 2])), "diverged": "J não finito"})
    t = np.linspace(0, min(1.0, alpha * 5), steps + 1)[:, None]
    path = (1 - t) * CONTORNO["w_inicial"] + t * W_TRUE
    J_path = data.mse_surface(X, Y, path[:, 0], path[:, 1])
    per_epoch = -(-50 // m)
    return path, history(J_path[::per_epoch], range(0, steps + 1, per_epoch))


def cost(path):
    with np.errstate(over="ignore", invalid="ignore"):
        return data.mse_surface(X, Y, path[:, 0], path[:, 1])


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []   # figures are matplotlib.figure.Figure, never pyplot's


def test_static_figures_return_a_figure():
    h = history([1.0, 0.5, 0.2], [0, 10, 20])
    runs = {"online": (fake_training(1, 0.1)[0], h), "batch": (fake_training(50, 0.1)[0], h)}
    figs = [aula01.figura_curvas_de_nivel(CONTORNO), aula01.figura_trajetorias(runs, CONTORNO, "título"),
            aula01.figura_J_epocas_e_atualizacoes({"a": h}), aula01.figura_tres_relogios({"a": h}),
            aula01.figura_custo_por_atualizacao([1, 4, 16], [1e-4, 1.1e-4, 2e-4]),
            aula01.figura_variancia([1, 2, 4], [4.0, 2.0, 1.0], [4.0, 2.0, 1.0], [3.9, 1.9, 0.9], 50)]
    assert all(type(f) is Figure for f in figs)
    assert [len(f.axes) for f in figs] == [1, 2, 2, 3, 2, 1]
    assert figs[1].axes[0].get_title() == "online: 20 atualizações"


def test_version_names():
    assert [aula01.nome_da_versao(m, 200) for m in (1, 20, 200, 300)] == ["online", "mini-batch", "batch", "batch"]


def test_widget_callback_is_a_plain_function_and_matches_a_full_draw():
    box = aula01.interativo_tamanho_lote(fake_training, cost, CONTORNO, 50, m=[1, 5, 10, 50], alpha=(0.01, 1.0))
    assert isinstance(box, ipywidgets.VBox) and set(box.controles) == {"m", "alpha"}
    a, b = box.atualizar(m=5, alpha=0.1), box.atualizar(m=5, alpha=0.3)
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a != b
    assert box.live.image.value == b
    assert "m = 5," in box.artistas["titulo"].get_text() and "α = 0.30" in box.artistas["titulo"].get_text()
    for args in ((1, 0.1), (50, 3.0), (10, 0.5)):
        assert differing_pixels(box.atualizar(*args), box.figura(*args)) == 0


def test_widget_divergence_is_cut_and_said():
    fig = aula01.interativo_tamanho_lote(fake_training, cost, CONTORNO, 50, m=[1, 50]).figura(1, 3.0)
    ax_J = fig.axes[1]
    assert "diverg" in ax_J.get_title()
    assert all(np.all(np.isfinite(line.get_xydata())) for ax in fig.axes for line in ax.lines)
    assert ax_J.get_ylim()[1] == 1e60   # the J axis took its highest step


def test_controls_drive_the_image():
    box = aula01.interativo_tamanho_lote(fake_training, cost, CONTORNO, 50, m=[1, 5, 20, 50])
    sent = []
    box.live.image.observe(lambda change: sent.append(change["new"]), "value")
    box.controles["m"].value = 5
    box.controles["alpha"].value = 0.35
    assert len(sent) == 2 and sent[-1] == box.atualizar(5, 0.35)

