"""Every test cell is self-contained under the trusted-grader rule.

Grading is moving test cells out of the student's kernel into a separate trusted process.
That process sees only:

1. the code cells tagged ``grader-setup`` (the first locked setup cell with the imports and
   ``from nnlib import checks``, plus cheap locked cells that define data or classes the tests
   use and call no student code when they run);
2. the earlier test cells of the notebook;
3. the student's answer names: the top-level names (def, class, assignment and import
   targets) of the solution cells, fetched from the student's process when a test uses them.

So every name a test cell reads must be one of those, a builtin, or bound in the cell itself.
In that process a student's generator is a remote object (``checks.check_generator``, not
``types.GeneratorType``) and ``inspect`` cannot look into a student's function. This module
checks all of that statically (``ast``) in every source notebook.
"""

import ast
import builtins
import os
import re
import sys

import nbformat
import pytest


from course import ROOT, notebook_ids  # noqa: E402
from course.grading.notebook import top_level_names, without_magics  # noqa: E402

TAG = "grader-setup"
BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "display", "get_ipython"}
IDS = notebook_ids()


def src_path(nb_id):
    return os.path.join(ROOT, "solutions", nb_id, nb_id + ".ipynb")


def nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def parse(source):
    """The cell's AST, with IPython magics and shell lines (``%``, ``!``) removed."""
    return ast.parse(without_magics(source))


def bound_anywhere(tree):
    """Every name the cell binds anywhere (assignments, defs, parameters, imports, handlers)."""
    names = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                names.add((a.asname or a.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
    return names


def read_names(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def top_level_reads(tree):
    """Names read by the code that runs when the cell runs (function and lambda bodies excluded)."""
    reads = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list + node.args.defaults + node.args.kw_defaults:
                if d is not None:
                    visit(d)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            reads.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return reads


def cell_label(nb_id, index, cell):
    return f"{nb_id} célula {index} ({nbg(cell).get('grade_id', 'sem grade_id')})"


def analyse(nb):
    """Problems of one notebook under the rule, as a list of strings."""
    problems = []
    answers = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and nbg(cell).get("solution"):
            answers |= top_level_names(parse(cell.source))
    first_solution = next((i for i, c in enumerate(nb.cells) if nbg(c).get("solution")), len(nb.cells))
    setup_seen = False
    trusted = set()  # names the trusted process has: grader-setup cells and earlier test cells
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        meta = nbg(cell)
        label = f"célula {i} ({meta.get('grade_id', 'sem grade_id')})"
        tree = parse(cell.source)
        if TAG in tags:
            if not meta.get("locked") or meta.get("solution") or meta.get("grade"):
                problems.append(f"{label}: uma célula {TAG} deve ser bloqueada (locked), "
                                "sem solução e sem nota")
            if not setup_seen:
                if "from nnlib import checks" not in cell.source or i > first_solution:
                    problems.append(f"{label}: a primeira célula {TAG} deve ser a de preparação "
                                    "(imports e `from nnlib import checks`), antes das respostas")
                setup_seen = True
            calls_student = sorted(top_level_reads(tree) & answers - trusted - bound_anywhere(tree))
            if calls_student:
                problems.append(f"{label}: célula {TAG} usa respostas do aluno ao rodar: {calls_student}")
            unknown = sorted(top_level_reads(tree) - trusted - bound_anywhere(tree) - BUILTINS - answers)
            if unknown:
                problems.append(f"{label}: célula {TAG} lê nomes que o processo confiável não tem: {unknown}")
            trusted |= top_level_names(tree)
        elif meta.get("grade") and not meta.get("solution"):
            missing = sorted(read_names(tree) - bound_anywhere(tree) - trusted - answers - BUILTINS)
            if missing:
                problems.append(f"{label}: o teste lê nomes que não vêm de uma célula {TAG}, de um "
                                f"teste anterior nem das respostas: {missing}")
            if "GeneratorType" in cell.source:
                problems.append(f"{label}: use checks.check_generator(x, nome), não types.GeneratorType")
            if re.search(r"\binspect\b", cell.source):
                problems.append(f"{label}: inspect não enxerga as funções do aluno no processo confiável")
            trusted |= top_level_names(tree)
    if not setup_seen:
        problems.append(f"nenhuma célula com a tag {TAG} (a de preparação deve tê-la)")
    return problems


@pytest.mark.parametrize("nb_id", IDS)
def test_test_cells_follow_the_trusted_grader_rule(nb_id):
    problems = analyse(nbformat.read(src_path(nb_id), as_version=4))
    assert not problems, f"{nb_id}:\n" + "\n".join(problems)


# ------------------------------------------------------------------ the checker itself
def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        c = nbformat.v4.new_code_cell(source)
        c.metadata["tags"] = list(tags)
        c.metadata["nbgrader"] = {
            "setup": {"locked": True, "grade": False, "solution": False, "grade_id": "prep"},
            "locked": {"locked": True, "grade": False, "solution": False, "grade_id": "dados"},
            "sol": {"locked": False, "grade": False, "solution": True, "grade_id": "resp"},
            "test": {"locked": True, "grade": True, "solution": False, "grade_id": "teste", "points": 1},
            "plain": {},
        }[kind]
        nb.cells.append(c)
    return nb


SETUP = ("setup", "%matplotlib inline\nimport numpy as np\nfrom nnlib import checks", [TAG])


def test_checker_accepts_a_self_contained_notebook():
    nb = _nb(SETUP,
             ("locked", "DADOS = np.arange(3)\nclass Modelo:\n    pass", [TAG]),
             ("sol", "def f(x):\n    return x\nk = 2", []),
             ("test", "# Testa f.\nimport types\nfor i in range(2):\n    y = f(DADOS) * k\n"
                      "checks.check_array(y, (3,), 'int64')\nModelo()\nassert_ok = [z for z in y]", []),
             ("test", "# Testa de novo.\nchecks.check_array(y, (3,), 'int64')\nprint(len(assert_ok))", []))
    assert analyse(nb) == []


def test_checker_names_data_from_an_untagged_cell():
    nb = _nb(SETUP, ("plain", "X_dados = np.ones(3)", []), ("sol", "def f(x):\n    return x", []),
             ("test", "# Testa f.\nchecks.check_array(f(X_dados), (3,))", []))
    problems = analyse(nb)
    assert len(problems) == 1 and "X_dados" in problems[0] and "célula 3" in problems[0]


def test_checker_rejects_generator_type_inspect_and_setup_calling_student_code():
    nb = _nb(SETUP, ("sol", "def g():\n    yield 1", []),
             ("locked", "PRIMEIRO = next(g())", [TAG]),
             ("test", "# Testa g.\nimport types, inspect\nok = type(g()) is types.GeneratorType\n"
                      "inspect.getsource(g)\nchecks.check_generator(g(), 'g')", []))
    text = "\n".join(analyse(nb))
    assert "usa respostas do aluno" in text and "['g']" in text
    assert "GeneratorType" in text and "inspect" in text


def test_checker_requires_the_setup_cell_tag():
    nb = _nb(("setup", "import numpy as np\nfrom nnlib import checks", []),
             ("sol", "def f(x):\n    return x", []), ("test", "# Testa f.\nchecks.check_array(f(1), ())", []))
    text = "\n".join(analyse(nb))
    assert f"nenhuma célula com a tag {TAG}" in text and "checks" in text


# ------------------------------------------------------------------ the rule, run for real
SIMULATION = r'''
import builtins, json, re, sys, traceback
import nbformat
sys.path.insert(0, {root!r})
from tests.test_grader_rule import TAG, nbg, parse, top_level_names

nb = nbformat.read({path!r}, as_version=4)
strip = lambda s: re.sub(r"^\s*[%!].*$", "", s, flags=re.M)
student = {{"__name__": "__main__"}}          # S: the whole notebook, as the student's kernel runs it
answers = set()
for c in nb.cells:
    if c.cell_type != "code":
        continue
    if nbg(c).get("solution"):
        answers |= top_level_names(parse(c.source))
    try:
        exec(compile(strip(c.source), "<S>", "exec"), student)
    except Exception:
        pass
trusted = {{"__name__": "__main__"}}          # T: grader-setup cells, then the test cells in order
verdicts = {{}}
for c in nb.cells:
    if c.cell_type != "code":
        continue
    meta = nbg(c)
    if TAG in c.metadata.get("tags", []):
        exec(compile(strip(c.source), "<T setup>", "exec"), trusted)
    elif meta.get("grade") and not meta.get("solution"):
        trusted.update({{k: student[k] for k in answers if k in student}})
        try:
            exec(compile(strip(c.source), "<T test>", "exec"), trusted)
            verdicts[meta["grade_id"]] = None
        except Exception as e:
            verdicts[meta["grade_id"]] = "".join(traceback.format_exception_only(type(e), e)).strip()
print("VERDICTS" + json.dumps(verdicts))
'''


@pytest.mark.parametrize("nb_id", IDS)
def test_test_cells_pass_with_only_what_the_trusted_process_sees(nb_id, tmp_path):
    """Run the source as the student's process would (S), then each test cell in a fresh
    namespace that has only the grader-setup cells, the earlier test cells and the answer
    names taken from S (T): every test cell still passes."""
    import json
    import subprocess

    code = SIMULATION.format(root=ROOT, path=src_path(nb_id))
    env = dict(os.environ, NBGRADER_EXECUTION="autograde", MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True, timeout=600)
    line = next((l for l in res.stdout.splitlines() if l.startswith("VERDICTS")), None)
    assert line, res.stdout[-2000:] + res.stderr[-3000:]
    verdicts = json.loads(line[len("VERDICTS"):])
    assert verdicts and all(v is None for v in verdicts.values()), verdicts
