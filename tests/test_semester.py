"""A semester from a fresh clone: `make collect` (one LMS download per supported layout),
`make grade`, `make export`, as docs/course.md tells a new instructor (issue 15).

The small fixture assignment (tests/hostile/lista00_exemplo.ipynb) is placed in the clone's
solutions/; each of the four roster students hands it in through a different LMS; the
gradebook, the grade CSV and the feedback zips are checked at the end.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import lms_samples as S  # noqa: E402

NB_ID = "lista00_exemplo"
FIXTURE = os.path.join(HERE, "hostile", NB_ID + ".ipynb")
WHO = {"teams": S.ROSTER[0], "moodle": S.ROSTER[1], "canvas": S.ROSTER[2], "classroom": S.ROSTER[3]}


@pytest.fixture(scope="module")
def clone():
    if shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")):
        pytest.fail("this test needs git and a git checkout of the course")
    base = tempfile.mkdtemp(prefix="t320-semester-")
    os.chmod(base, 0o711)  # the grader uid must reach the clone (docs/course.md)
    path = os.path.join(base, "course")
    subprocess.run(["git", "clone", "-q", ROOT, path], check=True)
    os.makedirs(os.path.join(path, "solutions", NB_ID))
    shutil.copy(FIXTURE, os.path.join(path, "solutions", NB_ID, NB_ID + ".ipynb"))
    S.write_roster(os.path.join(path, "students.csv"))
    yield path
    shutil.rmtree(base, ignore_errors=True)


def make(clone, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin:" + env.get("PATH", "")
    res = subprocess.run(["make", *args], cwd=clone, env=env, capture_output=True, text=True,
                         timeout=1200)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout


def test_collect_grade_export_from_a_fresh_clone(clone, tmp_path):
    nb = S.read(FIXTURE)
    for lms, (sid, name, _) in WHO.items():
        zpath = S.build_zip(str(tmp_path / f"{lms}.zip"), lms, [
            (name, f"{NB_ID} (1).ipynb" if lms == "canvas" else f"{NB_ID}.ipynb", nb),
            (name, "anotacoes.txt", b"rascunho")])
        out = make(clone, "collect", f"ZIP={zpath}", f"ID={NB_ID}", f"LMS={lms}")
        assert f"-> {sid}" in out and "not a notebook (1)" in out, out
    assert sorted(os.listdir(os.path.join(clone, "submitted"))) == sorted(s for s, _, _ in S.ROSTER)

    out = make(clone, "grade", "JOBS=2")
    assert "4 submissions" in out, out
    out = make(clone, "export")
    assert "TOTAL" in out and NB_ID in out, out

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{clone}/gradebook.db", "t320") as gb:
        assert {s.id: f"{s.first_name} {s.last_name}" for s in gb.students} == \
            {sid: name for sid, name, _ in S.ROSTER}
        for sid, _, _ in S.ROSTER:
            sub = gb.find_submission(NB_ID, sid)
            assert sub.max_score > 0 and sub.score == sub.max_score, sid
    with open(os.path.join(clone, "export", NB_ID + ".csv"), newline="", encoding="utf-8") as fh:
        rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {s for s, _, _ in S.ROSTER}
    assert all(float(r["score"]) == float(r["max_score"]) > 0 for r in rows.values())
    for sid, _, _ in S.ROSTER:
        with zipfile.ZipFile(os.path.join(clone, "export", NB_ID, sid + ".zip")) as zf:
            assert f"{NB_ID}/{NB_ID}.html" in zf.namelist()
    assert os.path.exists(os.path.join(clone, "export", NB_ID + "-summary.csv"))
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                            text=True).stdout.splitlines()
    # only the fixture's source and nothing personal shows up as new in git
    assert [line for line in status if not line.endswith(f"solutions/{NB_ID}/")] == [], status
