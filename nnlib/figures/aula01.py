"""Figures and widget of aula01 (online, batch and mini-batch).

The numbers come from the notebook (trajectories, ``History`` objects, measured times); these
functions only draw them. ``contorno`` is the dict the notebook builds once for the two-weight
problem: ``W1``, ``W2`` and ``J`` (the grid of J(w1, w2)), ``niveis`` (contour levels),
``w_verdadeiro`` and ``w_inicial`` (the true weights and the start of every search).
"""

import numpy as np
from matplotlib.figure import Figure

from nnlib.figures._common import Panel, curves_figure, leading_finite, panel, slider, step_up
from nnlib.liveplot import LiveFigure

J_BOTTOM = 0.05                      # below the smallest J of the problem (the data noise, ~0.09)
J_TOPS = (10.0, 1e4, 1e12, 1e60)     # the J axis of the widget grows in steps when α is large


def desenhar_curvas_de_nivel(ax, contorno):
    """Level curves of J(w1, w2), the true weights and the start ``w_inicial`` on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    contorno : dict
        See the module docstring.
    """
    ax.contour(contorno["W1"], contorno["W2"], contorno["J"], levels=contorno["niveis"],
               cmap="viridis", linewidths=0.8)
    ax.plot(*contorno["w_verdadeiro"], "k*", ms=12, label="pesos verdadeiros")
    ax.plot(*contorno["w_inicial"], "ks", ms=6, label="$\\mathbf{w}$ inicial")
    ax.set_xlim(contorno["W1"].min(), contorno["W1"].max())
    ax.set_ylim(contorno["W2"].min(), contorno["W2"].max())
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def figura_curvas_de_nivel(contorno):
    """The level curves of J alone (section 1).

    Parameters
    ----------
    contorno : dict
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    desenhar_curvas_de_nivel(ax, contorno)
    ax.set_title("Curvas de nível de $J(\\mathbf{w})$")
    ax.legend(loc="lower right")
    return fig


def figura_trajetorias(execucoes, contorno, titulo):
    """One panel per version: the trajectory of w over the level curves of J.

    Parameters
    ----------
    execucoes : dict of str to (ndarray, History)
        Name of the version -> (trajectory of shape (T + 1, 2), its ``History``).
    contorno : dict
        See the module docstring.
    titulo : str
        Title of the whole figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, len(execucoes), sharey=True)
    for ax, (nome, (caminho, historico)) in zip(axes, execucoes.items()):
        desenhar_curvas_de_nivel(ax, contorno)
        ax.plot(caminho[:, 0], caminho[:, 1], ".-", color="C3", ms=2, lw=0.8)
        ax.set_title(f"{nome}: {historico.updates[-1]} atualizações")
    axes[0].legend(loc="lower right")
    fig.suptitle(titulo)
    return fig


def figura_J_epocas_e_atualizacoes(historicos):
    """J at the end of each epoch, against epochs (left) and against weight updates (right).

    Parameters
    ----------
    historicos : dict of str to History

    Returns
    -------
    matplotlib.figure.Figure
    """
    return curves_figure(historicos, [
        Panel(lambda h: (range(h.epochs + 1), h.J), "o-", legend={},
              axes=dict(yscale="log", xlabel="época $k$", ylabel="$J(\\mathbf{w})$", title="$J$ × épocas")),
        Panel(lambda h: (np.array(h.updates[1:]), h.J[1:]), "o-", legend={},
              axes=dict(xscale="log", yscale="log", xlabel="atualizações dos pesos $t$ (escala log)",
                        ylabel="$J(\\mathbf{w})$", title="$J$ × atualizações"))], figsize=(10, 4))


def figura_tres_relogios(historicos):
    """J against epochs, against updates and against wall-clock seconds (section 5).

    Parameters
    ----------
    historicos : dict of str to History
        Each with ``J``, ``updates`` and ``seconds`` recorded at the end of every epoch.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return curves_figure(historicos, [
        Panel(lambda h: (range(1, h.epochs + 1), h.J[1:]),
              axes=dict(xscale="log", yscale="log", xlabel="época $k$ (escala log)",
                        ylabel="$J(\\mathbf{w})$", title="$J$ × épocas")),
        Panel(lambda h: (h.updates[1:], h.J[1:]),
              axes=dict(xscale="log", xlabel="atualizações $t$ (escala log)", title="$J$ × atualizações")),
        Panel(lambda h: (h.seconds, h.J), legend={},
              axes=dict(xlabel="segundos de relógio", title="$J$ × tempo de parede",
                        xlim=(0, min(h.seconds[-1] for h in historicos.values()))))],
        figsize=(14, 4), sharey=True)


def figura_custo_por_atualizacao(m, segundos):
    """Measured seconds of one update (left) and per example processed (right), log-log.

    Parameters
    ----------
    m : sequence of int
        Mini-batch sizes.
    segundos : sequence of float
        Seconds of one update with each size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    m, segundos = np.asarray(m), np.asarray(segundos)
    fig = Figure(figsize=(10, 3.5), layout="tight")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.loglog(m, segundos * 1e6, "o-")
    ax1.set(xlabel="tamanho do mini-batch $m$", ylabel="µs por atualização",
            title="custo de uma atualização")
    ax2.loglog(m, segundos / m * 1e6, "o-", color="C1")
    ax2.set(xlabel="tamanho do mini-batch $m$", ylabel="µs por exemplo",
            title="custo por exemplo processado")
    return fig


def figura_variancia(m, medida, lei_1_m, sem_reposicao, N):
    """Variance of the mini-batch gradient against m: measured, σ²/m and the finite-population law.

    Parameters
    ----------
    m : sequence of int
    medida, lei_1_m, sem_reposicao : sequence of float
        E‖g_m − ∇J‖² measured, σ²/m, and σ²/m (N − m)/(N − 1), for each m.
    N : int
        Number of examples.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.loglog(m, medida, "o", label="medida (um ponto por $m$)")
    ax.loglog(m, lei_1_m, "--", color="gray", label="$\\sigma^2/m$ (lei $1/m$)")
    ax.loglog(m, sem_reposicao, "-", color="C1",
              label="$\\frac{\\sigma^2}{m}\\,\\frac{N-m}{N-1}$ (sem reposição)")
    ax.set(xlabel="tamanho do mini-batch $m$", ylabel="$E\\,\\|\\mathbf{g}_m - \\nabla J\\|^2$",
           title=f"Variância do gradiente do mini-batch (N = {N})")
    ax.legend()
    return fig


# ----------------------------------------------------------------------------- widget
def nome_da_versao(m, N):
    """The slides' name of the version with mini-batches of m of N examples.

    Returns "online" (m = 1), "batch" (m >= N) or "mini-batch".
    """
    return "online" if m == 1 else ("batch" if m >= N else "mini-batch")


def _figura_do_lote(contorno, epocas):
    """The widget's static part (contour, axes) and the empty artists that change."""
    fig = Figure(figsize=(11, 4))
    ax1, ax2 = fig.subplots(1, 2)
    desenhar_curvas_de_nivel(ax1, contorno)
    ax1.set_title("trajetória de $\\mathbf{w}$")
    ax2.set_yscale("log")
    ax2.set(xlabel="época", ylabel="$J(\\mathbf{w})$", xlim=(0, epocas), ylim=(J_BOTTOM, J_TOPS[0]))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.83, wspace=0.25)
    # zorder 3: what changes is drawn over the axes, as the LiveFigure draws it
    artistas = {
        "caminho": ax1.plot([], [], ".-", color="C3", ms=2, lw=0.8, zorder=3)[0],
        "J_atualizacoes": ax2.plot([], [], color="C3", lw=0.8, zorder=3, label="após cada atualização")[0],
        "J_epocas": ax2.plot([], [], "ko", ms=4, zorder=3, label="$J(\\mathbf{w}(k))$ no fim da época")[0],
        "titulo_J": ax2.title,
        "titulo": fig.suptitle(" "),
    }
    artistas["legenda"] = ax2.legend(loc="upper right")
    return fig, artistas


def _atualizar_lote(artistas, treinar, custo, N, m, alpha):
    """Train with (m, α), put the result in the artists; return the top of the J axis."""
    caminho, historico = treinar(m, alpha)
    J_caminho = custo(caminho)
    n_ok = leading_finite(caminho, J_caminho)       # nothing inf or NaN is drawn
    J_epocas = np.array(historico.J, dtype=float)
    epocas_ok = np.isfinite(J_epocas)
    por_epoca = -(-N // m)                              # ⌈N/m⌉ updates per epoch
    artistas["caminho"].set_data(caminho[:n_ok, 0], caminho[:n_ok, 1])
    artistas["J_atualizacoes"].set_data(np.arange(n_ok) / por_epoca, J_caminho[:n_ok])
    artistas["J_epocas"].set_data(np.arange(len(J_epocas))[epocas_ok], J_epocas[epocas_ok])
    if historico.diverged or not historico.J[-1] < historico.J[0]:
        artistas["titulo_J"].set_text("J cresceu: α grande demais (divergência)")
        artistas["titulo_J"].set_color("C3")
    else:
        artistas["titulo_J"].set_text(f"J final = {historico.J[-1]:.4f}")
        artistas["titulo_J"].set_color("black")
    artistas["titulo"].set_text(f"{nome_da_versao(m, N)}: m = {m}, α = {alpha:.2f}, "
                                f"{len(caminho) - 1} atualizações em {historico.epochs} épocas")
    mais_alto = max(J_caminho[:n_ok].max(initial=0.0), J_epocas[epocas_ok].max(initial=0.0))
    topo = step_up(mais_alto, 1.5, J_TOPS)
    artistas["J_atualizacoes"].axes.set_ylim(J_BOTTOM, topo)
    return topo


def interativo_tamanho_lote(treinar, custo, contorno, N, m=(1, 2, 5, 10, 20, 50, 100, 200),
                            alpha=(0.01, 1.0), epocas=5):
    """Widget: the mini-batch size m and the step α move; trajectory and J after every update.

    Parameters
    ----------
    treinar : callable
        ``treinar(m, alpha) -> (trajectory (T + 1, 2), History)`` for ``epocas`` epochs.
    custo : callable
        ``custo(trajectory) -> J`` on the whole training set at each point (may be inf/NaN).
    contorno : dict
        See the module docstring.
    N : int
        Number of training examples (m = N is the batch).
    m : sequence of int
        The sizes the slider offers (starts at 20 when offered).
    alpha : (float, float)
        Range of the step slider (starts at 0.1).
    epocas : int
        Epochs each run trains (the x axis of the J panel).

    Returns
    -------
    ipywidgets.VBox
        ``.atualizar(m, alpha)`` is the callback (returns the PNG); ``.figura(m, alpha)`` draws
        the same picture in a new Figure.
    """
    def figura(m=20, alpha=0.1):
        fig, artistas = _figura_do_lote(contorno, epocas)
        _atualizar_lote(artistas, treinar, custo, N, m, alpha)
        return fig

    fig, artistas = _figura_do_lote(contorno, epocas)
    live = LiveFigure(fig, dynamic=artistas.values())

    def atualizar(m, alpha):
        topo = _atualizar_lote(artistas, treinar, custo, N, m, alpha)
        return live.redraw(static_key=topo)   # a new step of the J axis: redraw the static part

    controles = {"m": slider("mini-batch m", list(m), 20 if 20 in m else m[0]),
                 "alpha": slider("passo α", alpha, 0.1, step=0.01)}
    box = panel(controles, atualizar, live, figura)
    box.artistas = artistas
    return box
