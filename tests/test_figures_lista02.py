"""nnlib.figures.lista02: figures return a Figure; the tuning widget's callback is a plain function
whose PNG equals a full draw of the same picture."""

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib.figures import lista02
from nnlib.liveplot import differing_pixels


def fake_training(otimizador, alpha, m):
    """Accuracy curves that rise faster with α and m; diverge (NaN) when α > 0.5."""
    t = np.arange(7)
    if alpha > 0.5:
        return np.array([0.1, 0.2] + [np.nan] * 5)
    return 0.1 + 0.85 * (1 - np.exp(-t * alpha * m / 4))


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def test_static_figures_return_a_figure():
    figs = [lista02.variancias_por_camada({"a": {"He": ([2.0, 2.0], [1.9, 2.1])}}),
            lista02.custo_por_atualizacao({"em ordem": [1.0, 0.8, 0.9, 0.7]}, 2),
            lista02.curvas_de_acuracia({"x": fake_training("sgd", 0.1, 32)}, 0.92, 10)]
    assert all(type(f) is Figure for f in figs)
    line = figs[2].axes[0].get_lines()[0]
    assert line.get_xdata().tolist() == [0, 10, 20, 30, 40, 50, 60]


def test_widget_callback_is_a_plain_function_and_matches_a_full_draw():
    box = lista02.interativo_ajuste(fake_training, 0.92, 60, 10)
    assert isinstance(box, ipywidgets.VBox) and set(box.controles) == {"otimizador", "alpha", "m"}
    a, b = box.atualizar("sgd", 0.01, 32), box.atualizar("adam", 0.05, 128)
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a != b
    assert box.live.image.value == b
    assert "adam" in box.artistas["titulo"].get_text() and "atinge a meta" in box.artistas["titulo"].get_text()
    box.atualizar("sgd", 0.001, 1)
    assert "abaixo da meta" in box.artistas["titulo"].get_text()
    for args in (("sgd", 0.01, 32), ("momentum", 1.0, 4), ("adam", 0.05, 128)):
        assert differing_pixels(box.atualizar(*args), box.figura(*args)) == 0


def test_a_diverged_run_draws_only_its_finite_points():
    box = lista02.interativo_ajuste(fake_training, 0.92, 60, 10)
    box.atualizar("sgd", 1.0, 32)
    assert box.artistas["curva"].get_xdata().tolist() == [0, 10]
