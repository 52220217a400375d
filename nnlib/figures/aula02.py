"""Figures and widget of aula02 (stochastic gradient and the learning-rate schedule).

The notebook computes every number (gradient estimates, training curves J(w(k)) − J*); these
functions only draw them.
"""

import numpy as np
from matplotlib.figure import Figure

from nnlib import schedules
from nnlib.figures._common import Panel, curves_figure, leading_finite, panel, slider, step_up
from nnlib.liveplot import LiveFigure

ALPHA_TOPS = (0.022, 0.033, 0.055, 0.11, 0.22, 0.33, 0.55, 1.1)  # the α_j axis follows max(α₀, α_τ)
EXCESS_BOTTOM = 1e-8                   # below the smallest J − J* the controls produce
EXCESS_TOPS = (10.0, 1e4, 1e12, 1e60)  # the J − J* axis grows in steps when α₀ is large
CURVES = [(r"α constante = $\alpha_0$", ":"), (r"α constante = $\alpha_\tau$", ":"),
          ("decaimento linear", "-")]


def figura_estimativas(estimativas, g):
    """One panel per mini-batch size: the first two components of each estimate ĝ, their mean and g.

    Parameters
    ----------
    estimativas : dict of int to ndarray
        m -> array (R, P) of R mini-batch gradients (only the first two columns are drawn).
    g : ndarray
        The full-batch gradient.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 3.4), layout="tight")
    axes = fig.subplots(1, len(estimativas), sharex=True, sharey=True)
    for ax, (m, est) in zip(axes, estimativas.items()):
        ax.scatter(est[:, 0], est[:, 1], s=6, alpha=0.4, label=r"$\hat{g}$ (um mini-batch)")
        ax.plot(*est.mean(axis=0)[:2], "kx", ms=10, mew=2, label=r"média dos $\hat{g}$")
        ax.plot(*g[:2], "r*", ms=14, label=r"$g$ (batch)")
        ax.set_title(f"m = {m}")
        ax.set_xlabel(r"$\partial J / \partial w_1$")
    axes[0].set_ylabel(r"$\partial J / \partial w_2$")
    half = 3.0 * next(iter(estimativas.values())).std(axis=0)  # ±3 deviations of the first m
    axes[0].set_xlim(g[0] - half[0], g[0] + half[0])
    axes[0].set_ylim(g[1] - half[1], g[1] + half[1])
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle("O gradiente do mini-batch é uma estimativa não enviesada de g, com dispersão ~ 1/m")
    return fig


def figura_excesso(curvas, titulo, marca_tau=None):
    """J(w(k)) − J* against the epoch k, one curve per label, log scale.

    Parameters
    ----------
    curvas : dict of str to sequence of float
    titulo : str
    marca_tau : float, optional
        Epoch where j = τ, marked with a dashed line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    for nome, curva in curvas.items():
        ax.semilogy(curva, "o-" if len(curva) <= 25 else "-", ms=3, lw=2, label=nome)
    if marca_tau is not None:
        ax.axvline(marca_tau, color="gray", ls="--", lw=1)
        ax.text(marca_tau + 0.3, ax.get_ylim()[1] * 0.5, "j = τ", color="gray")
    ax.set(xlabel="época k", ylabel=r"$J(\mathbf{w}(k)) - J^*$", title=titulo)
    ax.legend()
    return fig


def figura_decaimento_linear(j, alpha_j, alpha0, alpha_tau, tau):
    """The slides' figure of the linear decay: α_j from α₀ (j = 0) to α_τ (j = τ), flat after τ.

    Parameters
    ----------
    j, alpha_j : ndarray
        Iterations and the step at each.
    alpha0, alpha_tau, tau : float
        The schedule's parameters (marked on the axes).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    ax.plot(j, alpha_j, lw=2, label=r"$\alpha_j$")
    ax.axhline(alpha0, color="gray", ls=":", lw=1)
    ax.axhline(alpha_tau, color="gray", ls=":", lw=1)
    ax.axvline(tau, color="gray", ls="--", lw=1)
    ax.annotate(r"$\alpha_0$", (0, alpha0), xytext=(15, -5), textcoords="offset points", fontsize=13)
    ax.annotate(r"$\alpha_\tau$", (j[-1], alpha_tau), xytext=(-30, 6), textcoords="offset points", fontsize=13)
    ax.annotate(r"$\tau$", (tau, 0), xytext=(5, 8), textcoords="offset points", fontsize=13)
    ax.set(ylim=(0, 1.1 * alpha0), xlabel="iteração j", ylabel=r"passo de aprendizagem $\alpha_j$",
           title=r"Decaimento linear: de $\alpha_0$ (j = 0) a $\alpha_\tau$ (j = τ), fixo depois de τ")
    ax.legend()
    return fig


def figura_decaimentos(j, passos, curvas):
    """Several schedules α_j (left) and the training curve each gives (right).

    Parameters
    ----------
    j : ndarray
        Iterations.
    passos : dict of str to ndarray
        Schedule name -> α_j at each j.
    curvas : dict of str to sequence of float
        Schedule name -> J(w(k)) − J* per epoch.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return curves_figure({nome: (passos[nome], curvas[nome]) for nome in passos}, [
        Panel(lambda d: (j, d[0]), line=dict(lw=2), legend=dict(fontsize=8),
              axes=dict(xlabel="iteração j", ylabel=r"$\alpha_j$", title="Três formas de reduzir α")),
        Panel(lambda d: d[1], line=dict(lw=2),
              axes=dict(yscale="log", xlabel="época k", ylabel=r"$J(\mathbf{w}(k)) - J^*$",
                        title="Treinamento com cada uma (m = 5)"))], figsize=(10, 4))


# ----------------------------------------------------------------------------- widget
def _figura_da_reducao(iteracoes, epocas):
    """The widget's static part (axes, labels) and the empty artists that change."""
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.91, wspace=0.28)
    ax1.set(xlim=(0, iteracoes), ylim=(0, ALPHA_TOPS[-1]), xlabel="iteração j", ylabel=r"$\alpha_j$")
    ax2.set_yscale("log")
    ax2.set(xlim=(0, epocas), ylim=(EXCESS_BOTTOM, EXCESS_TOPS[0]), xlabel="época k",
            ylabel=r"$J(\mathbf{w}(k)) - J^*$")
    # zorder 3: what changes is drawn over the axes, as the LiveFigure draws it
    artistas = {
        "passo": ax1.plot([], [], lw=2, zorder=3, label=r"$\alpha_j$")[0],
        "tau": ax1.axvline(0, color="gray", ls="--", lw=1, zorder=3),
        "titulo_passo": ax1.title,
        "curvas": [ax2.plot([], [], style, lw=2, zorder=3, label=label)[0] for label, style in CURVES],
        "titulo_curvas": ax2.title,
    }
    artistas["legenda"] = ax2.legend(fontsize=8)
    return fig, artistas


def _dinamicos(artistas):
    return [a for value in artistas.values() for a in (value if isinstance(value, list) else [value])]


def _atualizar_reducao(artistas, curva, iteracoes, iteracoes_por_epoca, alpha0, alpha_tau, tau):
    """Put the schedule and its three training curves in the artists; return the axes' tops."""
    tau = int(tau)
    j = np.arange(0, iteracoes + 1)
    ax1, ax2 = artistas["passo"].axes, artistas["titulo_curvas"].axes
    artistas["passo"].set_data(j, schedules.LinearDecay(alpha0, alpha_tau, tau)(j))
    artistas["tau"].set_xdata([tau, tau])
    artistas["titulo_passo"].set_text(rf"$\alpha_0$ = {alpha0:.3g}, $\alpha_\tau$ = {alpha_tau:.3g}, "
                                      f"τ = {tau} (época {tau / iteracoes_por_epoca:.0f})")
    topo_alpha = step_up(max(alpha0, alpha_tau), 1.05, ALPHA_TOPS)
    ax1.set_ylim(0, topo_alpha)
    execucoes = [(alpha0, alpha0), (alpha_tau, alpha_tau), (alpha0, alpha_tau)]
    notas, mais_alto = [], 0.0
    legenda = artistas["legenda"]
    for (rotulo, _), (a0, at), linha, texto, marca in zip(CURVES, execucoes, artistas["curvas"],
                                                        legenda.get_texts(), legenda.legend_handles):
        valores, divergiu = curva(float(a0), float(at), tau if a0 != at else 0)  # constant: τ is moot
        valores = np.array(valores)
        n_ok = leading_finite(valores)               # nothing inf or NaN is drawn
        visivel = not divergiu and n_ok > 0
        linha.set_data(np.arange(n_ok), valores[:n_ok])
        linha.set_visible(visivel)
        marca.set_visible(visivel)
        texto.set_text(rotulo if visivel else f"{rotulo}: divergiu")
        if divergiu:
            notas.append(f"{rotulo}: divergiu")
        elif n_ok:
            mais_alto = max(mais_alto, float(valores[:n_ok].max()))
    artistas["titulo_curvas"].set_text("; ".join(notas) if notas else "Curva de treinamento (m = 5)")
    topo_excesso = step_up(mais_alto, 2.0, EXCESS_TOPS)
    ax2.set_ylim(EXCESS_BOTTOM, topo_excesso)
    return topo_alpha, topo_excesso


def interativo_reducao_do_passo(curva, iteracoes_por_epoca, epocas, alpha0=(0.01, 1.0),
                                alpha_tau=(0.001, 0.3), tau=(20, 800)):
    """Widget: α₀, α_τ and τ of the linear decay move; the schedule and the training it gives.

    Parameters
    ----------
    curva : callable
        ``curva(alpha0, alpha_tau, tau) -> (J − J* per epoch, diverged)``: the training of the
        linear decay (a constant α when ``alpha0 == alpha_tau``; then ``tau`` is 0).
    iteracoes_por_epoca : int
        N / m, to say in which epoch τ falls.
    epocas : int
        Epochs of each training (x axis of the right panel).
    alpha0, alpha_tau : (float, float)
        Ranges of the two step sliders (they start at 0.3 and 0.02).
    tau : (int, int)
        Range of the τ slider, in iterations (starts at 400, step 20).

    Returns
    -------
    ipywidgets.VBox
        ``.atualizar(alpha0, alpha_tau, tau)`` is the callback (returns the PNG);
        ``.figura(alpha0, alpha_tau, tau)`` draws the same picture in a new Figure.
    """
    iteracoes = iteracoes_por_epoca * epocas

    def figura(alpha0=0.3, alpha_tau=0.02, tau=400):
        fig, artistas = _figura_da_reducao(iteracoes, epocas)
        _atualizar_reducao(artistas, curva, iteracoes, iteracoes_por_epoca, alpha0, alpha_tau, tau)
        return fig

    fig, artistas = _figura_da_reducao(iteracoes, epocas)
    live = LiveFigure(fig, dynamic=_dinamicos(artistas))

    def atualizar(alpha0, alpha_tau, tau):
        topos = _atualizar_reducao(artistas, curva, iteracoes, iteracoes_por_epoca, alpha0, alpha_tau, tau)
        return live.redraw(static_key=topos)   # an axis changed step: redraw the static part

    controles = {
        "alpha0": slider("α₀", alpha0, 0.3, step=0.01, continuous_update=False),
        "alpha_tau": slider("α_τ", alpha_tau, 0.02, step=0.001, readout=".3f", continuous_update=False),
        "tau": slider("τ (iterações)", tau, 400, step=20, continuous_update=False),
    }
    box = panel(controles, atualizar, live, figura)
    box.artistas = artistas
    return box
