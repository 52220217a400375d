"""Lista 1 (otimizadores): the graded test cells, the widget and the notebook's claims.

One kernel executes the source notebook for the whole module. The grading tests swap in
wrong answers (the classic mistakes: the small-α approximation of the stationary variance,
the noise of one example instead of m, a formula instead of a measurement, momentum's
stability limit taken from plain SGD, Adam without bias correction, a schedule with no
margin), run the locked test cell (visible and hidden parts) and expect it to fail; then
they restore the model solution. Some mistakes must pass the visible part and be caught
only by the hidden one: that is checked too, so the hidden tests are known to add
something. The tuning exercise's target is shown to be missed by the statement's example on
every hidden seed and met by a coarse grid search, and the numbers the model answers quote
are recomputed from the model functions.
"""

import os
import re
import sys
import time

import nbformat
import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)

from notebook_layout import layout_problems  # noqa: E402
from notebook_session import NotebookSession  # noqa: E402

NB_ID = "lista01_otimizadores"
ROOT = os.path.dirname(TESTS)
SOURCE = os.path.join(ROOT, "solutions", NB_ID, NB_ID + ".ipynb")
RELEASE = os.path.join(ROOT, "assignments", NB_ID, NB_ID + ".ipynb")

RUNNER = '''
def _run_cell_source(src):
    """Execute a test cell's source in the notebook's namespace; report how it ended."""
    try:
        exec(compile(src, "<test cell>", "exec"), globals())
    except AssertionError as error:
        return "AssertionError: " + str(error)[:400]
    except Exception as error:
        return type(error).__name__ + ": " + str(error)[:400]
    return "passed"
'''


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def cell_source(nb, grade_id):
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(grade_id)


def visible_part(source):
    return source.split("### BEGIN HIDDEN TESTS")[0]


def hidden_part(source):
    return source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOURCE, as_version=4)


@pytest.fixture(scope="module")
def nb():
    t0 = time.monotonic()
    with NotebookSession(SOURCE, timeout=180) as session:
        session.seconds = time.monotonic() - t0
        session.run(RUNNER)
        yield session


def run_test_cell(nb, source):
    nb.run(f"_SRC = {source!r}")
    return nb.eval("_run_cell_source(_SRC)")


# --------------------------------------------------------------------------- structure
TEST_CELLS = ["teste_sgd_stationary_variance", "teste_measure_sgd_spread",
              "teste_momentum_stationary_variance", "teste_adam_step_after_silence", "teste_my_schedule"]
ANSWERS = ["sgd_stationary_variance", "measure_sgd_spread", "experimento_tremor",
           "momentum_stationary_variance", "adam_step_after_silence", "my_schedule"]


def test_points_add_up_to_100(notebook):
    graded = [nbgrader_meta(c) for c in notebook.cells if nbgrader_meta(c).get("grade")]
    total = sum(m["points"] for m in graded)
    auto = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in notebook.cells
            if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
    assert total == 100 and sum(auto.values()) == 65
    assert list(auto) == TEST_CELLS
    manual = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in notebook.cells
              if nbgrader_meta(c).get("grade") and c.cell_type == "markdown"}
    assert manual == {"identificacao": 0, "pergunta1": 10, "pergunta2": 5, "pergunta3": 8, "pergunta4": 12}
    for c in notebook.cells:
        if c.cell_type == "markdown" and nbgrader_meta(c).get("solution"):
            assert "Rubrica" in c.source or nbgrader_meta(c)["grade_id"] == "identificacao"


def test_every_test_cell_has_hidden_tests(notebook):
    tests = [c for c in notebook.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    assert len(tests) == 5
    for c in tests:
        assert "### BEGIN HIDDEN TESTS" in c.source and "### END HIDDEN TESTS" in c.source
        # a failing visible check shows 3 lines after it in the traceback (IPython context):
        # those must not be hidden lines, so the visible part ends with a print and comments
        before = c.source.split("### BEGIN HIDDEN TESTS")[0].rstrip("\n").splitlines()[-4:]
        assert before[0].startswith('print("') and all(l.startswith("# ") for l in before[1:])
        # nbgrader reads a value on the last line as partial credit
        last = c.source.rstrip().splitlines()[-1]
        assert last.strip() == "### END HIDDEN TESTS"


def test_visible_tests_check_properties_not_values(notebook):
    """No visible part compares with an expected number (check_close / check_scalar with an
    expected value print it on failure); those comparisons are in the hidden parts."""
    for grade_id in TEST_CELLS:
        visible = visible_part(cell_source(notebook, grade_id))
        assert "check_close" not in visible and "check_scalar" not in visible, grade_id
        assert "esperava" not in visible, grade_id
        assert "check_scalar" in hidden_part(cell_source(notebook, grade_id)) or grade_id == "teste_my_schedule"


def test_header_and_instructions(notebook):
    header = notebook.cells[0].source
    for phrase in ("Prazo de entrega", "Validate", "Não apague", "nnlib.optim", "100 pontos", "não"):
        assert phrase in header
    ident = cell_source(notebook, "identificacao")
    assert "Matrícula" in ident and "Nome" in ident


def test_statements_do_not_give_the_answers(notebook):
    """The formulas the exercises ask for appear in no statement (markdown a student sees)."""
    shown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"
                      and not nbgrader_meta(c).get("solution"))
    for answer in ("2 - \\alpha h", "2 − αh", "(2 − α h)", "4α/(2 + αh)", "3,16", "0,744", "1 − β₁ ≤",
                   "0,19", "0,002", "0,0031"):
        assert answer not in shown, answer


def test_notebook_runs_within_20_seconds(nb):
    assert nb.seconds < 20, f"{nb.seconds:.1f} s"


def test_layout_targets_of_the_student_version():
    """Issue #14: at most 25% of demo lines only draw, no widget cell over 15 lines."""
    assert layout_problems(RELEASE) == []


# --------------------------------------------------------------------------- grading
@pytest.mark.parametrize("grade_id", TEST_CELLS)
def test_model_solution_passes(nb, notebook, grade_id):
    assert run_test_cell(nb, cell_source(notebook, grade_id)) == "passed"


# (answer cell, test cell, wrong code, caught only by the hidden part?)
BUGS = {
    "variance_small_alpha_approximation": ("sgd_stationary_variance", "teste_sgd_stationary_variance", """
def sgd_stationary_variance(alpha, h, s, m):
    if not 0 < alpha * h < 2:
        raise ValueError("sem regime estacionário")
    return float(alpha * h * s ** 2 / (2 * m))       # só vale para alpha h pequeno
""", True),
    "variance_squared_denominator": ("sgd_stationary_variance", "teste_sgd_stationary_variance", """
def sgd_stationary_variance(alpha, h, s, m):
    a = alpha * h
    if not 0 < a < 2:
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (m * (2 - a) ** 2))
""", True),
    "variance_noise_without_h": ("sgd_stationary_variance", "teste_sgd_stationary_variance", """
def sgd_stationary_variance(alpha, h, s, m):
    a = alpha * h
    if not 0 < a < 2:
        raise ValueError("sem regime estacionário")
    return float(alpha ** 2 * s ** 2 / (m * a * (2 - a)))   # ruído de g tomado como s²/m
""", False),
    "variance_ignores_m": ("sgd_stationary_variance", "teste_sgd_stationary_variance", """
def sgd_stationary_variance(alpha, h, s, m):
    a = alpha * h
    if not 0 < a < 2:
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (2 - a))
""", False),
    "variance_no_value_error": ("sgd_stationary_variance", "teste_sgd_stationary_variance", """
def sgd_stationary_variance(alpha, h, s, m):
    a = alpha * h
    return float(a * s ** 2 / (m * (2 - a)))
""", False),
    "variance_limit_excluded_wrongly": ("sgd_stationary_variance", "teste_sgd_stationary_variance", """
def sgd_stationary_variance(alpha, h, s, m):
    a = alpha * h
    if a > 2 or alpha <= 0:
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (m * (2 - a))) if a < 2 else float("inf")
""", False),
    "spread_returns_the_formula": ("measure_sgd_spread", "teste_measure_sgd_spread", """
def measure_sgd_spread(alpha, h, s, m, steps, rng):
    a = alpha * h
    return float(a * s ** 2 / (m * (2 - a)))
""", False),
    "spread_global_random": ("measure_sgd_spread", "teste_measure_sgd_spread", """
def measure_sgd_spread(alpha, h, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = np.random.normal(0.0, s, size=m)
        w = w - alpha * np.mean(h * (w - c))
        path.append(w)
    return float(np.var(path[steps - steps // 2:]))
""", False),
    "spread_one_example": ("measure_sgd_spread", "teste_measure_sgd_spread", """
def measure_sgd_spread(alpha, h, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = rng.normal(0.0, s)                 # um exemplo só, não m
        w = w - alpha * h * (w - c)
        path.append(w)
    return float(np.var(path[steps - steps // 2:]))
""", True),
    "spread_sum_not_mean": ("measure_sgd_spread", "teste_measure_sgd_spread", """
def measure_sgd_spread(alpha, h, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = rng.normal(0.0, s, size=m)
        w = w - alpha * np.sum(h * (w - c))    # soma no lugar da média
        path.append(w)
    return float(np.var(path[steps - steps // 2:]))
""", False),
    "spread_std_not_var": ("measure_sgd_spread", "teste_measure_sgd_spread", """
def measure_sgd_spread(alpha, h, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = rng.normal(0.0, s, size=m)
        w = w - alpha * np.mean(h * (w - c))
        path.append(w)
    return float(np.std(path[steps - steps // 2:]))
""", False),
    "momentum_ignores_mu": ("momentum_stationary_variance", "teste_momentum_stationary_variance", """
def momentum_stationary_variance(alpha, mu, h, s, m):
    if not 0 <= mu < 1:
        raise ValueError("mu")
    a = alpha * h
    if not 0 < a < 2 * (1 + mu):
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (m * abs(2 - a)))
""", False),
    "momentum_sgd_stability_limit": ("momentum_stationary_variance", "teste_momentum_stationary_variance", """
def momentum_stationary_variance(alpha, mu, h, s, m):
    if not 0 <= mu < 1:
        raise ValueError("mu")
    a = alpha * h
    if not 0 < a < 2:                           # o limite do GDE sem momento
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 * (1 + mu) / (m * (1 - mu) * (2 * (1 + mu) - a)))
""", False),
    "momentum_small_alpha_approximation": ("momentum_stationary_variance", "teste_momentum_stationary_variance", """
def momentum_stationary_variance(alpha, mu, h, s, m):
    if not 0 <= mu < 1:
        raise ValueError("mu")
    a = alpha * h
    if not 0 < a < 2 * (1 + mu):
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (2 * m * (1 - mu)))
""", True),
    "adam_no_bias_correction": ("adam_step_after_silence", "teste_adam_step_after_silence", """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if not isinstance(k, int) or k < 0:
        raise ValueError("k")
    return float(alpha * (1 - beta1) / np.sqrt(1 - beta2))
""", False),
    "adam_t_equals_k": ("adam_step_after_silence", "teste_adam_step_after_silence", """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if not isinstance(k, int) or k < 0:
        raise ValueError("k")
    t = k                                        # t usado antes de ser incrementado
    return float(alpha * (1 - beta1) / (1 - beta1 ** t) / np.sqrt((1 - beta2) / (1 - beta2 ** t)))
""", False),
    "adam_without_square_root": ("adam_step_after_silence", "teste_adam_step_after_silence", """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if not isinstance(k, int) or k < 0:
        raise ValueError("k")
    t = k + 1
    return float(alpha * (1 - beta1) / (1 - beta1 ** t) / ((1 - beta2) / (1 - beta2 ** t)))
""", True),
    "adam_simulated_with_nnlib": ("adam_step_after_silence", "teste_adam_step_after_silence", """
from nnlib import optim as _optim
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if not isinstance(k, int) or k < 0:
        raise ValueError("k")
    adam, w = _optim.Adam(alpha=alpha, beta1=beta1, beta2=beta2, eps=1e-300), np.zeros(1)
    for _ in range(k):
        adam.step([w], lambda ws: [np.zeros(1)])
    before = float(w[0])
    adam.step([w], lambda ws: [np.ones(1)])
    return abs(float(w[0]) - before)
""", False),
    "schedule_statement_example": ("my_schedule", "teste_my_schedule", """
my_schedule = {"alpha0": 0.1, "alpha_tau": 0.01, "tau": 400}
""", False),
    "schedule_best_constant": ("my_schedule", "teste_my_schedule", """
my_schedule = {"alpha0": 0.02, "alpha_tau": 0.02, "tau": 1}
""", False),
    "schedule_diverges": ("my_schedule", "teste_my_schedule", """
my_schedule = {"alpha0": 0.5, "alpha_tau": 0.002, "tau": 400}
""", False),
    "schedule_without_margin": ("my_schedule", "teste_my_schedule", """
my_schedule = {"alpha0": 0.12, "alpha_tau": 0.0029, "tau": 300}
""", True),
    "schedule_wrong_keys": ("my_schedule", "teste_my_schedule", """
my_schedule = {"alpha_0": 0.19, "alpha_tau": 0.002, "tau": 200}
""", False),
    "schedule_negative": ("my_schedule", "teste_my_schedule", """
my_schedule = {"alpha0": 0.19, "alpha_tau": -0.002, "tau": 200}
""", False),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_wrong_answer_fails_its_test_cell(nb, notebook, bug):
    answer_id, test_id, wrong, hidden_only = BUGS[bug]
    test_src = cell_source(notebook, test_id)
    try:
        nb.run(wrong)
        full = run_test_cell(nb, test_src)
        visible = run_test_cell(nb, visible_part(test_src)) if hidden_only else None
    finally:
        nb.run(cell_source(notebook, answer_id))
    assert full != "passed", f"{bug}: {full}"
    if hidden_only:
        assert visible == "passed", f"{bug}: the visible part already fails: {visible}"
    assert run_test_cell(nb, test_src) == "passed"  # the model solution is back


def test_blank_answers_fail_every_test_cell(nb, notebook):
    """The student version's stubs (raise NotImplementedError / no my_schedule) fail every cell."""
    stub = "    raise NotImplementedError()\n"
    try:
        for name in ("sgd_stationary_variance", "measure_sgd_spread", "momentum_stationary_variance",
                     "adam_step_after_silence"):
            nb.run(f"def {name}(*args, **kwargs):\n{stub}")
        nb.run("del my_schedule")
        verdicts = {t: run_test_cell(nb, cell_source(notebook, t)) for t in TEST_CELLS}
    finally:
        for answer_id in ANSWERS:
            if answer_id != "experimento_tremor":
                nb.run(cell_source(notebook, answer_id))
    assert all(v != "passed" for v in verdicts.values()), verdicts


def test_messages_are_portuguese_and_hide_the_expected_value(nb, notebook):
    _, test_id, wrong, _ = BUGS["variance_noise_without_h"]
    try:
        nb.run(wrong)
        result = run_test_cell(nb, visible_part(cell_source(notebook, test_id)))
    finally:
        nb.run(cell_source(notebook, "sgd_stationary_variance"))
    assert result.startswith("AssertionError: sgd_stationary_variance: (α, h) = (0.1, 2) e (0.2, 1)")
    assert "esperava" not in result and not re.search(r"\d\.\d{3,}", result)


def test_final_summary_reruns_the_visible_tests(nb, notebook):
    """The last code cell (for Colab, which has no Validate button) re-runs the executed test
    cells and reports each exercise with its points; a wrong answer shows as failed."""
    points = {nbgrader_meta(c)["grade_id"].removeprefix("teste_"): nbgrader_meta(c)["points"]
              for c in notebook.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
    assert nb.eval("{name: p for _, name, p in EXERCISES}") == points
    assert nb.eval("conferencia") == {name: "testes visíveis ok" for name in points}
    summary = cell_source(notebook, "conferencia")
    try:
        nb.run(BUGS["variance_noise_without_h"][2])
        nb.run("del my_schedule")
        outputs = nb.run(summary)
        statuses = nb.eval("conferencia")
    finally:
        nb.run(cell_source(notebook, "sgd_stationary_variance"))
        nb.run(cell_source(notebook, "my_schedule"))
    assert statuses["sgd_stationary_variance"].startswith("falhou: sgd_stationary_variance: (α, h)")
    assert statuses["my_schedule"].startswith("ainda sem resposta")
    assert statuses["adam_step_after_silence"] == "testes visíveis ok"
    text = "".join(o.get("text", "") for o in outputs)
    assert "Exercício 1 (15 pontos): falhou" in text and "ok em 30 de 65 pontos" in text


# --------------------------------------------------------------------------- the tuning target
def test_statement_example_misses_the_target_on_every_seed(nb, notebook):
    """The statement's EXAMPLE_SCHEDULE, and every constant α, fail the target on the visible
    seed and on every hidden seed of teste_my_schedule (so the example does not solve it)."""
    assert run_test_cell(nb, cell_source(notebook, "teste_my_schedule")) == "passed"  # defines schedule_gap
    seeds = nb.eval("[0] + list(HIDDEN_SEEDS)")
    assert len(seeds) == 6 and len(set(seeds)) == 6
    target = nb.eval("J_TARGET")
    example = nb.eval("[schedule_gap(EXAMPLE_SCHEDULE, s) for s in [0] + list(HIDDEN_SEEDS)]")
    assert min(example) > 2.5 * target, example
    constant = nb.eval("[min(schedule_gap({'alpha0': a, 'alpha_tau': a, 'tau': 1}, s) "
                       "for a in (0.005, 0.01, 0.02, 0.04, 0.08)) for s in [0] + list(HIDDEN_SEEDS)]")
    assert min(constant) > 5 * target, constant


def test_a_coarse_search_reaches_the_target_with_margin(nb, notebook):
    """A grid search on the visible seed picks a schedule that meets the target on every hidden
    seed; the model answer does, with margin."""
    assert run_test_cell(nb, cell_source(notebook, "teste_my_schedule")) == "passed"
    nb.run("_grid = [{'alpha0': a0, 'alpha_tau': at, 'tau': tau} for a0 in (0.05, 0.1, 0.15, 0.19) "
           "for at in (0.001, 0.002, 0.005, 0.01) for tau in (100, 200, 300, 400)]\n"
           "_best = min(_grid, key=lambda c: schedule_gap(c, 0))")
    best_gaps = nb.eval("[schedule_gap(_best, s) for s in [0] + list(HIDDEN_SEEDS)]")
    assert max(best_gaps) <= nb.eval("J_TARGET"), (nb.eval("_best"), best_gaps)
    reaching = nb.eval("sum(schedule_gap(c, 0) <= J_TARGET for c in _grid)")
    assert 8 <= reaching <= 40, reaching  # a real search, not a single lucky point
    model = nb.eval("[schedule_gap(my_schedule, s) for s in [0] + list(HIDDEN_SEEDS)]")
    assert max(model) <= 0.8 * nb.eval("J_TARGET"), model


# --------------------------------------------------------------------------- the model answers' numbers
def test_pergunta1_numbers(nb):
    """α′ = 4α/(2 + αh) keeps Var(w) when m doubles; the model figure's ratios."""
    same = nb.eval("[sgd_stationary_variance(4 * a / (2 + a), 1.0, 1.0, 2) / sgd_stationary_variance(a, 1.0, 1.0, 1) "
                   "for a in (0.1, 1.0, 1.5)]")
    assert all(abs(r - 1) < 1e-12 for r in same)
    ratios = nb.eval("{m: (medidas_exp[m] / previstas_exp[m]).tolist() for m in (1, 8)}")
    ah = nb.eval("ah_exp.tolist()")
    for r in ratios.values():
        middle = [x for a, x in zip(ah, r) if 0.1 <= a <= 1.5]
        ends = [x for a, x in zip(ah, r) if a < 0.1 or a > 1.5]
        assert all(abs(x - 1) < 0.05 for x in middle), r       # "a poucos por cento no meio"
        assert max(abs(x - 1) for x in ends) > max(abs(x - 1) for x in middle)   # "mais nas pontas"


def test_pergunta2_numbers(nb):
    mom = nb.eval("momentum_stationary_variance(0.1, 0.9, 1.0, 1.0, 1)")
    sgd_eff = nb.eval("sgd_stationary_variance(1.0, 1.0, 1.0, 1)")
    sgd_same = nb.eval("sgd_stationary_variance(0.1, 1.0, 1.0, 1)")
    assert abs(mom - 0.51) < 0.005 and abs(sgd_eff - 1.0) < 1e-12 and abs(sgd_same - 0.053) < 0.0005
    assert 9.5 < mom / sgd_same < 10.5
    small = nb.eval("momentum_stationary_variance(1e-5, 0.9, 1.0, 1.0, 1) / sgd_stationary_variance(1e-4, 1.0, 1.0, 1)")
    assert abs(small - 1) < 1e-3


def test_pergunta3_numbers(nb):
    steps = nb.eval("[adam_step_after_silence(k, 1.0) for k in range(4000)]")
    assert abs(steps[1] - 0.744) < 0.0005
    k_min = min(range(len(steps)), key=steps.__getitem__)
    assert k_min == 11 and abs(steps[k_min] - 0.48) < 0.005
    assert next(k for k, s in enumerate(steps) if k > 0 and s > 1.0) == 105
    assert abs(nb.eval("adam_step_after_silence(10**7, 1.0)") - 3.16) < 0.005
    never_above = nb.eval("max(adam_step_after_silence(k, 1.0, 0.9, 0.99) for k in range(5000))")
    assert never_above <= 1.0 + 1e-12


def test_pergunta4_numbers(nb):
    floor = nb.eval("sum(0.5 * hh * sgd_stationary_variance(0.002, hh, 1.0, 4) for hh in (0.2, 10.0))")
    assert abs(floor - 0.0126) < 0.00005
    steep_limit = nb.eval("[a for a in np.arange(0.0025, 0.0040, 0.00001) "
                          "if 0.5 * 10 * sgd_stationary_variance(a, 10.0, 1.0, 4) <= 0.02][-1]")
    assert abs(steep_limit - 0.0031) < 0.00006
    example_floor = nb.eval("sum(0.5 * hh * sgd_stationary_variance(0.01, hh, 1.0, 4) for hh in (0.2, 10.0))")
    assert abs(example_floor - 0.066) < 0.001 and example_floor > 3 * nb.eval("J_TARGET")
    sums = nb.eval("[float(np.sum(schedules.LinearDecay(c['alpha0'], c['alpha_tau'], c['tau'])(np.arange(BUDGET)))) "
                   "for c in (my_schedule, EXAMPLE_SCHEDULE)]")
    assert abs(sums[0] - 19.6) < 0.1 and abs(sums[1] - 22) < 0.1
    shrink = nb.eval("float(np.prod(1 - 0.2 * schedules.LinearDecay(0.19, 0.002, 200)(np.arange(BUDGET))))")
    assert 0.015 < shrink < 0.025
    model = nb.eval("[float(train_schedule(**my_schedule, seed=s)[-1]) for s in (0, 11, 12, 13, 14, 15)]")
    assert all(0.0115 <= g <= 0.0155 for g in model), model
    # "α₀ = 0,25 com τ = 200 ainda se recupera; 0,5 com τ = 400 diverge"
    assert nb.eval("float(train_schedule(0.25, 0.002, 200, 0)[-1])") <= nb.eval("J_TARGET")
    assert nb.eval("bool(not train_schedule(0.5, 0.002, 400, 0)[-1] < 1e6)")


# --------------------------------------------------------------------------- figures and widget
PIXELS = "from nnlib.liveplot import differing_pixels as _differing_pixels\n"


def test_widget_callback_returns_png_and_follows_the_sliders(nb):
    nb.run("_png_a = cronograma_widget.atualizar(alpha0=0.19, alpha_tau=0.002, tau=200)\n"
           "_png_b = cronograma_widget.atualizar(alpha0=0.05, alpha_tau=0.01, tau=100)")
    assert nb.eval("[p[:8] == b'\\x89PNG\\r\\n\\x1a\\n' for p in (_png_a, _png_b)]") == [True, True]
    assert nb.eval("_png_a != _png_b")
    assert nb.eval("cronograma_widget.children[1].value == _png_b")  # what the widget shows
    nb.run("_png_div = cronograma_widget.atualizar(alpha0=0.5, alpha_tau=0.002, tau=400)")  # diverges
    assert nb.eval("_png_div[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")


@pytest.mark.parametrize("config", [(0.19, 0.002, 200), (0.5, 0.002, 400), (0.01, 0.0005, 10), (0.1, 0.05, 400)])
def test_widget_redraw_equals_a_full_draw(nb, config):
    """After other moves, the in-place redraw shows pixel for pixel a fresh figure updated once."""
    nb.run(PIXELS)
    for other in ((0.05, 0.01, 100), (0.25, 0.0005, 30), (0.19, 0.002, 200)):
        nb.run(f"cronograma_widget.atualizar(*{other!r})")
    nb.run(f"_png = cronograma_widget.atualizar(*{config!r})\n"
           "_fig, _lines = figures.cronograma_figure(train_schedule, EXAMPLE_SCHEDULE, J_TARGET, BUDGET, 0.3)\n"
           f"figures.update_cronograma(_lines, train_schedule, dict(zip(('alpha0', 'alpha_tau', 'tau'), {config!r})), BUDGET)")
    assert nb.eval("_differing_pixels(_png, _fig)") == 0
    label = nb.eval("_lines[1].get_label()")
    assert ("divergiu" in label) == (config[0] == 0.5), label


def test_widget_callback_latency(nb):
    """docs/performance.md targets: callback median <= 150 ms CPU, p95 <= 300 ms."""
    nb.run("import time as _time\n_times = []\n"
           "for _a0 in np.geomspace(0.02, 0.25, 12):\n"
           "    _t0 = _time.process_time()\n"
           "    cronograma_widget.atualizar(float(_a0), 0.002, 150)\n"
           "    _times.append(_time.process_time() - _t0)")
    times = sorted(nb.eval("_times"))
    assert times[len(times) // 2] <= 0.150 and times[int(0.95 * (len(times) - 1))] <= 0.300, times


def test_schedule_figure(nb):
    nb.run("_f = figures.schedule_figure(runs, J_TARGET, BUDGET)")
    assert nb.eval("len(_f.axes)") == 2
    labels = nb.eval("[t.get_text() for t in _f.axes[1].get_legend().get_texts()]")
    assert len(labels) == 2 and labels[0].startswith("exemplo: α₀ = 0.1") and labels[1].startswith("sua escolha")
    assert nb.eval("[len(l.get_xdata()) for l in _f.axes[0].lines]") == [400, 400]
    assert nb.eval("_f.axes[1].get_yscale()") == "log"


# --------------------------------------------------------------------------- student version
def test_student_version_exists_and_is_blank():
    assert os.path.exists(RELEASE), "run `make release`"
    student = nbformat.read(RELEASE, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "Rubrica" not in text and "Resposta modelo" not in text
    assert '"alpha0": 0.19' not in text and "0.002" not in text
    stubs = [c for c in student.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubs) == 6  # 4 functions, the figure of the experiment, my_schedule
    assert student.cells[-2].source == nbformat.read(SOURCE, as_version=4).cells[-2].source  # the summary cell


# --------------------------------------------------------------------------- sample submissions
def solution_code(notebook, grade_id):
    """An answer cell of the source without the solution markers (what a good student writes)."""
    lines = cell_source(notebook, grade_id).splitlines()
    return "\n".join(l for l in lines if l.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def sample_submission(notebook, answers):
    """The released student version with ``answers`` (grade_id -> source) filled in."""
    student = nbformat.read(RELEASE, as_version=4)
    for cell in student.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nbformat.writes(student)


@pytest.fixture(scope="module")
def graded_samples(notebook, tmp_path_factory):
    """`make grade`'s code (course.grading.driver.grade, without the sandbox) on two sample submissions."""
    import shutil

    sys.path.insert(0, ROOT)
    from course.grading.driver import grade
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("course")
    os.chmod(base, 0o711)
    shutil.copytree(os.path.dirname(SOURCE), base / "solutions" / NB_ID)
    good = {gid: solution_code(notebook, gid) for gid in ANSWERS}
    text = {"identificacao": "Nome: Aluna Exemplo\n\nMatrícula: 123456",
            "pergunta1": "A variância cai com m.", "pergunta2": "O momento treme mais.",
            "pergunta3": "O passo é α.", "pergunta4": "Escolhi pela busca."}
    partial = {**good, **text,
               "sgd_stationary_variance": BUGS["variance_noise_without_h"][2],
               "adam_step_after_silence": BUGS["adam_no_bias_correction"][2],
               "my_schedule": BUGS["schedule_statement_example"][2]}
    copied = {**good, **text, "adam_step_after_silence": BUGS["adam_simulated_with_nnlib"][2],
              "measure_sgd_spread": BUGS["spread_returns_the_formula"][2]}
    for student, answers in (("parcial", partial), ("usa_nnlib", copied)):
        folder = base / "submitted" / student / NB_ID
        folder.mkdir(parents=True)
        (folder / (NB_ID + ".ipynb")).write_text(sample_submission(notebook, answers), encoding="utf-8")
    results = grade(str(base), pairs=[("parcial", NB_ID), ("usa_nnlib", NB_ID)], use_sandbox=False)
    scores = {}
    with Gradebook(f"sqlite:///{base}/gradebook.db", "t320") as gb:
        for student in ("parcial", "usa_nnlib"):
            sub = gb.find_submission(NB_ID, student)
            scores[student] = {g.cell.name: g.score for nb_ in sub.notebooks for g in nb_.grades
                               if g.cell.cell_type == "code"}
    for folder in ("autograded", "feedback"):  # grade() closes them to other users
        os.chmod(base / folder, 0o755)
    return {"base": base, "results": results, "scores": scores}


def test_sample_submissions_get_partial_credit(graded_samples):
    assert all(r["success"] for r in graded_samples["results"].values())
    assert graded_samples["scores"]["parcial"] == {
        "teste_sgd_stationary_variance": 0, "teste_measure_sgd_spread": 10,
        "teste_momentum_stationary_variance": 10, "teste_adam_step_after_silence": 0, "teste_my_schedule": 0}
    assert graded_samples["scores"]["usa_nnlib"] == {
        "teste_sgd_stationary_variance": 15, "teste_measure_sgd_spread": 0,
        "teste_momentum_stationary_variance": 10, "teste_adam_step_after_silence": 0, "teste_my_schedule": 20}


def test_sample_grades_csv_and_feedback(graded_samples):
    import csv
    import html as html_lib

    base = graded_samples["base"]
    with open(base / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(rows["parcial"]["score"]) == 20 and float(rows["parcial"]["max_score"]) == 100
    assert float(rows["usa_nnlib"]["score"]) == 45
    hidden = set()
    for c in nbformat.read(SOURCE, as_version=4).cells:
        if "### BEGIN HIDDEN TESTS" in c.source:
            hidden |= {l.strip() for l in hidden_part(c.source).splitlines() if len(l.strip()) > 3}
    for student in ("parcial", "usa_nnlib"):
        page = (base / "feedback" / student / NB_ID / (NB_ID + ".html")).read_text(encoding="utf-8")
        text = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
        lines = {l.strip() for l in text.splitlines()}
        # every failure of these two submissions is in a visible part: no hidden line shows
        assert not hidden & lines, sorted(hidden & lines)
        assert "variancia_referencia_o" not in text and "HIDDEN_SEEDS" not in text
    partial_text = html_lib.unescape((base / "feedback" / "parcial" / NB_ID / (NB_ID + ".html")).read_text(encoding="utf-8"))
    assert "(α, h) = (0.1, 2) e (0.2, 1)" in partial_text
    assert "acima da meta" in partial_text
