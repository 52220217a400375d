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

import nbformat
import pytest

from notebook_layout import layout_problems
from notebook_session import PIXELS, NotebookSession, grade_cell_source, notebook_path, visible_part

NB_ID = "lista01_otimizadores"
SOURCE = notebook_path("solutions", NB_ID)
RELEASE = notebook_path("assignments", NB_ID)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def hidden_part(source):
    return source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOURCE, as_version=4)


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=180) as session:
        yield session


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
    assert manual == {"pergunta1": 10, "pergunta2": 5, "pergunta3": 8, "pergunta4": 12}
    for c in notebook.cells:
        if c.cell_type == "markdown" and nbgrader_meta(c).get("solution"):
            assert "Rubrica" in c.source


def test_every_test_cell_has_hidden_tests(notebook):
    tests = [c for c in notebook.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    assert len(tests) == 5
    for c in tests:
        assert "### BEGIN HIDDEN TESTS" in c.source and "### END HIDDEN TESTS" in c.source
        # a failing visible check shows 3 lines after it in the traceback (IPython context):
        # those must not be hidden lines, so the visible part ends with a print and comments
        before = visible_part(c.source).rstrip("\n").splitlines()[-4:]
        assert before[0].startswith('print("') and all(l.startswith("# ") for l in before[1:])
        # nbgrader reads a value on the last line as partial credit
        last = c.source.rstrip().splitlines()[-1]
        assert last.strip() == "### END HIDDEN TESTS"


def test_visible_tests_check_properties_not_values(notebook):
    """No visible part compares with an expected number (check_close / check_scalar with an
    expected value print it on failure); those comparisons are in the hidden parts."""
    for grade_id in TEST_CELLS:
        visible = visible_part(grade_cell_source(notebook, grade_id))
        assert "check_close" not in visible and "check_scalar" not in visible, grade_id
        assert "esperava" not in visible, grade_id
        assert "check_scalar" in hidden_part(grade_cell_source(notebook, grade_id)) or grade_id == "teste_my_schedule"


def test_header_and_instructions(notebook):
    header = notebook.cells[0].source
    for phrase in ("Prazo de entrega", "Validate", "Não apague", "nnlib.optim", "100 pontos", "não"):
        assert phrase in header
    # the identification is a plain editable markdown cell: no nbgrader metadata, no manual grade
    statement = notebook.cells[2]
    assert nbgrader_meta(statement)["grade_id"] == "identificacao_enunciado" and nbgrader_meta(statement)["locked"]
    ident = notebook.cells[3]
    assert ident.cell_type == "markdown" and "nbgrader" not in ident.metadata
    assert "Matrícula" in ident.source and "Nome" in ident.source
    assert not any(nbgrader_meta(c).get("grade_id") == "identificacao" for c in notebook.cells)


def test_statements_do_not_give_the_answers(notebook):
    """The formulas the exercises ask for appear in no statement (markdown a student sees)."""
    shown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"
                      and not nbgrader_meta(c).get("solution"))
    for answer in ("2 - \\alpha \\lambda", "2 − αλ", "(2 − α λ)", "4α/(2 + αλ)", "3,16", "0,744", "1 − β₁ ≤",
                   "0,19", "0,002", "0,0031", "(1 + |r|)", "1 + n x̄²", "179", "178", "σ² I + x̄²"):
        assert answer not in shown, answer


def test_layout_targets_of_the_student_version():
    """Issue #14: at most 25% of demo lines only draw, no widget cell over 15 lines."""
    assert layout_problems(RELEASE) == []


# --------------------------------------------------------------------------- grading
@pytest.mark.parametrize("grade_id", TEST_CELLS)
def test_model_solution_passes(nb, notebook, grade_id):
    assert nb.accepts(grade_cell_source(notebook, grade_id))


# --------------------------------------------------------------------------- wrong answers
# WRONG_ANSWERS: for each autograded exercise (key: the grade_id of its test cell), named wrong
# answers (the source that replaces the answer cell the test cell judges, ANSWER_OF[grade_id])
# that the VISIBLE part of the test cell rejects with an AssertionError raised by nnlib.checks
# (not a NameError or TypeError crash). The lead's rule test (tests/test_exercise_rules.py)
# reads this dict; the tests below run every entry.
ANSWER_OF = {"teste_sgd_stationary_variance": "sgd_stationary_variance",
             "teste_measure_sgd_spread": "measure_sgd_spread",
             "teste_momentum_stationary_variance": "momentum_stationary_variance",
             "teste_adam_step_after_silence": "adam_step_after_silence",
             "teste_my_schedule": "my_schedule"}

WRONG_ANSWERS = {
    "teste_sgd_stationary_variance": {
        # the usual approximations, valid only for small αλ
        "small_alpha_approximation": """
def sgd_stationary_variance(alpha, lam, s, m):
    if not 0 < alpha * lam < 2:
        raise ValueError("sem regime estacionário")
    return float(alpha * lam * s ** 2 / (2 * m))
""",
        "approximation_without_the_2": """
def sgd_stationary_variance(alpha, lam, s, m):
    if not 0 < alpha * lam < 2:
        raise ValueError("sem regime estacionário")
    return float(alpha * lam * s ** 2 / m)
""",
        "noise_without_lambda": """
def sgd_stationary_variance(alpha, lam, s, m):
    a = alpha * lam
    if not 0 < a < 2:
        raise ValueError("sem regime estacionário")
    return float(alpha ** 2 * s ** 2 / (m * a * (2 - a)))   # ruído de g tomado como s²/m
""",
        "ignores_m": """
def sgd_stationary_variance(alpha, lam, s, m):
    a = alpha * lam
    if not 0 < a < 2:
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (2 - a))
""",
        "no_value_error": """
def sgd_stationary_variance(alpha, lam, s, m):
    a = alpha * lam
    return float(a * s ** 2 / (m * (2 - a)))
""",
        "limit_excluded_wrongly": """
def sgd_stationary_variance(alpha, lam, s, m):
    a = alpha * lam
    if a > 2 or alpha <= 0:
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (m * (2 - a))) if a < 2 else float("inf")
""",
    },
    "teste_measure_sgd_spread": {
        "returns_the_formula": """
def measure_sgd_spread(alpha, lam, s, m, steps, rng):
    a = alpha * lam
    return float(a * s ** 2 / (m * (2 - a)))
""",
        "global_random": """
def measure_sgd_spread(alpha, lam, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = np.random.normal(0.0, s, size=m)
        w = w - alpha * np.mean(lam * (w - c))
        path.append(w)
    return float(np.var(path[steps - steps // 2:]))
""",
        "one_example_ignores_m": """
def measure_sgd_spread(alpha, lam, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = rng.normal(0.0, s)                 # um exemplo só, não m
        w = w - alpha * lam * (w - c)
        path.append(w)
    return float(np.var(path[steps - steps // 2:]))
""",
        "sum_not_mean": """
def measure_sgd_spread(alpha, lam, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = rng.normal(0.0, s, size=m)
        w = w - alpha * np.sum(lam * (w - c))    # soma no lugar da média
        path.append(w)
    return float(np.var(path[steps - steps // 2:]))
""",
        "std_not_var": """
def measure_sgd_spread(alpha, lam, s, m, steps, rng):
    w, path = 0.0, []
    for t in range(steps):
        c = rng.normal(0.0, s, size=m)
        w = w - alpha * np.mean(lam * (w - c))
        path.append(w)
    return float(np.std(path[steps - steps // 2:]))
""",
    },
    "teste_momentum_stationary_variance": {
        "ignores_mu": """
def momentum_stationary_variance(alpha, mu, lam, s, m):
    if not 0 <= mu < 1:
        raise ValueError("mu")
    a = alpha * lam
    if not 0 < a < 2 * (1 + mu):
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (m * abs(2 - a)))
""",
        "sgd_stability_limit": """
def momentum_stationary_variance(alpha, mu, lam, s, m):
    if not 0 <= mu < 1:
        raise ValueError("mu")
    a = alpha * lam
    if not 0 < a < 2:                           # o limite do GDE sem momento
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 * (1 + mu) / (m * (1 - mu) * (2 * (1 + mu) - a)))
""",
        # α_ef λ s² / (2m) with α_ef = α/(1 − μ): the small-α approximation
        "small_alpha_approximation": """
def momentum_stationary_variance(alpha, mu, lam, s, m):
    if not 0 <= mu < 1:
        raise ValueError("mu")
    a = alpha * lam
    if not 0 < a < 2 * (1 + mu):
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (2 * m * (1 - mu)))
""",
    },
    "teste_adam_step_after_silence": {
        # the misconception Part C is about: "the bias correction makes every step α"
        "returns_alpha": """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    return float(alpha)
""",
        "no_bias_correction": """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    return float(alpha * (1 - beta1) / np.sqrt(1 - beta2))
""",
        "s_corrected_as_if_t_1": """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    t = k + 1
    m_hat = (1 - beta1) / (1 - beta1 ** t)
    s_hat = (1 - beta2) / (1 - beta2)            # ŝ corrigido como se t = 1
    return float(alpha * m_hat / np.sqrt(s_hat))
""",
        "inverted_correction": """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    t = k + 1
    m_hat = (1 - beta1) * (1 - beta1 ** t)      # multiplica em vez de dividir
    s_hat = (1 - beta2) * (1 - beta2 ** t)
    return float(alpha * m_hat / np.sqrt(s_hat))
""",
        "without_square_root": """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    t = k + 1
    return float(alpha * (1 - beta1) / (1 - beta1 ** t) / ((1 - beta2) / (1 - beta2 ** t)))
""",
        "t_equals_k": """
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    t = max(k, 1)                                # t usado antes de ser incrementado
    return float(alpha * (1 - beta1) / (1 - beta1 ** t) / np.sqrt((1 - beta2) / (1 - beta2 ** t)))
""",
        "simulated_with_nnlib": """
from nnlib import optim as _optim
def adam_step_after_silence(k, alpha=0.001, beta1=0.9, beta2=0.999):
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k")
    adam, w = _optim.Adam(alpha=alpha, beta1=beta1, beta2=beta2, eps=1e-300), np.zeros(1)
    for _ in range(k):
        adam.step([w], lambda ws: [np.zeros(1)])
    before = float(w[0])
    adam.step([w], lambda ws: [np.ones(1)])
    return abs(float(w[0]) - before)
""",
    },
    "teste_my_schedule": {
        "statement_example": 'my_schedule = {"alpha0": 0.1, "alpha_tau": 0.01, "tau": 400}\n',
        "best_constant": 'my_schedule = {"alpha0": 0.02, "alpha_tau": 0.02, "tau": 1}\n',
        "diverges": 'my_schedule = {"alpha0": 0.5, "alpha_tau": 0.002, "tau": 400}\n',
        "wrong_keys": 'my_schedule = {"alpha_0": 0.19, "alpha_tau": 0.002, "tau": 200}\n',
        "negative": 'my_schedule = {"alpha0": 0.19, "alpha_tau": -0.002, "tau": 200}\n',
    },
}

# Wrong answers only the hidden part catches (so the hidden tests are known to add something).
HIDDEN_ONLY = {
    "teste_sgd_stationary_variance": {
        "squared_denominator": """
def sgd_stationary_variance(alpha, lam, s, m):
    a = alpha * lam
    if not 0 < a < 2:
        raise ValueError("sem regime estacionário")
    return float(a * s ** 2 / (m * (2 - a) ** 2))
""",
    },
    "teste_my_schedule": {
        "without_margin": 'my_schedule = {"alpha0": 0.12, "alpha_tau": 0.0029, "tau": 300}\n',
    },
}

def wrong_cases(table):
    return [(test_id, name) for test_id in table for name in sorted(table[test_id])]


def test_every_exercise_lists_wrong_answers(notebook):
    graded = [nbgrader_meta(c)["grade_id"] for c in notebook.cells
              if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    assert sorted(WRONG_ANSWERS) == sorted(graded) == sorted(ANSWER_OF)
    for test_id in graded:
        assert len(WRONG_ANSWERS[test_id]) >= 1
        answer = grade_cell_source(notebook, ANSWER_OF[test_id])  # the answer cell it judges
        assert nbgrader_meta(next(c for c in notebook.cells if c.source == answer))["solution"]


@pytest.mark.parametrize("test_id,name", wrong_cases(WRONG_ANSWERS))
def test_visible_part_rejects_the_wrong_answer(nb, notebook, test_id, name):
    """The visible part alone fails, by a check of nnlib.checks; so does the whole cell."""
    test_src = grade_cell_source(notebook, test_id)
    try:
        nb.run(WRONG_ANSWERS[test_id][name])
        visible = nb.verdict(visible_part(test_src))
        full = nb.verdict(test_src)
    finally:
        nb.run(grade_cell_source(notebook, ANSWER_OF[test_id]))
    assert visible.rejected, f"{test_id}/{name}: {visible}\n{visible.traceback}"
    assert full.rejected, f"{test_id}/{name}: {full}\n{full.traceback}"
    assert nb.accepts(test_src)  # the model solution is back


@pytest.mark.parametrize("test_id,name", wrong_cases(HIDDEN_ONLY))
def test_hidden_part_adds_something(nb, notebook, test_id, name):
    test_src = grade_cell_source(notebook, test_id)
    try:
        nb.run(HIDDEN_ONLY[test_id][name])
        visible = nb.accepts(visible_part(test_src))
        rejected = nb.rejects(test_src)
    finally:
        nb.run(grade_cell_source(notebook, ANSWER_OF[test_id]))
    assert visible, f"{test_id}/{name}: the visible part already fails"
    assert rejected, f"{test_id}/{name}: the hidden part passes it too"
    assert nb.accepts(test_src)


def test_visible_messages_say_what_is_wrong_not_the_answers(nb, notebook):
    """The Part C mistakes fail with a message about the contract (which step, which β's), never
    with a value, a direction ("maior que α") or a pointer to the aula's question."""
    test_src = visible_part(grade_cell_source(notebook, "teste_adam_step_after_silence"))
    messages = {}
    try:
        for name, wrong in WRONG_ANSWERS["teste_adam_step_after_silence"].items():
            nb.run(wrong)
            verdict = nb.verdict(test_src)
            assert verdict.rejected, f"{name}: {verdict}\n{verdict.traceback}"
            messages[name] = verdict.message[:400]
    finally:
        nb.run(grade_cell_source(notebook, "adam_step_after_silence"))
    for name, message in messages.items():
        assert "esperava" not in message and not re.search(r"\d\.\d{3,}", message), (name, message)
        assert "aula 4" not in message and "maior" not in message and "menor" not in message, (name, message)
    for grade_id in TEST_CELLS:
        visible = visible_part(grade_cell_source(notebook, grade_id))
        assert "(aula 4)" not in visible and "a pergunta da aula" not in visible
        assert "tamanho α" not in visible  # [25] item 1 asks what the step after k = 1 is


def test_references_are_computed_before_the_student_call(notebook):
    """#23 item 3: a comparison's expected value is a name or a literal computed before the call,
    never a call evaluated after the student's function ran (which could have changed its inputs)."""
    import ast

    for grade_id in TEST_CELLS:
        tree = ast.parse(grade_cell_source(notebook, grade_id))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in (
                    "check_scalar", "check_close", "check_agrees"):
                expected = node.args[1] if len(node.args) > 1 else None
                assert not isinstance(expected, ast.Call), (grade_id, ast.unparse(node)[:120])
        visible = ast.parse(visible_part(grade_cell_source(notebook, grade_id)))
        raises = [n for n in ast.walk(visible) if isinstance(n, ast.Raise)]
        assert not raises, f"{grade_id}: a visible check raises by itself; use nnlib.checks"


def test_blank_answers_fail_every_test_cell(nb, notebook):
    """The student version's stubs (raise NotImplementedError / no my_schedule) fail every cell."""
    stub = "    raise NotImplementedError()\n"
    try:
        for name in ("sgd_stationary_variance", "measure_sgd_spread", "momentum_stationary_variance",
                     "adam_step_after_silence"):
            nb.run(f"def {name}(*args, **kwargs):\n{stub}")
        nb.run("del my_schedule")
        verdicts = {t: nb.verdict(grade_cell_source(notebook, t)) for t in TEST_CELLS}
    finally:
        for answer_id in ANSWERS:
            if answer_id != "experimento_tremor":
                nb.run(grade_cell_source(notebook, answer_id))
    assert not any(v.passed for v in verdicts.values()), {t: str(v) for t, v in verdicts.items()}


def test_messages_are_portuguese_and_hide_the_expected_value(nb, notebook):
    test_id, wrong = "teste_sgd_stationary_variance", WRONG_ANSWERS["teste_sgd_stationary_variance"]["noise_without_lambda"]
    try:
        nb.run(wrong)
        result = nb.verdict(visible_part(grade_cell_source(notebook, test_id)))
    finally:
        nb.run(grade_cell_source(notebook, "sgd_stationary_variance"))
    assert result.rejected, f"{result}\n{result.traceback}"
    assert result.message.startswith("sgd_stationary_variance: (α, λ) = (0.1, 2) e (0.2, 1)"), result.message
    assert "esperava" not in result.message and not re.search(r"\d\.\d{3,}", result.message)


def test_final_summary_reruns_the_visible_tests(nb, notebook):
    """The last code cell (for Colab, which has no Validate button) re-runs the executed test
    cells and reports each exercise with its points; a wrong answer shows as failed."""
    points = {nbgrader_meta(c)["grade_id"].removeprefix("teste_"): nbgrader_meta(c)["points"]
              for c in notebook.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
    assert nb.eval("{name: p for _, name, p in EXERCISES}") == points
    assert nb.eval("conferencia") == {name: "testes visíveis ok" for name in points}
    summary = grade_cell_source(notebook, "conferencia")
    try:
        nb.run(WRONG_ANSWERS["teste_sgd_stationary_variance"]["noise_without_lambda"])
        nb.run("del my_schedule")
        outputs = nb.run(summary)
        statuses = nb.eval("conferencia")
    finally:
        nb.run(grade_cell_source(notebook, "sgd_stationary_variance"))
        nb.run(grade_cell_source(notebook, "my_schedule"))
    assert statuses["sgd_stationary_variance"].startswith("falhou: sgd_stationary_variance: (α, λ)")
    assert statuses["my_schedule"].startswith("ainda sem resposta")
    assert statuses["adam_step_after_silence"] == "testes visíveis ok"
    text = "".join(o.get("text", "") for o in outputs)
    assert "Exercício 1 (15 pontos): falhou" in text and "ok em 30 de 65 pontos" in text


# --------------------------------------------------------------------------- the tuning target
def test_statement_example_misses_the_target_on_every_seed(nb, notebook):
    """The statement's EXAMPLE_SCHEDULE, and every constant α, fail the target on the visible
    seed and on every hidden seed of teste_my_schedule (so the example does not solve it)."""
    assert nb.accepts(grade_cell_source(notebook, "teste_my_schedule"))  # defines schedule_gap
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
    assert nb.accepts(grade_cell_source(notebook, "teste_my_schedule"))
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
    ah = nb.eval("alam_exp.tolist()")
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
    """Item 1 (0,744 α), items 2-3 (κ of the diagonally preconditioned Hessian), item 4 (≈ 3,16 α)."""
    steps = nb.eval("[adam_step_after_silence(k, 1.0) for k in range(10001)]")
    assert abs(steps[1] - 0.744) < 0.0005
    assert abs(max(steps) - 3.16) < 0.005 and max(steps) == steps[-1]
    nb.run("def _kappas(H):\n"
           "    d = 1 / np.sqrt(np.diag(H))\n"
           "    pre = d[:, None] * H * d[None, :]\n"
           "    return [float(np.linalg.cond(H)), float(np.linalg.cond(pre))]")
    units = nb.eval("_kappas(np.diag([1.0, 1e6]))")                     # (a) metros e milímetros
    assert abs(units[0] - 1e6) < 1e-3 and abs(units[1] - 1) < 1e-12
    correlated = nb.eval("_kappas(np.array([[1.0, 0.98], [0.98, 1.0]]))")  # (b) correlação 0,98
    assert abs(correlated[0] - 99) < 1e-9 and abs(correlated[1] - 99) < 1e-9
    offset = nb.eval("_kappas(0.3 ** 2 * np.eye(64) + 0.5 ** 2 * np.ones((64, 64)))")
    assert abs(offset[0] - 178.8) < 0.05 and abs(offset[1] - offset[0]) < 1e-6
    assert abs(nb.eval("0.5 ** 2 / (0.3 ** 2 + 0.5 ** 2)") - 0.74) < 0.005
    centered = nb.eval("_kappas(0.3 ** 2 * np.eye(64))")
    assert abs(centered[0] - 1) < 1e-12


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
           "_fig, _lines = figures.cronograma_figure(train_schedule, EXAMPLE_SCHEDULE, J_TARGET, BUDGET, 0.3, FIGURE_SEED)\n"
           f"figures.update_cronograma(_lines, train_schedule, dict(zip(('alpha0', 'alpha_tau', 'tau'), {config!r})), "
           "BUDGET, FIGURE_SEED)")
    assert nb.eval("_differing_pixels(_png, _fig)") == 0
    label = nb.eval("_lines[1].get_label()")
    assert ("divergiu" in label) == (config[0] == 0.5), label


def test_widget_and_comparison_use_a_seed_the_tests_do_not(nb, notebook):
    """#25 item 4: the graded widget is not the visible test's run. Its seed is none of the test
    cell's seeds; at that seed too the example misses the target and the model answer meets it;
    the widget and the comparison figure draw that seed (the redraw test compares pixels with a
    figure drawn at FIGURE_SEED)."""
    assert nb.accepts(grade_cell_source(notebook, "teste_my_schedule"))
    seed = nb.eval("FIGURE_SEED")
    assert seed not in nb.eval("[0] + list(HIDDEN_SEEDS)")
    assert "seed=FIGURE_SEED" in grade_cell_source(notebook, "widget") and "seed=FIGURE_SEED" in grade_cell_source(notebook, "comparacao")
    assert nb.eval("schedule_gap(EXAMPLE_SCHEDULE, FIGURE_SEED)") > 2.5 * nb.eval("J_TARGET")
    assert nb.eval("schedule_gap(my_schedule, FIGURE_SEED)") <= 0.8 * nb.eval("J_TARGET")
    nb.run("_other = figures.cronograma_figure(train_schedule, EXAMPLE_SCHEDULE, J_TARGET, BUDGET, 0.3, 0)[1][1].axes")
    nb.run("_mine = figures.cronograma_figure(train_schedule, EXAMPLE_SCHEDULE, J_TARGET, BUDGET, 0.3, FIGURE_SEED)[1][1].axes")
    assert nb.eval("_other.lines[1].get_ydata().tolist() != _mine.lines[1].get_ydata().tolist()")


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
    lines = grade_cell_source(notebook, grade_id).splitlines()
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

    from course.grading.driver import grade
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("course")
    os.chmod(base, 0o711)
    shutil.copytree(os.path.dirname(SOURCE), base / "solutions" / NB_ID)
    good = {gid: solution_code(notebook, gid) for gid in ANSWERS}
    text = {"pergunta1": "A variância cai com m.", "pergunta2": "O momento treme mais.",
            "pergunta3": "O passo é α.", "pergunta4": "Escolhi pela busca."}
    partial = {**good, **text,
               "sgd_stationary_variance": WRONG_ANSWERS["teste_sgd_stationary_variance"]["noise_without_lambda"],
               "adam_step_after_silence": WRONG_ANSWERS["teste_adam_step_after_silence"]["no_bias_correction"],
               "my_schedule": WRONG_ANSWERS["teste_my_schedule"]["statement_example"]}
    copied = {**good, **text, "adam_step_after_silence": WRONG_ANSWERS["teste_adam_step_after_silence"]["simulated_with_nnlib"],
              "measure_sgd_spread": WRONG_ANSWERS["teste_measure_sgd_spread"]["returns_the_formula"]}
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
    assert "(α, λ) = (0.1, 2) e (0.2, 1)" in partial_text
    assert "acima da meta" in partial_text
