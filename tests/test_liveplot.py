"""nnlib.liveplot: a blitted redraw shows exactly what a full draw of the same figure shows."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlib.liveplot import LiveFigure, differing_pixels, figure_pixels, png_bytes
from nnlib.liveplot import png_pixels as pixels


def contour_figure():
    """A widget-like figure: contour + lines + title + legend on the left, a log curve right."""
    fig = Figure(figsize=(6, 3), dpi=60)
    ax0, ax1 = fig.subplots(1, 2)
    w1, w2 = np.meshgrid(np.linspace(-2, 2, 40), np.linspace(-1, 1, 40))
    ax0.contour(w1, w2, w1 ** 2 + 5 * w2 ** 2, levels=8, colors="lightgray")
    ax0.set(xlim=(-2, 2), ylim=(-1, 1))
    ax1.set(yscale="log", ylim=(1e-6, 1e2), xlim=(0, 30))
    # zorder 3: above the spines (2.5), where a blitted artist always ends up
    path = ax0.plot([], [], "o-", ms=3, label="caminho", zorder=3)[0]
    curve = ax1.plot([], [], zorder=3)[0]
    legend = ax0.legend(loc="upper right")
    return fig, (ax0, ax1), [path, curve, ax0.title, legend]


def move(artists, seed):
    path, curve, title, legend = artists
    p = np.cumsum(np.random.default_rng(seed).normal(size=(31, 2)) * 0.1, axis=0)
    path.set_data(p[:, 0], p[:, 1])
    curve.set_data(np.arange(31), np.abs(p[:, 0]) + 1e-3)
    title.set_text(f"semente {seed}")
    legend.get_texts()[0].set_text(f"caminho {seed}")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_redraw_equals_a_full_draw_after_several_updates(seed):
    fig, _, artists = contour_figure()
    live = LiveFigure(fig, dynamic=artists)
    for s in (seed + 100, seed + 200, seed):  # earlier frames must leave no trace
        move(artists, s)
        png = live.redraw()

    ref, _, ref_artists = contour_figure()
    move(ref_artists, seed)
    np.testing.assert_array_equal(pixels(png), figure_pixels(ref))


def test_redraw_changes_the_picture_when_the_data_change():
    fig, _, artists = contour_figure()
    live = LiveFigure(fig, dynamic=artists)
    move(artists, 0)
    first = live.redraw()
    move(artists, 1)
    assert not np.array_equal(pixels(first), pixels(live.redraw()))


def test_static_part_is_frozen_until_a_new_static_key():
    fig, (ax0, _), artists = contour_figure()
    live = LiveFigure(fig, dynamic=artists)
    move(artists, 0)
    before = pixels(live.redraw(static_key="a"))
    ax0.set_facecolor("black")  # a static change
    np.testing.assert_array_equal(pixels(live.redraw(static_key="a")), before)
    after = pixels(live.redraw(static_key="b"))
    assert not np.array_equal(after, before)

    ref, (ref_ax0, _), ref_artists = contour_figure()
    ref_ax0.set_facecolor("black")
    move(ref_artists, 0)
    np.testing.assert_array_equal(after, figure_pixels(ref))


def test_hidden_and_forgotten_artists_are_not_drawn():
    fig, _, artists = contour_figure()
    live = LiveFigure(fig, dynamic=artists)
    move(artists, 3)
    artists[3].set_visible(False)
    live.forget(artists[2])
    shown = pixels(live.redraw())

    ref, _, ref_artists = contour_figure()
    move(ref_artists, 3)
    ref_artists[3].set_visible(False)
    ref_artists[2].set_text("")
    np.testing.assert_array_equal(shown, figure_pixels(ref))


def test_widget_is_an_image_updated_by_every_redraw():
    fig, _, artists = contour_figure()
    live = LiveFigure(fig, dynamic=artists)
    image = live.widget()
    assert type(image).__name__ == "Image" and image.format == "png"
    assert live.widget() is image
    move(artists, 5)
    png = live.redraw()
    assert image.value == png and pixels(png).shape == (180, 360, 4)


def test_png_bytes_round_trip():
    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 11, 4), dtype=np.uint8)
    for level in (0, 1, 9):
        np.testing.assert_array_equal(pixels(png_bytes(rgba, level)), rgba)


def test_differing_pixels_counts_what_a_redraw_got_wrong():
    fig, _, artists = contour_figure()
    live = LiveFigure(fig, dynamic=artists)
    move(artists, 4)
    png = live.redraw()
    ref, _, ref_artists = contour_figure()
    move(ref_artists, 4)
    assert differing_pixels(png, ref) == 0
    move(ref_artists, 5)
    assert differing_pixels(png, ref) > 100
    small = Figure(figsize=(2, 2), dpi=60)
    assert differing_pixels(png, small) == -1


def test_a_legend_made_anew_by_the_update_replaces_the_old_one():
    fig, (ax0, _), artists = contour_figure()
    path = artists[0]
    live = LiveFigure(fig, dynamic=artists[:3])  # the legend is not listed: legends always redraw
    move(artists, 2)
    ax0.legend(handles=[path], labels=["primeira"], loc="lower left")
    live.redraw()
    ax0.legend(handles=[path], labels=["segunda"], loc="upper right")
    png = live.redraw()

    ref, (ref_ax0, _), ref_artists = contour_figure()
    move(ref_artists, 2)
    ref_ax0.legend(handles=[ref_artists[0]], labels=["segunda"], loc="upper right")
    assert differing_pixels(png, ref) == 0


def test_a_legend_added_as_an_artist_is_drawn_and_can_be_hidden():
    from matplotlib.legend import Legend

    def second_legend(fig_axes, artists):
        extra = Legend(fig_axes[1], [artists[1]], ["curva"], loc="lower left")
        fig_axes[1].add_artist(extra)
        return extra

    fig, axes, artists = contour_figure()
    extra = second_legend(axes, artists)
    live = LiveFigure(fig, dynamic=artists[:3])
    move(artists, 6)
    shown = live.redraw()
    extra.set_visible(False)
    hidden = live.redraw()

    ref, ref_axes, ref_artists = contour_figure()
    ref_extra = second_legend(ref_axes, ref_artists)
    move(ref_artists, 6)
    assert differing_pixels(shown, ref) == 0
    ref_extra.set_visible(False)
    assert differing_pixels(hidden, ref) == 0
