"""Redraw a figure in place for a widget: the static part once, the moving part on every call.

A widget that builds a new figure on every slider move pays for everything each time: the
contour of J, the axes, the tick labels, then the inline backend's PNG with a tight bounding
box (250-480 ms per move on 2 cores, docs/performance.md). Most of that never changes. The
standard matplotlib recipe for animation ("blitting") draws the static part once, keeps those
pixels, and on each update redraws only the artists that change:

1. build the figure with everything fixed (contour, axis limits, labels) and the artists that
   will change (lines, titles), then ``live = LiveFigure(fig, dynamic=[...])``;
2. in the widget callback, change those artists (``line.set_data``, ``title.set_text``, a new
   ``ax.legend(...)``) and call ``live.redraw()``: it restores the static pixels, draws the
   dynamic artists and sends the PNG to ``live.image`` (an ``ipywidgets.Image`` to display
   under the controls).

Legends are always dynamic: each redraw draws the legends the figure has at that moment
(``ax.legend``, ``fig.legend``, ``ax.add_artist(Legend(...))``), so an update may simply call
``ax.legend(...)`` again.

Anything that is not in ``dynamic`` is frozen: a change to it (a new contour, new axis limits)
shows only after a redraw with a new ``static_key``, which draws the static part again and
keeps it under that key (switching back to a key already seen costs nothing).

The same building code can make a plain ``Figure`` for a static plot or a test; only the
widget needs the ``LiveFigure``. `differing_pixels` checks that the two agree: the number of
pixels where a redrawn PNG differs from a full draw of a fresh figure (0 when they agree).
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.legend import Legend
from PIL import Image


def png_bytes(rgba, compress_level=1):
    """Encode an ``(height, width, 4)`` uint8 RGBA array as PNG bytes.

    ``compress_level`` 1 (of 0-9) is the fast end: about 3x faster than PIL's default of 6
    for a figure-sized image, and larger by about a third.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgba)).save(buffer, format="png", compress_level=compress_level)
    return buffer.getvalue()


def png_pixels(png):
    """The ``(height, width, 4)`` uint8 RGBA array of PNG bytes."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def figure_pixels(fig):
    """The RGBA array of one plain Agg draw of ``fig``: every artist, no tight bounding box."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def differing_pixels(png, fig):
    """How many pixels of ``png`` differ from a full draw of ``fig`` (-1: other sizes)."""
    a, b = png_pixels(png), figure_pixels(fig)
    return -1 if a.shape != b.shape else int(np.any(a != b, axis=-1).sum())


class LiveFigure:
    """A figure whose static part is drawn once and whose ``dynamic`` artists are redrawn.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The whole figure, static and dynamic artists already added. Prefer
        ``matplotlib.figure.Figure(figsize=...)`` to ``plt.figure``: a pyplot figure would
        also be shown by the inline backend at the end of the cell.
    dynamic : iterable of Artist
        The artists the callback changes (lines, texts). They are marked ``animated``, so a
        full draw leaves them out of the static background. They are drawn over the whole
        static part (spines and grid included), in zorder among themselves. Legends need not
        be listed: every legend the figure has at a redraw is drawn as a dynamic artist.

    Attributes
    ----------
    image : ipywidgets.Image or None
        Created by `widget`; every `redraw` puts the new PNG in it.
    """

    def __init__(self, fig, dynamic=()):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)  # its own Agg canvas, whatever the pyplot backend
        self.dynamic = []
        self.image = None
        self._backgrounds = {}
        self.add(*dynamic)

    def add(self, *artists):
        """Mark more artists as dynamic (a line or legend created after the constructor)."""
        for artist in artists:
            artist.set_animated(True)
            self.dynamic.append(artist)

    def forget(self, *artists):
        """Stop drawing these artists (after ``artist.remove()``)."""
        self.dynamic = [a for a in self.dynamic if all(a is not b for b in artists)]

    def redraw(self, static_key=None):
        """Draw the dynamic artists over the static part; return the PNG bytes.

        ``static_key`` names the current static part; a key not seen before draws the static
        part again (after you changed it) and keeps its pixels under that key.
        """
        artists = self._artists_to_draw()
        if static_key not in self._backgrounds:
            self.canvas.draw()  # animated (dynamic) artists are left out
            self._backgrounds[static_key] = self.canvas.copy_from_bbox(self.fig.bbox)
        self.canvas.restore_region(self._backgrounds[static_key])
        renderer = self.canvas.get_renderer()
        for artist in artists:
            if artist.get_visible():
                artist.draw(renderer)
        png = png_bytes(self.canvas.buffer_rgba())
        if self.image is not None:
            self.image.value = png
        return png

    def _artists_to_draw(self):
        """The dynamic artists and every legend the figure has now, in zorder.

        Legends are found in the figure, not in ``dynamic``: an ``ax.legend(...)`` call in the
        update replaces the axes' legend, and only the current one is drawn; legends added
        with ``ax.add_artist`` are drawn too.
        """
        legends = [ax.get_legend() for ax in self.fig.axes] + list(self.fig.legends)
        legends += [a for ax in self.fig.axes for a in ax.artists if isinstance(a, Legend)]
        legends = [legend for legend in legends if legend is not None]
        for legend in legends:
            legend.set_animated(True)  # never part of the static background
        others = [a for a in self.dynamic if not isinstance(a, Legend)]
        return sorted(others + legends, key=lambda a: a.get_zorder())

    def widget(self):
        """An ``ipywidgets.Image`` showing the figure, updated by every `redraw`."""
        import ipywidgets

        if self.image is None:
            self.image = ipywidgets.Image(format="png")
            self.image.value = self.redraw()
        return self.image

    def forget_static(self):
        """Drop the kept static pixels (after a change to the static part under an old key)."""
        self._backgrounds.clear()
