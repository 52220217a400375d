"""The tests are out of the student's reach: tampering earns nothing, hidden tests never show.

Each attack of ``make_hostile.TAMPERING`` pairs wrong answers with a few lines that rewrite,
skip or fake the tests in the kernel (input and AST transformers, a replaced ``run_cell``,
``pre_run_cell``/``post_run_cell`` hooks, ``set_custom_exc``, ``sys.settrace``, patched
builtins, patched or rebound ``checks``, always-equal and numpy-subclass results, results
that raise on conversion, huge or deeply nested results, a rewritten channel).

1. With nbgrader's own ``Execute`` (tests in the student's kernel) the attacks are real: most
   of them earn points with wrong answers. This is the measurement the defence answers, run
   side by side so that a fixture change that defuses the attacks is noticed.
2. With ``TrustedExecute`` (``nbgrader_config.py``) every one earns 0, the control (the
   source) earns full marks in the same run, and no hidden-test line appears, in text or in
   base64, in any submission's graded notebook or feedback. That run is the session-wide
   hostile batch of tests/conftest.py (the whole hostile set, graded once for this module and
   tests/test_pipeline.py).

The sandbox-side attacks (``ESCAPES``, the bombs) are graded in tests/test_pipeline.py and
tests/hostile/test_isolation.py.
"""

import base64
import json
import os
import shutil
import tempfile

import nbformat
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

from course import ROOT  # noqa: E402
from hostile.batch import HOSTILE_TIMEOUT  # noqa: E402
from hostile import make_hostile  # noqa: E402
from nbgrader.converters import Autograde  # noqa: E402

NB_ID = "lista00_exemplo"
SOURCE = os.path.join(HERE, NB_ID + ".ipynb")
SANDBOX = os.geteuid() == 0
# nbgrader's default autograde pipeline: the tests run in the kernel
NBGRADER_EXECUTE = [f"{step.__module__}.{step.__name__}"
                    for step in Autograde.class_traits()["autograde_preprocessors"].default()]


def _course():
    base = tempfile.mkdtemp(prefix="t320-trusted-")
    os.chmod(base, 0o711)
    for name in ("nbgrader_config.py", "course", "nnlib"):
        src = os.path.join(ROOT, name)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(base, name))
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    return base


def _grade(pipeline):
    from course.grading.driver import grade

    base = _course()
    subs = {"controle": open(SOURCE, "rb").read()}
    built = make_hostile.build(SOURCE, sandboxed=SANDBOX)
    subs.update({name: built[name] for name in make_hostile.TAMPERING})
    for student, data in subs.items():
        d = os.path.join(base, "submitted", student, NB_ID)
        os.makedirs(d)
        with open(os.path.join(d, NB_ID + ".ipynb"), "wb") as fh:
            fh.write(data)
    overrides = {"Execute.timeout": HOSTILE_TIMEOUT, "Autograde.autograde_preprocessors": pipeline}
    results = grade(base, pairs=[(s, NB_ID) for s in subs], use_sandbox=SANDBOX, csv=False,
                    **overrides)
    return base, results


@pytest.fixture(scope="module")
def in_kernel_course():
    base, results = _grade(NBGRADER_EXECUTE)
    yield base, results
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def in_kernel(in_kernel_course):
    return in_kernel_course[1]


@pytest.fixture(scope="module")
def trusted(hostile_batch):
    """The attacks graded with ``TrustedExecute`` (``nbgrader_config.py``) beside the control:
    tests/conftest.py's session-wide hostile batch (tests/test_pipeline.py reads it too), where
    each attack of ``TAMPERING`` is the submission of student ``h_<name>``."""
    results = {(student[2:] if student.startswith("h_") else student, nb_id): r
               for (student, nb_id), r in hostile_batch["results"].items()
               if student == "controle" or student[2:] in make_hostile.TAMPERING}
    return hostile_batch["base"], results


def _points(results, student):
    r = results[(student, NB_ID)]
    assert r["success"] and r["row"], f"{student}: not graded\n{r['log'][-2000:]}"
    return r["score"], r["max_score"]


def test_attacks_are_real_when_tests_run_in_the_kernel(in_kernel):
    """Measured: most attacks earn points when the tests share the kernel (nbgrader's way)."""
    score, max_score = _points(in_kernel, "controle")
    assert score == max_score > 0
    earning = {}
    for name in make_hostile.TAMPERING:  # an attack that breaks nbgrader's run earns nothing
        r = in_kernel[(name, NB_ID)]
        earning[name] = r["score"] if r["success"] and r["row"] and r["score"] else 0
    print("points with the tests in the kernel:", earning)
    winners = [name for name, pts in earning.items() if pts > 0]
    assert len(winners) >= 8, earning
    for name in ("transformador_entrada", "transformador_ast", "run_cell_trocado",
                 "checks_no_modulo", "checks_renomeado", "gancho_pre_run_cell"):
        assert earning[name] > 0, f"{name} no longer beats in-kernel tests: {earning}"


def test_control_gets_full_marks_with_trusted_tests(trusted):
    _, results = trusted
    score, max_score = _points(results, "controle")
    assert score == max_score > 0


@pytest.mark.parametrize("name", sorted(make_hostile.TAMPERING))
def test_tampering_earns_nothing(trusted, name):
    _, results = trusted
    score, _ = _points(results, name)
    assert score == 0, f"{name}: {score} points with wrong answers"


def _hidden_lines():
    """Lines of the hidden tests that appear nowhere else in the source notebook."""
    lines, visible = [], []
    for cell in nbformat.read(SOURCE, as_version=4).cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            before, rest = cell.source.split("### BEGIN HIDDEN TESTS", 1)
            body, after = rest.split("### END HIDDEN TESTS", 1)
            lines += [ln.strip() for ln in body.splitlines() if len(ln.strip()) > 8]
            visible += [before, after]
        else:
            visible.append(cell.source)
    public = "\n".join(visible)
    lines = [ln for ln in lines if ln not in public]
    assert len(lines) >= 4
    return lines


def _test_cell_sources():
    return [c.source for c in nbformat.read(SOURCE, as_version=4).cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c.cell_type == "code"]


def _leaks(base, name):
    """Hidden lines (plain or a test cell in base64) in student ``name``'s outputs or feedback."""
    import html

    hidden = _hidden_lines()
    encoded = [base64.b64encode(src.encode()).decode()[:40] for src in _test_cell_sources()]
    found = []
    paths = [os.path.join(base, "autograded", name, NB_ID, NB_ID + ".ipynb"),
             os.path.join(base, "feedback", name, NB_ID, NB_ID + ".html")]
    for path in paths:
        if not os.path.exists(path):
            continue
        if path.endswith(".ipynb"):  # outputs only: the cell sources hold the tests
            nb = json.load(open(path, encoding="utf-8"))
            text = json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)
        else:
            text = html.unescape(open(path, encoding="utf-8").read())
        text = text.replace("\\n", "\n").replace('\\"', '"')
        found += [(path, s) for s in hidden + encoded if s in text]
    return found


def test_hidden_tests_leak_when_tests_run_in_the_kernel(in_kernel_course):
    """Measured: the hooks and the notebook copy put hidden tests into the student's output."""
    base, _ = in_kernel_course
    for name in ("gancho_pre_run_cell", "le_proprio_notebook"):
        assert _leaks(base, name), f"{name} no longer leaks with the tests in the kernel"


def test_hidden_tests_never_reach_the_kernel(trusted):
    """No submission's graded notebook or feedback holds a hidden line, plain or base64."""
    base, _ = trusted
    for name in make_hostile.TAMPERING:
        assert os.path.exists(os.path.join(base, "autograded", "h_" + name)), f"{name} was not graded"
        assert _leaks(base, "h_" + name) == [], f"{name} leaked hidden tests"
