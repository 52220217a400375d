"""Lista 2 (inicialização e treinamento): widget callback, model solutions, claims, test cells.

One kernel executes the source notebook (module-scoped fixture). The tests then call its
functions and run its autograded test cells (visible + hidden part, as graded) against wrong
answers (mutants): each classic mistake must make the test cell raise AssertionError, and
correct answers written another way must still pass.
"""

import os
import sys

import nbformat
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from notebook_session import NotebookSession, grade_cell_source  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NB_ID = "lista02_inicializacao_treinamento"
SOURCE = os.path.join(ROOT, "solutions", NB_ID, NB_ID + ".ipynb")

INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal"]
GRADED_CELLS = ["teste_glorot", "teste_he", "teste_lecun", "teste_zero_bias", "teste_minibatch_indices",
                "teste_train_loop_batch", "teste_train_loop_epocas", "teste_layer_statistics",
                "teste_focal_loss", "teste_focal_grad", "teste_minority_recall"]


def cell_source(grade_id):
    return grade_cell_source(SOURCE, grade_id)


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=300) as session:
        session.run(MUTANTS)
        yield session


def run_code(nb, src):
    """Exec ``src`` in the kernel; None if it passed, else 'ExceptionName: message'."""
    return nb.verdict(src)


def verdict_with(nb, grade_id, visible_only=False, **swap):
    """Run a test cell with some of the notebook's functions replaced (name=mutant name)."""
    src = cell_source(grade_id)
    if visible_only:
        src = src.split("### BEGIN HIDDEN TESTS")[0]
    names = list(swap)
    nb.run(f"_saved_answers = {{k: globals()[k] for k in {names!r}}}\n"
           + "".join(f"globals()[{k!r}] = {v}\n" for k, v in swap.items()))
    try:
        return run_code(nb, src)
    finally:
        nb.run("globals().update(_saved_answers)")


# ------------------------------------------------------------------ widget callback
def test_widget_callback_redraws(nb):
    nb.run("fig_a = plot_student_layer_stats(10, 'tanh', 'glorot_uniform', 1.0)\n"
           "fig_b = plot_student_layer_stats(6, 'relu', 'he_normal', 2.0)\n"
           "fig_c = plot_student_layer_stats(10, 'relu', 'glorot_uniform', 1.0)")
    assert nb.eval("len(fig_a.axes)") == 3
    assert nb.eval("fig_a._suptitle.get_text()") == "tanh, glorot_uniform × 1, 10 camadas"
    assert nb.eval("fig_b._suptitle.get_text()") == "relu, he_normal × 2, 6 camadas"
    a_a = nb.eval("fig_a.axes[0].get_lines()[0].get_ydata().tolist()")
    a_b = nb.eval("fig_b.axes[0].get_lines()[0].get_ydata().tolist()")
    a_c = nb.eval("fig_c.axes[0].get_lines()[0].get_ydata().tolist()")
    assert len(a_a) == 10 and len(a_b) == 6
    # the plotted curves are the student's layer_statistics on the widget's data
    ref = nb.eval("[v.tolist() for v in layer_statistics(X_camadas, Y_camadas, he_normal, 'relu', 6, 2.0, "
                  "np.random.default_rng(0))]")
    assert a_b == ref[0]
    assert nb.eval("fig_b.axes[1].get_lines()[0].get_ydata().tolist()") == ref[1]
    # ReLU with He × 2 explodes (std doubles per layer), ReLU with Glorot shrinks
    assert a_b[-1] > 10 * a_b[0]
    assert a_c[-1] < 0.1 * a_c[0]
    # the weight histogram follows the table: uniform -> flat density 1/(2r) up to r = sqrt(6/200)
    pdf_a = nb.eval("fig_a.axes[2].get_lines()[0].get_ydata().tolist()")
    assert abs(max(pdf_a) - 1 / (2 * (6 / 200) ** 0.5)) < 1e-9
    legend_a = nb.eval("[t.get_text() for t in fig_a.axes[2].get_legend().get_texts()]")
    legend_b = nb.eval("[t.get_text() for t in fig_b.axes[2].get_legend().get_texts()]")
    assert any(t.startswith("U(−r, r)") for t in legend_a) and "seus pesos" in legend_a
    assert any(t.startswith("N(0, σ²), σ = 0.283") for t in legend_b)   # 2 * sqrt(2/100)


def test_widget_callback_before_solving(nb):
    """With the initializers still blank the widget draws a message instead of failing."""
    nb.run("def _blank(fan_in, fan_out, rng):\n    raise NotImplementedError()\n"
           "_keep = glorot_uniform\nglorot_uniform = _blank\n"
           "try:\n    fig_blank = plot_student_layer_stats(10, 'tanh', 'glorot_uniform', 1.0)\n"
           "finally:\n    glorot_uniform = _keep")
    assert "Implemente" in nb.eval("fig_blank._suptitle.get_text()")
    nb.run("fig_err = plot_student_layer_stats(10, 'tanh', 'glorot_normal', 1.0)")  # still fine after
    assert nb.eval("len(fig_err.axes[0].get_lines())") == 1


def _with_blank(nb, code, *names):
    """Run ``code`` with the student's functions ``names`` raising NotImplementedError (as released)."""
    nb.run("def _blank(*args, **kwargs):\n    raise NotImplementedError()\n"
           f"_kept = {{k: globals()[k] for k in {list(names)!r}}}\n"
           + "".join(f"globals()[{k!r}] = _blank\n" for k in names))
    try:
        nb.run(code)
    finally:
        nb.run("globals().update(_kept)")


# ------------------------------------------------------------------ live widget
PIXELS = ("import io as _io\nimport numpy as _np\n"
          "from nnlib.liveplot import png_pixels as _png_pixels, figure_pixels as _full_draw, "
          "differing_pixels as _differing_pixels\n")
PNG_MAGIC = "b'\\x89PNG\\r\\n\\x1a\\n'"
DEFAULT = (10, "tanh", "glorot_uniform", 1.0)
# earlier moves that visit several static keys (log windows, weight ranges, the message), then the target
MOVES = [(30, "linear", "he_normal", 10.0), (2, "relu", "he_uniform", 1.0), (30, "relu", "glorot_normal", 0.1),
         (25, "logistic", "lecun_uniform", 1.0), (7, "selu", "lecun_normal", 2.0), DEFAULT]


def test_live_callback_returns_png_that_follows_every_control(nb):
    nb.run(PIXELS)
    moves = [DEFAULT, (11, "tanh", "glorot_uniform", 1.0), (11, "relu", "glorot_uniform", 1.0),
             (11, "relu", "he_normal", 1.0), (11, "relu", "he_normal", 1.2)]
    nb.run(f"_pngs = [show_student_layer_stats(*v) for v in {moves!r}]")
    assert nb.eval(f"all(p[:8] == {PNG_MAGIC} for p in _pngs)")
    # each control (depth, activation, initializer, scale) changes the picture
    assert nb.eval("[bool((_png_pixels(a) != _png_pixels(b)).any()) for a, b in zip(_pngs, _pngs[1:])]") == [True] * 4
    assert nb.eval("plt.get_fignums()") == []   # no pyplot figure left for the inline backend


def test_widget_controls_redraw_the_image(nb):
    # the notebook's widget (built because NBGRADER_EXECUTION is unset here): a control change
    # calls the callback, which sends the PNG of the new values to the image
    nb.run("_sent = []\n"
           "live.image.observe(lambda change: _sent.append(change['new']), 'value')\n"
           "try:\n"
           "    controles['depth'].value = 12\n"
           "    controles['initializer'].value = 'he_normal'\n"
           "finally:\n"
           "    live.image.unobserve_all('value')\n"
           "_sent_ok = [png == show_student_layer_stats(12, 'tanh', name, 1.0)"
           " for png, name in zip(_sent, ('glorot_uniform', 'he_normal'))]\n"
           "controles['depth'].value, controles['initializer'].value = 10, 'glorot_uniform'")
    assert nb.eval("_sent_ok") == [True, True]


@pytest.mark.parametrize("target", [DEFAULT, (2, "relu", "he_uniform", 1.0), (30, "linear", "he_normal", 10.0),
                                    (30, "relu", "glorot_normal", 0.1), (17, "selu", "he_uniform", 2.24),
                                    (12, "tanh", "lecun_normal", 3.0)])
def test_live_redraw_equals_a_full_draw_of_plot_student_layer_stats(nb, target):
    """The in-place redraw, after other moves, shows pixel for pixel what plot_student_layer_stats draws."""
    nb.run(PIXELS)
    for move in MOVES:
        nb.run(f"show_student_layer_stats{move!r}")
    _with_blank(nb, f"show_student_layer_stats{DEFAULT!r}", "glorot_uniform")   # the message, in between
    assert nb.eval(f"_differing_pixels(show_student_layer_stats{target!r}, "
                   f"plot_student_layer_stats{target!r})") == 0


def test_live_widget_before_solving_shows_the_message_then_the_statistics(nb):
    """Released notebook: initializers and layer_statistics still blank. The callback returns a PNG
    with the message (the same as a full draw), raises nothing, and shows the statistics once the
    functions exist; a bug in the student's code gives the error message instead."""
    nb.run(PIXELS)
    _with_blank(nb, f"_png_blank = show_student_layer_stats{DEFAULT!r}\n"
                    f"_blank_diff = _differing_pixels(_png_blank, plot_student_layer_stats{DEFAULT!r})\n"
                    "_blank_title = live_artists['title'].get_text()",
                *INITIALIZERS, "layer_statistics")
    assert nb.eval(f"_png_blank[:8] == {PNG_MAGIC}") is True
    assert nb.eval("_blank_diff") == 0 and "Implemente" in nb.eval("_blank_title")
    # only the panels' text: nothing else is drawn
    assert nb.eval("[ax.get_visible() for ax in live_fig.axes]") == [False, False, False]
    # solved: the same call now shows the statistics, pixel for pixel as a full draw
    assert nb.eval(f"_differing_pixels(show_student_layer_stats{DEFAULT!r}, plot_student_layer_stats{DEFAULT!r})") == 0
    assert nb.eval("live_artists['title'].get_text()") == "tanh, glorot_uniform × 1, 10 camadas"
    # a bug (wrong shape) gives the error message, not an exception
    nb.run("_keep_ls = layer_statistics\n"
           "layer_statistics = lambda *a: (np.ones(3), np.ones(3))\n"
           "try:\n"
           f"    _png_bug = show_student_layer_stats{DEFAULT!r}\n"
           "    _bug_title = live_artists['title'].get_text()\n"
           "finally:\n"
           "    layer_statistics = _keep_ls")
    assert nb.eval(f"_png_bug[:8] == {PNG_MAGIC}") is True
    assert nb.eval("_bug_title").startswith("erro nas suas funções: ValueError")


def test_live_memory_is_bounded_and_the_picture_stays_right(nb):
    """At most MAX_BACKGROUNDS static images are kept; starting over still draws the right picture."""
    nb.run(PIXELS + "_keep_max = MAX_BACKGROUNDS\nMAX_BACKGROUNDS = 2\nlive.forget_static()\nseen_keys.clear()")
    try:
        for move in MOVES:
            nb.run(f"show_student_layer_stats{move!r}")
            assert nb.eval("len(seen_keys)") <= 2
        target = (30, "relu", "glorot_normal", 0.1)
        assert nb.eval(f"_differing_pixels(show_student_layer_stats{target!r}, "
                       f"plot_student_layer_stats{target!r})") == 0
    finally:
        nb.run("MAX_BACKGROUNDS = _keep_max")


def test_fixed_axes_hold_every_curve_and_histogram(nb):
    """Blitting cannot rescale: the fixed axes must hold what is drawn, in the extreme cases too."""
    cases = [DEFAULT, (30, "linear", "he_normal", 10.0), (30, "relu", "glorot_uniform", 0.1),
             (30, "logistic", "lecun_uniform", 0.1), (30, "selu", "he_normal", 10.0), (2, "tanh", "he_uniform", 3.0)]
    rows = nb.eval(
        "[(lambda f: [[f.axes[i].get_ylim(), f.axes[i].get_xlim(), np.asarray(f.axes[i].lines[0].get_ydata(), float)"
        ".tolist()] for i in (0, 1)] + [[f.axes[2].get_xlim(), f.axes[2].get_ylim(), f.axes[2].patches[0].get_data()"
        ".edges[[0, -1]].tolist(), float(f.axes[2].patches[0].get_data().values.max()), "
        "float(f.axes[2].lines[0].get_ydata().max()), "
        "float(np.abs(student_initializer(v[2])(100, 100, np.random.default_rng(0))).max() * v[3]), "
        "float(np.sum(f.axes[2].patches[0].get_data().values * np.diff(f.axes[2].patches[0].get_data().edges)))]])"
        "(plot_student_layer_stats(*v)) for v in " + repr(cases) + "]")
    for case, (a, g, w) in zip(cases, rows):
        for (bottom, top), (left, right), line in (a, g):
            assert (left, right) == (0, 31)                      # the layer axis holds L = 30
            assert len(line) == case[0]
            assert all(bottom < v < top for v in line), (case, bottom, top, min(line), max(line))
        (left, right), (bottom, top), (e0, e1), hist_max, pdf_max, w_max, area = w
        assert left <= e0 and e1 <= right and w_max <= e1          # every weight inside the bins
        assert area == pytest.approx(1.0)                          # a density: all the weights counted
        assert bottom == 0 and max(hist_max, pdf_max) < top
    # the common case keeps the default windows (1e-3 .. 1e3)
    assert rows[0][0][0] == pytest.approx((1e-3, 1e3)) and rows[0][1][0] == pytest.approx((1e-3, 1e3))



# ------------------------------------------------------------------ model solutions vs nnlib
def test_initializers_match_nnlib(nb):
    for name in ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal"):
        d = nb.eval(f"float(abs({name}(40, 30, np.random.default_rng(3)) - "
                    f"__import__('nnlib.init').init.{name}(40, 30, np.random.default_rng(3))).max())")
        assert d < 1e-15, (name, d)   # r = sqrt(6/(m+n)) vs nnlib's sqrt(3) * sigma: last-bit rounding


def test_train_loop_matches_nnlib_train(nb):
    """Same rng -> same mini-batches as nnlib.training.train with SGD: same J history."""
    nb.run("from nnlib import training as _tr, optim as _op\n"
           "_X, _Y = np.random.default_rng(0).normal(size=(37, 3)), np.random.default_rng(1).normal(size=(37, 2))\n"
           "_n1 = MLP([3, 6, 2], 'tanh', rng=np.random.default_rng(2)); _n2 = _n1.copy()\n"
           "_h1 = train_loop(_n1, _X, _Y, 'mse', 0.1, 4, 8, np.random.default_rng(5))\n"
           "_h2 = _tr.train(_n2, _X, _Y, 'mse', _op.SGD(alpha=0.1), 4, batch_size=8, rng=np.random.default_rng(5))")
    diff = nb.eval("[float(abs(np.array(_h1) - np.array(_h2.J)).max()), float(abs(_n1.w - _n2.w).max())]")
    assert diff[0] < 1e-12 and diff[1] < 1e-12, diff


def test_focal_and_layer_statistics_match_nnlib(nb):
    d = nb.eval("[float(abs(focal_loss(_z, _y, g, a) - losses.focal_loss(_z, _y, g, a))) + "
                "float(abs(focal_loss_grad(_z, _y, g, a) - losses.focal_loss_grad(_z, _y, g, a)).max()) "
                "for _z, _y in [(np.linspace(-8, 8, 30).reshape(-1, 1), np.arange(30) % 3 == 0)] "
                "for g, a in [(2.0, 0.25), (0.0, 0.5), (1.5, 0.9)]]")
    assert max(d) < 1e-14, d
    # layer_statistics: the z/a of nnlib's network, read independently
    nb.run("_net = MLP([100] * 6, 'tanh', output='tanh', init='he_normal', rng=np.random.default_rng(0))\n"
           "_net.loss_and_gradient(X_camadas, Y_camadas, 'mse')\n"
           "_a, _g = layer_statistics(X_camadas, Y_camadas, he_normal, 'tanh', 5, 1.0, np.random.default_rng(0))")
    diff = nb.eval("[float(abs(_a - np.array([l.a.std() for l in _net.layers])).max()), "
                   "float(abs(_g - np.array([np.linalg.norm(_net.grads[2 * i]) for i in range(5)])).max())]")
    assert diff[0] < 1e-12 and diff[1] < 1e-12, diff


def test_focal_gradient_by_finite_differences_through_the_network(nb):
    """The student's Loss (focal_student_loss) inside nnlib's network passes a gradient check."""
    nb.run("_net = MLP([2, 5, 1], 'tanh', rng=np.random.default_rng(4))\n"
           "_loss = focal_student_loss(2.0, 0.75)\n"
           "_Xg, _yg = Xf_treino[:40], yf_treino[:40]\n"
           "_J, _g = _net.loss_and_gradient(_Xg, _yg, _loss); _g = _g.copy()\n"
           "_w0 = _net.w.copy(); _fd = np.zeros_like(_w0)\n"
           "for _i in range(len(_w0)):\n"
           "    _net.w[_i] = _w0[_i] + 1e-6; _p = _net.loss(_Xg, _yg, _loss)\n"
           "    _net.w[_i] = _w0[_i] - 1e-6; _m = _net.loss(_Xg, _yg, _loss)\n"
           "    _net.w[_i] = _w0[_i]; _fd[_i] = (_p - _m) / 2e-6")
    rel = nb.eval("float(abs(_g - _fd).max() / abs(_fd).max())")
    assert rel < 1e-6, rel


# ------------------------------------------------------------------ the notebook's claims
def test_layer_experiment_claims(nb):
    s = nb.eval("{f'{a}|{n}|{e}': [v.tolist() for v in st] for (a, n, e), st in estatisticas.items()}")
    a_std = {k: v[0] for k, v in s.items()}
    g = {k: v[1] for k, v in s.items()}
    # ReLU: He keeps the std of a, Glorot/LeCun make it shrink by ~0.7 per layer
    assert 0.5 < a_std["relu|he_normal|1.0"][-1] / a_std["relu|he_normal|1.0"][0] < 2.0
    for name in ("glorot_uniform", "glorot_normal", "lecun_uniform", "lecun_normal"):
        ratio = a_std[f"relu|{name}|1.0"][-1] / a_std[f"relu|{name}|1.0"][0]
        assert 0.6 ** 9 < ratio < 0.8 ** 9 * 1.5, (name, ratio)
    # square layers: Glorot and LeCun have the same variance, hence the same draws
    assert a_std["tanh|glorot_uniform|1.0"] == a_std["tanh|lecun_uniform|1.0"]
    # He x 2 on ReLU: about x2 per layer; x 0.5: about x0.5 per layer
    assert 1.8 ** 9 < a_std["relu|he_normal|2.0"][-1] / a_std["relu|he_normal|2.0"][0] < 2.2 ** 9
    assert 0.45 ** 9 < a_std["relu|he_normal|0.5"][-1] / a_std["relu|he_normal|0.5"][0] < 0.55 ** 9
    # tanh x 3: saturation, gradient grows towards the input (the analysis quotes ~16x)
    assert a_std["tanh|glorot_normal|3.0"][-1] > 0.8
    assert 12 < g["tanh|glorot_normal|3.0"][0] / g["tanh|glorot_normal|3.0"][-1] < 20
    assert max(g["relu|he_normal|2.0"]) > 1e5 and max(g["relu|glorot_uniform|1.0"]) < 1e-2


def test_focal_experiment_claims(nb):
    r = nb.eval("{k: [float(np.mean(v[0])), float(np.mean(v[1]))] for k, v in resultados_focal.items()}")
    ce, f25, f75 = r["entropia cruzada"], r["focal γ = 2, α_f = 0,25"], r["focal γ = 2, α_f = 0,75"]
    assert f75[0] > ce[0] + 0.1 > f25[0] + 0.2          # recall: focal .75 > CE > focal .25
    assert f75[1] < ce[1] < f25[1]                       # precision: the other way round
    # the model answer's numbers
    assert [round(v, 3) for v in (f75[0], ce[0], f25[0], f75[1], ce[1], f25[1])] == \
        [0.751, 0.587, 0.323, 0.575, 0.782, 0.891]
    assert nb.eval("int(yf_val.sum())") == 67


def test_demo_claim_more_updates_per_epoch_go_further(nb):
    """The demo's point: with the same α and 30 epochs, online < mini-batch < batch in final J."""
    J = nb.eval("[train_loop(MLP([2, 10, 1], 'tanh', init=glorot_uniform, rng=np.random.default_rng(1)), "
                "X_luas, y_luas, 'binary_cross_entropy', 0.1, 30, m, np.random.default_rng(2))[-1] for m in (1, 10, 200)]")
    assert J[0] < 0.5 * J[1] and J[1] < 0.8 * J[2], J


def test_points_add_up_to_100():
    nbk = nbformat.read(SOURCE, as_version=4)
    meta = [c.metadata["nbgrader"] for c in nbk.cells if c.metadata.get("nbgrader", {}).get("grade")]
    auto = sum(m["points"] for m in meta if not m.get("solution"))
    manual = sum(m["points"] for m in meta if m.get("solution"))
    assert (auto, manual) == (70, 30)
    assert sorted(m["grade_id"] for m in meta if not m.get("solution")) == sorted(GRADED_CELLS)


# ------------------------------------------------------------------ test cells
@pytest.mark.parametrize("grade_id", GRADED_CELLS)
def test_source_test_cells_pass(nb, grade_id):
    assert run_code(nb, cell_source(grade_id)) is None


MUTANTS = r'''
import numpy as _np
import nnlib.init as _init
import nnlib.losses as _losses
import nnlib.optim as _optim
import nnlib.training as _training


def _u(r, fan_in, fan_out, rng):
    return rng.uniform(-r, r, size=(fan_in, fan_out))


def _n(s, fan_in, fan_out, rng):
    return rng.normal(0.0, s, size=(fan_in, fan_out))


# ---------------- initializers
def m_glorot_normal_lecun(fi, fo, rng):         # sqrt(1/n) labelled as Xavier
    return _n(_np.sqrt(1.0 / fi), fi, fo, rng)
def m_glorot_normal_fan_out(fi, fo, rng):       # sqrt(1/n_out)
    return _n(_np.sqrt(1.0 / fo), fi, fo, rng)
def m_glorot_normal_var_as_sigma(fi, fo, rng):  # rng.normal(0, σ²)
    return _n(2.0 / (fi + fo), fi, fo, rng)
def m_glorot_normal_uniform(fi, fo, rng):       # a uniform with the right σ
    return _u(_np.sqrt(6.0 / (fi + fo)), fi, fo, rng)
def m_glorot_uniform_sigma_as_r(fi, fo, rng):   # r = σ
    return _u(_np.sqrt(2.0 / (fi + fo)), fi, fo, rng)
def m_glorot_uniform_transposed(fi, fo, rng):   # PyTorch's (out, in) shape
    return _u(_np.sqrt(6.0 / (fi + fo)), fo, fi, rng)
def m_glorot_uniform_global(fi, fo, rng):       # ignores rng
    r = _np.sqrt(6.0 / (fi + fo))
    return _np.random.uniform(-r, r, size=(fi, fo))
def m_glorot_uniform_float32(fi, fo, rng):
    return _u(_np.sqrt(6.0 / (fi + fo)), fi, fo, rng).astype(_np.float32)
def m_glorot_uniform_positive(fi, fo, rng):     # U(0, r)
    return rng.uniform(0.0, _np.sqrt(6.0 / (fi + fo)), size=(fi, fo))
def m_glorot_uniform_delegate(fi, fo, rng):
    return _init.glorot_uniform(fi, fo, rng)
def m_glorot_normal_truncated(fi, fo, rng):     # CORRECT σ, Keras-style truncated at 2σ and rescaled
    s = _np.sqrt(2.0 / (fi + fo)) / 0.87962566103423978
    w = rng.normal(0.0, s, size=(fi, fo))
    bad = _np.abs(w) > 2 * s
    while bad.any():
        w[bad] = rng.normal(0.0, s, size=int(bad.sum()))
        bad = _np.abs(w) > 2 * s
    return w
def ok_glorot_standard_normal(fi, fo, rng):     # CORRECT: σ times a standard normal
    return _np.sqrt(2.0 / (fi + fo)) * rng.standard_normal((fi, fo))

def m_he_uniform_swapped(fi, fo, rng):
    return _u(_np.sqrt(6.0 / fo), fi, fo, rng)
def m_he_normal_swapped(fi, fo, rng):
    return _n(_np.sqrt(2.0 / fo), fi, fo, rng)
def m_he_normal_glorot(fi, fo, rng):
    return _n(_np.sqrt(2.0 / (fi + fo)), fi, fo, rng)
def m_he_normal_no_factor_2(fi, fo, rng):
    return _n(_np.sqrt(1.0 / fi), fi, fo, rng)
def m_he_uniform_sigma_as_r(fi, fo, rng):
    return _u(_np.sqrt(2.0 / fi), fi, fo, rng)
def m_he_uniform_delegate(fi, fo, rng):
    return _init.he_uniform(fi, fo, rng)

def m_lecun_uniform_swapped(fi, fo, rng):
    return _u(_np.sqrt(3.0 / fo), fi, fo, rng)
def m_lecun_normal_swapped(fi, fo, rng):
    return _n(_np.sqrt(1.0 / fo), fi, fo, rng)
def m_lecun_uniform_he(fi, fo, rng):
    return _u(_np.sqrt(6.0 / fi), fi, fo, rng)
def m_lecun_normal_glorot(fi, fo, rng):
    return _n(_np.sqrt(2.0 / (fi + fo)), fi, fo, rng)
def m_lecun_normal_delegate(fi, fo, rng):
    return _init.lecun_normal(fi, fo, rng)

_SHARED_BIAS = _np.zeros(400)
def m_zero_bias_shared(fo):                     # zeros, but always the same memory
    _SHARED_BIAS[:] = 0.0
    return _SHARED_BIAS[:fo]
def m_zero_bias_column(fo):
    return _np.zeros((fo, 1))
def m_zero_bias_int(fo):
    return _np.zeros(fo, dtype=_np.int64)
def m_zero_bias_delegate(fo):
    return _init.zero_bias(fo)


# ---------------- mini-batches
def _check_m(N, m):
    if not (isinstance(m, int) and 1 <= m <= N):
        raise ValueError(f"m deve estar entre 1 e {N}, recebi {m}")

def m_mb_drop_last(N, m, rng):                  # the last, smaller mini-batch is lost
    _check_m(N, m)
    o = rng.permutation(N)
    return [o[s:s + m] for s in range(0, N - m + 1, m)]
def m_mb_replacement(N, m, rng):                # sampling WITH replacement
    _check_m(N, m)
    o = rng.integers(0, N, size=N)
    return [o[s:s + m] for s in range(0, N, m)]
def m_mb_no_shuffle(N, m, rng):
    _check_m(N, m)
    o = _np.arange(N)
    return [o[s:s + m] for s in range(0, N, m)]
def m_mb_same_order(N, m, rng):                 # a new generator with a fixed seed every epoch
    _check_m(N, m)
    o = _np.random.default_rng(0).permutation(N)
    return [o[s:s + m] for s in range(0, N, m)]
def m_mb_global(N, m, rng):                     # global numpy RNG, not rng
    _check_m(N, m)
    o = _np.random.permutation(N)
    return [o[s:s + m] for s in range(0, N, m)]
def m_mb_roll(N, m, rng):                       # random rotation of 0..N-1: not a random order
    _check_m(N, m)
    o = _np.roll(_np.arange(N), int(rng.integers(N)))
    return [o[s:s + m] for s in range(0, N, m)]
def m_mb_no_check(N, m, rng):                   # no ValueError for a bad m
    o = rng.permutation(N)
    return [o[s:s + m] for s in range(0, N, max(m, 1))]
def m_mb_lists(N, m, rng):
    _check_m(N, m)
    o = rng.permutation(N).tolist()
    return [o[s:s + m] for s in range(0, N, m)]
def m_mb_delegate(N, m, rng):
    return list(_training.minibatches(N, m, rng))
def ok_mb_generator(N, m, rng):                 # CORRECT: a generator, rng.shuffle
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= N:
        raise ValueError(f"tamanho de mini-batch inválido: {m}")
    o = _np.arange(N)
    rng.shuffle(o)
    for s in range(0, N, m):
        yield o[s:s + m]


# ---------------- training loop
def m_tl_no_epoch0(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):   # history without J(w(0))
    hist = []
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            J, g = net.loss_and_gradient(X[idx], Y[idx], loss)
            net.w -= alpha * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_batch_J(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):     # J of the last mini-batch, not of the set
    hist = [net.loss(X, Y, loss)]
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            J, g = net.loss_and_gradient(X[idx], Y[idx], loss)
            net.w -= alpha * g
        hist.append(J)
    return hist
def m_tl_rebind(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):      # net.w = net.w - α g
    hist = [net.loss(X, Y, loss)]
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            J, g = net.loss_and_gradient(X[idx], Y[idx], loss)
            net.w = net.w - alpha * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_separate_shuffle(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):  # X and Y shuffled apart
    hist = [net.loss(X, Y, loss)]
    for _ in range(epochs):
        for ix, iy in zip((batch_sampler or minibatch_indices)(X.shape[0], m, rng), (batch_sampler or minibatch_indices)(X.shape[0], m, rng)):
            J, g = net.loss_and_gradient(X[ix], Y[iy], loss)
            net.w -= alpha * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_full_batch(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):  # ignores m: always batch
    hist = [net.loss(X, Y, loss)]
    for _ in range(epochs):
        J, g = net.loss_and_gradient(X, Y, loss)
        net.w -= alpha * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_drop_last(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):   # own slicing, drops the last batch
    hist = [net.loss(X, Y, loss)]
    N = X.shape[0]
    if not 1 <= m <= N:
        raise ValueError(f"m = {m}")
    for _ in range(epochs):
        o = rng.permutation(N)
        for s in range(0, N - m + 1, m):
            J, g = net.loss_and_gradient(X[o[s:s + m]], Y[o[s:s + m]], loss)
            net.w -= alpha * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_no_shuffle(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):  # the same order every epoch
    hist = [net.loss(X, Y, loss)]
    N = X.shape[0]
    if not 1 <= m <= N:
        raise ValueError(f"m = {m}")
    for _ in range(epochs):
        for s in range(0, N, m):
            J, g = net.loss_and_gradient(X[s:s + m], Y[s:s + m], loss)
            net.w -= alpha * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_sum_gradient(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):  # w <- w - α m g (sum, not mean)
    hist = [net.loss(X, Y, loss)]
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            J, g = net.loss_and_gradient(X[idx], Y[idx], loss)
            net.w -= alpha * len(idx) * g
        hist.append(net.loss(X, Y, loss))
    return hist
def m_tl_delegate(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):
    return _training.train(net, X, Y, loss, _optim.SGD(alpha=alpha), epochs, batch_size=m, rng=rng).J
def m_tl_J_with_gradient(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):  # J(w(k)) via loss_and_gradient
    hist = [net.loss_and_gradient(X, Y, loss)[0]]
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            J, g = net.loss_and_gradient(X[idx], Y[idx], loss)
            net.w -= alpha * g
        hist.append(net.loss_and_gradient(X, Y, loss)[0])
    return hist
def ok_tl_per_layer(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):  # CORRECT: updates net.params in place
    hist = [net.loss(X, Y, loss)]
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            net.loss_and_gradient(X[idx], Y[idx], loss)
            for p, gp in zip(net.params, net.grads):
                p -= alpha * gp
        hist.append(net.loss(X, Y, loss))
    return hist

def ok_tl_keywords(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):   # CORRECT: keyword arguments, np.float64 history
    hist = [net.loss(X=X, Y=Y, loss=loss)]
    for _ in range(epochs):
        for idx in (batch_sampler or minibatch_indices)(X.shape[0], m, rng):
            J, g = net.loss_and_gradient(X=X[idx], Y=Y[idx], loss=loss)
            net.w[:] = net.w - alpha * g
        hist.append(_np.float64(net.loss(X, Y, loss)))
    return hist


# ---------------- layer statistics
def _ls(X, Y, init_fn, activation, depth, scale, rng, out=None, stat="a", grad=0, ddof=0, power=1.0):
    n = X.shape[1]
    net = MLP([n] * (depth + 1), activation=activation, output=out or activation,
              init=lambda fi, fo, r: scale ** power * init_fn(fi, fo, r), rng=rng)
    with _np.errstate(all="ignore"):
        net.loss_and_gradient(X, Y, "mse")
    a = _np.array([getattr(l, stat).std(ddof=ddof) for l in net.layers])
    g = _np.array([_np.sqrt(_np.sum(net.grads[2 * l + grad] ** 2)) for l in range(depth)])
    return a, g

def m_ls_ddof1(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, f, act, depth, scale, rng, ddof=1)
def m_ls_bias_gradient(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, f, act, depth, scale, rng, grad=1)
def m_ls_scale_squared(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, f, act, depth, scale, rng, power=2.0)
def m_ls_scale_on_variance(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, f, act, depth, scale, rng, power=0.5)
def m_ls_linear_output(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, f, act, depth, scale, rng, out="linear")
def m_ls_z_std(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, f, act, depth, scale, rng, stat="z")
def m_ls_ignores_init_fn(X, Y, f, act, depth, scale, rng):
    return _ls(X, Y, _init.glorot_uniform, act, depth, scale, rng)
def m_ls_lists(X, Y, f, act, depth, scale, rng):
    a, g = _ls(X, Y, f, act, depth, scale, rng)
    return a.tolist(), g.tolist()


# ---------------- focal loss
def _parts(z, y):
    z = _np.asarray(z, dtype=float)
    d = _np.asarray(y, dtype=float).reshape(z.shape)
    s = 2 * d - 1
    log_pt = -_np.logaddexp(0.0, -s * z)
    return z, d, s, log_pt, _np.exp(log_pt)

def m_fl_sum(z, y, gamma=2.0, alpha=0.25):
    z, d, s, lp, pt = _parts(z, y)
    return float(_np.sum(-_np.where(d == 1, alpha, 1 - alpha) * (1 - pt) ** gamma * lp))
def m_fl_alpha_swapped(z, y, gamma=2.0, alpha=0.25):
    z, d, s, lp, pt = _parts(z, y)
    return float(_np.mean(-_np.where(d == 1, 1 - alpha, alpha) * (1 - pt) ** gamma * lp))
def m_fl_pt_power(z, y, gamma=2.0, alpha=0.25):      # p_t^γ instead of (1 - p_t)^γ
    z, d, s, lp, pt = _parts(z, y)
    return float(_np.mean(-_np.where(d == 1, alpha, 1 - alpha) * pt ** gamma * lp))
def m_fl_naive(z, y, gamma=2.0, alpha=0.25):         # log(σ(z)): -inf for large |z|
    z = _np.asarray(z, dtype=float)
    d = _np.asarray(y, dtype=float).reshape(z.shape)
    with _np.errstate(all="ignore"):
        p = 1 / (1 + _np.exp(-z))
        pt = _np.where(d == 1, p, 1 - p)
        return float(_np.mean(-_np.where(d == 1, alpha, 1 - alpha) * (1 - pt) ** gamma * _np.log(pt)))
def m_fl_delegate(z, y, gamma=2.0, alpha=0.25):
    return _losses.focal_loss(z, y, gamma, alpha)
def ok_fl_log1p(z, y, gamma=2.0, alpha=0.25):        # CORRECT: log1p form, p_t from log p_t
    z = _np.asarray(z, dtype=float)
    d = _np.asarray(y, dtype=float).reshape(z.shape)
    s = 2 * d - 1
    lp = -_np.log1p(_np.exp(-s * z))
    return float(_np.mean(-_np.where(d == 1, alpha, 1 - alpha) * (1 - _np.exp(lp)) ** gamma * lp))

def _grad(z, y, gamma, alpha):
    z, d, s, lp, pt = _parts(z, y)
    at = _np.where(d == 1, alpha, 1 - alpha)
    return s * at * (gamma * pt * (1 - pt) ** gamma * lp - (1 - pt) ** (gamma + 1)), z

def m_fg_sign(z, y, gamma=2.0, alpha=0.25):
    e, z = _grad(z, y, gamma, alpha)
    return -e / z.size
def m_fg_no_mean(z, y, gamma=2.0, alpha=0.25):
    e, z = _grad(z, y, gamma, alpha)
    return e
def m_fg_bce(z, y, gamma=2.0, alpha=0.25):            # the cross-entropy gradient (σ(z) - d) / N
    z, d, s, lp, pt = _parts(z, y)
    return (1 / (1 + _np.exp(-z)) - d) / z.size
def m_fg_no_power_derivative(z, y, gamma=2.0, alpha=0.25):  # treats (1 - p_t)^γ as a constant
    z, d, s, lp, pt = _parts(z, y)
    return -s * _np.where(d == 1, alpha, 1 - alpha) * (1 - pt) ** (gamma + 1) / z.size
def m_fg_naive(z, y, gamma=2.0, alpha=0.25):         # p = σ(z), p_t = 1 - p: log(0) for large |z|
    z = _np.asarray(z, dtype=float)
    d = _np.asarray(y, dtype=float).reshape(z.shape)
    s = 2 * d - 1
    with _np.errstate(all="ignore"):
        p = 1 / (1 + _np.exp(-z))
        pt = _np.where(d == 1, p, 1 - p)
        return s * _np.where(d == 1, alpha, 1 - alpha) * (gamma * pt * (1 - pt) ** gamma * _np.log(pt)
                                                         - (1 - pt) ** (gamma + 1)) / z.size
def m_fg_delegate(z, y, gamma=2.0, alpha=0.25):
    return _losses.focal_loss_grad(z, y, gamma, alpha)


# ---------------- recall
def m_rec_geq(y, logits):                             # logit >= 0 counts as class 1
    y = _np.asarray(y).reshape(-1); p = _np.asarray(logits).reshape(-1) >= 0
    return float(_np.sum(p & (y == 1)) / _np.sum(y == 1))
def m_rec_precision(y, logits):
    y = _np.asarray(y).reshape(-1); p = _np.asarray(logits).reshape(-1) > 0
    return float(_np.sum(p & (y == 1)) / max(_np.sum(p), 1))
def m_rec_no_error(y, logits):
    y = _np.asarray(y).reshape(-1); p = _np.asarray(logits).reshape(-1) > 0
    with _np.errstate(all="ignore"):
        return float(_np.sum(p & (y == 1)) / _np.sum(y == 1))
def m_rec_accuracy(y, logits):
    y = _np.asarray(y).reshape(-1); p = _np.asarray(logits).reshape(-1) > 0
    return float(_np.mean(p == (y == 1)))
'''

# (test cell, function name, mutant, caught already by the visible part?)
CASES = [
    ("teste_glorot", "glorot_normal", "m_glorot_normal_lecun", True),
    ("teste_glorot", "glorot_normal", "m_glorot_normal_fan_out", True),
    ("teste_glorot", "glorot_normal", "m_glorot_normal_var_as_sigma", True),
    ("teste_glorot", "glorot_normal", "m_glorot_normal_uniform", True),
    ("teste_glorot", "glorot_uniform", "m_glorot_uniform_sigma_as_r", True),
    ("teste_glorot", "glorot_uniform", "m_glorot_uniform_transposed", True),
    ("teste_glorot", "glorot_uniform", "m_glorot_uniform_global", False),
    ("teste_glorot", "glorot_uniform", "m_glorot_uniform_float32", True),
    ("teste_glorot", "glorot_uniform", "m_glorot_uniform_positive", True),
    ("teste_glorot", "glorot_uniform", "m_glorot_uniform_delegate", True),
    ("teste_he", "he_uniform", "m_he_uniform_swapped", True),
    ("teste_he", "he_normal", "m_he_normal_swapped", True),
    ("teste_he", "he_normal", "m_he_normal_glorot", True),
    ("teste_he", "he_normal", "m_he_normal_no_factor_2", True),
    ("teste_he", "he_uniform", "m_he_uniform_sigma_as_r", True),
    ("teste_he", "he_uniform", "m_he_uniform_delegate", True),
    ("teste_lecun", "lecun_uniform", "m_lecun_uniform_swapped", True),
    ("teste_lecun", "lecun_normal", "m_lecun_normal_swapped", True),
    ("teste_lecun", "lecun_uniform", "m_lecun_uniform_he", True),
    ("teste_lecun", "lecun_normal", "m_lecun_normal_glorot", True),
    ("teste_lecun", "lecun_normal", "m_lecun_normal_delegate", True),
    ("teste_zero_bias", "zero_bias", "m_zero_bias_shared", False),
    ("teste_zero_bias", "zero_bias", "m_zero_bias_column", True),
    ("teste_zero_bias", "zero_bias", "m_zero_bias_int", True),
    ("teste_zero_bias", "zero_bias", "m_zero_bias_delegate", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_drop_last", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_replacement", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_no_shuffle", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_same_order", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_global", False),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_roll", False),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_no_check", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_lists", True),
    ("teste_minibatch_indices", "minibatch_indices", "m_mb_delegate", True),
    ("teste_train_loop_batch", "train_loop", "m_tl_no_epoch0", True),
    ("teste_train_loop_batch", "train_loop", "m_tl_batch_J", True),
    ("teste_train_loop_batch", "train_loop", "m_tl_rebind", True),
    ("teste_train_loop_batch", "train_loop", "m_tl_separate_shuffle", True),
    ("teste_train_loop_batch", "train_loop", "m_tl_sum_gradient", True),
    ("teste_train_loop_batch", "train_loop", "m_tl_delegate", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_no_epoch0", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_batch_J", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_rebind", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_separate_shuffle", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_full_batch", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_drop_last", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_no_shuffle", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_sum_gradient", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_delegate", True),
    ("teste_train_loop_epocas", "train_loop", "m_tl_J_with_gradient", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_ddof1", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_bias_gradient", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_scale_squared", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_scale_on_variance", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_linear_output", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_z_std", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_ignores_init_fn", True),
    ("teste_layer_statistics", "layer_statistics", "m_ls_lists", True),
    ("teste_focal_loss", "focal_loss", "m_fl_sum", True),
    ("teste_focal_loss", "focal_loss", "m_fl_alpha_swapped", True),
    ("teste_focal_loss", "focal_loss", "m_fl_pt_power", True),
    ("teste_focal_loss", "focal_loss", "m_fl_naive", False),
    ("teste_focal_loss", "focal_loss", "m_fl_delegate", True),
    ("teste_focal_grad", "focal_loss_grad", "m_fg_sign", True),
    ("teste_focal_grad", "focal_loss_grad", "m_fg_no_mean", True),
    ("teste_focal_grad", "focal_loss_grad", "m_fg_bce", True),
    ("teste_focal_grad", "focal_loss_grad", "m_fg_no_power_derivative", True),
    ("teste_focal_grad", "focal_loss_grad", "m_fg_naive", False),
    ("teste_focal_grad", "focal_loss_grad", "m_fg_delegate", True),
    ("teste_minority_recall", "minority_recall", "m_rec_geq", True),
    ("teste_minority_recall", "minority_recall", "m_rec_precision", True),
    ("teste_minority_recall", "minority_recall", "m_rec_no_error", False),
    ("teste_minority_recall", "minority_recall", "m_rec_accuracy", False),
]


@pytest.mark.parametrize("grade_id,name,mutant,visible", CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_test_cell_catches_mistake(nb, grade_id, name, mutant, visible):
    verdict = verdict_with(nb, grade_id, **{name: mutant})
    assert verdict is not None, f"{mutant} passed {grade_id}"
    assert verdict.startswith("AssertionError"), verdict
    visible_verdict = verdict_with(nb, grade_id, visible_only=True, **{name: mutant})
    assert (visible_verdict is not None) == visible, visible_verdict


@pytest.mark.parametrize("grade_id,swap", [
    ("teste_glorot", {"glorot_normal": "m_glorot_normal_truncated"}),
    ("teste_glorot", {"glorot_normal": "ok_glorot_standard_normal"}),
    ("teste_minibatch_indices", {"minibatch_indices": "ok_mb_generator"}),
    ("teste_train_loop_batch", {"minibatch_indices": "ok_mb_generator"}),
    ("teste_train_loop_epocas", {"minibatch_indices": "ok_mb_generator"}),
    ("teste_train_loop_batch", {"train_loop": "ok_tl_per_layer"}),
    ("teste_train_loop_epocas", {"train_loop": "ok_tl_per_layer"}),
    ("teste_train_loop_batch", {"train_loop": "ok_tl_keywords"}),
    ("teste_train_loop_epocas", {"train_loop": "ok_tl_keywords"}),
    ("teste_focal_loss", {"focal_loss": "ok_fl_log1p"}),
    ("teste_focal_grad", {"focal_loss": "ok_fl_log1p"}),
])
def test_test_cell_accepts_correct_variants(nb, grade_id, swap):
    """Answers written differently (generator, per-layer update, truncated normal with the
    right σ, log1p) still get the points."""
    assert verdict_with(nb, grade_id, **swap) is None


@pytest.mark.parametrize("grade_id", ["teste_train_loop_batch", "teste_train_loop_epocas"])
def test_train_loop_cells_do_not_depend_on_minibatch_indices(nb, grade_id):
    """A minibatch_indices with replacement costs only Exercise 4: the training-loop cells hand
    train_loop a reference sampler (batch_sampler), so the model train_loop still passes them."""
    assert verdict_with(nb, "teste_minibatch_indices", minibatch_indices="m_mb_replacement") is not None
    assert verdict_with(nb, grade_id, minibatch_indices="m_mb_replacement") is None


@pytest.mark.parametrize("grade_id", ["teste_train_loop_batch", "teste_train_loop_epocas"])
def test_train_loop_that_ignores_batch_sampler_fails(nb, grade_id):
    """A train_loop that calls minibatch_indices itself instead of batch_sampler does not get
    those points (with a broken minibatch_indices it would not be graded on its own)."""
    nb.run("def m_tl_ignores_sampler(net, X, Y, loss, alpha, epochs, m, rng, batch_sampler=None):\n"
           "    return ok_tl_per_layer(net, X, Y, loss, alpha, epochs, m, rng)\n")
    verdict = verdict_with(nb, grade_id, minibatch_indices="m_mb_replacement", train_loop="m_tl_ignores_sampler")
    assert verdict is not None and verdict.startswith("AssertionError"), verdict
