"""Figures and widget of Lista 2 (inicialização, treinamento e função custo).

Each figure function takes the numbers a student computed (predicted and measured variances,
the J after each update, validation accuracy curves) and only draws them; it returns the
``matplotlib.figure.Figure``, which the notebook shows as the value of its cell.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from nnlib.figures._common import panel, slider
from nnlib.liveplot import LiveFigure


def variancias_por_camada(redes):
    """Predicted (lines) and measured (markers) Var(z) per layer, one panel per network.

    Parameters
    ----------
    redes : dict
        ``{panel title: {curve label: (predicted, measured)}}``; ``predicted`` and
        ``measured`` are sequences with one value per layer (measured may be None).
    """
    fig = Figure(figsize=(5.2 * len(redes), 3.8))
    axes = np.atleast_1d(fig.subplots(1, len(redes), squeeze=False)[0])
    for ax, (titulo, curvas) in zip(axes, redes.items()):
        for cor, (rotulo, (prevista, medida)) in enumerate(curvas.items()):
            camadas = np.arange(1, len(prevista) + 1)
            ax.plot(camadas, prevista, "-", color=f"C{cor}", label=f"{rotulo}: prevista")
            if medida is not None:
                ax.plot(camadas, medida, "o", color=f"C{cor}", ms=5, label=f"{rotulo}: medida")
        ax.set_yscale("log")
        ax.set_xticks(camadas)
        ax.set_xlabel("camada l")
        ax.set_ylabel("Var(z) na camada l")
        ax.set_title(titulo)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def custo_por_atualizacao(tracos, atualizacoes_por_epoca):
    """J on the whole training set after every update, one curve per order of the examples.

    Parameters
    ----------
    tracos : dict
        ``{label: J trace}``, each trace with J(w(0)) first and then one value per update.
    atualizacoes_por_epoca : int
        Updates in one epoch (dotted vertical lines at the end of each epoch).
    """
    fig = Figure(figsize=(10, 3.8))
    ax = fig.subplots()
    n = max(len(t) for t in tracos.values())
    for fim in range(atualizacoes_por_epoca, n, atualizacoes_por_epoca):
        ax.axvline(fim, color="0.85", lw=0.8, ls=":")
    for rotulo, traco in tracos.items():
        ax.plot(np.arange(len(traco)), traco, lw=1.0, label=rotulo)
    ax.set_xlabel("atualização t (linhas pontilhadas: fim de cada época)")
    ax.set_ylabel("J(w) no conjunto de treinamento todo")
    ax.set_title("Custo depois de cada atualização dos pesos")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def curvas_de_acuracia(curvas, meta, medir_a_cada):
    """Validation accuracy after every ``medir_a_cada`` updates, one curve per setting.

    Parameters
    ----------
    curvas : dict
        ``{label: accuracies}``, each with the accuracy before the first update and then one
        value every ``medir_a_cada`` updates (as ``treinar_digitos`` returns them).
    meta : float
        Target accuracy, a dashed horizontal line.
    medir_a_cada : int
        Updates between two measurements.
    """
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    for rotulo, curva in curvas.items():
        ax.plot(np.arange(len(curva)) * medir_a_cada, curva, ".-", lw=1.0, ms=3, label=rotulo)
    _eixos_de_acuracia(ax, meta)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def _eixos_de_acuracia(ax, meta):
    ax.axhline(meta, color="k", ls="--", lw=1, label=f"meta {meta:g}".replace(".", ","))
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("atualização t")
    ax.set_ylabel("acurácia na validação")


# ----------------------------------------------------------------------------- widget
OTIMIZADORES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
PASSOS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
TAMANHOS = (1, 4, 16, 32, 64, 128)


def _figura_do_ajuste(meta, orcamento):
    """The widget's static part (axes, target line) and the artists that change."""
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    _eixos_de_acuracia(ax, meta)
    ax.set_xlim(0, orcamento)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.14, top=0.88)
    artistas = {"curva": ax.plot([], [], ".-", color="C0", lw=1.0, ms=3, zorder=3)[0],
                "titulo": ax.title}
    return fig, artistas


def _atualizar_ajuste(artistas, treinar, meta, medir_a_cada, otimizador, alpha, m):
    """Train once with (otimizador, α, m) and put the curve and a title in the artists."""
    curva = np.asarray(treinar(otimizador, alpha, m), dtype=float)
    ok = np.isfinite(curva)
    artistas["curva"].set_data((np.arange(len(curva)) * medir_a_cada)[ok], curva[ok])
    final = curva[-1]
    situacao = "atinge a meta" if final >= meta else "abaixo da meta"
    artistas["titulo"].set_text(f"{otimizador}, α = {alpha:g}, m = {m}: acurácia final "
                                f"{final:.3f} ({situacao} nesta semente)".replace(".", ","))
    return curva


def interativo_ajuste(treinar, meta, orcamento, medir_a_cada, otimizadores=OTIMIZADORES,
                      passos=PASSOS, tamanhos=TAMANHOS):
    """Widget: optimizer, step α and mini-batch size m move; the validation accuracy curve.

    Parameters
    ----------
    treinar : callable
        ``treinar(otimizador, alpha, m) -> accuracies`` (one run on one seed, the accuracy
        before the first update and then every ``medir_a_cada`` updates).
    meta : float
        Target accuracy (dashed line).
    orcamento : int
        Updates of one run (the x axis).
    medir_a_cada : int
        Updates between two measurements.
    otimizadores, passos, tamanhos : sequences
        What the controls offer (the widget starts at the first optimizer, α = 0.01, m = 32
        when offered).

    Returns
    -------
    ipywidgets.VBox
        ``.atualizar(otimizador, alpha, m)`` is the callback (returns the PNG);
        ``.figura(otimizador, alpha, m)`` draws the same picture in a new Figure.
    """
    alpha0 = 0.01 if 0.01 in passos else passos[0]
    m0 = 32 if 32 in tamanhos else tamanhos[0]

    def figura(otimizador=otimizadores[0], alpha=alpha0, m=m0):
        fig, artistas = _figura_do_ajuste(meta, orcamento)
        _atualizar_ajuste(artistas, treinar, meta, medir_a_cada, otimizador, alpha, m)
        return fig

    fig, artistas = _figura_do_ajuste(meta, orcamento)
    live = LiveFigure(fig, dynamic=artistas.values())

    def atualizar(otimizador, alpha, m):
        _atualizar_ajuste(artistas, treinar, meta, medir_a_cada, otimizador, alpha, m)
        return live.redraw()

    controles = {"otimizador": widgets.Dropdown(options=list(otimizadores), value=otimizadores[0],
                                                description="otimizador"),
                 "alpha": slider("passo α", list(passos), alpha0),
                 "m": slider("mini-batch m", list(tamanhos), m0)}
    box = panel(controles, atualizar, live, figura)
    box.artistas = artistas
    return box
