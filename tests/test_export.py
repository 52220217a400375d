"""`make export` (course/lms/export.py): the grade file each LMS imports, ONE feedback zip its bulk
upload takes, per-exercise summary; manual grades, late penalties and stale submissions.

The LMS formats are checked against each LMS's documented import: Moodle's feedback-zip
importer and Canvas's re-upload are re-implemented here from their source (how they find
the student in an entry's name) and must find every student.

A small graded class of the fixture assignment (tests/hostile/lista00_exemplo.ipynb): one
full-marks submission, one blank, one with only the first exercise right, and a roster
student who handed in nothing.
"""

import csv
import json
import os
import re
import shutil
import tempfile
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

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


def record_downloads(course, lms):
    """downloaded/<id>/lms.json as ``make collect`` writes it for a download of ``lms``, each
    student named as that LMS names them (tests/lms_samples.py)."""
    from course.lms.collect import IDENTITIES, LAYOUTS, lms_identity, save_identities

    idents = {}
    for n, (sid, name, _) in enumerate(ROSTER[:3], start=1):
        entry = S.entry_name(lms, name, f"{NB_ID}.ipynb", n, late=(sid == "a3"))
        idents[sid] = lms_identity(lms, re.match(LAYOUTS[lms], entry), entry)
    folder = os.path.join(course, "downloaded", NB_ID)
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(os.path.join(folder, IDENTITIES)):  # one LMS per test
        os.remove(os.path.join(folder, IDENTITIES))
    save_identities(os.path.join(folder, IDENTITIES), idents)
    return idents


def test_plain_table_has_every_roster_student(course):
    from course.lms.export import export

    export(course, fmt="plain")
    rows = {r["id"]: r for r in read_csv(os.path.join(course, "export", NB_ID + ".csv"))}
    assert list(rows) == ["a1", "a2", "a3", "a4"]
    max_score = float(rows["a1"]["max_score"])
    assert max_score > 0 and float(rows["a1"]["score"]) == max_score
    assert float(rows["a2"]["score"]) == 0
    assert 0 < float(rows["a3"]["score"]) < max_score
    assert rows["a4"]["score"] == "", "no submission is not a zero"
    assert rows["a3"]["name"] == "Carla Dias" and rows["a3"]["email"] == "carla@x.br"


def moodle_import_target(path):
    """Moodle's assignfeedback_file importer (importziplib.php is_valid_filename_for_import):
    the first path part that explodes on '_' (limit 5) into name, numeric participant id,
    plugin type and plugin name; the rest is the file name. (participant id, file) or None."""
    parts = path.split("/")
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) < 4 or not info[1].isdigit() or (info[2], info[3]) not in \
                {("assignsubmission", "file"), ("assignfeedback", "file")}:
            continue
        rest = info[4] if len(info) == 5 else ""
        return int(info[1]), "/".join([rest] + parts).lstrip("/")
    return None


def canvas_reupload_target(path):
    """Canvas's infer_comment_context_from_filename: the first two all-digit '_' parts of
    the file's base name are the user id and the attachment id."""
    digits = [p for p in os.path.basename(path).split("_") if p.isdigit()][:2]
    return tuple(int(d) for d in digits) if len(digits) == 2 else None


def test_moodle_grade_import_worksheet_and_one_feedback_zip(course):
    from course.lms.export import export

    idents = record_downloads(course, "moodle")
    export(course, fmt="moodle")
    rows = read_csv(os.path.join(course, "export", NB_ID + ".csv"))
    assert list(rows[0]) == ["ID number", "Email address", "Full name", NB_ID]
    assert [r["ID number"] for r in rows] == ["a1", "a2", "a3", "a4"]
    assert rows[0]["Email address"] == "ana@x.br" and float(rows[0][NB_ID]) > 0
    sheet = read_csv(os.path.join(course, "export", NB_ID + "-worksheet.csv"))
    assert list(sheet[0])[:5] == ["Identifier", "Full name", "Email address", "Grade", "Maximum Grade"]
    assert [r["Identifier"] for r in sheet] == [f"Participant {S.ids_for(n)['participant']}" for n in (1, 2, 3)]
    assert float(sheet[0]["Grade"]) == float(sheet[0]["Maximum Grade"]) > 0
    with zipfile.ZipFile(os.path.join(course, "export", NB_ID + "-feedback.zip")) as zf:
        names = zf.namelist()
        assert f"Ana Souza_{S.ids_for(1)['participant']}_assignsubmission_file_/{NB_ID}.html" in names
        targets = {moodle_import_target(n) for n in names}
        assert {(S.ids_for(n)["participant"], f"{NB_ID}.html") for n in (1, 2, 3)} <= targets
        assert b"relu" in zf.read(f"Carla Dias_{S.ids_for(3)['participant']}_assignsubmission_file_/{NB_ID}.html")
    assert not os.path.exists(os.path.join(course, "export", NB_ID)), "one zip, not one per student"
    assert idents["a1"]["trailing"] is True
    assert os.stat(os.path.join(course, "export")).st_mode & 0o077 == 0


def test_canvas_gradebook_csv_and_resubmission_zip(course):
    from course.lms.export import export

    record_downloads(course, "canvas")
    export(course, fmt="canvas")
    with open(os.path.join(course, "export", NB_ID + ".csv"), newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", NB_ID]
    assert table[1][0].strip() == "Points Possible" and float(table[1][5]) > 0
    by_sis = {r[2]: r for r in table[2:]}
    assert by_sis["a1"][:4] == ["Souza, Ana", str(S.ids_for(1)["user_id"]), "a1", "ana@x.br"]
    assert by_sis["a4"][1] == "" and by_sis["a4"][5] == "", "not collected from Canvas: no Canvas id, no grade"
    with zipfile.ZipFile(os.path.join(course, "export", NB_ID + "-feedback.zip")) as zf:
        names = zf.namelist()
    assert f"diascarla_LATE_{S.ids_for(3)['user_id']}_{S.ids_for(3)['attachment_id']}_{NB_ID}.html" in names
    assert sorted(canvas_reupload_target(n) for n in names) == \
        [(S.ids_for(n)["user_id"], S.ids_for(n)["attachment_id"]) for n in (1, 2, 3)]


@pytest.mark.parametrize("lms,header", [
    ("teams", ["First Name", "Last Name", "Email Address", NB_ID, "Points", "Feedback"]),
    ("classroom", ["Last Name", "First Name", "Email Address", NB_ID])])
def test_teams_and_classroom_tables_and_a_folder_per_student(course, lms, header):
    from course.lms.export import export

    record_downloads(course, lms)
    export(course, fmt=lms)
    with open(os.path.join(course, "export", NB_ID + ".csv"), newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0] == header
    assert [r[2] for r in table[1:]] == ["ana@x.br", "bruno@x.br", "carla@x.br", "davi@x.br"]
    with zipfile.ZipFile(os.path.join(course, "export", NB_ID + "-feedback.zip")) as zf:
        assert sorted(zf.namelist()) == [f"Ana Souza (a1)/{NB_ID}.html", f"Bruno Lima (a2)/{NB_ID}.html",
                                         f"Carla Dias (a3)/{NB_ID}.html"]


def test_numbers_are_rounded_as_an_lms_reads_them():
    from course.lms.export import _fmt

    assert 0.2 * 73 != 14.6 and _fmt(0.2 * 73) == "14.6"
    assert _fmt(7.0) == "7" and _fmt(2 / 3) == "0.67" and _fmt(None) == "" and _fmt(-1e-9) == "0"


def test_a_manual_grade_and_a_late_penalty_reach_csv_and_feedback(course):
    """The formgrader writes manual scores into the gradebook; export takes them, applies the
    late rule to the total and writes the feedback page again (no make grade in between)."""
    import datetime

    from nbgrader.api import Gradebook

    from course.lms.export import export

    db = f"sqlite:///{course}/gradebook.db"
    with Gradebook(db, "t320") as gb:
        sub = gb.find_submission(NB_ID, "a2")
        grade = [g for g in sub.notebooks[0].grades if g.name == "teste_relu"][0]
        grade.manual_score = 1.5  # the instructor overrides a 0 in the formgrader
        grade.needs_manual_grade = False
        comment = [c for c in sub.notebooks[0].comments if c.name == "relu"][0]
        comment.manual_comment = "Quase: faltou o caso z = 0."
        gb.update_or_create_assignment(NB_ID, duedate=datetime.datetime(2026, 9, 19, 2, 59))
        sub.timestamp = datetime.datetime(2026, 9, 20, 14, 0)  # 2 started days late
        gb.db.commit()
    cfg_path = os.path.join(course, "course.toml")
    with open(cfg_path, "w", encoding="utf-8") as fh:
        fh.write('[late]\npenalty_per_day = 0.1\n[assignments.lista00_exemplo]\ndue = "2026-09-18 23:59"\n')
    try:
        result = export(course, fmt="plain")
        rows = {r["id"]: r for r in read_csv(os.path.join(course, "export", NB_ID + ".csv"))}
        assert rows["a2"]["score"] == "1.2"  # 1.5 - 20 % of the total 1.5
        assert any("a2" in n and "feedback generated again" not in n and "late penalty" in n
                   for n in result.notes), result.notes
        assert any("feedback generated again for a2" in n for n in result.notes), result.notes
        html = open(os.path.join(course, "feedback", "a2", NB_ID, NB_ID + ".html"), encoding="utf-8").read()
        assert "Late submission penalty (Score: -0.3)" in html
        assert "Quase: faltou o caso z = 0." in html
        again = export(course, fmt="plain")
        assert not any("feedback generated again" in n for n in again.notes), "nothing changed since"
    finally:
        os.remove(cfg_path)
        with Gradebook(db, "t320") as gb:
            sub = gb.find_submission(NB_ID, "a2")
            sub.timestamp = None
            for g in sub.notebooks[0].grades:
                g.manual_score = None
            for c in sub.notebooks[0].comments:
                c.manual_comment = None
            gb.db.commit()
        export(course, fmt="plain")


def test_a_submission_collected_again_after_grading_stops_the_export(course):
    from course.lms.export import StaleError, export

    path = os.path.join(course, "submitted", "a1", NB_ID, NB_ID + ".ipynb")
    original = open(path, "rb").read()
    try:
        open(path, "wb").write(with_answers_blank(original, [0]))
        before = os.path.getmtime(os.path.join(course, "export", NB_ID + ".csv"))
        with pytest.raises(StaleError, match=r"(?s)a1 lista00_exemplo: .*collected again.*make grade"):
            export(course, fmt="plain")
        assert os.path.getmtime(os.path.join(course, "export", NB_ID + ".csv")) == before, "nothing written"
    finally:
        open(path, "wb").write(original)
    export(course, fmt="plain")


def test_summary_per_exercise_shows_what_the_class_missed(course, capsys):
    from course.lms.export import export

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
    from course.lms.export import summary_text

    text = summary_text(NB_ID, summaries[NB_ID])
    assert first in text and "full_marks" in text


def test_the_late_rule_gives_round_numbers():
    from course.lms.late import PerDayPenalty, penalty

    assert 0.2 * 73 == 14.600000000000001  # what nbgrader stored, and grades.csv showed
    assert penalty(73.0, 2 * 86400 - 60, 0.1) == 14.6
    assert PerDayPenalty(penalty_per_day=0.1).late_submission_penalty("s", 73.0, 86400 + 1) == 14.6
    assert penalty(73.0, 20 * 86400, 0.1) == 73.0 and penalty(73.0, 0, 0.1) is None
