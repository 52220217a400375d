"""Figures and widgets of aula05 (weight initialization).

The notebook computes (training runs, ``layer_statistics``); these functions only draw what it
computed. The widget takes the notebook's ``layer_statistics`` function as an argument, so the
numbers it shows are the ones the student read. Every function returns the
``matplotlib.figure.Figure`` it drew, built with ``Figure`` (not pyplot).
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.ticker import NullFormatter

from nnlib.figures._common import Panel, curves_figure, panel, slider
from nnlib.liveplot import LiveFigure

MAX_DEPTH = 30         # the widget's largest depth: the layer axis is fixed at 1..30
WIDGET_BATCH = 200     # the widget's batch: 2.5 times faster than 500, the same standard deviations
HIST_FLOOR = 1e-5      # y axis of the histograms: from 1e-5 (less than one value in 20 000) to 1.5
MAX_BACKGROUNDS = 40   # static images kept in memory (about 1.7 MB each) before starting over


def _comma(text):
    """Portuguese decimal comma in a label."""
    return text.replace(".", ",")


def local_search_figure(curves, x_grid, target, X, y, fits):
    """J per epoch for several seeds (left) and two of the fitted functions (right).

    Parameters
    ----------
    curves : list of sequences
        J per epoch, one per seed (seed = index).
    x_grid : ndarray, shape (k, 1)
        Where ``target`` and ``fits`` are evaluated.
    target : ndarray, shape (k, 1)
        The true function on ``x_grid``.
    X, y : ndarray, shape (N, 1)
        The data.
    fits : dict of str to ndarray, shape (k, 1)
        Label -> prediction of a trained network on ``x_grid``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 4), layout="tight")
    ax1, ax2 = fig.subplots(1, 2)
    for seed, J in enumerate(curves):
        ax1.semilogy(J, label=f"semente {seed}")
    ax1.set(xlabel="época k", ylabel="J(w)", title="Mesma rede, pontos de partida diferentes")
    ax1.legend(fontsize=7, ncol=2)
    ax2.plot(X[:, 0], y[:, 0], ".", color="gray", label="dados")
    ax2.plot(x_grid, target, "k--", lw=1, label="função verdadeira")
    for label, prediction in fits.items():
        ax2.plot(x_grid, prediction, label=label)
    ax2.set(xlabel="x", ylabel="y", title="Soluções encontradas")
    ax2.legend(fontsize=8)
    return fig


def decision_regions_figure(nets, X, y):
    """Decision regions (logit > 0) of networks trained on the two moons, one panel each.

    Parameters
    ----------
    nets : dict of str to nnlib.network.MLP
        Panel title -> trained network (one logit output).
    X : ndarray, shape (N, 2)
    y : ndarray, shape (N,)
        0/1 labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(5 * len(nets), 4), layout="tight")
    g1, g2 = np.meshgrid(np.linspace(-1.5, 2.5, 120), np.linspace(-1.2, 1.6, 100))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    for ax, (title, net) in zip(np.atleast_1d(fig.subplots(1, len(nets))), nets.items()):
        logits = net.predict(grid).reshape(g1.shape)
        ax.contourf(g1, g2, logits > 0, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"])
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=8)
        ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return fig


def activation_std_figure(stats, depth):
    """Standard deviation of the activations per layer, one panel per activation function.

    Parameters
    ----------
    stats : dict of (activation, heuristic) to dict
        What ``layer_statistics`` returned (its ``"a_std"`` is drawn); heuristics "glorot"
        (solid) and "he" (dashed).
    depth : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    activations = list(dict.fromkeys(act for act, _ in stats))
    fig = Figure(figsize=(12, 3.4), layout="tight")
    axes = fig.subplots(1, len(activations), sharex=True)
    for ax, act in zip(axes, activations):
        for heuristic, style in [("glorot", "-"), ("he", "--")]:
            ax.plot(range(1, depth + 1), stats[act, heuristic]["a_std"], style, marker=".",
                    label="Glorot (= LeCun aqui)" if heuristic == "glorot" else "He")
        ax.set(yscale="log", title=act, xlabel="camada l")
    axes[0].set_ylabel("desvio-padrão de $a^{(l)}$")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Ativações numa MLP de {depth} camadas de 100 nós (pesos normais)")
    return fig


def histograms_figure(stats_by_scale, layers, bins=np.linspace(-1, 1, 41)):
    """Histograms (log density) of tanh activations of some layers, one panel per weight scale.

    Parameters
    ----------
    stats_by_scale : dict of float to dict
        Scale of the weights -> what ``layer_statistics`` returned (its ``"a"`` is used).
    layers : sequence of int
        Layers (from 1) whose histogram is drawn.
    bins : ndarray

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(12, 3.4), layout="tight")
    axes = fig.subplots(1, len(stats_by_scale))
    for ax, (scale, stats) in zip(axes, stats_by_scale.items()):
        for l in layers:
            counts, _ = np.histogram(stats["a"][l - 1], bins=bins, density=True)
            ax.stairs(counts, bins, label=f"camada {l}")
        ax.set(yscale="log", title=_comma(f"tanh, Glorot × {scale:g}"), xlabel="ativação a")
    axes[0].set_ylabel("densidade")
    axes[0].legend(fontsize=8)
    return fig


def gradient_norms_figure(panels):
    """Norm of ∂J/∂W per layer (log scale), one panel per group of curves.

    Parameters
    ----------
    panels : dict of str to dict of str to ndarray
        Panel title -> (curve label -> gradient norm per layer).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=(10, 4), layout="tight")
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (title, curves) in zip(axes, panels.items()):
        for label, norms in curves.items():
            ax.semilogy(range(1, len(norms) + 1), norms, marker=".", label=label)
        ax.set(title=title, xlabel="camada l")
        ax.legend(fontsize=8)
    axes[0].set_ylabel(r"$\|\partial J / \partial W^{(l)}\|$")
    return fig


def training_curves_figure(histories):
    """Training J (log scale, left) and accuracy (right) per epoch of several runs.

    Parameters
    ----------
    histories : dict of str to nnlib.training.History
        Label -> history; a history that diverged gets "(divergiu)" in its label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    labelled = {label + (" (divergiu)" if hist.diverged else ""): hist for label, hist in histories.items()}
    return curves_figure(labelled, [
        Panel(lambda h: h.J, line=dict(marker="."),
              axes=dict(yscale="log", ylim=(0.05, 10), xlabel="época k", ylabel="J(w) no treino", title="Custo")),
        Panel(lambda h: h.accuracy, line=dict(marker="."), legend=dict(fontsize=8),
              axes=dict(xlabel="época k", ylabel="acurácia no treino", title="Acurácia"))], figsize=(10, 4))


# ----------------------------------------------------------------------------- the widget


def log_limits(*arrays):
    """Exponents (of 10) of fixed limits of a log axis holding the finite positive values.

    (-3, 3) when they fit; otherwise each end goes to the next multiple of 6 (-6, -12, ... or
    6, 12, ...). Almost every move of the controls keeps the axes, and the widget redraws only
    the curves.
    """
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return -3, 3
    low, high = np.log10(values.min()) - 0.5, np.log10(values.max()) + 0.5
    low = -3 if low >= -3 else -6 * int(np.ceil(-low / 6))
    high = 3 if high <= 3 else 6 * int(np.ceil(high / 6))
    return low, high


def round_up_125(x):
    """The smallest number of 1, 2, 5, 10, 20, 50, ... that is >= x (x > 0)."""
    power = 10.0 ** np.floor(np.log10(x))
    return next(c * power for c in (1, 2, 5, 10) if c * power >= x * (1 - 1e-9))


def _layer_statistics_artists():
    """The static part of the widget's figure (axes, labels) and the artists that change."""
    fig = Figure(figsize=(12, 3.6))
    ax_std, ax_grad, ax_hist = fig.subplots(1, 3)
    for ax in (ax_std, ax_grad):
        ax.set_yscale("log")
        ax.set_xlim(0, MAX_DEPTH + 1)
        ax.set_xlabel("camada l")
        ax.yaxis.set_minor_formatter(NullFormatter())   # fewer labels: faster drawing
    ax_std.set_title("Ida: ativações")
    ax_grad.set_ylabel(r"$\|\partial J / \partial W^{(l)}\|$")
    ax_grad.set_title("Volta: gradientes")
    ax_hist.set(yscale="log", ylim=(HIST_FLOOR, 1.5), xlabel="ativação a",
                ylabel="fração dos valores", title="Histogramas")
    # zorder 3: the changing artists stay above the axes, as in a full draw
    art = {
        "z_std": ax_std.plot([], [], marker=".", label="desvio-padrão de z", zorder=3)[0],
        "a_std": ax_std.plot([], [], marker=".", label="desvio-padrão de a", zorder=3)[0],
        "grad_norm": ax_grad.plot([], [], marker=".", color="C3", zorder=3)[0],
    }
    hists = [ax_hist.stairs(np.zeros(40), np.linspace(-1, 1, 41), color=f"C{k}", zorder=3)
             for k in range(3)]
    art.update(hist_first=hists[0], hist_middle=hists[1], hist_last=hists[2])
    art["std_legend"] = ax_std.legend(fontsize=8)
    art["hist_legend"] = ax_hist.legend(hists, ["", "", ""], fontsize=8)
    # with L = 2 the middle layer is the first one: another legend, with two entries
    art["hist_legend_2"] = Legend(ax_hist, [hists[0], hists[2]], ["", ""], fontsize=8)
    ax_hist.add_artist(art["hist_legend_2"])
    art["title"] = fig.suptitle("")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.84, wspace=0.32)  # fixed: fast
    return fig, art


def _update_layer_statistics(art, stats, depth, activation, heuristic, distribution, scale):
    """Put the statistics of these values into the artists; return the key of the static part."""
    layers = np.arange(1, depth + 1)
    for name in ("z_std", "a_std", "grad_norm"):
        values = np.where(np.isfinite(stats[name]), stats[name], np.nan)   # inf/NaN: no point
        art[name].set_data(layers, values)
    std_limits = log_limits(stats["z_std"], stats["a_std"])
    grad_limits = log_limits(stats["grad_norm"])
    art["a_std"].axes.set_ylim(10.0 ** std_limits[0], 10.0 ** std_limits[1])
    art["grad_norm"].axes.set_ylim(10.0 ** grad_limits[0], 10.0 ** grad_limits[1])
    # histograms of the first, middle and last layers; fixed x range (tanh: [-1, 1], logistic:
    # [0, 1], the others rounded up to 1, 2 or 5 x 10^k), fixed log y axis
    finite = [a[np.isfinite(a)] for a in stats["a"]]
    if activation in ("tanh", "logistic"):
        top = 1.0
    else:
        top = round_up_125(max([float(np.abs(a).max()) for a in finite if a.size] + [1e-12]))
    low = 0.0 if activation in ("relu", "logistic") else -top
    bins = np.linspace(low, top, 41)
    art["hist_first"].axes.set_xlim(low - 0.05 * (top - low), top + 0.05 * (top - low))
    shown = [1, (depth + 1) // 2, depth]
    for name, l in zip(("hist_first", "hist_middle", "hist_last"), shown):
        counts, _ = np.histogram(finite[l - 1], bins=bins)
        art[name].set_data(counts / max(len(finite[l - 1]), 1), bins)
    two = depth == 2                        # layers 1 and 2: two histograms only
    art["hist_middle"].set_visible(not two)
    art["hist_legend"].set_visible(not two)
    art["hist_legend_2"].set_visible(two)
    legend = art["hist_legend_2"] if two else art["hist_legend"]
    for text, l in zip(legend.get_texts(), sorted(set(shown))):
        text.set_text(f"camada {l}")
    dist = "uniforme" if distribution == "uniform" else "normal"
    art["title"].set_text(_comma(f"{activation}, {heuristic} ({dist}) × {scale:g}, {depth} camadas"))
    return std_limits, grad_limits, low, top


def layer_statistics_figure(layer_statistics, depth=10, activation="tanh", heuristic="glorot",
                            distribution="normal", scale=1.0):
    """Per-layer statistics of a freshly initialized deep MLP: what the widget shows, as a Figure.

    Parameters
    ----------
    layer_statistics : callable
        The notebook's ``layer_statistics(depth, activation, heuristic, distribution, scale,
        batch=...)``, returning ``z_std``, ``a_std``, ``grad_norm`` (one value per layer) and
        ``a`` (the activations of each layer).
    depth : int
        Number of layers, 2 to ``MAX_DEPTH``.
    activation, heuristic, distribution : str
    scale : float
        Multiplier of the drawn weights.

    Returns
    -------
    matplotlib.figure.Figure
        Left: standard deviations of z and a per layer; middle: gradient norm per layer;
        right: histograms of the first, middle and last layers' activations.
    """
    fig, art = _layer_statistics_artists()
    stats = layer_statistics(depth, activation, heuristic, distribution, scale, batch=WIDGET_BATCH)
    _update_layer_statistics(art, stats, depth, activation, heuristic, distribution, scale)
    return fig


def interativo_estatisticas(layer_statistics, camadas=(2, MAX_DEPTH),
                            ativacoes=("tanh", "logistic", "relu", "selu", "linear"),
                            heuristicas=("glorot", "he", "lecun"), escala=(0.25, 3.0),
                            max_backgrounds=MAX_BACKGROUNDS):
    """Widget: move the depth, activation, heuristic, distribution and weight scale.

    Parameters
    ----------
    layer_statistics : callable
        As in `layer_statistics_figure`.
    camadas : (min, max)
        Range of the depth slider (max at most ``MAX_DEPTH``).
    ativacoes, heuristicas : sequences of str
        The choices of the two dropdowns.
    escala : (min, max)
        Range of the weight-scale slider.
    max_backgrounds : int
        Static images kept in memory before starting over (``box.max_backgrounds``).

    Returns
    -------
    ipywidgets.VBox
        Built by `nnlib.figures._common.panel`: ``box.atualizar(depth, activation, heuristic,
        distribution, scale)`` is the callback (returns the PNG it shows), ``box.figura(...)``
        draws the same picture in a new Figure, ``box.live`` is the LiveFigure, ``box.controles``
        the controls, ``box.seen_keys`` the static parts kept and ``box.max_backgrounds`` their
        limit (read at every call).
    """
    fig, art = _layer_statistics_artists()
    live = LiveFigure(fig, dynamic=art.values())
    labels = {"glorot": "Xavier/Glorot", "he": "He", "lecun": "LeCun"}
    seen_keys = set()
    box = None   # the first picture is drawn inside panel(), before the box exists

    def atualizar(depth=10, activation="tanh", heuristic="glorot", distribution="normal", scale=1.0):
        stats = layer_statistics(depth, activation, heuristic, distribution, scale, batch=WIDGET_BATCH)
        key = _update_layer_statistics(art, stats, depth, activation, heuristic, distribution, scale)
        limit = max_backgrounds if box is None else box.max_backgrounds
        if key not in seen_keys and len(seen_keys) >= limit:
            live.forget_static()                 # bounded memory: start over
            seen_keys.clear()
        seen_keys.add(key)
        return live.redraw(static_key=key)

    def figura(depth=10, activation="tanh", heuristic="glorot", distribution="normal", scale=1.0):
        return layer_statistics_figure(layer_statistics, depth, activation, heuristic, distribution, scale)

    controls = {
        "depth": slider("camadas L", camadas, 10),
        "activation": widgets.Dropdown(options=list(ativacoes), value=ativacoes[0], description="ativação"),
        "heuristic": widgets.Dropdown(options=[(labels.get(h, h), h) for h in heuristicas],
                                      value=heuristicas[0], description="heurística"),
        "distribution": widgets.Dropdown(options=[("uniforme", "uniform"), ("normal", "normal")],
                                         value="normal", description="distribuição"),
        "scale": slider("escala ×", escala, 1.0, step=0.05),
    }
    box = panel(controls, atualizar, live, figura,
                layout=[["depth", "scale"], ["activation", "heuristic", "distribution"]])
    box.seen_keys, box.max_backgrounds = seen_keys, max_backgrounds
    return box
