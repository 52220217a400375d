"""`make release` and `make grade` from a fresh `git clone`, as a new instructor runs them.

The clone is of this checkout's committed HEAD (uncommitted changes are not in it), into a
0700 temporary folder (mkdtemp), with an empty ``.venv``: both targets must install what
they need. The sample assignment is the hostile-set fixture
``tests/hostile/lista00_exemplo.ipynb`` placed as ``solutions/lista00_exemplo/``; its source
is submitted by one student and must get full marks in ``gradebook.db`` and ``grades.csv``.
Takes about as long as one dependency install into a new venv (pip's cache helps).
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NB_ID = "lista00_exemplo"
SAMPLE = os.path.join(ROOT, "tests", "hostile", NB_ID + ".ipynb")


def _run(cmd, cwd, timeout=900):
    """Run ``cmd`` with a plain environment (no venv on PATH); fail with its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv_bin = os.path.dirname(sys.executable)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin)
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{cmd} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    return res


@pytest.fixture(scope="module")
def clone():
    """A clone of HEAD with the sample assignment and one submission; removed afterwards."""
    base = tempfile.mkdtemp(prefix="t320-clone-")
    dest = os.path.join(base, "curso")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    try:
        _run(["git", "clone", "-q", "--no-checkout", ROOT, dest], base)
        _run(["git", "checkout", "-q", head], dest)
        assert not os.path.exists(os.path.join(dest, ".venv"))
        os.makedirs(os.path.join(dest, "solutions", NB_ID))
        shutil.copy(SAMPLE, os.path.join(dest, "solutions", NB_ID, NB_ID + ".ipynb"))
        sub = os.path.join(dest, "submitted", "aluno1", NB_ID)
        os.makedirs(sub)
        shutil.copy(SAMPLE, os.path.join(sub, NB_ID + ".ipynb"))
        yield dest
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_make_release_from_fresh_clone(clone):
    _run(["make", "release"], clone)
    released = os.path.join(clone, "assignments", NB_ID, NB_ID + ".ipynb")
    assert os.path.exists(released)
    text = open(released, encoding="utf-8").read()
    assert "### BEGIN SOLUTION" not in text and "YOUR CODE HERE" in text
    changed = _run(["git", "status", "--porcelain", "--", "lectures", "assignments"], clone).stdout
    assert [l for l in changed.splitlines() if not l.endswith(f"assignments/{NB_ID}/")] == [], \
        f"make release changed committed student versions:\n{changed}"


def test_make_grade_from_fresh_clone(clone):
    from nbgrader.api import Gradebook

    res = _run(["make", "grade"], clone)
    assert "aluno1" in res.stdout, res.stdout
    with Gradebook(f"sqlite:///{clone}/gradebook.db", "t320") as gb:
        s = gb.find_submission(NB_ID, "aluno1")
        score, max_score = s.score, s.max_score
    assert max_score > 0 and score == max_score
    with open(os.path.join(clone, "grades.csv"), newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["student_id"] == "aluno1"]
    assert len(rows) == 1 and rows[0]["assignment"] == NB_ID
    assert float(rows[0]["score"]) == float(rows[0]["max_score"]) == max_score
    assert os.path.exists(os.path.join(clone, "feedback", "aluno1", NB_ID, NB_ID + ".html"))
