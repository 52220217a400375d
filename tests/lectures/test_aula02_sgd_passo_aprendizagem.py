"""Aula 2 (SGD and the learning-rate schedule): widget callback, key claims, exercise tests.

One kernel executes the source notebook; the tests call its functions and read its
variables. The exercise test cells are also run against wrong answers (mutants), which
they must reject, and the alpha exercise is checked to be solvable by a range of alphas.
"""

import nbformat
import pytest

from notebook_layout import layout_problems
from notebook_session import PIXELS, NotebookSession, grade_cell_source, notebook_path, visible_part

NB_ID = "aula02_sgd_passo_aprendizagem"
SOURCE = notebook_path("solutions", NB_ID)
STUDENT = notebook_path("lectures", NB_ID)


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE) as session:
        session.run("import matplotlib.pyplot as plt\n"
                    "plot_schedule_training = painel_reducao.figura\n"
                    "show_schedule_training = painel_reducao.atualizar\n"
                    "live, live_artists, controles = painel_reducao.live, painel_reducao.artistas, painel_reducao.controles")
        yield session


# ------------------------------------------------------------------ widget callback
def figure_summary(nb):
    return nb.eval(
        "{'n_axes': len(fig.axes),"
        " 'titles': [ax.get_title() for ax in fig.axes],"
        " 'schedule': [float(v) for v in fig.axes[0].lines[0].get_ydata()],"
        " 'curves': {l.get_label(): [float(v) for v in l.get_ydata()] for l in fig.axes[1].lines}}")


def test_widget_callback_redraws_schedule_and_curve(nb):
    nb.run("fig = plot_schedule_training(0.3, 0.02, 400)")
    a = figure_summary(nb)
    nb.run("fig = plot_schedule_training(0.5, 0.01, 100)")
    b = figure_summary(nb)
    assert a["n_axes"] == b["n_axes"] == 2
    assert a["titles"][0] != b["titles"][0] and "400" in a["titles"][0] and "100" in b["titles"][0]
    # the schedule panel: alpha_0 at j = 0, alpha_tau at j = tau and flat afterwards (j = 0..800)
    for s, (a0, at, tau) in ((a["schedule"], (0.3, 0.02, 400)), (b["schedule"], (0.5, 0.01, 100))):
        assert len(s) == 801
        assert s[0] == pytest.approx(a0) and s[tau] == pytest.approx(at)
        assert all(v == pytest.approx(at) for v in s[tau:])
        assert s[tau // 2] == pytest.approx((a0 + at) / 2)
    assert a["schedule"] != b["schedule"]
    # the training panel: constant alpha_0, constant alpha_tau and the decay, 41 epochs each
    assert len(a["curves"]) == len(b["curves"]) == 3
    for curves in (a["curves"], b["curves"]):
        assert all(len(c) == 41 for c in curves.values())
    decay_a = [c for k, c in a["curves"].items() if "decaimento" in k][0]
    decay_b = [c for k, c in b["curves"].items() if "decaimento" in k][0]
    assert decay_a != decay_b
    assert decay_a[0] == pytest.approx(decay_b[0])  # same start w = 0


def test_widget_callback_constant_when_alphas_equal(nb):
    nb.run("fig = plot_schedule_training(0.05, 0.05, 200)")
    s = figure_summary(nb)
    assert all(v == pytest.approx(0.05) for v in s["schedule"])
    curves = list(s["curves"].values())
    assert curves[0] == curves[1] == curves[2]



def test_widget_sliders_redraw_the_image_once_per_change(nb):
    # the notebook's widget (built because NBGRADER_EXECUTION is unset here): each slider change
    # calls the callback once, which redraws the one live figure and sends its PNG to the image
    nb.run("_sent = []\n"
           "live.image.observe(lambda change: _sent.append((change['new'], live_artists['titulo_passo'].get_text())),"
           " 'value')\n"
           "try:\n"
           "    controles['alpha0'].value = 0.45\n"
           "    controles['tau'].value = 200\n"
           "finally:\n"
           "    live.image.unobserve_all('value')\n"
           "_sent_ok = [png == show_schedule_training(0.45, 0.02, tau) for (png, _), tau in zip(_sent, (400, 200))]\n"
           "controles['alpha0'].value, controles['tau'].value = 0.3, 400")
    shown = nb.eval("[title for _, title in _sent]")
    assert len(shown) == 2 and nb.eval("_sent_ok") == [True, True]
    assert "0.45" in shown[0] and "400" in shown[0]
    assert "0.45" in shown[1] and "200" in shown[1]
    assert nb.eval("plt.get_fignums()") == []  # nothing left open for the inline backend to show


# ------------------------------------------------------------------ live widget
PNG_MAGIC = "b'\\x89PNG\\r\\n\\x1a\\n'"


def test_live_callback_returns_png_that_follows_the_sliders(nb):
    nb.run(PIXELS + "_pngs = [show_schedule_training(*v) for v in"
           " [(0.3, 0.02, 400), (0.35, 0.02, 400), (0.35, 0.05, 400), (0.35, 0.05, 600)]]")
    assert nb.eval(f"all(p[:8] == {PNG_MAGIC} for p in _pngs)")
    # every move (α₀, α_τ, τ) changes the picture
    assert nb.eval("[bool((_png_pixels(a) != _png_pixels(b)).any()) for a, b in zip(_pngs, _pngs[1:])]") == [True] * 3
    assert nb.eval("plt.get_fignums()") == []


# earlier moves that visit several static keys (tops of the two y axes), then the target
MOVES = [(1.0, 0.02, 400), (0.1, 0.3, 20), (0.05, 0.01, 800), (0.7, 0.01, 800), (0.3, 0.02, 400)]


@pytest.mark.parametrize("target", [(0.3, 0.02, 400), (0.5, 0.01, 100), (1.0, 0.02, 400), (0.05, 0.05, 200),
                                    (0.03, 0.001, 20), (0.7, 0.3, 800)])
def test_live_redraw_equals_a_full_draw_of_plot_schedule_training(nb, target):
    """The in-place redraw, after other moves, shows pixel for pixel what plot_schedule_training draws."""
    nb.run(PIXELS)
    for move in MOVES:
        nb.run(f"show_schedule_training{move!r}")
    assert nb.eval(f"_differing_pixels(show_schedule_training{target!r}, plot_schedule_training{target!r})") == 0


def test_axes_steps_hold_every_curve(nb):
    """The y axes are fixed per step (blitting cannot rescale): they must hold what is drawn."""
    cases = [(0.3, 0.02, 400), (0.01, 0.001, 800), (0.05, 0.3, 20), (0.6, 0.01, 400), (0.9, 0.1, 100),
             (1.0, 1.0, 20), (0.98, 0.05, 200), (0.28, 0.005, 400)]
    rows = nb.eval(
        "[[(ax.get_ylim(), [(float(np.min(l.get_ydata())), float(np.max(l.get_ydata())))"
        "   for l in ax.lines if l.get_visible() and len(l.get_ydata()) > 2])"
        "  for ax in plot_schedule_training(*v).axes] for v in " + repr(cases) + "]")
    for case, axes in zip(cases, rows):
        for (bottom, top), extents in axes:
            for low, high in extents:
                assert bottom <= low and high < top, (case, bottom, top, low, high)
    alpha_tops = [axes[0][0][1] for axes in rows]
    excess_tops = [axes[1][0][1] for axes in rows]
    # the default view: α_j fills most of its panel, J - J* on the first step (10)
    assert alpha_tops[0] == pytest.approx(0.33) and excess_tops[0] == 10.0
    assert alpha_tops[1] < 0.05  # small steps get a small α axis
    assert excess_tops[5] >= 1e53  # α = 1 constant: J - J* grows by ~54 decades


def test_divergence_beyond_the_sliders_never_raises(nb):
    """α₀ = 3 (beyond the slider, it diverges as in section 3): its curves are left out, not drawn as NaN."""
    nb.run(PIXELS + "_png_div = show_schedule_training(3.0, 0.02, 400)\n"
           "_fig_div = plot_schedule_training(3.0, 0.02, 400)")
    assert nb.eval(f"_png_div[:8] == {PNG_MAGIC}")
    ax2 = nb.eval("{'title': _fig_div.axes[1].get_title(),"
                  " 'legend': [t.get_text() for t in _fig_div.axes[1].get_legend().get_texts()],"
                  " 'visible': [l.get_visible() for l in _fig_div.axes[1].lines],"
                  " 'finite': all(bool(np.all(np.isfinite(l.get_xydata()))) for l in _fig_div.axes[1].lines)}")
    assert "divergiu" in ax2["title"] and ax2["finite"]
    assert ax2["visible"][0] is False and "divergiu" in ax2["legend"][0]
    assert ax2["visible"][1] is True and "divergiu" not in ax2["legend"][1]  # α_τ = 0.02 is fine
    assert nb.eval("_differing_pixels(show_schedule_training(3.0, 0.02, 400), _fig_div)") == 0


def test_widget_hidden_while_grading():
    src = "".join(c.source for c in nbformat.read(SOURCE, as_version=4).cells
                  if "figures.interativo_" in c.source)
    assert "if not CORRIGINDO:" in src


# ------------------------------------------------------------------ notebook claims
def test_minibatch_gradient_unbiased_with_predicted_spread(nb):
    rows = nb.eval(
        "[(m, float(np.linalg.norm(estimates[m].mean(axis=0) - g_full)),"
        "  float(np.mean(np.sum((estimates[m] - g_full) ** 2, axis=1))),"
        "  sigma2 / m * (N - m) / (N - 1)) for m in batch_sizes]")
    spreads = []
    for m, bias, spread, predicted in rows:
        assert 0.8 < spread / predicted < 1.25, (m, spread, predicted)
        # the mean of 400 draws is within ~3 standard errors of g (no bias)
        assert bias < 3 * (predicted / 400) ** 0.5 + 1e-12, (m, bias)
        spreads.append(spread)
    assert spreads[0] > spreads[1] > spreads[2]


def test_full_gradient_is_mean_of_local_gradients(nb):
    err = nb.eval("float(np.max(np.abs(g_local.mean(axis=0) - g_full)))")
    assert err < 1e-12


def test_alpha_regimes_and_divergence_message(nb):
    info = nb.eval("{name: float(excess(h)[-1]) for name, h in histories.items()}")
    assert info["adequado"] < info["pequeno demais"] and info["adequado"] < info["grande demais"]
    assert nb.eval("[h.diverged for h in histories.values()]") == [None, None, None]
    msg = nb.eval("h_div.diverged")
    assert isinstance(msg, str) and "diverged" in msg and "α" in msg
    assert nb.eval("[w.category.__name__ for w in caught]") == ["DivergenceWarning"]
    assert nb.eval("str(caught[0].message)") == msg
    # what was recorded is finite (nothing NaN was plotted)
    assert nb.eval("bool(np.all(np.isfinite(h_div.J)))")


def test_decay_beats_both_constants(nb):
    r = nb.eval("{k: [float(v) for v in c] for k, c in runs.items()}")
    big, small = r["α = 0.3 constante"], r["α = 0.02 constante"]
    decay = r["decaimento linear 0.3 → 0.02 (τ = 400)"]
    late = slice(31, 41)

    def mean(xs):
        return sum(xs) / len(xs)

    # floor: the decay ends far below the large constant alpha (and below the small one)
    assert mean(decay[late]) < mean(big[late]) / 20
    assert mean(decay[late]) < mean(small[late]) / 5
    # speed: early on, the large constant and the decay are ahead of the small constant
    assert big[5] < small[5] and decay[5] < small[5]
    # the slide's figure: the schedule is linear and then flat
    assert nb.eval("bool(np.all(linear(np.arange(400, 801)) == 0.02))")


def test_step_and_exponential_reach_about_002_at_tau(nb):
    vals = nb.eval("{k: float(s(400)) for k, s in decays.items()}")
    for v in vals.values():
        assert v == pytest.approx(0.02, rel=0.1)
    finals = nb.eval("{k: float(np.mean(c[31:])) for k, c in decay_runs.items()}")
    assert all(v < 1e-3 for v in finals.values())


# ------------------------------------------------------------------ exercise 1
def test_solution_matches_nnlib_linear_decay(nb):
    diff = nb.eval(
        "max(abs(linear_decay(k, a0, at, t) - float(schedules.LinearDecay(a0, at, t)(k)))"
        " for a0, at, t in [(0.3, 0.02, 400), (0.01, 0.1, 7), (1.0, 1e-4, 2.5)]"
        " for k in [0, 1, 2, 3, 6.5, 7, 100, 399, 400, 401, 10**6])")
    assert diff < 1e-15


def test_linear_decay_statement_states_its_contract():
    """#13 item 3: the statement gives the contract (float, ValueError naming the value for j < 0);
    that no other notebook defines linear_decay with another one is tests/test_exercise_rules.py's job."""
    ours = nbformat.read(SOURCE, as_version=4)
    text = next(c.source for c in ours.cells
                if c.cell_type == "markdown" and ("Escreva `linear_decay" in c.source
                                                  or "Implemente `linear_decay" in c.source))
    assert "`float`" in text and "j < 0" in text and "ValueError" in text and "valor recebido" in text


MUTANTS = {
    "no_clamp_after_tau": "return float((1 - j / tau) * alpha0 + (j / tau) * alpha_tau)",
    "integer_division": "frac = min(j // tau, 1)\n    return float((1 - frac) * alpha0 + frac * alpha_tau)",
    "swapped_alphas": "frac = min(j / tau, 1.0)\n    return float((1 - frac) * alpha_tau + frac * alpha0)",
    "numpy_scalar": "frac = np.minimum(j / tau, 1.0)\n    return (1 - frac) * alpha0 + frac * alpha_tau",
    "ignores_alpha_tau": "frac = min(j / tau, 1.0)\n    return float((1 - frac) * alpha0)",
    "quadratic": "frac = min(j / tau, 1.0) ** 2\n    return float((1 - frac) * alpha0 + frac * alpha_tau)",
    "off_by_one": "frac = min((j + 1) / tau, 1.0)\n    return float((1 - frac) * alpha0 + frac * alpha_tau)",
    "returns_array": "frac = min(j / tau, 1.0)\n    return np.array([(1 - frac) * alpha0 + frac * alpha_tau])",
    "calls_nnlib": "return float(schedules.LinearDecay(alpha0, alpha_tau, tau)(j))",
}
J_CHECK = {
    "no_message": "if j < 0:\n        raise ValueError('invalid')\n    ",
    "missing": "",
    "integers_only": "if j <= -1:\n        raise ValueError(f'j = {j}')\n    ",
}
CORRECT = "frac = min(j / tau, 1.0)\n    return float((1 - frac) * alpha0 + frac * alpha_tau)"
GOOD_CHECK = "if j < 0:\n        raise ValueError(f'j must be >= 0, got {j}')\n    "


def define(check, body):
    return f"def linear_decay(j, alpha0, alpha_tau, tau):\n    {check}{body}\n"


@pytest.fixture()
def restore_solution(nb):
    yield
    nb.run(grade_cell_source(SOURCE, "linear_decay"))


def test_linear_decay_test_cell_accepts_correct_answers(nb, restore_solution):
    test = grade_cell_source(SOURCE, "teste_linear_decay")
    nb.run(grade_cell_source(SOURCE, "linear_decay"))
    assert nb.accepts(test)
    # an independent correct answer written differently passes too
    alt = ("def linear_decay(j, alpha0, alpha_tau, tau):\n"
           "    if j < 0:\n        raise ValueError(f'iteração negativa: j = {j!r}')\n"
           "    if j >= tau:\n        return float(alpha_tau)\n"
           "    return float(alpha0 + (alpha_tau - alpha0) * j / tau)\n")
    nb.run(alt)
    assert nb.accepts(test)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_linear_decay_test_cell_rejects_wrong_formula(nb, restore_solution, name):
    nb.run(define(GOOD_CHECK, MUTANTS[name]))
    assert nb.rejects(grade_cell_source(SOURCE, "teste_linear_decay")), name


@pytest.mark.parametrize("name", sorted(J_CHECK))
def test_linear_decay_test_cell_rejects_bad_j_handling(nb, restore_solution, name):
    nb.run(define(J_CHECK[name], CORRECT))
    assert nb.rejects(grade_cell_source(SOURCE, "teste_linear_decay")), name


def test_linear_decay_hidden_tests_catch_what_visible_miss(nb, restore_solution):
    test = grade_cell_source(SOURCE, "teste_linear_decay")
    numpy_int = ("def linear_decay(j, alpha0, alpha_tau, tau):\n"
                 "    if j < 0:\n        raise ValueError(f'j = {j}')\n"
                 "    if type(j) is not int:\n        return alpha0 * 1.0 if j == 0 else np.float64(alpha_tau)\n"
                 "    frac = min(j / tau, 1.0)\n    return float((1 - frac) * alpha0 + frac * alpha_tau)\n")
    for code in (define(J_CHECK["integers_only"], CORRECT),
                 numpy_int):
        nb.run(code)
        assert nb.accepts(visible_part(test))
        assert nb.rejects(test)


def test_linear_decay_blank_answer_fails(nb, restore_solution):
    blank = ("def linear_decay(j, alpha0, alpha_tau, tau):\n"
             "    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    nb.run(blank)
    verdict = nb.verdict(visible_part(grade_cell_source(SOURCE, "teste_linear_decay")))
    # the stub's own error stops the cell (no points): the cell calls the answer directly
    assert verdict.broken and verdict.error == "NotImplementedError", str(verdict)


def test_visible_tests_print_no_expected_value():
    """#13: the visible part checks properties; exact values only in the hidden part."""
    visible = visible_part(grade_cell_source(SOURCE, "teste_linear_decay"))
    assert "check_close" not in visible and "check_scalar" not in visible and "esperava" not in visible
    statement = next(c.source for c in nbformat.read(SOURCE, as_version=4).cells if "Escreva `linear_decay" in c.source)
    assert "np.minimum" not in statement   # the old hint was the solution


def test_student_version_meets_layout_targets():
    assert layout_problems(STUDENT) == []


def test_title():
    assert nbformat.read(SOURCE, as_version=4).cells[0].source.startswith("# Aula 2 — ")


def test_prediction_experiment_shows_what_the_question_asks(nb):
    """The question's experiment: m = 20 lowers the plateau of α = 0.3 more than σ²/m predicts,
    and the decay (τ in iterations) helps less with m = 20 than with m = 5."""
    r = nb.eval("{m: (float(median_excess(0.3, m=m)[31:].mean()),"
                " float(median_excess(schedules.LinearDecay(0.3, 0.02, 400), m=m)[31:].mean())) for m in (5, 20)}")
    (c5, d5), (c20, d20) = r["5"], r["20"]
    predicted = (1 / 5 * 95 / 99) / (1 / 20 * 80 / 99)   # the σ²/m (N − m)/(N − 1) ratio, about 4.75
    assert c5 / c20 > 1.5 * predicted
    assert d20 > 3 * d5


# ------------------------------------------------------------------ exercise 2
@pytest.fixture()
def restore_alpha(nb):
    yield
    nb.run("alpha_escolhido = 0.15")


@pytest.mark.parametrize("alpha", ["0.08", "0.1", "0.15", "0.2", "np.float64(0.12)"])
def test_alpha_exercise_solved_by_a_range(nb, restore_alpha, alpha):
    nb.run(f"alpha_escolhido = {alpha}")
    assert nb.accepts(grade_cell_source(SOURCE, "teste_alpha_escolhido"))


@pytest.mark.parametrize("alpha", ["0.01", "0.05", "0.07", "0.5", "1.0", "3.0", "-0.1", "'0.15'",
                                   "True", "np.array([0.15])"])
def test_alpha_exercise_rejects_bad_choices(nb, restore_alpha, alpha):
    nb.run(f"alpha_escolhido = {alpha}")
    assert nb.rejects(grade_cell_source(SOURCE, "teste_alpha_escolhido"))


def test_alpha_exercise_blank_fails(nb, restore_alpha):
    nb.run("del alpha_escolhido")   # the stub cell raises before it binds the name
    verdict = nb.verdict(grade_cell_source(SOURCE, "teste_alpha_escolhido"))
    assert verdict.broken and verdict.error == "NameError", str(verdict)


def test_alpha_exercise_matches_notebook_helper(nb):
    # the locked helper the students use trains the same problem the test cell grades
    j_helper = nb.eval("float(train_exercise(0.15, seed=0).J[-1])")
    nb.run(grade_cell_source(SOURCE, "teste_alpha_escolhido"))
    assert nb.eval("_J0") == pytest.approx(j_helper, rel=1e-12)
    assert nb.eval("J_TARGET") == 0.24


# The named wrong answers each visible test rejects (tests/test_exercise_rules.py, rule 6).
WRONG_ANSWERS = {
    "teste_linear_decay": {**{name: define(GOOD_CHECK, body) for name, body in MUTANTS.items()},
                           **{f"j check: {name}": define(check, CORRECT) for name, check in J_CHECK.items()
                              if name != "integers_only"}},
    "teste_alpha_escolhido": {"α too small: J still high after 10 épocas": "alpha_escolhido = 0.01",
                              "α too large: diverges": "alpha_escolhido = 3.0",
                              "negative α": "alpha_escolhido = -0.1",
                              "α as a string": "alpha_escolhido = '0.15'"},
}
