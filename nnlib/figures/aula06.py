"""Figures and widgets of aula06 (cost functions, and the same network in other libraries).

The notebook computes (gradients, training runs, the libraries' J curves); these functions only
draw what it computed. Every function returns the ``matplotlib.figure.Figure`` it drew, built
with ``Figure`` (not pyplot).
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from nnlib.figures._common import panel
from nnlib.liveplot import LiveFigure


def saturation_figure(z, a, d, grad_mse, grad_ce):
    """Cost of one example and |∂J/∂z| against z, for MSE and cross-entropy (logistic output).

    Parameters
    ----------
    z, a : ndarray
        Pre-activations and a = σ(z).
    d : float
        The desired label (the figure is drawn for d = 1).
    grad_mse, grad_ce : ndarray
        ∂J/∂z of each cost on ``z``.

    Returns
    -------
    matplotlib.figure.Figure
        The band z < -3 (confidently wrong) is shaded.
    """
    fig = Figure(figsize=(10, 4), layout="tight")
    axes = fig.subplots(1, 2)
    axes[0].plot(z, (d - a) ** 2, label="MSE: $(d - a)^2$")
    axes[0].plot(z, -np.log(a), label="BCE: $-\\log a$")
    axes[0].set(ylim=(0, 4), title=f"custo J de um exemplo com d = {d:g}", ylabel="J")
    axes[1].plot(z, np.abs(grad_mse), label="MSE")
    axes[1].plot(z, np.abs(grad_ce), label="entropia cruzada")
    axes[1].set(title="|∂J/∂z|: o MSE satura quando a rede erra com confiança", ylabel="|∂J/∂z|")
    for ax in axes:
        ax.set_xlabel("z (ativação antes da logística)")
        ax.axvspan(z[0], -3, color="red", alpha=0.08)
        ax.legend()
    return fig


def single_node_figure(runs):
    """Output a = σ(z) per epoch of one logistic node trained with each cost.

    Parameters
    ----------
    runs : dict of str to dict of str to list of float
        Starting point label -> (cost name -> a per epoch, from epoch 0).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 4), layout="tight")
    ax = fig.subplots()
    for (start, curves), style in zip(runs.items(), ["-", "--", ":"]):
        for (name, outs), color in zip(curves.items(), ["C0", "C1"]):
            ax.plot(outs, style, color=color, label=f"{name}, {start}")
    ax.set(xlabel="época", ylabel="saída a = σ(z)", title="Um nó logístico com rótulo d = 1")
    ax.legend(fontsize=8)
    return fig


def focal_factor_figure(pt, costs):
    """Cost of one example, -(1 - p_t)^γ log p_t, against p_t for several γ.

    Parameters
    ----------
    pt : ndarray
        Probabilities of the correct class.
    costs : dict of float to ndarray
        γ -> cost on ``pt``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 4), layout="tight")
    ax = fig.subplots()
    for gamma, cost in costs.items():
        ax.plot(pt, cost, label=f"γ = {gamma:g}")
    ax.axvspan(0.6, 1.0, color="green", alpha=0.08)
    ax.text(0.8, 3.5, "exemplos fáceis", ha="center")
    ax.set(xlabel="$p_t$ (probabilidade da classe correta)", ylabel="custo de um exemplo (α_t = 1)",
           title="Focal loss: γ > 0 reduz o custo dos exemplos bem classificados", ylim=(0, 5))
    ax.legend()
    return fig


def decision_boundaries_figure(nets, X, y, limits=(-3.5, 5.0)):
    """Validation examples and the boundary z = 0 of each trained network (one logit).

    Parameters
    ----------
    nets : dict of str to nnlib.network.MLP
        Cost label -> network trained with it.
    X : ndarray, shape (N, 2)
    y : ndarray, shape (N,)
        0/1 labels (1 = minority class).
    limits : (low, high)
        Range of both axes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    g1, g2 = np.meshgrid(np.linspace(*limits, 120), np.linspace(*limits, 120))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    fig = Figure(figsize=(10, 4), layout="tight")
    ax = fig.subplots()
    ax.scatter(*X[y == 0].T, s=4, color="lightgray", label="classe 0")
    ax.scatter(*X[y == 1].T, s=10, color="black", label="classe 1 (minoritária)")
    for k, (name, net) in enumerate(nets.items()):
        ax.contour(g1, g2, net.predict(grid).reshape(g1.shape), levels=[0.0], colors=f"C{k}")
        ax.plot([], [], color=f"C{k}", label=name)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Fronteiras de decisão (z = 0) na validação")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def speed_figure(seconds_per_epoch, n_examples, batch_size):
    """Horizontal bars: milliseconds per epoch of each library.

    Parameters
    ----------
    seconds_per_epoch : dict of str to float
    n_examples, batch_size : int
        Shown in the axis label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 3), layout="tight")
    ax = fig.subplots()
    ax.barh(list(seconds_per_epoch), [1000 * s for s in seconds_per_epoch.values()])
    ax.set(xlabel=f"milissegundos por época ({n_examples} exemplos, m = {batch_size})",
           title="A mesma rede nesta CPU")
    return fig


# ----------------------------------------------------------------------------- the widget


class _FrameworkFigure:
    """Left: nnlib's J per epoch and the library's; right: |difference| on a log scale."""

    def __init__(self, curves, notes):
        self.curves, self.notes = curves, notes
        nnlib_curves = [c for (f, _), c in curves.items() if f == "nnlib"]
        epochs = len(nnlib_curves[0])
        j_top = 1.05 * max(float(np.nanmax(c)) for c in nnlib_curves)   # the same for every optimizer
        self.fig = Figure(figsize=(10, 4))
        self.ax, self.ax_diff = self.fig.subplots(1, 2)
        self.ax.set(xlabel="época", ylabel="J (média dos mini-batches)", xlim=(0.8, epochs + 0.2),
                    ylim=(0.0, j_top))
        self.ax_diff.set(xlabel="época", ylabel="|J_biblioteca − J_nnlib|", xlim=(0.8, epochs + 0.2),
                         yscale="log", ylim=(1e-18, 1.0))
        for a in (self.ax, self.ax_diff):
            a.set_xticks(np.arange(1, epochs + 1))
        self.fig.subplots_adjust(left=0.08, right=0.97, bottom=0.13, top=0.82, wspace=0.3)
        # zorder >= 3: the changing artists stay above the axes' spines, as in a full draw
        self.ours = self.ax.plot([], [], "o-", color="C0", lw=3, alpha=0.5, label="nnlib", zorder=3)[0]
        self.theirs = self.ax.plot([], [], "x--", color="C1", zorder=3)[0]
        self.diff = self.ax_diff.plot([], [], "s-", color="C3", zorder=3)[0]
        self.rounding = self.ax_diff.axhline(1e-15, color="gray", ls=":", label="arredondamento")
        self.message = self.ax_diff.text(0.5, 0.5, "", transform=self.ax_diff.transAxes, ha="center",
                                         va="center", wrap=True, fontsize=11, zorder=3)
        self.suptitle = self.fig.suptitle("")
        self.legends = []

    def dynamic(self):
        return [self.ours, self.theirs, self.diff, self.message, self.ax.title, self.ax_diff.title,
                self.suptitle]

    def update(self, framework, optimizer):
        """Put the curves of (framework, optimizer) in; True when the library has none (a str)."""
        ours, theirs = self.curves[("nnlib", optimizer)], self.curves[(framework, optimizer)]
        epochs = np.arange(1, len(ours) + 1)
        missing = isinstance(theirs, str)
        self.ours.set_data(epochs, ours)
        # static part: the right panel disappears when the library has no curve
        self.ax_diff.set_axis_off() if missing else self.ax_diff.set_axis_on()
        self.rounding.set_visible(not missing)
        for legend in self.legends:
            legend.remove()
        if missing:
            self.theirs.set_data([], [])
            self.diff.set_data([], [])
            self.ax.set_title(f"{optimizer}: só o nnlib")
            self.ax_diff.set_title("")
            self.message.set_text(theirs)
            self.suptitle.set_text(f"{framework} × nnlib, {optimizer}: sem curva")
        else:
            diff = np.abs(np.subtract(theirs, ours))
            self.theirs.set_data(epochs, theirs)
            self.theirs.set_label(framework)
            self.diff.set_data(epochs, np.maximum(diff, 1e-18))
            self.diff.set_label(f"|J_{framework} − J_nnlib|")
            self.ax.set_title(f"{optimizer}: J por época")
            self.ax_diff.set_title(f"diferença máxima {diff.max():.1e}")
            self.message.set_text("")
            self.suptitle.set_text(
                f"{framework} × nnlib, {optimizer}: {self.notes.get(framework, {}).get(optimizer, '')}")
        for artist in (self.theirs, self.diff, self.ax_diff.title):
            artist.set_visible(not missing)
        self.message.set_visible(missing)
        self.legends = [self.ax.legend(handles=[self.ours] + ([] if missing else [self.theirs]))]
        if not missing:
            self.legends.append(self.ax_diff.legend(handles=[self.diff, self.rounding]))
        return missing


def framework_curves_figure(curves, notes, framework="PyTorch", optimizer="Momentum"):
    """The J curve of ``framework`` over nnlib's (left) and their |difference| (right, log).

    Parameters
    ----------
    curves : dict of (library, optimizer) to list of float or str
        J per epoch, or a sentence saying why the library has no curve (drawn as a message);
        ``("nnlib", optimizer)`` must be a curve for every optimizer.
    notes : dict of library to dict of optimizer to str
        The convention difference named in the title.
    framework, optimizer : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    drawing = _FrameworkFigure(curves, notes)
    drawing.update(framework, optimizer)
    return drawing.fig


def interativo_bibliotecas(curves, notes, bibliotecas, otimizadores, inicial=("PyTorch", "Momentum")):
    """Widget: choose the library and the optimizer; the curves were computed by the notebook.

    Parameters
    ----------
    curves, notes : dict
        As in `framework_curves_figure`.
    bibliotecas, otimizadores : sequences of str
        The choices of the two dropdowns.
    inicial : (library, optimizer)

    Returns
    -------
    ipywidgets.VBox
        Built by `nnlib.figures._common.panel`: ``box.atualizar(framework, optimizer)`` is the
        callback (returns the PNG it shows), ``box.figura(framework, optimizer)`` draws the same
        picture in a new Figure, ``box.live`` is the LiveFigure.
    """
    drawing = _FrameworkFigure(curves, notes)
    live = LiveFigure(drawing.fig, dynamic=drawing.dynamic())

    def atualizar(framework=inicial[0], optimizer=inicial[1]):
        missing = drawing.update(framework, optimizer)
        # the static part has two states, with and without the right panel (each drawn once)
        return live.redraw(static_key=missing)

    def figura(framework=inicial[0], optimizer=inicial[1]):
        return framework_curves_figure(curves, notes, framework, optimizer)

    controls = {
        "framework": widgets.Dropdown(options=list(bibliotecas), value=inicial[0], description="biblioteca"),
        "optimizer": widgets.Dropdown(options=list(otimizadores), value=inicial[1], description="otimizador"),
    }
    return panel(controls, atualizar, live, figura)
