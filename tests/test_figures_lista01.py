"""nnlib/figures/lista01.py: the schedule figure draws what it is given; the widget is a panel
whose callback redraws, pixel for pixel, what a fresh figure updated once draws."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.figures import lista01  # noqa: E402
from nnlib.liveplot import differing_pixels  # noqa: E402

BUDGET, TARGET = 50, 0.02
EXAMPLE = {"alpha0": 0.1, "alpha_tau": 0.01, "tau": 50}


def fake_train(alpha0, alpha_tau, tau, seed):
    """Mean J − J* after each update: faster with a larger α₀, a floor set by α_τ; diverges above 0.25."""
    if alpha0 > 0.25:
        return np.concatenate([np.geomspace(1.0, 1e6, BUDGET), [np.inf]])
    t = np.arange(BUDGET + 1)
    return np.exp(-alpha0 * t * (1 + 0.01 * seed) * 200 / tau) + alpha_tau


def test_schedule_figure_draws_each_schedule_and_the_target():
    fig = lista01.schedule_figure({"exemplo": (EXAMPLE, fake_train(**EXAMPLE, seed=0))}, TARGET, BUDGET)
    assert type(fig) is Figure and len(fig.axes) == 2
    assert fig.axes[1].get_ylim() == lista01.GAP_RANGE and "0.02" in fig.axes[1].get_title()


def test_widget_is_a_panel_whose_callback_draws_what_figura_draws():
    box = lista01.interativo_cronograma(fake_train, EXAMPLE, TARGET, BUDGET, tau=(10, 50), seed=3)
    assert set(box.controles) == {"alpha0", "alpha_tau", "tau"}
    for move in [(0.05, 0.002, 20), (0.3, 0.01, 50), (0.19, 0.002, 40)]:
        png = box.atualizar(*move)
        assert png[:4] == b"\x89PNG" and box.live.image.value == png
        assert differing_pixels(png, box.figura(*move)) == 0
    assert "divergiu" in box.figura(0.3, 0.01, 50).axes[1].get_legend().get_texts()[-1].get_text()
