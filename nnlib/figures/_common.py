"""What the figures and widgets of nnlib.figures share.

- `panel`: the one way a widget is built: controls over a LiveFigure, wired to a callback that
  tests call as a plain function (``box.atualizar``), not displayed (the notebook shows the box);
- `slider`: a slider over a list of options or a (min, max) range;
- `curves_figure`: the one skeleton of the figures that draw one curve per label in a row of
  panels (histories, schedules, runs);
- `leading_finite`, `step_up`: what the callbacks use to draw runs that diverge on fixed axes.
"""

from dataclasses import dataclass, field
from typing import Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure


def panel(controls, update, live, figure, layout=None):
    """The widget box: the controls above the live image, wired to ``update``.

    ``update`` runs once here, with the controls' initial values (the first picture), and
    again at every move of a control. The box is returned, not displayed: the notebook shows it
    (``display(box)`` or as the value of its cell).

    Parameters
    ----------
    controls : dict of str to ipywidgets.ValueWidget
        One control per keyword argument of ``update``.
    update : callable
        The callback, ``update(**values) -> bytes`` (the PNG it sent to the image).
    live : nnlib.liveplot.LiveFigure
        The figure the callback redraws.
    figure : callable
        ``figure(**values) -> matplotlib.figure.Figure``: the same picture drawn from scratch
        (for static use and for tests that compare it with the live redraw).
    layout : list of lists, optional
        Rows of control names, top to bottom; an item of a row that is itself a list of names is a
        column. Every control appears once. Default: all the controls in one row.

    Returns
    -------
    ipywidgets.VBox
        The rows of controls, the image and the output area where the callback's errors show;
        with the attributes ``atualizar`` (the callback), ``figura``, ``controles`` and ``live``.
    """
    layout = [list(controls)] if layout is None else layout
    placed = [name for row in layout for item in row for name in ([item] if isinstance(item, str) else item)]
    if sorted(placed) != sorted(controls):
        raise ValueError(f"layout must place each control once: controls {sorted(controls)}, placed {placed}")

    def place(item):
        return controls[item] if isinstance(item, str) else widgets.VBox([controls[name] for name in item])

    rows = [widgets.HBox([place(item) for item in row]) for row in layout]
    output = widgets.interactive_output(update, controls)   # calls update once: the first picture
    box = widgets.VBox(rows + [live.widget(), output])
    box.atualizar, box.figura, box.controles, box.live = update, figure, controls, live
    return box


def slider(description, values, value, step=None, readout=".2f", **kwargs):
    """A slider: over the options of a list ``values``, or over the range of a tuple ``(min, max)``.

    Integer ends and value give an IntSlider, otherwise a FloatSlider (``step`` defaults to
    1/100 of the range).
    """
    style = {"description_width": "initial"}
    if isinstance(values, list):
        return widgets.SelectionSlider(options=list(values), value=value, description=description,
                                       style=style, **kwargs)
    low, high = values
    if isinstance(low, int) and isinstance(high, int) and isinstance(value, int):
        return widgets.IntSlider(value=value, min=low, max=high, step=step or 1,
                                 description=description, style=style, **kwargs)
    return widgets.FloatSlider(value=value, min=low, max=high, step=step or (high - low) / 100,
                               readout_format=readout, description=description, style=style, **kwargs)


@dataclass
class Panel:
    """One panel of `curves_figure`: what to draw of each series, and the axes' settings.

    ``xy(data) -> (x, y)`` (or ``-> y``, drawn against 0, 1, ...) gives the curve of one
    series; ``style`` and ``line`` are passed to ``ax.plot`` (``line`` may also be a function
    of the series' name that returns the keywords); ``label(name, data)`` is the curve's label
    (default: the name); ``axes`` goes to ``ax.set`` (``xscale="log"``, ``xlabel=...``,
    ``title=...``); ``legend`` is a dict of ``ax.legend`` keywords (None: no legend here).
    """

    xy: Callable
    style: str = "-"
    line: object = field(default_factory=dict)
    axes: dict = field(default_factory=dict)
    legend: dict = None
    label: Callable = None


def curves_figure(series, panels, figsize, sharey=False):
    """A row of panels with one curve per series in each, labelled with the series' name.

    Parameters
    ----------
    series : dict of str to object
        Label -> the data of one series (a ``History``, an array, ...).
    panels : list of Panel
        What each panel draws of a series, left to right.
    figsize : (float, float)
    sharey : bool
        One y axis for all the panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = Figure(figsize=figsize, layout="tight")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=sharey))
    for ax, spec in zip(axes, panels):
        for name, data in series.items():
            curve = spec.xy(data)
            points = curve if isinstance(curve, tuple) else (np.arange(len(curve)), curve)
            line = spec.line(name) if callable(spec.line) else spec.line
            label = name if spec.label is None else spec.label(name, data)
            ax.plot(*points, spec.style, label=label, **line)
        ax.set(**spec.axes)
        if spec.legend is not None:
            ax.legend(**spec.legend)
    return fig


def leading_finite(*arrays):
    """How many leading entries are finite in every one of ``arrays`` (rows for 2-D arrays)."""
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        a = np.asarray(a, dtype=float)
        ok &= np.all(np.isfinite(a.reshape(len(a), -1)), axis=1)
    return len(ok) if ok.all() else int(np.argmin(ok))


def step_up(value, margin, steps):
    """The smallest of ``steps`` at or above ``margin * value`` (the last one at most)."""
    return next((top for top in steps if value <= top / margin), steps[-1])
