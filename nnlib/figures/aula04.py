"""Figures and widgets of aula04 (adaptive step sizes: AdaGrad, RMSProp, Adam).

The notebook computes; these functions only draw what it computed (the two widgets also
run the optimizers they show, with ``nnlib.surfaces.run`` or the function the notebook
passes). Every function returns the ``matplotlib.figure.Figure`` it drew, built with
``Figure`` (not pyplot), so a notebook cell shows it once, as the cell's value.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from nnlib import optim, surfaces
from nnlib.figures._common import Panel, curves_figure, panel, slider
from nnlib.liveplot import LiveFigure

OPTIMIZER_NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
LABELS = {"sgd": "Gradiente descendente", "momentum": "Momentum", "nesterov": "Nesterov",
          "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam"}
COLORS = dict(zip(OPTIMIZER_NAMES, ["tab:gray", "tab:blue", "tab:cyan", "tab:orange",
                                    "tab:green", "tab:red"]))
SURFACE_LABELS = {"quadratic": "quadrática (λ₂/λ₁ = 20)", "rosenbrock": "Rosenbrock",
                  "beale": "Beale", "bounded_saddle": "sela com piso"}


def _contour(ax, surface, n=100, levels=None):
    W1, W2, Jg = surfaces.contour_grid(surface, n=n)
    if levels is None:
        levels = np.unique(np.quantile(Jg, np.linspace(0.0, 0.9, 15) ** 2))
    return ax.contour(W1, W2, Jg, levels=levels, cmap="Greys", linewidths=0.6)


# ----------------------------------------------------------------------------- static figures


def single_alpha_figure(surface, paths):
    """Paths and costs of gradient descent and AdaGrad on an ill-conditioned quadratic.

    Parameters
    ----------
    surface : nnlib.surfaces.Quadratic
        The surface the paths ran on (its contour is drawn).
    paths : dict of str to ndarray, shape (steps + 1, 2)
        One trajectory per label, as returned by ``nnlib.surfaces.run``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 4), layout="tight")
    ax1, ax2 = fig.subplots(1, 2)
    _contour(ax1, surface, n=120, levels=np.logspace(-2, 2.5, 14))
    for (label, path), color in zip(paths.items(), ["tab:gray", "tab:purple", "tab:orange"]):
        ax1.plot(path[:, 0], path[:, 1], ".-", color=color, lw=1, ms=3, label=label)
        ax2.semilogy(surface.J(path), color=color, label=label)
    ax1.plot(0, 0, "k*", ms=12)
    ax1.set(xlim=surface.bounds[0], ylim=surface.bounds[1], xlabel="$w_1$", ylabel="$w_2$",
            title=f"Quadrática mal condicionada ($\\lambda_2/\\lambda_1 = {surface.b / surface.a:g}$)")
    ax1.legend(fontsize=8, loc="lower right")
    ax2.set(xlabel="passo $t$", ylabel="$J(\\mathbf{w})$", title="Custo ao longo dos passos",
            ylim=(1e-12, 1e4))
    ax2.legend(fontsize=8)
    return fig


def effective_steps_figure(steps_adagrad, steps_rmsprop, reference=None):
    """Effective step α/(√r + ε) of two weights along a run, AdaGrad and RMSProp (log-log).

    Parameters
    ----------
    steps_adagrad, steps_rmsprop : ndarray, shape (T, 2)
        Row ``t - 1``: the effective step of each weight after step ``t``; weight 1 has
        gradients of size about 1, weight 2 about 10.
    reference : (label, ndarray of shape (T,)), optional
        A curve drawn dotted (the predicted decay of AdaGrad).

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.arange(1, len(steps_adagrad) + 1)
    fig = Figure(figsize=(10, 4), layout="tight")
    ax = fig.subplots()
    for i, style in enumerate(["-", "--"]):
        scale = "|g| ≈ 1" if i == 0 else "|g| ≈ 10"
        ax.loglog(t, steps_adagrad[:, i], style, color="tab:orange", label=f"AdaGrad, peso com {scale}")
        ax.loglog(t, steps_rmsprop[:, i], style, color="tab:green",
                  label=f"RMSProp (ρ = 0,9), peso com {scale}")
    if reference is not None:
        ax.loglog(t, reference[1], ":", color="k", label=reference[0])
    ax.set(xlabel="passo $t$", ylabel="passo efetivo $\\alpha/(\\sqrt{r}+\\epsilon)$",
           title="Passo efetivo por peso: o do AdaGrad decai para sempre, o do RMSProp se estabiliza")
    ax.legend(fontsize=8, ncol=2)
    return fig


def bias_correction_figure(g, moments, ratios):
    """Adam's first moment with and without bias correction, and the step-size ratio.

    Parameters
    ----------
    g : ndarray, shape (T,)
        The gradients of one weight.
    moments : ndarray, shape (T, 4)
        Columns m, s, m̂, ŝ after each step.
    ratios : dict of str to ndarray
        Label -> (uncorrected step / corrected step) along t = 1, 2, ...

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 4), layout="tight")
    ax1, ax2 = fig.subplots(1, 2)
    t = np.arange(1, len(g) + 1)
    ax1.plot(t, g, ".", color="0.6", label="$g_t$")
    ax1.plot(t, moments[:, 0], color="tab:blue", label="$m_t$ (sem correção)")
    ax1.plot(t, moments[:, 2], color="tab:red", label="$\\hat m_t = m_t/(1-\\beta_1^t)$")
    ax1.axhline(1.0, color="k", lw=0.8, ls=":")
    ax1.set(xlabel="passo $t$", ylabel="primeiro momento",
            title="$\\hat m$ vs $m$ nos primeiros passos ($\\beta_1 = 0{,}9$)")
    ax1.legend(fontsize=8)
    for (label, ratio), color in zip(ratios.items(), ["tab:red", "tab:purple", "tab:brown"]):
        ax2.plot(np.arange(1, len(ratio) + 1), ratio, color=color, label=label)
    ax2.axhline(1.0, color="k", lw=0.8, ls=":")
    ax2.set(xscale="log", yscale="log", xlabel="passo $t$",
            ylabel="passo sem correção / passo corrigido", title="Efeito de omitir a correção de viés")
    ax2.legend(fontsize=8)
    return fig


def surface_comparison_figure(surfaces_by_name, results):
    """Trajectory of each optimizer, with its best α, on each surface (a 2 x 2 grid).

    Parameters
    ----------
    surfaces_by_name : dict of str to nnlib.surfaces.Surface
    results : dict of (surface name, optimizer name) to {"best": None or {"alpha", "path"}}

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 8), layout="tight")
    for ax, (s_name, surface) in zip(fig.subplots(2, 2).ravel(), surfaces_by_name.items()):
        _contour(ax, surface)
        for o_name in OPTIMIZER_NAMES:
            best = results[s_name, o_name]["best"]
            if best is not None:
                ax.plot(best["path"][:, 0], best["path"][:, 1], "-", color=COLORS[o_name], lw=1.2,
                        label=f"{LABELS[o_name]} (α = {best['alpha']:.2g})")
        ax.plot(*surface.w0, "ko", ms=5)
        ax.plot(*surface.minimum, "k*", ms=12)
        ax.set(xlim=surface.bounds[0], ylim=surface.bounds[1], xlabel="$w_1$", ylabel="$w_2$",
               title=f"{SURFACE_LABELS.get(s_name, s_name)}: melhor α de cada otimizador")
        ax.legend(fontsize=7, loc="best")
    return fig


def digits_comparison_figure(alphas, final_costs, best_curves, epochs):
    """J after training as a function of α (left) and the J curves with the best α (right).

    Parameters
    ----------
    alphas : ndarray
        The α grid.
    final_costs : dict of optimizer name to list of float
        Training J at the end for each α (``inf`` if it diverged); drawn clipped at 10.
    best_curves : dict of optimizer name to (best α, J per epoch)
    epochs : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    return curves_figure({o: (final_costs[o], best_curves[o]) for o in final_costs}, [
        Panel(lambda d: (alphas, np.minimum(d[0], 10.0)), "o-", line=lambda o: dict(color=COLORS[o]),
              label=lambda o, d: LABELS[o], legend=dict(fontsize=8),
              axes=dict(xscale="log", yscale="log", xlabel="passo de aprendizagem α",
                        ylabel=f"J de treino após {epochs} épocas", title="Sensibilidade a α (valores cortados em 10)")),
        Panel(lambda d: d[1][1], "o-", line=lambda o: dict(color=COLORS[o], ms=3),
              label=lambda o, d: f"{LABELS[o]} (α = {d[1][0]:.0e})", legend=dict(fontsize=8),
              axes=dict(yscale="log", xlabel="época", ylabel="J de treino",
                        title="Curvas de J com o melhor α de cada um"))], figsize=(11, 4))


# ----------------------------------------------------------------------------- preconditioning

PRECONDITIONING_LINES = {"gd": ("passo fixo ótimo", "tab:gray"),
                         "adagrad": ("AdaGrad", "tab:orange"),
                         "rmsprop": ("RMSProp", "tab:green")}


def _preconditioning_artists(fig, steps):
    ax_path, ax_step, ax_kappa = fig.subplots(1, 3)
    ax_path.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
    ax_step.set(xlabel="passo $t$", ylabel="passo efetivo de cada peso", yscale="log",
                xlim=(0, steps), ylim=(1e-5, 10.0))
    ax_kappa.set(xlabel="passo $t$", ylabel="número de condição", yscale="log",
                 xlim=(0, steps), ylim=(0.5, 3e3))
    for ax in (ax_step, ax_kappa):
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax_step.set_title("Passo efetivo $\\alpha/(\\sqrt{r}+\\epsilon)$")
    ax_kappa.set_title("Condição da quadrática vista pelo passo")
    art = {"axes": (ax_path, ax_step, ax_kappa), "contour": None, "key": None}
    for name, (label, color) in PRECONDITIONING_LINES.items():
        art["path_" + name] = ax_path.plot([], [], ".-", color=color, lw=1, ms=2, label=label, zorder=4)[0]
        for i, style in enumerate(["-", "--"]):
            art[f"step_{name}_{i}"] = ax_step.plot([], [], style, color=color, zorder=3,
                                                   label=f"{label}, $w_{i + 1}$")[0]
        art["kappa_" + name] = ax_kappa.plot([], [], color=color, label=label, zorder=3)[0]
    art["title"] = fig.suptitle("")
    ax_path.legend(fontsize=7, loc="lower left")
    ax_step.legend(fontsize=7, ncol=3, loc="lower left")
    ax_kappa.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.83, wspace=0.3)
    return art


def _dynamic_preconditioning(art):
    names = [k for k in art if k.startswith(("path_", "step_", "kappa_"))]
    return [art[k] for k in names] + [art["title"], art["axes"][0].title]


def _update_preconditioning(art, run, live=None):
    """Put one run (the dict the notebook's function returns) into the artists.

    The contour of J changes with (κ, angle): it is a dynamic artist (zorder 3, over the spines
    in a full draw too), so the static part of the widget never changes.
    """
    ax_path = art["axes"][0]
    key = (run["kappa"], run["angle"])
    if key != art["key"]:
        if art["contour"] is not None:
            art["contour"].remove()
            if live is not None:
                live.forget(art["contour"])
        g = np.linspace(-1.2, 1.2, 81)
        W1, W2 = np.meshgrid(g, g)
        W = np.stack([W1, W2], axis=-1)
        Jg = 0.5 * np.einsum("...i,ij,...j->...", W, run["H"], W)
        art["contour"] = ax_path.contour(W1, W2, Jg, levels=np.logspace(-3, np.log10(Jg.max()), 12),
                                         cmap="Greys", linewidths=0.6, zorder=3)
        if live is not None:
            live.add(art["contour"])
        art["key"] = key
    for name in PRECONDITIONING_LINES:
        path = np.clip(run["paths"][name], -1e3, 1e3)
        art["path_" + name].set_data(path[:, 0], path[:, 1])
        steps = run["steps"][name]
        t = np.arange(1, len(steps) + 1)
        for i in range(2):
            art[f"step_{name}_{i}"].set_data(t, steps[:, i])
        art["kappa_" + name].set_data(t, run["conditions"][name])
    ax_path.set_title(f"κ = {run['kappa']:g}, eixos girados de {run['angle']:g}°")
    art["title"].set_text("Passo por peso como pré-condicionamento diagonal: "
                          + ("iguala as curvaturas" if run["angle"] == 0 else
                             "com os eixos girados, não iguala"))
    return key


def preconditioning_figure(run):
    """Paths, effective steps and the condition number seen by the step, for one quadratic.

    Parameters
    ----------
    run : dict
        What the notebook's ``precondition_run`` returns: ``kappa``, ``angle``, ``H`` (2 x 2),
        and, for each of ``"gd"``, ``"adagrad"``, ``"rmsprop"``, ``paths[name]``
        (steps + 1, 2), ``steps[name]`` (steps, 2: the effective step of each weight) and
        ``conditions[name]`` (steps,: the condition number of D^½ H D^½, D = diag(steps)).

    Returns
    -------
    matplotlib.figure.Figure
    """
    steps = len(run["conditions"]["gd"])
    fig = Figure(figsize=(13, 4.2))
    art = _preconditioning_artists(fig, steps)
    _update_preconditioning(art, run)
    return fig


def interativo_precondicionamento(precondition_run, kappa=(1, 10, 100, 1000), angulo=(0, 15, 30, 45),
                                  inicial=(100, 0)):
    """Widget: move the condition number κ and the rotation of the quadratic's axes.

    Parameters
    ----------
    precondition_run : callable
        ``precondition_run(kappa, angle)`` -> the dict `preconditioning_figure` draws.
    kappa, angulo : sequences of numbers
        The choices of the two sliders.
    inicial : (kappa, angle)
        The values shown first.

    Returns
    -------
    ipywidgets.VBox
        Built by `nnlib.figures._common.panel`: ``box.atualizar(kappa=..., angle=...)`` is the
        callback (it returns the PNG it shows), ``box.figura(kappa=..., angle=...)`` draws the same
        picture in a new Figure, ``box.live`` is the LiveFigure.
    """
    steps = len(precondition_run(inicial[0], inicial[1])["conditions"]["gd"])
    fig = Figure(figsize=(13, 4.2))
    art = _preconditioning_artists(fig, steps)
    live = LiveFigure(fig, dynamic=_dynamic_preconditioning(art))

    def atualizar(kappa=inicial[0], angle=inicial[1]):
        _update_preconditioning(art, precondition_run(kappa, angle), live)
        return live.redraw()   # one static part: axes and labels only

    def figura(kappa=inicial[0], angle=inicial[1]):
        return preconditioning_figure(precondition_run(kappa, angle))

    controls = {"kappa": slider("κ", list(kappa), inicial[0]),
                "angle": slider("giro (graus)", list(angulo), inicial[1])}
    return panel(controls, atualizar, live, figura)


# ----------------------------------------------------------------------------- optimizers widget


def _make_optimizer(name, alpha, mu, rho, beta1, beta2):
    extra = {"momentum": {"mu": mu}, "nesterov": {"mu": mu}, "rmsprop": {"rho": rho},
             "adam": {"beta1": beta1, "beta2": beta2}}.get(name, {})
    return optim.get(name, alpha=alpha, **extra)


def _run_clipped(surface, j_star, opt, steps):
    """Trajectory and J - J* of one run, clipped so that a diverging run can be drawn."""
    with np.errstate(over="ignore", invalid="ignore"):
        path = surfaces.run(opt, surface, steps=steps)   # stops at the first non-finite w
        # clipped: a diverging path gives J ~ 1e285, which a log axis does not draw
        gap = np.clip(surface.J(path) - j_star, 1e-16, 1e8)
    diverged = len(path) < steps + 1 or not np.all(np.isfinite(gap))
    return np.clip(path, -1e6, 1e6), np.nan_to_num(gap, nan=1e8), diverged


class _OptimizersFigure:
    """Left: trajectories over the contour of J; right: J - J* (the widget's figure)."""

    def __init__(self, surfaces_by_name, surface, steps=200):
        self.surfaces = surfaces_by_name
        self.j_star = {n: float(s.J(s.minimum)) for n, s in surfaces_by_name.items()}
        self.steps, self.surface, self.contour, self.legends = steps, None, None, []
        self._contours = {}
        self.fig = Figure(figsize=(11, 4))
        self.ax1, self.ax2 = self.fig.subplots(1, 2)
        self.ax1.set(xlabel="$w_1$", ylabel="$w_2$")
        # fixed axes: J - J* is clipped to [1e-16, 1e8], above J(w0) - J* on every surface
        self.ax2.set(xlabel="passo $t$", ylabel="$J - J^*$", yscale="log", xlim=(0, steps),
                     ylim=(1e-12, 1e8))
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.22)
        self.paths = {o: self.ax1.plot([], [], ".-", color=COLORS[o], lw=1, ms=2, zorder=3)[0]
                      for o in OPTIMIZER_NAMES}
        self.costs = {o: self.ax2.plot([], [], color=COLORS[o], zorder=3)[0] for o in OPTIMIZER_NAMES}
        self.start = self.ax1.plot([], [], "ko", ms=5, zorder=4)[0]
        self.minimum = self.ax1.plot([], [], "k*", ms=12, zorder=4)[0]
        self.set_surface(surface)

    def dynamic(self):
        return [*self.paths.values(), *self.costs.values(), self.start, self.minimum,
                self.ax1.title, self.ax2.title]

    def set_surface(self, name):
        if self.contour is not None:
            self.contour.remove()
        surface = self.surfaces[name]
        if name not in self._contours:
            W1, W2, Jg = surfaces.contour_grid(surface, n=80)
            self._contours[name] = (W1, W2, Jg, np.unique(np.quantile(Jg, np.linspace(0.0, 0.9, 15) ** 2)))
        W1, W2, Jg, levels = self._contours[name]
        self.contour = self.ax1.contour(W1, W2, Jg, levels=levels, cmap="Greys", linewidths=0.6)
        self.ax1.set(xlim=surface.bounds[0], ylim=surface.bounds[1])
        self.start.set_data([surface.w0[0]], [surface.w0[1]])
        self.minimum.set_data([surface.minimum[0]], [surface.minimum[1]])
        self.surface = name

    def update(self, optimizers, alpha, mu, rho, beta1, beta2, surface):
        if surface not in self.surfaces:
            raise ValueError(f"surface must be one of {sorted(self.surfaces)}, got {surface!r}")
        if surface != self.surface:
            self.set_surface(surface)
        for name in OPTIMIZER_NAMES:
            shown = name in optimizers
            path_line, cost_line = self.paths[name], self.costs[name]
            if shown:
                opt = _make_optimizer(name, alpha, mu, rho, beta1, beta2)
                path, gap, diverged = _run_clipped(self.surfaces[surface], self.j_star[surface], opt,
                                                   self.steps)
                label = LABELS[name] + (" (divergiu)" if diverged else "")
                path_line.set_data(path[:, 0], path[:, 1])
                cost_line.set_data(np.arange(len(gap)), gap)
            else:   # empty too: a hidden line still counts for the legend's position
                label = "_" + LABELS[name]
                path_line.set_data([], [])
                cost_line.set_data([], [])
            for line in (path_line, cost_line):
                line.set_label(label)
                line.set_visible(shown)
        self.ax1.set_title(f"{SURFACE_LABELS.get(surface, surface)}: α = {alpha:.3g}, μ = {mu:.2f}, "
                           f"ρ = {rho:.3f}")
        self.ax2.set_title(f"Custo (β1 = {beta1:.3f}, β2 = {beta2:.4f})")
        for legend in self.legends:
            legend.remove()
        self.legends = [ax.legend(handles=[lines[o] for o in optimizers], fontsize=7, loc="best")
                        for ax, lines in ((self.ax1, self.paths), (self.ax2, self.costs)) if optimizers]


def optimizers_figure(surfaces_by_name, optimizers=("sgd", "momentum", "adam"), alpha=10 ** -2.5, mu=0.9,
                      rho=0.9, beta1=0.9, beta2=0.999, surface="rosenbrock", steps=200):
    """Trajectories and J - J* curves of the chosen optimizers on one surface.

    Parameters
    ----------
    surfaces_by_name : dict of str to nnlib.surfaces.Surface
    optimizers : sequence of str
        Names from ``OPTIMIZER_NAMES``; all run with the same α.
    alpha, mu, rho, beta1, beta2 : float
        Hyper-parameters; each reaches only the rules that use it.
    surface : str
        A key of ``surfaces_by_name`` (``ValueError`` otherwise).
    steps : int

    Returns
    -------
    matplotlib.figure.Figure
        A diverging optimizer is drawn clipped and labelled "(divergiu)".
    """
    if surface not in surfaces_by_name:
        raise ValueError(f"surface must be one of {sorted(surfaces_by_name)}, got {surface!r}")
    drawing = _OptimizersFigure(surfaces_by_name, surface, steps)
    drawing.update(optimizers, alpha, mu, rho, beta1, beta2, surface)
    return drawing.fig


def interativo_otimizadores(superficies, otimizadores=("sgd", "momentum", "adam"), alpha=(1e-4, 10 ** 0.5),
                            mu=(0.0, 0.99), rho=(0.5, 0.999), beta1=(0.0, 0.99), beta2=(0.9, 0.9999),
                            superficie="rosenbrock"):
    """Widget: choose optimizers and surface, move α, μ, ρ, β1 and β2 (200 steps each).

    Parameters
    ----------
    superficies : dict of str to nnlib.surfaces.Surface
        The surfaces of the dropdown.
    otimizadores : sequence of str
        The optimizers selected first.
    alpha : (min, max)
        Range of the logarithmic α slider; ``mu``, ``rho``, ``beta1``, ``beta2`` are (min, max)
        of linear sliders.
    superficie : str
        The surface shown first.

    Returns
    -------
    ipywidgets.VBox
        Built by `nnlib.figures._common.panel`: ``box.atualizar(optimizers=..., alpha=..., mu=...,
        rho=..., beta1=..., beta2=..., surface=...)`` is the callback (returns the PNG it shows),
        ``box.figura(...)`` draws the same picture in a new Figure, ``box.live`` is the
        LiveFigure, ``box.figure`` the figure it redraws.
    """
    drawing = _OptimizersFigure(superficies, superficie)
    live = LiveFigure(drawing.fig, dynamic=drawing.dynamic())

    def atualizar(optimizers=tuple(otimizadores), alpha=10 ** -2.5, mu=0.9, rho=0.9, beta1=0.9,
                  beta2=0.999, surface=superficie):
        drawing.update(optimizers, alpha, mu, rho, beta1, beta2, surface)
        # a new surface redraws the contour (once per surface; then its pixels are kept)
        return live.redraw(static_key=surface)

    def figura(optimizers=tuple(otimizadores), alpha=10 ** -2.5, mu=0.9, rho=0.9, beta1=0.9, beta2=0.999,
               surface=superficie):
        return optimizers_figure(superficies, optimizers, alpha, mu, rho, beta1, beta2, surface)

    lo, hi = np.log10(alpha[0]), np.log10(alpha[1])
    controls = {
        "optimizers": widgets.SelectMultiple(options=[(LABELS[o], o) for o in OPTIMIZER_NAMES],
                                             value=tuple(otimizadores), rows=6, description="otimizadores"),
        "surface": widgets.Dropdown(options=[(SURFACE_LABELS.get(s, s), s) for s in superficies],
                                    value=superficie, description="superfície"),
        "alpha": widgets.FloatLogSlider(value=10 ** -2.5, base=10, min=lo, max=hi, step=0.25,
                                        description="passo α"),
        "mu": widgets.FloatSlider(value=0.9, min=mu[0], max=mu[1], step=0.01, description="μ"),
        "rho": widgets.FloatSlider(value=0.9, min=rho[0], max=rho[1], step=0.005, description="ρ"),
        "beta1": widgets.FloatSlider(value=0.9, min=beta1[0], max=beta1[1], step=0.01, description="β1"),
        "beta2": widgets.FloatSlider(value=0.999, min=beta2[0], max=beta2[1], step=0.0005,
                                     readout_format=".4f", description="β2"),
    }
    box = panel(controls, atualizar, live, figura,
                layout=[[["optimizers", "surface"], ["alpha", "mu", "rho", "beta1", "beta2"]]])
    box.figure = drawing.fig
    return box
