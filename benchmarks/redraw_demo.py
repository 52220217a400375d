"""Full redraw versus incremental redraw of a widget figure (docs/performance.md, section 5).

A figure like the lectures' widgets (contour of J on the left, three trajectories with markers,
J versus iteration on a log axis on the right) is timed two ways, in CPU milliseconds:

- full: what the notebooks do now on every slider move: build a new figure and let the inline
  backend render it (PNG, ``bbox_inches="tight"``);
- incremental: one persistent figure whose static part (contour, axes, ticks, labels) is drawn
  once and cached with ``copy_from_bbox``; each move only updates the line data, restores the
  cached background, draws the six lines and encodes the canvas buffer as PNG (what an
  ``ipywidgets.Image`` would receive). This needs fixed axis limits.

Run: ``python -m benchmarks.redraw_demo``.
"""

import io
import os
import statistics
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

W1, W2 = np.meshgrid(np.linspace(-5, 5, 100), np.linspace(-2, 2, 100))
J_GRID = 0.5 * (W1 ** 2 + 20 * W2 ** 2)


def cpu_ms(fn, repeats=9):
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def paths(seed):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(size=(61, 2)) * 0.1, axis=0) for _ in range(3)]


def full_redraw(seed=0):
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax0.contour(W1, W2, J_GRID, levels=15, colors="lightgray", linewidths=0.8)
    for k, p in enumerate(paths(seed)):
        ax0.plot(p[:, 0], p[:, 1], "o-", ms=2.5, lw=1, label=f"otimizador {k}")
        ax1.semilogy(np.abs(p[:, 0]) + 1e-3)
    ax0.legend(fontsize=8)
    ax1.set_ylim(1e-12, 1e4)
    fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi, bbox_inches="tight")
    plt.close(fig)


class IncrementalFigure:
    """Static part drawn once; each update redraws only the lines and encodes the PNG."""

    def __init__(self):
        self.fig, (self.ax0, self.ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
        self.ax0.contour(W1, W2, J_GRID, levels=15, colors="lightgray", linewidths=0.8)
        self.ax1.set(yscale="log", ylim=(1e-12, 1e4), xlim=(0, 60))
        self.paths = [self.ax0.plot([], [], "o-", ms=2.5, lw=1, animated=True)[0] for _ in range(3)]
        self.curves = [self.ax1.plot([], [], animated=True)[0] for _ in range(3)]
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def update(self, seed=0):
        self.fig.canvas.restore_region(self.background)
        for path_line, curve, p in zip(self.paths, self.curves, paths(seed)):
            path_line.set_data(p[:, 0], p[:, 1])
            curve.set_data(np.arange(len(p)), np.abs(p[:, 0]) + 1e-3)
            self.ax0.draw_artist(path_line)
            self.ax1.draw_artist(curve)
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(self.fig.canvas.buffer_rgba())).save(buffer, "png")
        return buffer.getvalue()  # e.g. ipywidgets.Image(format="png").value = ...


def main():
    inc = IncrementalFigure()
    seeds = iter(range(10**6))
    full = cpu_ms(lambda: full_redraw(next(seeds)))
    incremental = cpu_ms(lambda: inc.update(next(seeds)))
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"full redraw + inline PNG (tight): {full:6.1f} ms CPU")
    print(f"incremental redraw + PNG:         {incremental:6.1f} ms CPU ({full / incremental:.0f}x less)")


if __name__ == "__main__":
    main()
