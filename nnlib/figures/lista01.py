"""Figures and the widget of Lista 1 (otimizadores): a linear decay schedule in a budget of updates.

The numbers come from the notebook's problem (its ``train_schedule`` function, passed in);
this module only draws them:

- `schedule_figure`: α_j and the mean J − J* of the runs along the updates, one curve per
  schedule, with the target and the budget marked;
- `interativo_cronograma`: the same figure for one schedule the student moves with three
  sliders (α_0, α_τ, τ), beside the statement's example; its callback ``box.atualizar`` is a
  plain function the tests call. `cronograma_figure` and `update_cronograma` build and
  update that figure (a fresh figure updated once is what the widget shows).
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from nnlib import schedules
from nnlib.figures._common import panel
from nnlib.liveplot import LiveFigure

GAP_RANGE = (1e-3, 1e2)  # J − J* axis; a diverging run is cut at the top


def _alphas(config, budget):
    """α_j for j = 0 .. budget-1 of a schedule dict {"alpha0", "alpha_tau", "tau"}."""
    decay = schedules.LinearDecay(config["alpha0"], config["alpha_tau"], config["tau"])
    return decay(np.arange(budget, dtype=float))


def _clipped(gaps):
    with np.errstate(invalid="ignore"):
        return np.clip(np.nan_to_num(np.asarray(gaps, dtype=float), nan=GAP_RANGE[1],
                                     posinf=GAP_RANGE[1]), *GAP_RANGE)


def _label(name, config):
    return (f"{name}: α₀ = {config['alpha0']:g}, α_τ = {config['alpha_tau']:g}, "
            f"τ = {config['tau']:g}")


def _axes(fig, target, budget):
    """The two panels (α_j; mean J − J*) with their labels, the budget as x range and the target line."""
    ax_alpha, ax_gap = fig.subplots(1, 2)
    ax_alpha.set(xlabel="atualização j", ylabel="passo de aprendizagem α_j",
                 title="Redução programada do passo", xlim=(0, budget))
    ax_gap.set(xlabel="atualização j", ylabel="J − J* (média dos treinamentos)", yscale="log",
               ylim=GAP_RANGE, xlim=(0, budget), title=f"Meta: J − J* ≤ {target:g} em {budget} atualizações")
    ax_gap.axhline(target, color="gray", ls=":", lw=1)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9, wspace=0.28)
    return ax_alpha, ax_gap


def schedule_figure(runs, target, budget):
    """α_j (left) and the mean J − J* (right, log scale) of each schedule along the budget.

    Parameters
    ----------
    runs : dict
        ``{name: (config, gaps)}``: ``config`` is ``{"alpha0", "alpha_tau", "tau"}`` and
        ``gaps`` the mean J − J* after each update (``budget + 1`` values, the first one
        before training), as the notebook's ``train_schedule`` returns.
    target, budget : float, int
        The target of J − J* and the number of updates.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(11, 4))
    ax_alpha, ax_gap = _axes(fig, target, budget)
    for i, (name, (config, gaps)) in enumerate(runs.items()):
        ax_alpha.plot(_alphas(config, budget), color=f"C{i}")
        ax_gap.plot(_clipped(gaps), color=f"C{i}", label=_label(name, config))
    ax_gap.legend(fontsize=8, loc="upper right")
    return fig


def cronograma_figure(train, example, target, budget, alpha_max, seed=0):
    """The widget's figure: the example drawn once, and the two lines the sliders move.

    Returns ``(fig, lines)``, ``lines = (alpha_line, gap_line)``; `update_cronograma` puts a
    schedule into them. A fresh figure updated once draws what the widget shows after any
    sequence of moves (the tests compare the two pixel for pixel).
    """
    fig = Figure(figsize=(11, 4))
    ax_alpha, ax_gap = _axes(fig, target, budget)
    ax_alpha.plot(_alphas(example, budget), color="C0")
    ax_alpha.set_ylim(0, 1.05 * alpha_max)  # fixed: the widget redraws only the moving lines
    ax_gap.plot(_clipped(train(**example, seed=seed)), color="C0", label=_label("exemplo", example))
    alpha_line = ax_alpha.plot([], [], color="C1", zorder=3)[0]
    gap_line = ax_gap.plot([], [], color="C1", zorder=3)[0]
    return fig, (alpha_line, gap_line)


def update_cronograma(lines, train, config, budget, seed=0):
    """Run ``train`` with the schedule ``config`` and put α_j and J − J* into ``lines``."""
    alpha_line, gap_line = lines
    with np.errstate(over="ignore", invalid="ignore"):
        gaps = train(**config, seed=seed)
    alpha_line.set_data(np.arange(budget), _alphas(config, budget))
    gap_line.set_data(np.arange(budget + 1), _clipped(gaps))
    diverged = not gaps[-1] <= GAP_RANGE[1]  # inf, nan, or far above where it started
    final = "divergiu" if diverged else f"J − J* final = {gaps[-1]:.4f}"
    gap_line.set_label(_label("sua escolha", config) + f" ({final})")
    ax_gap = gap_line.axes
    ax_gap.legend(handles=[line for line in ax_gap.lines if not line.get_label().startswith("_")],
                  fontsize=8, loc="upper right")


def interativo_cronograma(train, example, target, budget, alpha0=(0.01, 0.3), alpha_tau=(0.0005, 0.05),
                          tau=(10, 400), seed=0):
    """Widget: move α_0, α_τ and τ of a linear decay and see α_j and J − J* beside ``example``.

    ``train(alpha0, alpha_tau, tau, seed)`` returns the mean J − J* after each update (the
    notebook's ``train_schedule``); the sliders span the given ranges (α's on a log scale).
    Returns the box `nnlib.figures._common.panel` builds: ``box.atualizar(alpha0=...,
    alpha_tau=..., tau=...)`` is its callback (returns the PNG it shows), ``box.figura(...)``
    draws the same picture in a new Figure, ``box.live`` is the LiveFigure.
    """
    alpha_max = max(alpha0[1], alpha_tau[1])
    fig, lines = cronograma_figure(train, example, target, budget, alpha_max, seed)
    live = LiveFigure(fig, dynamic=lines)

    def atualizar(alpha0=0.1, alpha_tau=0.01, tau=200):
        config = {"alpha0": alpha0, "alpha_tau": alpha_tau, "tau": tau}
        update_cronograma(lines, train, config, budget, seed)
        return live.redraw()

    def figura(alpha0=0.1, alpha_tau=0.01, tau=200):
        fresh, fresh_lines = cronograma_figure(train, example, target, budget, alpha_max, seed)
        update_cronograma(fresh_lines, train, {"alpha0": alpha0, "alpha_tau": alpha_tau, "tau": tau}, budget, seed)
        return fresh

    controls = {
        "alpha0": widgets.FloatLogSlider(value=0.1, base=10, min=np.log10(alpha0[0]), max=np.log10(alpha0[1]),
                                         step=0.02, description="α₀", readout_format=".4f"),
        "alpha_tau": widgets.FloatLogSlider(value=0.01, base=10, min=np.log10(alpha_tau[0]),
                                            max=np.log10(alpha_tau[1]), step=0.02, description="α_τ",
                                            readout_format=".4f"),
        "tau": widgets.IntSlider(value=200, min=tau[0], max=tau[1], step=10, description="τ"),
    }
    return panel(controls, atualizar, live, figura)
