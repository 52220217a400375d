"""Lecture 1 (online, batch and mini-batch): widget callback, the notebook's claims, and the
autograded test cells rejecting typical wrong answers.

One kernel runs the source notebook for the whole module; the exercise tests swap in wrong
implementations, run the locked test cell (visible and hidden parts) and expect it to fail,
then restore the model solution.
"""

import math

import nbformat
import pytest

from notebook_layout import layout_problems
from notebook_session import PIXELS, NotebookSession, grade_cell_source, notebook_path

NB_ID = "aula01_online_batch_minibatch"
SOURCE = notebook_path("solutions", NB_ID)
STUDENT = notebook_path("lectures", NB_ID)


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=180) as session:
        session.run(
            "def _fig_summary(fig):\n"
            "    ax_traj, ax_J = fig.axes\n"
            "    traj = ax_traj.lines[-1].get_xydata()\n"
            "    J_line = ax_J.lines[0].get_ydata()\n"
            "    return {'n_axes': len(fig.axes), 'suptitle': fig._suptitle.get_text(),\n"
            "            'J_title': ax_J.get_title(), 'traj': traj.round(10).tolist(),\n"
            "            'n_points': len(traj), 'J_last': float(J_line[-1])}\n"
            "import matplotlib.pyplot as plt\n"
            "plot_batch_size = painel_lote.figura\n"
            "show_batch_size = painel_lote.atualizar\n"
            "live, live_artists, controles = painel_lote.live, painel_lote.artistas, painel_lote.controles\n"
        )
        yield session


# --------------------------------------------------------------------------- widget
def test_widget_callback_redraws(nb):
    online = nb.eval("_fig_summary(plot_batch_size(1, 0.1))")
    mini = nb.eval("_fig_summary(plot_batch_size(20, 0.1))")
    batch = nb.eval("_fig_summary(plot_batch_size(200, 0.1))")
    faster = nb.eval("_fig_summary(plot_batch_size(20, 0.5))")
    for summary in (online, mini, batch, faster):
        assert summary["n_axes"] == 2
    # one point per update plus the start: 5 epochs of N = 200 examples
    assert (online["n_points"], mini["n_points"], batch["n_points"]) == (1001, 51, 6)
    assert online["suptitle"].startswith("online") and "m = 1," in online["suptitle"]
    assert mini["suptitle"].startswith("mini-batch") and "m = 20," in mini["suptitle"]
    assert batch["suptitle"].startswith("batch")
    assert "α = 0.50" in faster["suptitle"] and faster["traj"] != mini["traj"]
    assert faster["traj"][0] == mini["traj"][0]  # same start W0, different path
    # with α = 0.1, after 5 epochs: online lowest J, batch highest (the plotted J curve)
    assert online["J_last"] < mini["J_last"] < batch["J_last"]
    assert "J final" in online["J_title"]


def test_widget_shows_divergence(nb):
    diverged = nb.eval("_fig_summary(plot_batch_size(1, 0.9))")
    assert "diverg" in diverged["J_title"]
    fine = nb.eval("_fig_summary(plot_batch_size(200, 0.9))")
    assert "J final" in fine["J_title"]


# --------------------------------------------------------------------------- live widget
def test_live_callback_returns_png_that_follows_the_sliders(nb):
    nb.run(PIXELS + "_png_a = show_batch_size(20, 0.1)\n_png_b = show_batch_size(5, 0.1)\n"
           "_png_c = show_batch_size(5, 0.3)")
    assert nb.eval("all(p[:8] == b'\\x89PNG\\r\\n\\x1a\\n' for p in (_png_a, _png_b, _png_c))")
    assert nb.eval("bool((_png_pixels(_png_a) != _png_pixels(_png_b)).any())")  # m moved
    assert nb.eval("bool((_png_pixels(_png_b) != _png_pixels(_png_c)).any())")  # α moved
    assert nb.eval("plt.get_fignums()") == []  # nothing for the inline backend to show again


# earlier moves, then the target: the J axis top (the static key) goes 10 -> 1e60 -> 1e12 -> 1e4
# and back, so cached backgrounds and fresh ones are both exercised
MOVES = [(1, 0.9), (2, 0.5), (20, 0.1), (1, 0.2), (200, 0.02)]


@pytest.mark.parametrize("target", [(20, 0.1), (1, 0.9), (1, 0.2), (2, 0.5), (200, 1.0), (1, 0.05)])
def test_live_redraw_equals_a_full_draw_of_plot_batch_size(nb, target):
    """The in-place redraw, after other moves, shows pixel for pixel what plot_batch_size draws."""
    nb.run(PIXELS)
    for m, alpha in MOVES:
        nb.run(f"show_batch_size({m}, {alpha})")
    assert nb.eval(f"_differing_pixels(show_batch_size{target!r}, plot_batch_size{target!r})") == 0


def test_J_axis_steps_show_the_whole_curve(nb):
    """The J axis is fixed per step (blitting cannot rescale): it must hold the highest J drawn."""
    rows = nb.eval(
        "[(m, a, plot_batch_size(m, a).axes[1].get_ylim(), float(np.max(plot_batch_size(m, a).axes[1].lines[0].get_ydata())),"
        " float(np.min(plot_batch_size(m, a).axes[1].lines[0].get_ydata())))"
        " for m, a in [(20, 0.1), (200, 0.01), (1, 0.2), (1, 0.5), (1, 1.0), (2, 1.0), (5, 1.0)]]")
    tops = []
    for m, alpha, (bottom, top), high, low in rows:
        assert bottom < low and high < top, (m, alpha, bottom, top, low, high)
        tops.append(top)
    assert tops[:2] == [10.0, 10.0]  # the usual moves keep the first step: no static redraw
    assert tops[2] > 10.0 and tops[4] >= 1e53  # online with a large α: J grows by many decades


def test_widget_controls_drive_the_image(nb):
    nb.run("_sent = []\nlive.image.observe(lambda change: _sent.append(change['new']), 'value')\n"
           "try:\n"
           "    controles['alpha'].value = 0.35\n"
           "    controles['m'].value = 5\n"
           "finally:\n"
           "    live.image.unobserve_all('value')\n"
           "_title = live_artists['titulo'].get_text()\n"
           "controles['m'].value, controles['alpha'].value = 20, 0.1")
    assert nb.eval("len(_sent)") == 2
    assert nb.eval("_sent[-1] == show_batch_size(5, 0.35)")
    assert "m = 5," in nb.eval("_title") and "α = 0.35" in nb.eval("_title")


def test_divergence_beyond_the_sliders_never_raises(nb):
    """α = 3 (beyond the slider) makes J inf/NaN: the curve is cut, nothing non-finite is drawn."""
    nb.run(PIXELS + "_png_div = show_batch_size(1, 3.0)")
    assert nb.eval("_png_div[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")
    summary = nb.eval("{'finite': all(bool(np.all(np.isfinite(l.get_xydata()))) for ax in plot_batch_size(1, 3.0).axes"
                      " for l in ax.lines), 'title': plot_batch_size(1, 3.0).axes[1].get_title(),"
                      " 'n': len(plot_batch_size(1, 3.0).axes[1].lines[0].get_xdata())}")
    assert summary["finite"] and "diverg" in summary["title"]
    assert 0 < summary["n"] < 1001  # cut at the first non-finite point
    assert nb.eval("_differing_pixels(show_batch_size(1, 3.0), plot_batch_size(1, 3.0))") == 0



# --------------------------------------------------------------------------- claims
def test_slides_loops_equal_train(nb):
    assert nb.eval("loop_vs_train_gap") < 1e-12
    # one epoch from W0 with α = 0.1: online < mini-batch < batch in J
    J = nb.eval("[LinearModel(w).loss_and_gradient(X_reg, y_reg)[0] for w in (w_online, w_mini, w_batch)]")
    assert J[0] < J[1] < J[2]


def test_identity_mean_of_local_gradients(nb):
    assert nb.eval("identity_gap_mlp") < 1e-13
    # and the same identity on the linear model, from the slides' formula, independently
    gap = nb.eval(
        "float(np.max(np.abs(np.mean([grad_J_l(l, W0) for l in range(N)], axis=0)"
        " - LinearModel(W0).loss_and_gradient(X_reg, y_reg)[1])))"
    )
    assert gap < 1e-12


def test_updates_per_epoch(nb):
    reg = nb.eval("{k: h.updates for k, (p, h) in REG_RUNS.items()}")
    assert reg["online (m = 1)"] == [200 * k for k in range(6)]
    assert reg["mini-batch (m = 20)"] == [10 * k for k in range(6)]
    assert reg["batch (m = N)"] == list(range(6))
    dig = nb.eval("{k: (h.epochs, h.updates[-1]) for k, h in digit_histories.items()}")
    assert dig["online (m = 1)"] == [4, 4 * 1797]
    assert dig["mini-batch (m = 32)"] == [60, 60 * math.ceil(1797 / 32)]
    assert dig["batch (m = N)"] == [200, 200]


def test_digits_story(nb):
    J = nb.eval("{k: h.J for k, h in digit_histories.items()}")
    on, mb, ba = J["online (m = 1)"], J["mini-batch (m = 32)"], J["batch (m = N)"]
    # per epoch online is best, batch worst
    assert on[1] < mb[1] < ba[1]
    # per update batch is best: J after its 200 updates
    mb_updates = nb.eval("digit_histories['mini-batch (m = 32)'].updates")
    k = next(i for i, u in enumerate(mb_updates) if u >= 200)
    assert ba[-1] < mb[k]
    # at the end of the comparable time budget mini-batch has the lowest J
    assert mb[-1] < min(on[-1], ba[-1])


def test_minibatch_epoch_much_faster_than_online(nb):
    # the notebook's own timing, then a re-measurement as best of 3 (robust to a loaded machine)
    per_epoch = nb.eval("{k: h.seconds[-1] / h.epochs for k, h in digit_histories.items()}")
    best = nb.eval(
        "{bs: min(training.train(MLP([64, 32, 10], rng=np.random.default_rng(1)), X_dig, y_dig,"
        " 'softmax_cross_entropy', optim.SGD(alpha=0.01), epochs=1, batch_size=bs,"
        " rng=np.random.default_rng(r)).seconds[-1] for r in range(3)) for bs in (1, 32)}"
    )
    # 1797 updates against 57 per epoch: about 20x on an idle machine
    assert best["1"] > 3 * best["32"], (best, per_epoch)
    # cost per example falls steeply with m (the measured curve of section 5: ~40x at m = 64 when
    # idle). Only m <= 256 is used: on a loaded 2-core machine multithreaded BLAS makes the
    # largest products erratic, which is not what this claim is about.
    per_example = nb.eval("(cost / np.array(M_COST)).tolist()")
    small = nb.eval("[i for i, m_c in enumerate(M_COST) if m_c <= 256]")
    if not min(per_example[i] for i in small[1:]) < per_example[0] / 10:
        again = nb.eval("[seconds_per_update(m_c, 30) / m_c for m_c in (1, 64)]")
        assert again[1] < again[0] / 10, (per_example, again)


def test_variance_follows_one_over_m_law(nb):
    ratio = nb.eval("(variance_empirical / variance_theory).tolist()")
    assert all(0.9 < r < 1.1 for r in ratio), ratio
    # without the finite-population correction the largest m is far off
    plain = nb.eval("(variance_empirical / variance_1_over_m).tolist()")
    assert plain[-1] < 0.2 and 0.9 < plain[0] < 1.1
    # sigma² from the notebook equals the direct definition
    s2 = nb.eval("float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))")
    assert s2 == pytest.approx(nb.eval("sigma2"), rel=1e-12)


# --------------------------------------------------------------------------- exercises
def check_rejects(nb, grade_id, solution_id, wrong_code):
    """A check of the test cell rejects ``wrong_code`` defining the answer (a crash fails the test)."""
    nb.run(wrong_code)
    try:
        assert nb.rejects(grade_cell_source(SOURCE, grade_id)), f"{grade_id} passed the wrong answer"
    finally:
        nb.run(grade_cell_source(SOURCE, solution_id))


@pytest.mark.parametrize("grade_id", ["teste_local_gradient", "teste_full_gradient_from_local",
                                      "teste_minibatch_indices"])
def test_solution_passes(nb, grade_id):
    assert nb.accepts(grade_cell_source(SOURCE, grade_id))


LOCAL_WRONG = {
    "sign": "def local_gradient(x, d, w):\n    return 2.0 * (d - w @ x) * x",
    "no_factor_2": "def local_gradient(x, d, w):\n    return -(d - w @ x) * x",
    "list": "def local_gradient(x, d, w):\n    return list(-2.0 * (d - w @ x) * x)",
    "hard_coded": "def local_gradient(x, d, w):\n    return np.array([-9.0, -18.0])",
    "two_weights_only": "def local_gradient(x, d, w):\n"
                        "    return -2.0 * (d - w[0] * x[0] - w[1] * x[1]) * x",
    "calls_model": "def local_gradient(x, d, w):\n"
                   "    return LinearModel(w).loss_and_gradient(x[None, :], np.array([d]))[1]",
}


@pytest.mark.parametrize("name", sorted(LOCAL_WRONG))
def test_local_gradient_cell_rejects(nb, name):
    check_rejects(nb, "teste_local_gradient", "local_gradient", LOCAL_WRONG[name])


FULL_WRONG = {
    "sum": "def full_gradient_from_local(grad_fn_single, X, y, w):\n"
           "    return np.sum([grad_fn_single(X[n], y[n], w) for n in range(len(X))], axis=0)",
    "whole_batch_call": "def full_gradient_from_local(grad_fn_single, X, y, w):\n"
                        "    return grad_fn_single(X, y, w) / len(X)",
    "scalar_mean": "def full_gradient_from_local(grad_fn_single, X, y, w):\n"
                   "    return np.mean([grad_fn_single(X[n], y[n], w) for n in range(len(X))])",
    "divide_by_len_w": "def full_gradient_from_local(grad_fn_single, X, y, w):\n"
                       "    return np.sum([grad_fn_single(X[n], y[n], w) for n in range(len(X))], axis=0) / len(w)",
    "skips_last": "def full_gradient_from_local(grad_fn_single, X, y, w):\n"
                  "    return np.mean([grad_fn_single(X[n], y[n], w) for n in range(len(X) - 1)], axis=0)",
    "hard_coded": "def full_gradient_from_local(grad_fn_single, X, y, w):\n"
                  "    return np.array([0.75, -3.125])",
}


@pytest.mark.parametrize("name", sorted(FULL_WRONG))
def test_full_gradient_cell_rejects(nb, name):
    check_rejects(nb, "teste_full_gradient_from_local", "full_gradient_from_local", FULL_WRONG[name])


def _gen(body):
    """A minibatch_indices that checks m (message with its value) and returns what ``body`` returns."""
    return ("def minibatch_indices(N, m, rng):\n    if m < 1 or m > N:\n        raise ValueError(f'm = {m}')\n"
            + body)


MINIBATCH_WRONG = {
    "array_split": _gen("    return list(np.array_split(rng.permutation(N), -(-N // m)))\n"),
    "with_replacement": _gen("    return [rng.integers(0, N, size=min(m, N - s)) for s in range(0, N, m)]\n"),
    "no_shuffle": _gen("    order = np.arange(N)\n    return [order[s:s + m] for s in range(0, N, m)]\n"),
    "fixed_seed": _gen("    order = np.random.default_rng(0).permutation(N)\n"
                       "    return [order[s:s + m] for s in range(0, N, m)]\n"),
    "global_rng": _gen("    order = np.random.permutation(N)\n"
                       "    return [order[s:s + m] for s in range(0, N, m)]\n"),
    "shuffle_within_chunks": _gen("    return [rng.permutation(np.arange(s, min(s + m, N))) for s in range(0, N, m)]\n"),
    "shuffle_chunk_order": _gen("    chunks = [np.arange(s, min(s + m, N)) for s in range(0, N, m)]\n"
                                "    return [chunks[i] for i in rng.permutation(len(chunks))]\n"),
    "drop_last": _gen("    order = rng.permutation(N)\n"
                      "    return [order[s:s + m] for s in range(0, N - m + 1, m)]\n"),
    "generator_not_list": _gen("    order = rng.permutation(N)\n"
                               "    for s in range(0, N, m):\n        yield order[s:s + m]\n"),
    "tuple_not_list": _gen("    order = rng.permutation(N)\n    return tuple(order[s:s + m] for s in range(0, N, m))\n"),
    "list_of_lists": _gen("    order = rng.permutation(N)\n    return [order[s:s + m].tolist() for s in range(0, N, m)]\n"),
    "no_check_m": "def minibatch_indices(N, m, rng):\n    order = rng.permutation(N)\n"
                  "    return [order[s:s + m] for s in range(0, N, max(m, 1))]\n",
    "check_only_low": "def minibatch_indices(N, m, rng):\n    if m < 1:\n        raise ValueError(f'm = {m}')\n"
                      "    order = rng.permutation(N)\n    return [order[s:s + m] for s in range(0, N, m)]\n",
    "message_without_value": "def minibatch_indices(N, m, rng):\n    if m < 1 or m > N:\n"
                             "        raise ValueError('m fora do intervalo')\n"
                             "    order = rng.permutation(N)\n    return [order[s:s + m] for s in range(0, N, m)]\n",
    "accepts_float_m": "def minibatch_indices(N, m, rng):\n    if m < 1 or m > N:\n        raise ValueError(f'm = {m}')\n"
                       "    order = rng.permutation(N)\n    k = int(np.ceil(m))\n"
                       "    return [order[s:s + k] for s in range(0, N, k)]\n",
    "calls_nnlib": "def minibatch_indices(N, m, rng):\n"
                   "    return list(training.minibatches(N, m, rng))\n",
    "extra_empty_batch": _gen("    order = rng.permutation(N)\n"
                              "    return [order[s:s + m] for s in range(0, N + 1, m)]\n"),
}


@pytest.mark.parametrize("name", sorted(MINIBATCH_WRONG))
def test_minibatch_cell_rejects(nb, name):
    check_rejects(nb, "teste_minibatch_indices", "minibatch_indices", MINIBATCH_WRONG[name])


# The student version's stubs: their NotImplementedError stops the test cell (no points), which is
# not a check rejecting a wrong answer (the cells call the answer directly, not through call_answer).
BLANK = {"teste_local_gradient": "local_gradient", "teste_full_gradient_from_local": "full_gradient_from_local",
         "teste_minibatch_indices": "minibatch_indices"}


@pytest.mark.parametrize("grade_id", sorted(BLANK))
def test_blank_stub_stops_the_cell(nb, grade_id):
    nb.run(f"def {BLANK[grade_id]}(*args, **kwargs):\n    raise NotImplementedError()")
    try:
        verdict = nb.verdict(grade_cell_source(SOURCE, grade_id))
    finally:
        nb.run(grade_cell_source(SOURCE, BLANK[grade_id]))
    assert verdict.broken and verdict.error == "NotImplementedError", str(verdict)


def test_alternative_correct_minibatch_passes(nb):
    """A different correct sampler (rng.choice without replacement, a while loop) also passes."""
    good = ("def minibatch_indices(N, m, rng):\n"
            "    if not isinstance(m, (int, np.integer)) or not 1 <= m <= N:\n"
            "        raise ValueError(f'm = {m} fora de [1, {N}]')\n"
            "    order = rng.choice(N, size=N, replace=False)\n"
            "    lotes, i = [], 0\n"
            "    while i < N:\n"
            "        lotes.append(np.array(order[i:i + m], dtype=np.int64))\n"
            "        i += m\n"
            "    return lotes\n")
    nb.run(good)
    try:
        assert nb.accepts(grade_cell_source(SOURCE, "teste_minibatch_indices"))
    finally:
        nb.run(grade_cell_source(SOURCE, "minibatch_indices"))


def test_source_notebook_metadata():
    notebook = nbformat.read(SOURCE, as_version=4)
    graded = [c.metadata["nbgrader"] for c in notebook.cells if "nbgrader" in c.metadata]
    points = {m["grade_id"]: m.get("points") for m in graded if m.get("grade")}
    assert points == {"teste_local_gradient": 2, "teste_full_gradient_from_local": 2,
                      "pergunta_tempo_de_parede": 2, "teste_minibatch_indices": 4}
    for meta in graded:
        assert set(meta) <= {"grade", "grade_id", "locked", "points", "schema_version", "solution", "task"}
        assert meta["schema_version"] == 3
    # stored without outputs
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_title_and_question_after_section_6():
    """Issue #14: "Aula 1 — ..." and the hand-graded question comes after the 1/m law it builds on."""
    notebook = nbformat.read(SOURCE, as_version=4)
    assert notebook.cells[0].source.startswith("# Aula 1 — ")
    where = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(notebook.cells)}
    section_6 = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("## 6."))
    assert where["pergunta_tempo_de_parede"] > section_6


def test_student_version_meets_layout_targets():
    assert layout_problems(STUDENT) == []


VISIBLE_TESTS = ["teste_local_gradient", "teste_full_gradient_from_local", "teste_minibatch_indices"]


@pytest.mark.parametrize("grade_id", VISIBLE_TESTS)
def test_visible_tests_print_no_expected_value(nb, grade_id):
    """#13: the visible part checks properties; checks.check_close (which prints the expected
    value) is used only in the hidden part."""
    visible = grade_cell_source(SOURCE, grade_id).split("### BEGIN HIDDEN TESTS")[0]
    assert "check_close" not in visible and "check_scalar(" not in visible.replace("check_scalar(len", "")
    assert "esperava" not in visible


# The named wrong answers each visible test rejects (tests/test_exercise_rules.py, rule 6): the
# misconceptions of each exercise, from the lists above (the blank stub is apart: BLANK).
WRONG_ANSWERS = {
    "teste_local_gradient": dict(LOCAL_WRONG),
    "teste_full_gradient_from_local": dict(FULL_WRONG),
    # a float m is left to the hidden tests (the visible ones try m = 0 and m = N + 1)
    "teste_minibatch_indices": {name: code for name, code in MINIBATCH_WRONG.items()
                                if name != "accepts_float_m"},
}
