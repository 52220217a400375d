"""nnlib.figures._common: the one widget idiom (`panel`), the one skeleton of the figures with
one curve per label (`curves_figure`), and the helpers the callbacks share."""

from types import SimpleNamespace

import ipywidgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib.figures import _common
from nnlib.liveplot import LiveFigure, differing_pixels


def line_widget():
    """A LiveFigure with one line, a callback that draws y = a x and a figure that draws it anew."""
    def build():
        fig = Figure(figsize=(3, 2))
        ax = fig.subplots()
        ax.set(xlim=(0, 1), ylim=(-3, 3))
        return fig, ax.plot([], [], zorder=3)[0]

    fig, line = build()
    live = LiveFigure(fig, dynamic=[line])
    calls = []

    def update(a=1.0, b=0.0):
        calls.append((a, b))
        line.set_data([0, 1], [b, a + b])
        return live.redraw()

    def figure(a=1.0, b=0.0):
        fresh, fresh_line = build()
        fresh_line.set_data([0, 1], [b, a + b])
        return fresh

    return update, figure, live, calls


def test_panel_draws_once_at_creation_and_at_every_move():
    update, figure, live, calls = line_widget()
    controls = {"a": _common.slider("a", (-2.0, 2.0), 1.0), "b": _common.slider("b", (-1.0, 1.0), 0.0)}
    box = _common.panel(controls, update, live, figure)
    assert calls == [(1.0, 0.0)]                      # the first picture, with the initial values
    controls["a"].value = 0.5
    assert calls[-1] == (0.5, 0.0) and live.image.value == box.atualizar(0.5, 0.0)
    assert differing_pixels(box.atualizar(-1.5, 0.5), box.figura(-1.5, 0.5)) == 0
    assert (box.controles, box.live, box.figura) == (controls, live, figure)


def test_panel_lays_out_rows_and_columns_of_controls_then_the_image_and_the_output():
    update, figure, live, _ = line_widget()
    controls = {name: _common.slider(name, (-2.0, 2.0), 1.0 if name == "a" else 0.0) for name in "ab"}
    default = _common.panel(controls, update, live, figure)
    assert [type(c) for c in default.children] == [ipywidgets.HBox, ipywidgets.Image, ipywidgets.Output]
    assert list(default.children[0].children) == [controls["a"], controls["b"]]
    stacked = _common.panel(controls, update, live, figure, layout=[["b"], ["a"]])
    assert [row.children[0] for row in stacked.children[:2]] == [controls["b"], controls["a"]]
    column = _common.panel(controls, update, live, figure, layout=[[["a", "b"]]])
    assert list(column.children[0].children[0].children) == [controls["a"], controls["b"]]


@pytest.mark.parametrize("layout", [[["a"]], [["a", "b", "b"]], [["a", "c"], ["b"]]])
def test_panel_rejects_a_layout_that_misses_or_repeats_a_control(layout):
    update, figure, live, _ = line_widget()
    controls = {name: _common.slider(name, (-2.0, 2.0), 1.0 if name == "a" else 0.0) for name in "ab"}
    with pytest.raises(ValueError, match="each control once"):
        _common.panel(controls, update, live, figure, layout=layout)


def test_curves_figure_draws_one_labelled_curve_per_series_in_each_panel():
    series = {"um": SimpleNamespace(J=[3.0, 2.0, 1.0], t=[0, 5, 10]), "dois": SimpleNamespace(J=[4.0, 1.0], t=[0, 1])}
    fig = _common.curves_figure(series, [
        _common.Panel(lambda h: h.J, "o-", axes=dict(yscale="log", title="J"), legend={}),
        _common.Panel(lambda h: (h.t, h.J), line=lambda name: dict(color="C3" if name == "um" else "C4"),
                      label=lambda name, h: f"{name}: {len(h.J)}", axes=dict(xlabel="t"))], figsize=(6, 3))
    left, right = fig.axes
    assert [ln.get_label() for ln in left.lines] == ["um", "dois"] and left.get_legend() is not None
    np.testing.assert_array_equal(left.lines[0].get_xdata(), [0, 1, 2])   # y alone: against 0, 1, ...
    assert left.get_yscale() == "log" and left.get_title() == "J"
    assert [ln.get_label() for ln in right.lines] == ["um: 3", "dois: 2"] and right.get_legend() is None
    np.testing.assert_array_equal(right.lines[0].get_xdata(), [0, 5, 10])
    assert right.lines[0].get_color() == "C3" and right.get_xlabel() == "t"


def test_step_up_picks_the_smallest_step_with_room():
    assert _common.step_up(5.0, 1.5, (10.0, 1e4)) == 10.0
    assert _common.step_up(8.0, 1.5, (10.0, 1e4)) == 1e4
    assert _common.step_up(1e9, 1.5, (10.0, 1e4)) == 1e4   # the last one at most


def test_leading_finite_counts_leading_finite_rows():
    assert _common.leading_finite(np.array([1.0, 2.0, np.inf, 3.0])) == 2
    assert _common.leading_finite(np.ones((4, 2)), np.array([1.0, 1.0, 1.0, np.nan])) == 3
    assert _common.leading_finite(np.ones(3)) == 3


def test_slider_kinds():
    assert isinstance(_common.slider("m", [1, 2, 5], 2), ipywidgets.SelectionSlider)
    assert isinstance(_common.slider("τ", (20, 800), 400, step=20), ipywidgets.IntSlider)
    s = _common.slider("α", (0.01, 1.0), 0.1)
    assert isinstance(s, ipywidgets.FloatSlider) and (s.min, s.max, s.value) == (0.01, 1.0, 0.1)
