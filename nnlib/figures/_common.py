"""What the widgets of nnlib.figures share: controls over a LiveFigure, in one box."""

import ipywidgets as widgets
import numpy as np


def painel(controles, atualizar, live, figura):
    """The widget box: a row of controls above the live image, wired to ``atualizar``.

    Parameters
    ----------
    controles : dict of str to ipywidgets.ValueWidget
        One control per keyword argument of ``atualizar``.
    atualizar : callable
        The callback, ``atualizar(**values) -> bytes`` (the PNG it sent to the image).
    live : nnlib.liveplot.LiveFigure
        The figure the callback redraws.
    figura : callable
        ``figura(**values) -> matplotlib.figure.Figure``: the same picture drawn from scratch
        (for static use and for tests that compare it with the live redraw).

    Returns
    -------
    ipywidgets.VBox
        With the attributes ``atualizar``, ``figura``, ``controles`` and ``live``.
    """
    image = live.widget()
    saida = widgets.interactive_output(atualizar, controles)
    box = widgets.VBox([widgets.HBox(list(controles.values())), image, saida])
    box.atualizar, box.figura, box.controles, box.live = atualizar, figura, controles, live
    return box


def deslizante(descricao, faixa, valor, passo=None, formato=".2f", **kwargs):
    """A slider: over the options of a list ``faixa``, or over the range of a tuple ``(min, max)``.

    Integer ends and value give an IntSlider, otherwise a FloatSlider (``passo`` defaults to
    1/100 of the range).
    """
    style = {"description_width": "initial"}
    if isinstance(faixa, list):
        return widgets.SelectionSlider(options=list(faixa), value=valor, description=descricao,
                                       style=style, **kwargs)
    low, high = faixa
    if isinstance(low, int) and isinstance(high, int) and isinstance(valor, int):
        return widgets.IntSlider(value=valor, min=low, max=high, step=passo or 1,
                                 description=descricao, style=style, **kwargs)
    return widgets.FloatSlider(value=valor, min=low, max=high, step=passo or (high - low) / 100,
                               readout_format=formato, description=descricao, style=style, **kwargs)


def primeiros_finitos(*arrays):
    """How many leading entries are finite in every one of ``arrays`` (rows for 2-D arrays)."""
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        a = np.asarray(a, dtype=float)
        ok &= np.all(np.isfinite(a.reshape(len(a), -1)), axis=1)
    return len(ok) if ok.all() else int(np.argmin(ok))


def degrau(valor, margem, degraus):
    """The smallest of ``degraus`` at or above ``margem * valor`` (the last one at most)."""
    return next((top for top in degraus if valor <= top / margem), degraus[-1])
