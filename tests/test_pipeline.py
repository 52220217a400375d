"""Course pipeline checks (issue 3): release, nbval, leaks, student runs, autograde, rules.

Every notebook ``solutions/<id>/<id>.ipynb`` is picked up automatically
(``T320_NOTEBOOKS=id1,id2`` restricts a run to some of them). The full hostile
set runs on a small fixture assignment, ``tests/hostile/lista00_exemplo.ipynb``, which the
session-wide batch of tests/conftest.py grades in its own scratch course (it is not course material;
tests/hostile/test_trusted_tests.py reads the same batch). Student code runs in the ``t320-grader`` sandbox kernel
(course/grading/sandbox.py) when the tests run as root; otherwise the bombs are left out and the
rest runs in the plain kernel.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat
import pytest


from course import ROOT, notebook_ids, release_dir_for
from course.release.generate import release
from hostile.batch import HOSTILE_TIMEOUT, HeldUid, got_nothing, submit
from hostile import make_hostile  # noqa: E402

IDS = notebook_ids()
if os.environ.get("T320_NOTEBOOKS"):  # targeted run: T320_NOTEBOOKS=aula01_x,lista01_y
    IDS = [i for i in IDS if i in os.environ["T320_NOTEBOOKS"].split(",")]
HOSTILE_ID = "lista00_exemplo"
HOSTILE_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile", HOSTILE_ID + ".ipynb")
ROOT_USER = os.geteuid() == 0


def src_path(nb_id):
    return os.path.join(ROOT, "solutions", nb_id, nb_id + ".ipynb")


def rel_path(nb_id, base=ROOT):
    return os.path.join(base, release_dir_for(nb_id), nb_id, nb_id + ".ipynb")


def nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_and_hidden_lines(nb):
    """Non-trivial lines inside solution regions and hidden tests, minus lines that also
    appear outside them (those are not secret)."""
    secret, public = set(), set()
    for cell in nb.cells:
        m = nbg(cell)
        lines = cell.source.splitlines()
        if m.get("solution") and cell.cell_type == "markdown":
            secret.update(l.strip() for l in lines)
            continue
        inside = None
        for line in lines:
            s = line.strip()
            if s in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = s
            elif s in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = None
            elif inside:
                secret.add(s)
            else:
                public.add(s)
    return {s for s in secret - public if len(s) > 3}


def test_notebooks_found():
    assert IDS or os.environ.get("T320_NOTEBOOKS"), "no notebook in solutions/"
    assert os.path.exists(HOSTILE_SRC), "the hostile set needs its fixture assignment"
    for nb_id in IDS:
        release_dir_for(nb_id)  # raises for ids that are neither aula* nor lista*


# ---------------------------------------------------------------- 2: committed == generated
@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    release(out=str(out))
    return str(out)


@pytest.mark.parametrize("nb_id", IDS)
def test_release_is_current(nb_id, regenerated):
    committed, fresh = rel_path(nb_id), rel_path(nb_id, regenerated)
    assert os.path.exists(committed), f"{committed} missing: run `make release`"
    with open(committed, "rb") as a, open(fresh, "rb") as b:
        assert a.read() == b.read(), f"{committed} is stale: run `make release`"
    c_files = sorted(os.listdir(os.path.dirname(committed)))
    f_files = sorted(os.listdir(os.path.dirname(fresh)))
    assert c_files == f_files


def test_no_orphan_releases():
    for folder in ("lectures", "assignments"):
        base = os.path.join(ROOT, folder)
        for d in os.listdir(base) if os.path.isdir(base) else []:
            if os.path.isdir(os.path.join(base, d)):
                assert d in notebook_ids(), f"{folder}/{d} has no source in solutions/"


# ---------------------------------------------------------------- 3: no leak (release)
@pytest.mark.parametrize("nb_id", IDS)
def test_student_version_leaks_nothing(nb_id):
    secret = solution_and_hidden_lines(nbformat.read(src_path(nb_id), as_version=4))
    assert secret, "the leak check needs solution lines to look for"
    with open(rel_path(nb_id), encoding="utf-8") as fh:
        student = nbformat.read(fh, as_version=4)
    shown = {l.strip() for c in student.cells for l in c.source.splitlines()}
    assert not secret & shown, f"leaked into the student version: {sorted(secret & shown)}"
    text = open(rel_path(nb_id), encoding="utf-8").read()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


# ---------------------------------------------------------------- 6: test-cell rules
FORBIDDEN_IN_TESTS = ("np.testing", "allclose", "isclose", "array_equal", "assert ")


@pytest.mark.parametrize("nb_id", IDS)
def test_test_cells_follow_rules(nb_id):
    nb = nbformat.read(src_path(nb_id), as_version=4)
    first_solution = next(i for i, c in enumerate(nb.cells) if nbg(c).get("solution"))
    setup = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and nbg(c).get("locked") and "from nnlib import checks" in c.source]
    assert setup and setup[0] < first_solution, \
        "a locked cell must import nnlib.checks before any answer cell"
    assert "%matplotlib inline" in nb.cells[setup[0]].source
    ids = [nbg(c)["grade_id"] for c in nb.cells if nbg(c)]
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    tests = [c for c in nb.cells if nbg(c).get("grade") and c.cell_type == "code"]
    assert tests, "a notebook with exercises needs test cells"
    for c in nb.cells:
        m = nbg(c)
        if c.cell_type == "code" and (m.get("grade") or m.get("solution")):
            assert "raises-exception" in c.metadata.get("tags", []), \
                f"{m['grade_id']}: tag answer/test cells raises-exception (Run All)"
    for c in tests:
        m = nbg(c)
        assert m.get("locked") and m.get("points", 0) > 0, m["grade_id"]
        assert c.source.startswith("# "), f"{m['grade_id']}: open with a one-line comment"
        assert "checks.check_" in c.source, f"{m['grade_id']}: use nnlib.checks"
        for bad in FORBIDDEN_IN_TESTS:
            assert bad not in c.source, f"{m['grade_id']}: {bad!r} can be cheated"
        ast.parse(re.sub(r"^%.*$", "", c.source, flags=re.M))


# ---------------------------------------------------------------- 1: the sources run
@pytest.mark.parametrize("nb_id", IDS)
def test_source_runs_and_is_stored_without_outputs(nb_id, executed_source):
    """Committed without outputs (docs/course.md: nothing stale to compare, no widget state);
    every cell runs without error as a student's Run All runs it: tests/conftest.py's shared
    run raises at the first failing cell (the same run test_final_check and
    test_exercise_rules read)."""
    stored = [i for i, c in enumerate(nbformat.read(src_path(nb_id), as_version=4).cells)
              if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not stored, f"{nb_id}: code cells {stored} are committed with outputs"
    session = executed_source(nb_id)
    code = [c for c in session.nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)


# ---------------------------------------------------------------- 4: student versions run
@pytest.mark.parametrize("nb_id", IDS)
def test_student_version_runs_before_solving(nb_id, tmp_path):
    """nbval runs the student version as released: every cell but the exercises (the solution
    and test cells, tagged ``raises-exception`` in the source) must run without error. That
    every test cell fails while the exercises are blank is test_blank_gets_zero's."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
           "--nbval-current-env", "--nbval-cell-timeout=300",
           "--nbval-sanitize-with", os.path.join(ROOT, "nbval.cfg"),
           "--rootdir", str(tmp_path), rel_path(nb_id)]
    env = dict(os.environ, MPLBACKEND="Agg")
    res = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True, text=True, env=env,
                         timeout=1800)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert " passed" in res.stdout
    nb = nbformat.read(rel_path(nb_id), as_version=4)
    exercises = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 and (nbg(c).get("solution") or nbg(c).get("grade"))]
    tagged = [i for i, c in enumerate(nb.cells) if "raises-exception" in c.metadata.get("tags", [])]
    assert exercises and tagged == exercises, \
        f"{nb_id}: only the exercise cells may raise (tagged {tagged}, exercises {exercises})"


# ---------------------------------------------------------------- 5: autograde round trip
@pytest.fixture(scope="module")
def course_copy():
    """A scratch copy of the course (sources only); removed at the end of the module."""
    base = tempfile.mkdtemp(prefix="t320-course-")
    os.chmod(base, 0o711)  # the sandbox user must reach autograded/, as in a real course
    shutil.copytree(os.path.join(ROOT, "solutions"), os.path.join(base, "solutions"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _ids_to_grade(session):
    """The notebook ids this session's selected tests read from ``graded`` (all of IDS when
    a test reads every notebook): graded in ONE batch, so ``-k aula01`` grades aula01 only."""
    wanted = set()
    for item in session.items:
        if "graded" not in getattr(item, "fixturenames", ()):
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        wanted |= {params["nb_id"]} if "nb_id" in params else set(IDS)
    return [i for i in IDS if i in wanted]


@pytest.fixture(scope="module")
def graded(course_copy, request):
    """``graded(nb_id)``: the result dict of grading the source (``fonte``) and the blank
    student version (``branco``) of ``nb_id``. Every notebook the session's tests need is
    graded in one ``grade()`` call the first time one is asked for."""
    from course.grading.driver import grade

    cache = {}

    def run(nb_id):
        if nb_id not in cache:
            ids = [i for i in _ids_to_grade(request.session) if i not in cache] or [nb_id]
            if nb_id not in ids:
                ids.append(nb_id)
            pairs = []
            for i in ids:
                submit(course_copy, "fonte", i, open(src_path(i), "rb").read())
                submit(course_copy, "branco", i, open(rel_path(i), "rb").read())
                pairs += [("fonte", i), ("branco", i)]
            res = grade(course_copy, pairs=pairs, use_sandbox=ROOT_USER, csv=False)
            for i in ids:
                cache[i] = {k: v for k, v in res.items() if k[1] == i}
        return cache[nb_id]

    return run


@pytest.fixture(scope="module")
def hostile(hostile_batch):
    """The hostile set graded on HOSTILE_ID with a short per-cell timeout: tests/conftest.py's
    session-wide batch (tests/hostile/test_trusted_tests.py reads the same one)."""
    return hostile_batch


def autograded_points(base, student, nb_id):
    """(score, max_score) summed over the autograded test cells of one submission."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{base}/gradebook.db", "t320") as gb:
        sub = gb.find_submission(nb_id, student)
        cells = [g for nb in sub.notebooks for g in nb.grades if g.cell.cell_type == "code"]
        return sum(g.score for g in cells), sum(g.max_score for g in cells)


@pytest.mark.parametrize("nb_id", IDS)
def test_source_gets_full_marks(graded, course_copy, nb_id):
    r = graded(nb_id)[("fonte", nb_id)]
    assert r["success"], r["log"][-3000:]
    score, max_score = autograded_points(course_copy, "fonte", nb_id)
    assert max_score > 0 and score == max_score, r["log"][-3000:]
    graded_nb = os.path.join(course_copy, "autograded", "fonte", nb_id, nb_id + ".ipynb")
    with open(graded_nb, encoding="utf-8") as fh:  # its figures fit TrustedExecute's budget
        assert "saída cortada" not in fh.read(), f"{nb_id}: the source's output was cut"


@pytest.mark.parametrize("nb_id", IDS)
def test_blank_gets_zero(graded, course_copy, nb_id):
    r = graded(nb_id)[("branco", nb_id)]
    assert r["success"] and r["row"]
    score, max_score = autograded_points(course_copy, "branco", nb_id)
    assert max_score > 0 and score == 0


def test_hostile_control_gets_full_marks(hostile):
    assert hostile["results"][("controle", HOSTILE_ID)]["success"]
    score, max_score = autograded_points(hostile["base"], "controle", HOSTILE_ID)
    assert max_score > 0 and score == max_score


@pytest.mark.parametrize("name", sorted(make_hostile.build(HOSTILE_SRC, sandboxed=ROOT_USER)))
def test_hostile_submission_gets_nothing(hostile, name):
    wrong = got_nothing(hostile["results"][("h_" + name, HOSTILE_ID)])
    assert wrong is None, f"{name}: {wrong}"


def test_hostile_set_bounded_time(hostile):
    # worst case: one timeout per cell that loops, plus kernel start/stop per submission
    assert hostile["seconds"] < 20 * HOSTILE_TIMEOUT + 10 * len(hostile["names"])


def test_no_process_left_behind(hostile):
    if not ROOT_USER:
        pytest.skip("the sandbox uid exists only when grading as root")
    uids = {r["uid"] for r in hostile["results"].values()}
    assert len(uids) == 1 and None not in uids
    GRADER_UID = uids.pop()

    time.sleep(0.5)
    with HeldUid(GRADER_UID):  # no other grading run (another pytest worker) starts under it now
        out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-u", str(GRADER_UID)],
                             capture_output=True, text=True).stdout.splitlines()
    alive = [line for line in out if line.split()[1][0] != "Z"]  # zombies hold nothing
    assert alive == []


def test_private_parts_closed(hostile):
    base = hostile["base"]
    for name in ("solutions", "submitted", "gradebook.db", "feedback"):
        mode = os.stat(os.path.join(base, name)).st_mode
        assert mode & 0o077 == 0, f"{name} is readable by others: {oct(mode)}"


# ---------------------------------------------------------------- 3: no leak (feedback)
def test_feedback_leaks_no_hidden_test(graded, course_copy):
    base = course_copy
    for nb_id in IDS:
        graded(nb_id)
        secret = solution_and_hidden_lines(nbformat.read(src_path(nb_id), as_version=4))
        hidden, public = set(), set()
        for c in nbformat.read(src_path(nb_id), as_version=4).cells:
            if "### BEGIN HIDDEN TESTS" in c.source:
                before, rest = c.source.split("### BEGIN HIDDEN TESTS", 1)
                body, after = rest.split("### END HIDDEN", 1)
                hidden |= {l.strip() for l in body.splitlines() if len(l.strip()) > 3}
                public |= {l.strip() for l in (before + after).splitlines()}
            else:
                public |= {l.strip() for l in c.source.splitlines()}
        hidden -= public  # a line that is also visible (`try:`, a shared check) is no secret
        for student in ("fonte", "branco"):
            path = os.path.join(base, "feedback", student, nb_id, nb_id + ".html")
            assert os.path.exists(path), path
            html = open(path, encoding="utf-8").read()
            import html as _html

            text = _html.unescape(re.sub(r"<[^>]+>", "", html))
            lines = {l.strip() for l in text.splitlines()}
            assert not (hidden & lines), f"hidden test in feedback: {sorted(hidden & lines)}"
            if student == "branco":
                assert not (secret & lines), f"solution in feedback: {sorted(secret & lines)}"
