"""Every notebook ends with the "Conferência final" (#13 item 6).

Colab has no nbgrader Validate button, so the last code cell of every notebook re-runs the
visible tests the student already executed and prints one Portuguese line per exercise with its
points (``nnlib.checks.visible_tests_summary``). That cell finds a test cell by its first line,
``# Testa <answer name>:``, so the specification is, statically, for every source notebook:

- the last code cell is the locked cell ``conferencia``, right after the locked markdown
  ``conferencia_enunciado``, and it is exactly ``EXERCISES = [...]`` followed by
  ``if not CORRIGINDO: conferencia = checks.visible_tests_summary(In, EXERCISES, globals())``;
- ``CORRIGINDO`` comes from ``NBGRADER_EXECUTION`` in a ``grader-setup`` cell (so the summary
  does not run while nbgrader grades or validates);
- every autograded test cell starts with ``# Testa <name>:``, ``<name>`` is one of the
  student's answer names (what the solution cells bind), and no two test cells share a name;
- ``EXERCISES`` lists those names in the notebook's order, each with the nbgrader ``points``
  of its test cell;
- the student version (``lectures/`` or ``assignments/``) ends with the same cell.

And, by executing the notebooks listed in ``EXECUTED``: the source prints "testes visíveis ok"
for every exercise; with one answer put back to its blank stub (the student version's cell),
that exercise's line says "ainda sem resposta" (or "falhou", for a tuning stub that keeps the
statement's example, which must miss the target) and every other exercise still passes.
"""

import ast
import os
import re

import nbformat
import pytest

from course import notebook_ids, release_dir_for
from course.grading.notebook import answer_names, top_level_names, without_magics
from notebook_session import notebook_path

IDS = notebook_ids()
MARKER = re.compile(r"# Testa ([A-Za-z_]\w*):")
OK = "testes visíveis ok"
BLANK = "ainda sem resposta"
CALL = "if not CORRIGINDO:\n    conferencia = checks.visible_tests_summary(In, EXERCISES, globals())"
CORRIGINDO = 'CORRIGINDO = bool(os.environ.get("NBGRADER_EXECUTION"))'
EXECUTED = ["aula01_online_batch_minibatch", "aula02_sgd_passo_aprendizagem", "aula03_momentum_nesterov",
            "aula04_passo_adaptativo", "aula05_inicializacao", "aula06_custo_frameworks",
            "lista02_inicializacao_treinamento"]


def src_path(nb_id):
    return notebook_path("solutions", nb_id)


def release_path(nb_id):
    return notebook_path(release_dir_for(nb_id), nb_id)


def nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    return cell.cell_type == "code" and nbg(cell).get("grade") and not nbg(cell).get("solution")


def same_code(a, b):
    return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))


def marked_tests(nb):
    """[(name or None, points, grade_id)] of the autograded test cells, in order."""
    found = []
    for cell in nb.cells:
        if is_test_cell(cell):
            first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            match = MARKER.match(first)
            found.append((match.group(1) if match else None, nbg(cell).get("points"), nbg(cell)["grade_id"]))
    return found


def exercises_of(source):
    """The literal EXERCISES list of the conferência's source and the rest of the cell."""
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    if not (isinstance(first, ast.Assign) and [ast.unparse(t) for t in first.targets] == ["EXERCISES"]):
        raise ValueError("the cell must start with EXERCISES = [...]")
    return ast.literal_eval(first.value), ast.unparse(ast.Module(body=tree.body[1:], type_ignores=[]))


def conferencia_problems(nb):
    """What keeps ``nb`` (a source notebook) from ending with a correct Conferência final."""
    problems = []
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    index, last = code[-1]
    meta = nbg(last)
    if meta.get("grade_id") != "conferencia":
        return [f"the last code cell is {meta.get('grade_id') or 'an unnamed cell'}, not the conferência"]
    if not meta.get("locked") or meta.get("grade") or meta.get("solution"):
        problems.append("the conferência cell must be locked, not graded and not a solution")
    before = nb.cells[index - 1]
    if nbg(before).get("grade_id") != "conferencia_enunciado" or not nbg(before).get("locked"):
        problems.append("the conferência must follow the locked markdown conferencia_enunciado")
    try:
        exercises, rest = exercises_of(last.source)
    except (ValueError, SyntaxError) as error:
        return problems + [f"conferência: {error}"]
    if not same_code(rest, CALL):
        problems.append(f"after EXERCISES the cell must be exactly:\n{CALL}")
    setup = [c for c in nb.cells[:index] if c.cell_type == "code" and "grader-setup" in c.metadata.get("tags", [])]
    if not any(any(same_code(ast.unparse(s), CORRIGINDO) for s in ast.parse(without_magics(c.source)).body)
               for c in setup):
        problems.append(f"no grader-setup cell defines {CORRIGINDO}")
    tests = marked_tests(nb)
    for name, _, grade_id in tests:
        if name is None:
            problems.append(f"{grade_id} does not start with '# Testa <answer name>:'")
    names = [name for name, _, _ in tests if name]
    answers = set(answer_names(nb))
    problems += [f"'# Testa {n}:' names no answer of the notebook" for n in names if n not in answers]
    problems += [f"two test cells are marked '# Testa {n}:'" for n in sorted(set(names)) if names.count(n) > 1]
    if any(type(e) is not tuple or len(e) != 3 for e in exercises):
        return problems + ["EXERCISES must hold (title, answer name, points) tuples"]
    listed = [(name, points) for _, name, points in exercises]
    wanted = [(name, points) for name, points, _ in tests]
    if listed != wanted:
        problems.append(f"EXERCISES lists {listed}, the test cells are {wanted} (name, points, in order)")
    titles = [title for title, _, _ in exercises]
    if len(set(titles)) != len(titles) or not all(t.startswith("Exercício") for t in titles):
        problems.append(f"the titles must be distinct 'Exercício ...': {titles}")
    return problems


# ---------------------------------------------------------------------------- static
@pytest.mark.parametrize("nb_id", IDS)
def test_the_notebook_ends_with_the_conferencia(nb_id):
    assert conferencia_problems(nbformat.read(src_path(nb_id), as_version=4)) == []


@pytest.mark.parametrize("nb_id", IDS)
def test_the_student_version_ends_with_the_same_conferencia(nb_id):
    source = [c for c in nbformat.read(src_path(nb_id), as_version=4).cells if c.cell_type == "code"][-1]
    student = [c for c in nbformat.read(release_path(nb_id), as_version=4).cells if c.cell_type == "code"][-1]
    assert nbg(source).get("grade_id") == nbg(student).get("grade_id") == "conferencia"
    assert student.source == source.source


def test_every_notebook_is_checked():
    """Each notebook is executed here or has its own executed check (lista01's lecture test)."""
    assert set(EXECUTED) | {"lista01_otimizadores"} == set(IDS)


def _cell(kind, source, grade_id=None, locked=True, **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": locked, "schema_version": 3,
                                     "grade": False, "solution": False, **meta}
    return cell


def _toy(exercises='[("Exercício 1", "f", 2), ("Exercício 2", "g", 3)]', first_line="# Testa g: o g.",
         call=CALL, setup=f"import os\n{CORRIGINDO}", last=None):
    setup_cell = _cell("code", setup)
    setup_cell.metadata["tags"] = ["grader-setup"]
    cells = [setup_cell,
             _cell("code", "def f(x):\n    return x\n\ng = 1", "resposta", locked=False, solution=True),
             _cell("code", "# Testa f: o f.\nassert f(1) == 1", "teste_f", grade=True, points=2),
             _cell("code", f"{first_line}\nassert g == 1", "teste_g", grade=True, points=3),
             _cell("markdown", "## Conferência final", "conferencia_enunciado"),
             _cell("code", f"EXERCISES = {exercises}\n{call}", "conferencia")]
    if last is not None:
        cells.append(last)
    return nbformat.v4.new_notebook(cells=cells)


def test_the_static_check_accepts_a_correct_toy_and_finds_each_mistake():
    assert conferencia_problems(_toy()) == []
    wrong = {"wrong points": _toy(exercises='[("Exercício 1", "f", 2), ("Exercício 2", "g", 2)]'),
             "an exercise left out": _toy(exercises='[("Exercício 1", "f", 2)]'),
             "wrong order": _toy(exercises='[("Exercício 2", "g", 3), ("Exercício 1", "f", 2)]'),
             "no marker": _toy(first_line="# confere g"),
             "marker without the colon": _toy(first_line="# Testa g (o g)"),
             "marker names no answer": _toy(first_line="# Testa h: o h.",
                                             exercises='[("Exercício 1", "f", 2), ("Exercício 2", "h", 3)]'),
             "two cells, one name": _toy(first_line="# Testa f: de novo.",
                                          exercises='[("Exercício 1", "f", 2), ("Exercício 2", "f", 3)]'),
             "runs while grading": _toy(call="conferencia = checks.visible_tests_summary(In, EXERCISES, globals())"),
             "no CORRIGINDO": _toy(setup="import os"),
             "not the last code cell": _toy(last=_cell("code", "print('depois')"))}
    for mistake, nb in wrong.items():
        assert conferencia_problems(nb), mistake


# ---------------------------------------------------------------------------- executed
def summary_lines(outputs):
    return "".join(o.get("text", "") for o in outputs if o.get("output_type", "stream") == "stream").splitlines()


def graded_solution_cells(nb):
    """{grade_id: names bound} of the solution code cells that bind a marked answer name."""
    marked = {name for name, _, _ in marked_tests(nb)}
    cells = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and nbg(cell).get("solution"):
            bound = top_level_names(ast.parse(without_magics(cell.source)), imports=False)
            if bound & marked:
                cells[nbg(cell)["grade_id"]] = sorted(bound)
    return cells


@pytest.fixture(params=EXECUTED)
def session(request, executed_source):
    """The source run once (tests/conftest.py's ``executed_source``, shared with other test
    files): the tests below put back every answer they blank."""
    return request.param, executed_source(request.param)


def test_the_source_passes_every_exercise_in_the_summary(session):
    nb_id, nb = session
    exercises = nb.eval("EXERCISES")
    lines = summary_lines([c for c in nb.nb.cells if c.cell_type == "code"][-1].outputs)
    expected = [f"{title} ({points} {'ponto' if points == 1 else 'pontos'}): {OK}" for title, _, points in exercises]
    assert lines[:-1] == expected
    total = sum(points for _, _, points in exercises)
    assert lines[-1].startswith(f"Testes visíveis ok em {total} de {total} pontos")
    assert nb.eval("conferencia") == {name: OK for _, name, _ in exercises}


def test_a_blank_answer_reads_ainda_sem_resposta_and_the_others_still_pass(session):
    """Each graded solution cell in turn goes back to the student version's stub (its names
    deleted first, as in a fresh kernel); the conferência must blame that cell's exercises only."""
    nb_id, nb = session
    source = nbformat.read(src_path(nb_id), as_version=4)
    stubs = {nbg(c).get("grade_id"): c.source for c in nbformat.read(release_path(nb_id), as_version=4).cells}
    solutions = {nbg(c).get("grade_id"): c.source for c in source.cells}
    conferencia = solutions["conferencia"]
    exercises = nb.eval("EXERCISES")
    cells = graded_solution_cells(source)
    assert cells, f"{nb_id}: no solution cell binds a marked answer"
    for grade_id, names in cells.items():
        assert "raise NotImplementedError()" in stubs[grade_id]
        try:
            nb.run("".join(f"globals().pop({n!r}, None)\n" for n in names))
            nb.verdict(stubs[grade_id])  # the stub raises NotImplementedError, as in the student's Run All
            outputs = nb.run(conferencia)
            statuses = nb.eval("conferencia")
        finally:
            nb.run(solutions[grade_id])
        lines = summary_lines(outputs)
        # a tuning stub keeps the statement's example (lista02's escolha_focal), which misses the target
        prefilled = {t.id for node in ast.parse(stubs[grade_id]).body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name)}
        for (title, name, points), line in zip(exercises, lines):
            if name in names:
                expected = "falhou: " if name in prefilled else BLANK
                assert statuses[name].startswith(expected), (grade_id, name, statuses[name])
                assert line.startswith(f"{title} (") and f"): {expected}" in line, line
            else:
                assert statuses[name] == OK, (grade_id, name, statuses[name])
        blank_points = sum(p for _, n, p in exercises if n in names)
        total = sum(p for _, _, p in exercises)
        assert lines[-1].startswith(f"Testes visíveis ok em {total - blank_points} de {total} pontos")
    nb.run(conferencia)  # every answer restored
    assert nb.eval("conferencia") == {name: OK for _, name, _ in exercises}


def test_the_summary_tells_blank_failed_and_not_run_apart_in_portuguese(capsys):
    from nnlib import checks

    def stub():
        raise NotImplementedError()

    history = ["# Testa f:\nchecks.call_answer(stub, 'f')",       # a blank behind call_answer
               "# Testa g:\nassert g == 1, 'g deveria ser 1'",     # superseded by the next run
               "# Testa g:\nassert g == 2, 'g deveria ser 2'",
               "# Testa h:\nh + 1",                                 # never defined
               "# Testa k:\nstub()"]
    statuses = checks.visible_tests_summary(
        history, [("Exercício 1", "f", 1), ("Exercício 2", "g", 2), ("Exercício 3", "h", 3),
                  ("Exercício 4", "k", 4), ("Exercício 5", "sem_teste", 5)],
        {"checks": checks, "stub": stub, "g": 1})
    assert statuses == {"f": BLANK, "g": "falhou: g deveria ser 2", "h": f"{BLANK} (h não foi definido)",
                        "k": BLANK, "sem_teste": "não executado (rode a célula de teste do exercício)"}
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Exercício 1 (1 ponto): {BLANK}" and lines[1].startswith("Exercício 2 (2 pontos): falhou")
    assert lines[-1].startswith("Testes visíveis ok em 0 de 15 pontos")
