"""Figures and widgets of aula03 (momentum and Nesterov).

The notebook computes the numbers (velocities, trajectories, the convergence factor of each
direction); these functions draw them. The two widgets run nnlib's own optimizers on
``nnlib.surfaces.Quadratic`` at every move.
"""

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from nnlib import optim, surfaces
from nnlib.figures._common import Panel, curves_figure, leading_finite, panel, slider
from nnlib.liveplot import LiveFigure

CORES = {"sgd": "C0", "momentum": "C1", "nesterov": "C2"}
NOMES = {"sgd": "gradiente descendente", "momentum": "momentum", "nesterov": "Nesterov"}
J_TETO = 1e100  # J drawn at most up to here: a log axis cannot draw inf (a diverging run)


def figura_velocidades(passos, velocidades, alpha):
    """v_t for a constant gradient (left) and for a gradient that flips sign (right).

    Parameters
    ----------
    passos : ndarray
        Iterations t.
    velocidades : dict of float to (ndarray, ndarray)
        μ -> (v_t with g = 1, v_t with g = +1, −1, +1, ...).
    alpha : float
        The step (the terminal velocity −α/(1 − μ) is marked).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = curves_figure({f"μ = {mu}": curvas for mu, curvas in velocidades.items()}, [
        Panel(lambda c: (passos, c[0]), "o-", line=dict(ms=3), legend={},
              axes=dict(xlabel="iteração t", ylabel="velocidade v", title="g constante: v acelera até −αg/(1−μ)")),
        Panel(lambda c: (passos, c[1]), "o-", line=dict(ms=3), legend={},
              axes=dict(xlabel="iteração t", title="g troca de sinal: v fica pequeno"))],
        figsize=(10, 3.5), sharey=True)
    for mu in velocidades:
        if mu > 0:   # the terminal velocity
            fig.axes[0].axhline(-alpha / (1 - mu), color="gray", lw=0.8, ls="--")
    return fig


def figura_trajetorias(superficie, grade, caminhos, titulo, niveis, estilos=None):
    """Trajectories over the level curves of J (left) and J against the iteration (right).

    Parameters
    ----------
    superficie : nnlib.surfaces.Surface
    grade : (ndarray, ndarray, ndarray)
        ``surfaces.contour_grid(superficie)``.
    caminhos : dict of str to ndarray
        Optimizer name ("sgd", "momentum", "nesterov") -> trajectory (T + 1, 2).
    titulo : str
        Title of the left panel.
    niveis : sequence of float
        Contour levels.
    estilos : dict of str to dict, optional
        Extra line keywords per optimizer; with it the final point of each run is marked.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 4))
    ax0, ax1 = fig.subplots(1, 2)
    ax0.contour(*grade, levels=niveis, colors="lightgray", linewidths=0.8)
    for k, p in caminhos.items():
        estilo = (estilos or {}).get(k, dict(marker="o", ms=2.5, lw=1))
        ax0.plot(p[:, 0], p[:, 1], color=CORES[k], label=NOMES[k], **estilo)
        if estilos:
            ax0.plot(*p[-1], "o", ms=6, color=CORES[k])
        ax1.semilogy(superficie.J(p), color=CORES[k], label=NOMES[k])
    ax0.plot(*superficie.minimum, "k*", ms=10)
    ax0.set(xlabel="$w_1$", ylabel="$w_2$", title=titulo)
    ax1.set(xlabel="iteração", ylabel="J(w)", title="J versus iteração")
    ax0.legend(fontsize=8)
    ax1.legend(fontsize=8)
    return fig


def figura_passo_e_velocidade(passo_gd, velocidade, mu):
    """Per direction: the gradient-descent step −αg (bars) and the momentum velocity v (line).

    Parameters
    ----------
    passo_gd, velocidade : ndarray, shape (T, 2)
        −α g_t and v_t at each iteration.
    mu : float

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.arange(len(passo_gd))
    fig = Figure(figsize=(11, 3.5))
    axes = fig.subplots(1, 2)
    for ax, i, titulo in zip(axes, (1, 0), ("direção íngreme $w_2$", "direção plana $w_1$")):
        ax.bar(t, passo_gd[:, i], color="C0", alpha=0.5, label="passo do GD: $-\\alpha g$")
        ax.plot(t, velocidade[:, i], "o-", ms=3, color="C1", label=f"velocidade v (μ = {mu})")
        ax.axhline(0, color="k", lw=0.6)
        ax.set(title=titulo, xlabel="iteração t")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("deslocamento")
    return fig


# ----------------------------------------------------------------------- widget: trajectories
def _figura_das_trajetorias(superficie, grade, niveis, passos, otimizadores):
    fig = Figure(figsize=(10, 3.8))
    ax0, ax1 = fig.subplots(1, 2)
    ax0.contour(*grade, levels=niveis, colors="lightgray", linewidths=0.8)
    (x0, x1), (y0, y1) = superficie.bounds
    ax0.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$w_1$", ylabel="$w_2$")
    ax1.set_yscale("log")
    ax1.set(xlim=(-0.05 * passos, 1.05 * passos), ylim=(1e-12, 1e4), xlabel="iteração",
            ylabel="J(w)", title="J versus iteração")
    fig.subplots_adjust(wspace=0.25, bottom=0.15)
    # zorder >= 3: the lines are drawn over the axes' frame, as the widget redraws them
    artistas = {}
    for k in otimizadores:
        artistas[f"caminho_{k}"] = ax0.plot([], [], "o-", ms=2.5, lw=1, color=CORES[k], zorder=3)[0]
        artistas[f"J_{k}"] = ax1.plot([], [], color=CORES[k], zorder=3)[0]
    artistas["minimo"] = ax0.plot(*superficie.minimum, "k*", ms=10, zorder=4)[0]
    artistas["titulo"] = ax0.title
    artistas["legenda"] = ax0.legend(handles=[], fontsize=8, loc="upper right")
    return fig, artistas


def _atualizar_trajetorias(artistas, superficie, criar, passos, otimizadores, alpha, mu, otimizador):
    escolhidos = list(otimizadores) if otimizador == "todos" else [otimizador]
    linhas = []
    for k in otimizadores:
        caminho, linha_J = artistas[f"caminho_{k}"], artistas[f"J_{k}"]
        if k not in escolhidos:
            for linha in (caminho, linha_J):
                linha.set_data([], [])
                linha.set_label("_nolegend_")
            continue
        p = surfaces.run(criar(k, alpha, mu), superficie, steps=passos)
        with np.errstate(over="ignore", invalid="ignore"):
            J = superficie.J(p)
        n_ok = leading_finite(p, J)   # cut at the first non-finite point
        p, J = p[:n_ok], J[:n_ok]
        rotulo = NOMES[k] + (" (diverge)" if len(p) < passos + 1 or J[-1] > J[0] else "")
        caminho.set_data(p[:, 0], p[:, 1])
        caminho.set_label(rotulo)
        linha_J.set_data(np.arange(len(J)), np.clip(J, 1e-12, J_TETO))
        linha_J.set_label(rotulo)
        linhas.append(caminho)
    artistas["titulo"].set_text(f"α = {alpha:.3f}, μ = {mu:.2f}")
    artistas["legenda"] = artistas["titulo"].axes.legend(handles=linhas, fontsize=8, loc="upper right")


def interativo_trajetorias(superficie, criar, grade, niveis, alpha=(0.005, 0.12), mu=(0.0, 0.99),
                           otimizadores=("sgd", "momentum", "nesterov"), passos=60):
    """Widget: α, μ and the optimizer move; trajectories on the quadratic and J per iteration.

    Parameters
    ----------
    superficie : nnlib.surfaces.Surface
    criar : callable
        ``criar(name, alpha, mu)`` -> a new nnlib optimizer ("sgd", "momentum", "nesterov").
    grade : (ndarray, ndarray, ndarray)
        ``surfaces.contour_grid(superficie)``.
    niveis : sequence of float
        Contour levels.
    alpha, mu : (float, float)
        Ranges of the two sliders (they start at 0.06 and 0.7).
    otimizadores : tuple of str
        The optimizers drawn together ("todos") or one at a time.
    passos : int
        Iterations of every run.

    Returns
    -------
    ipywidgets.VBox
        ``.atualizar(alpha, mu, optimizer)`` is the callback (``optimizer`` is one of
        ``otimizadores`` or "todos"); ``.figura(...)`` draws the same picture in a new Figure.
    """
    def figura(alpha=0.06, mu=0.7, optimizer="todos"):
        fig, artistas = _figura_das_trajetorias(superficie, grade, niveis, passos, otimizadores)
        _atualizar_trajetorias(artistas, superficie, criar, passos, otimizadores, alpha, mu, optimizer)
        return fig

    fig, artistas = _figura_das_trajetorias(superficie, grade, niveis, passos, otimizadores)
    live = LiveFigure(fig, dynamic=artistas.values())

    def atualizar(alpha, mu, optimizer):
        _atualizar_trajetorias(artistas, superficie, criar, passos, otimizadores, alpha, mu, optimizer)
        return live.redraw()

    controles = {
        "alpha": slider("passo α", alpha, 0.06, step=0.005, readout=".3f"),
        "mu": slider("coef. de momento μ", mu, 0.7, step=0.01),
        "optimizer": widgets.Dropdown(options=[("os três", "todos")] + [(NOMES[k], k) for k in otimizadores],
                                      value="todos", description="otimizador"),
    }
    box = panel(controles, atualizar, live, figura)
    box.artistas = artistas
    return box


# --------------------------------------------------------- widget: the map of the factor ρ
def melhor_momentum(kappa):
    """Polyak's best (α, μ, ρ) for a quadratic with λ_min = 1 and λ_max = κ."""
    raiz = np.sqrt(kappa)
    return (2.0 / (raiz + 1.0)) ** 2, ((raiz - 1.0) / (raiz + 1.0)) ** 2, (raiz - 1.0) / (raiz + 1.0)


def _figura_do_mapa(passos):
    fig = Figure(figsize=(11, 4.2))
    ax0, ax1 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.13, top=0.86, wspace=0.3)
    ax0.set(xlim=(0, 4), ylim=(0, 1), xlabel="$\\alpha\\,\\lambda_{máx}$", ylabel="coeficiente de momento $\\mu$")
    ax1.set_yscale("log")
    ax1.set(xlim=(0, passos), ylim=(1e-12, 1e4), xlabel="iteração t",
            ylabel="$\\|(w_i, v_i)\\|$ em cada direção")
    cores = matplotlib.colormaps["viridis_r"].with_extremes(bad="lightgray", over="black")   # gray: ρ >= 1
    mapa = ax0.imshow(np.ones((2, 2)), origin="lower", extent=(0, 4, 0, 1), aspect="auto", cmap=cores,
                      norm=matplotlib.colors.LogNorm(vmin=10, vmax=1e4))
    fig.colorbar(mapa, ax=ax0, label="iterações para reduzir o erro 10⁶ vezes", extend="max")
    artistas = {
        "ponto": ax0.plot([], [], "o", ms=9, mfc="none", mec="red", mew=2, zorder=5, label="sua escolha")[0],
        "titulo": fig.suptitle(" "),
        "titulo_direita": ax1.title,
    }
    for i, cor in ((0, "C0"), (1, "C3")):
        artistas[f"medida_{i}"] = ax1.plot([], [], color=cor, lw=1.5, zorder=3)[0]
        artistas[f"prevista_{i}"] = ax1.plot([], [], "--", color=cor, lw=1, zorder=3)[0]
    estaticos = {"mapa": mapa, "otimo": ax0.plot([], [], "w*", ms=14, mec="k", label="melhor (α, μ)")[0],
                 "contornos": []}
    return fig, artistas, estaticos


def _desenhar_mapa(estaticos, fator, kappa, resolucao):
    """The static part for one κ: ρ = max over λ ∈ {1, κ} on the (αλ_máx, μ) grid, the optimum."""
    x = np.linspace(0, 4, resolucao)[1:]
    mu = np.linspace(0, 1, resolucao)[:-1]
    X, M = np.meshgrid(x, mu)
    rho = np.maximum(fator(X / kappa, M, 1.0), fator(X / kappa, M, float(kappa)))
    with np.errstate(divide="ignore"):
        iteracoes = np.log(1e-6) / np.log(np.minimum(rho, 1.0 - 1e-15))   # ρ^t = 10⁻⁶
    estaticos["mapa"].set_data(np.ma.masked_where(rho >= 1.0, iteracoes))
    ax0 = estaticos["mapa"].axes
    for c in estaticos["contornos"]:
        c.remove()
    estaticos["contornos"] = [ax0.contour(X, M, np.where(rho < 1.0, iteracoes, 1e6), levels=[30, 100, 300, 1000],
                                          colors="white", linewidths=0.6)]
    a_otimo, mu_otimo, _ = melhor_momentum(kappa)
    estaticos["otimo"].set_data([a_otimo * kappa], [mu_otimo])
    ax0.legend(handles=[estaticos["otimo"]], loc="upper right", fontsize=8)


def _atualizar_mapa(artistas, fator, passos, kappa, alpha_lambda, mu):
    """The student's point, and nnlib's Momentum on the quadratic (1, κ) against ρ_i^t."""
    alpha = alpha_lambda / kappa
    quad = surfaces.Quadratic(a=1.0, b=float(kappa))
    p = surfaces.run(optim.Momentum(alpha=alpha, mu=mu), quad, w0=np.array([1.0, 1.0]), steps=passos)
    v = np.diff(p, axis=0, prepend=p[:1])        # v_t = w_t − w_{t−1} (v_0 = 0)
    t = np.arange(len(p))
    rhos = [float(fator(alpha, mu, lam)) for lam in (1.0, float(kappa))]
    for i, (lam, rho) in enumerate(zip((1.0, kappa), rhos)):
        norma = np.hypot(p[:, i], v[:, i])
        n_ok = leading_finite(norma)
        artistas[f"medida_{i}"].set_data(t[:n_ok], np.clip(norma[:n_ok], 1e-300, 1e100))
        artistas[f"medida_{i}"].set_label(f"medida, λ = {lam:g}")
        todas = np.arange(passos + 1)
        previsto = np.exp(np.clip(todas * np.log(max(rho, 1e-300)), -690.0, 230.0))   # ρ^t, within 1e±300
        artistas[f"prevista_{i}"].set_data(todas, previsto)
        artistas[f"prevista_{i}"].set_label(f"$\\rho^t$ previsto, ρ = {rho:.3f}")
    artistas["ponto"].set_data([alpha_lambda], [mu])
    rho = max(rhos)
    estado = "diverge" if rho >= 1 else f"{np.log(1e-6) / np.log(rho):.0f} iterações para reduzir o erro 10⁶ vezes"
    artistas["titulo"].set_text(f"κ = {kappa:g}: α = {alpha:.4g}, μ = {mu:.2f}, ρ = max(ρ₁, ρ₂) = {rho:.3f} ({estado})")
    artistas["titulo_direita"].set_text("momentum do nnlib (linhas) e previsão (tracejado)")
    ax1 = artistas["titulo_direita"].axes
    ax1.legend(handles=[artistas[k] for k in ("medida_0", "prevista_0", "medida_1", "prevista_1")],
               fontsize=7, loc="lower left")


def interativo_mapa_momentum(fator, kappa=(5, 20, 50, 200, 1000), alpha_lambda=(0.02, 4.0),
                             mu=(0.0, 0.99), passos=150, resolucao=160):
    """Widget: the map of momentum's convergence factor on a quadratic, and a run at the chosen point.

    The quadratic has curvatures λ₁ = 1 and λ₂ = κ. Left: ρ(α, μ) = max(ρ(α, μ, 1), ρ(α, μ, κ))
    over α λ_máx ∈ (0, 4] and μ ∈ [0, 1) (gray where ρ ≥ 1, the run diverges), the best point
    and the student's. Right: nnlib's Momentum from w = (1, 1), the size of (w_i, v_i) in each
    direction, against the predicted ρ_i^t.

    Parameters
    ----------
    fator : callable
        ``fator(alpha, mu, lam)`` -> ρ, elementwise on arrays (the notebook's formula).
    kappa : sequence of float
        Condition numbers offered (starts at 20 when offered). Each is one static background.
    alpha_lambda : (float, float)
        Range of the slider of α λ_máx (α in units of 1/κ); starts at 1.
    mu : (float, float)
        Range of the μ slider (starts at 0.7).
    passos : int
        Iterations of the run.
    resolucao : int
        Grid points per axis of the map.

    Returns
    -------
    ipywidgets.VBox
        ``.atualizar(kappa, alpha_lambda, mu)`` is the callback (returns the PNG);
        ``.figura(kappa, alpha_lambda, mu)`` draws the same picture in a new Figure.
    """
    kappa = list(kappa)
    inicial = 20 if 20 in kappa else kappa[0]

    def figura(kappa=inicial, alpha_lambda=1.0, mu=0.7):
        fig, artistas, estaticos = _figura_do_mapa(passos)
        _desenhar_mapa(estaticos, fator, kappa, resolucao)
        _atualizar_mapa(artistas, fator, passos, kappa, alpha_lambda, mu)
        return fig

    fig, artistas, estaticos = _figura_do_mapa(passos)
    live = LiveFigure(fig, dynamic=artistas.values())
    desenhado = {"kappa": None}

    def atualizar(kappa, alpha_lambda, mu):
        if desenhado["kappa"] != kappa:   # a new κ: a new map (the static part)
            _desenhar_mapa(estaticos, fator, kappa, resolucao)
            desenhado["kappa"] = kappa
        _atualizar_mapa(artistas, fator, passos, kappa, alpha_lambda, mu)
        return live.redraw(static_key=kappa)

    controles = {"kappa": slider("κ = λ_máx/λ_mín", kappa, inicial),
                 "alpha_lambda": slider("α·λ_máx", alpha_lambda, 1.0, step=0.02),
                 "mu": slider("coef. de momento μ", mu, 0.7, step=0.01)}
    box = panel(controles, atualizar, live, figura)
    box.artistas = artistas
    return box
