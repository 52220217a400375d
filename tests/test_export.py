"""`make export` (course/export.py): grade CSVs the LMS imports, feedback zips, per-exercise summary.

A small graded class of the fixture assignment (tests/hostile/lista00_exemplo.ipynb): one
full-marks submission, one blank, one with only the first exercise right, and a roster
student who handed in nothing.
"""

import csv
import json
import os
import shutil
import sys
import tempfile
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import lms_samples as S  # noqa: E402

NB_ID = "lista00_exemplo"
FIXTURE = os.path.join(HERE, "hostile", NB_ID + ".ipynb")
ROOT_USER = os.geteuid() == 0
ROSTER = [("a1", "Ana Souza", "ana@x.br"), ("a2", "Bruno Lima", "bruno@x.br"),
          ("a3", "Carla Dias", "carla@x.br"), ("a4", "Davi Reis", "davi@x.br")]


def with_answers_blank(data, which):
    nb = json.loads(data)
    answers = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")
               and c["cell_type"] == "code"]
    for i in which:
        answers[i]["source"] = "raise NotImplementedError()"
    return json.dumps(nb).encode()


@pytest.fixture(scope="module")
def course():
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-export-")
    os.chmod(base, 0o711)
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(FIXTURE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    S.write_roster(os.path.join(base, "students.csv"), ROSTER)
    source = open(FIXTURE, "rb").read()
    n_answers = len([1 for c in json.loads(source)["cells"]
                     if c.get("metadata", {}).get("nbgrader", {}).get("solution") and c["cell_type"] == "code"])
    assert n_answers >= 2, "the fixture needs two exercises"
    subs = {"a1": source, "a2": with_answers_blank(source, range(n_answers)),
            "a3": with_answers_blank(source, range(1, n_answers))}
    for sid, data in subs.items():
        d = os.path.join(base, "submitted", sid, NB_ID)
        os.makedirs(d)
        open(os.path.join(d, NB_ID + ".ipynb"), "wb").write(data)
    results = grade(base, use_sandbox=ROOT_USER, csv=False)
    assert all(r["success"] for r in results.values())
    yield base
    shutil.rmtree(base, ignore_errors=True)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_plain_table_has_every_roster_student(course):
    from course.export import export

    export(course, fmt="plain")
    rows = {r["id"]: r for r in read_csv(os.path.join(course, "export", NB_ID + ".csv"))}
    assert list(rows) == ["a1", "a2", "a3", "a4"]
    max_score = float(rows["a1"]["max_score"])
    assert max_score > 0 and float(rows["a1"]["score"]) == max_score
    assert float(rows["a2"]["score"]) == 0
    assert 0 < float(rows["a3"]["score"]) < max_score
    assert rows["a4"]["score"] == "", "no submission is not a zero"
    assert rows["a3"]["name"] == "Carla Dias" and rows["a3"]["email"] == "carla@x.br"


def test_moodle_import_columns(course):
    from course.export import export

    export(course, fmt="moodle")
    rows = read_csv(os.path.join(course, "export", NB_ID + ".csv"))
    assert list(rows[0]) == ["ID number", "Email address", "Full name", NB_ID]
    assert [r["ID number"] for r in rows] == ["a1", "a2", "a3", "a4"]
    assert rows[0]["Email address"] == "ana@x.br" and float(rows[0][NB_ID]) > 0


def test_one_feedback_zip_per_student_named_after_the_roster_id(course):
    from course.export import export

    export(course)
    folder = os.path.join(course, "export", NB_ID)
    assert sorted(os.listdir(folder)) == ["a1.zip", "a2.zip", "a3.zip"]
    with zipfile.ZipFile(os.path.join(folder, "a3.zip")) as zf:
        names = zf.namelist()
        assert f"{NB_ID}/{NB_ID}.html" in names
        assert b"relu" in zf.read(f"{NB_ID}/{NB_ID}.html")  # the graded notebook's feedback page
    assert os.stat(os.path.join(course, "export")).st_mode & 0o077 == 0


def test_summary_per_exercise_shows_what_the_class_missed(course, capsys):
    from course.export import export

    summaries = export(course)
    rows = {r[0]: r for r in summaries[NB_ID]}
    cells = [k for k in rows if k != "TOTAL"]
    assert len(cells) >= 2
    first, last = cells[0], cells[-1]
    # a1 and a3 got the first exercise; only a1 the last
    assert rows[first][5] == 2 and rows[last][5] == 1
    assert rows[first][2] == 3
    assert rows[first][3] == pytest.approx(2 * rows[first][1] / 3)
    assert rows["TOTAL"][5] == 1
    saved = read_csv(os.path.join(course, "export", NB_ID + "-summary.csv"))
    assert [r["exercise"] for r in saved] == cells + ["TOTAL"]
    from course.export import summary_text

    text = summary_text(NB_ID, summaries[NB_ID])
    assert first in text and "full_marks" in text
