"""`make release` and `make grade` on a fresh clone, as a new instructor runs them (issue 12).

A clean ``git clone`` of this repository's HEAD gets one submission of the small fixture
assignment (``tests/hostile/lista00_exemplo.ipynb``, its source placed in ``solutions/``);
``make release`` and ``make grade`` must create and fill ``.venv`` themselves, release
without touching the committed student versions, and grade the submission to full marks.
"""

import csv
import os
import shutil
import subprocess
import tempfile

import pytest

from paths import ROOT, TESTS

FIXTURE = os.path.join(TESTS, "hostile", "lista00_exemplo.ipynb")


@pytest.fixture(scope="module")
def clone():
    # .git is a folder in a clone, a file in a git worktree
    if shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")):
        pytest.fail("this test needs git and a git checkout of the course")
    # the grader uid must traverse every folder down to the clone's .venv and autograded/
    # (pytest's own tmp folders are 0700), as in a real course (docs/course.md)
    base = tempfile.mkdtemp(prefix="t320-fresh-")
    os.chmod(base, 0o711)
    path = os.path.join(base, "course")
    subprocess.run(["git", "clone", "-q", ROOT, path], check=True)
    yield path
    shutil.rmtree(base, ignore_errors=True)


def make(clone, target):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin:" + env.get("PATH", "")
    return subprocess.run(["make", target], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=900)


def test_release_then_grade_from_a_fresh_clone(clone):
    res = make(clone, "release")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    changed = subprocess.run(["git", "status", "--porcelain", "--", "lectures", "assignments"],
                             cwd=clone, capture_output=True, text=True).stdout
    assert changed == "", f"make release changed the committed student versions:\n{changed}"

    nb_id = "lista00_exemplo"
    for folder in (os.path.join("solutions", nb_id), os.path.join("submitted", "ana", nb_id)):
        os.makedirs(os.path.join(clone, folder))
        shutil.copy(FIXTURE, os.path.join(clone, folder, nb_id + ".ipynb"))
    res = make(clone, "grade")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    with open(os.path.join(clone, "grades.csv"), newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["student_id"] == "ana"]
    assert len(rows) == 1 and rows[0]["assignment"] == nb_id
    assert float(rows[0]["max_score"]) > 0
    assert float(rows[0]["score"]) == float(rows[0]["max_score"]), rows[0]
    assert os.path.exists(os.path.join(clone, "feedback", "ana", nb_id, nb_id + ".html"))
