"""`make collect` (course/collect.py): an LMS download becomes submitted/<student>/<id>/<id>.ipynb.

One sample zip per supported layout, built here (tests/lms_samples.py): the students of the
roster, a renamed copy, a file that is not a notebook, another assignment's notebook named
like this one, a name not in the roster and system junk. Every file must end up in the
report, the right ones in submitted/, the roster in the gradebook.
"""

import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import lms_samples as S  # noqa: E402
from course import ROOT  # noqa: E402
from course.collect import collect, parse_lms_time, plain_name  # noqa: E402

L1, L2 = "lista01_otimizadores", "lista02_inicializacao_treinamento"


def student_version(nb_id):
    return S.read(os.path.join(ROOT, "assignments", nb_id, nb_id + ".ipynb"))


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    os.makedirs(root / "solutions")
    for nb_id in (L1, L2):
        shutil.copytree(os.path.join(ROOT, "solutions", nb_id), root / "solutions" / nb_id)
    S.write_roster(root / "students.csv")
    return str(root)


def submitted(root, sid, nb_id=L1):
    return os.path.join(root, "submitted", sid, nb_id, nb_id + ".ipynb")


def statuses(report):
    return {path: status for status, path, _ in report.rows}


@pytest.mark.parametrize("lms", S.LMS)
def test_each_layout_collects_the_class_and_reports_the_rest(course, tmp_path, lms):
    nb = student_version(L1)
    files = [
        ("Ana Souza", f"{L1}.ipynb", S.variant(nb, "ana")),
        ("Bruno Lima", f"Copy of {L1} (1).ipynb", S.variant(nb, "bruno")),  # renamed copy
        ("João Sá Pereira", f"{L1}.ipynb", S.variant(nb, "joao")),      # accents in the name
        ("Carla Dias", "relatorio.pdf", b"%PDF-1.4 not a notebook"),
        ("Carla Dias", f"{L1}.ipynb", student_version(L2)),               # another assignment
        ("Zé Ninguém", f"{L1}.ipynb", S.variant(nb, "stranger")),        # not in the roster
    ]
    zpath = S.build_zip(str(tmp_path / f"{lms}.zip"), lms, files)
    report = collect(zpath, L1, root=course, lms=lms)

    assert json.loads(S.read(submitted(course, "2026001")))["metadata"]["t320_test_variant"] == "ana"
    assert json.loads(S.read(submitted(course, "2026002")))["metadata"]["t320_test_variant"] == "bruno"
    assert json.loads(S.read(submitted(course, "2026004")))["metadata"]["t320_test_variant"] == "joao"
    assert not os.path.exists(os.path.join(course, "submitted", "2026003")), "Carla sent nothing valid"
    assert sorted(os.listdir(os.path.join(course, "submitted"))) == ["2026001", "2026002", "2026004"]

    by_status = {}
    for status, path, detail in report.rows:
        by_status.setdefault(status, []).append((path, detail))
    assert len(by_status["collected"]) == 3
    assert any("renamed" in d for _, d in by_status["collected"]), "the renamed copy is said so"
    assert [p for p, _ in by_status["not a notebook"]] == [S.entry_name(lms, "Carla Dias", "relatorio.pdf", 4)]
    assert len(by_status["wrong assignment"]) == 1 and L2 in by_status["wrong assignment"][0][1]
    assert by_status["no student"] == [(S.entry_name(lms, "Zé Ninguém", f"{L1}.ipynb", 6),
                                        by_status["no student"][0][1])]
    assert "is not in the roster" in by_status["no student"][0][1]
    assert [p for p, _ in by_status["no submission"]] == ["2026003"]
    # every file of the zip is in the report, once
    assert len(report.rows) - len(by_status["no submission"]) == len(files)
    saved = open(os.path.join(course, "downloaded", L1, "report.txt"), encoding="utf-8").read()
    assert "3 file(s) need your attention" in saved  # pdf, lista02, stranger

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db", "t320") as gb:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
    assert students["2026004"] == ("João", "Sá Pereira", "joao.pereira@aluno.exemplo.br")
    assert set(students) == {r[0] for r in S.ROSTER}


def test_moodle_download_in_folders(course, tmp_path):
    nb = student_version(L1)
    zpath = S.build_zip(str(tmp_path / "m.zip"), "moodle",
                        [("Ana Souza", f"{L1}.ipynb", nb)], folders=True)
    report = collect(zpath, L1, root=course, lms="moodle")
    assert [s for s, _, _ in report.rows if s == "collected"] == ["collected"]
    assert S.read(submitted(course, "2026001")) == nb


def test_two_files_for_one_student_collects_neither_and_lists_both(course, tmp_path):
    nb = student_version(L1)
    zpath = S.build_zip(str(tmp_path / "t.zip"), "teams", [
        ("Ana Souza", f"{L1}.ipynb", S.variant(nb, "a")),
        ("Ana Souza", f"{L1} (1).ipynb", S.variant(nb, "b")),
        ("Bruno Lima", f"{L1}.ipynb", nb)])
    report = collect(zpath, L1, root=course, lms="teams")
    two = [(p, d) for s, p, d in report.rows if s == "two files"]
    assert len(two) == 2 and all("2026001" in d for _, d in two)
    assert not os.path.exists(os.path.join(course, "submitted", "2026001"))
    assert os.path.exists(submitted(course, "2026002"))


def test_existing_submission_is_kept_unless_forced(course, tmp_path):
    nb = student_version(L1)
    first = S.build_zip(str(tmp_path / "1.zip"), "canvas", [("Ana Souza", f"{L1}.ipynb", S.variant(nb, "v1"))])
    collect(first, L1, root=course, lms="canvas")
    again = collect(first, L1, root=course, lms="canvas")
    assert [s for s, _, _ in again.rows if s != "no submission"] == ["unchanged"]

    second = S.build_zip(str(tmp_path / "2.zip"), "canvas", [("Ana Souza", f"{L1}.ipynb", S.variant(nb, "v2"))])
    report = collect(second, L1, root=course, lms="canvas")
    assert [s for s, _, _ in report.rows if s != "no submission"] == ["not overwritten"]
    assert json.loads(S.read(submitted(course, "2026001")))["metadata"]["t320_test_variant"] == "v1"

    report = collect(second, L1, root=course, lms="canvas", force=True)
    assert [s for s, _, _ in report.rows if s != "no submission"] == ["collected"]
    assert json.loads(S.read(submitted(course, "2026001")))["metadata"]["t320_test_variant"] == "v2"


def test_canvas_late_mark_is_reported(course, tmp_path):
    zpath = S.build_zip(str(tmp_path / "c.zip"), "canvas",
                        [("Ana Souza", f"{L1}.ipynb", student_version(L1))], late=True)
    report = collect(zpath, L1, root=course, lms="canvas")
    assert any(s == "collected" and "late" in d for s, _, d in report.rows)


def test_submission_times_from_moodle_worksheet_become_timestamp_txt(course, tmp_path):
    nb = student_version(L1)
    zpath = S.build_zip(str(tmp_path / "m.zip"), "moodle",
                        [("Ana Souza", f"{L1}.ipynb", nb), ("Bruno Lima", f"{L1}.ipynb", nb)])
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text("Identifier,Full name,Email address,Status,Last modified (submission)\n"
                     "Participant 101,Ana Souza,ana.souza@aluno.exemplo.br,Submitted,"
                     "\"Friday, 18 September 2026, 11:30 PM\"\n"
                     "Participant 102,Bruno Lima,bruno.lima@aluno.exemplo.br,Submitted,"
                     "\"sábado, 19 set. 2026, 10:05\"\n", encoding="utf-8")
    collect(zpath, L1, root=course, lms="moodle", times_file=str(sheet))
    stamp = open(os.path.join(course, "submitted", "2026001", L1, "timestamp.txt")).read()
    assert stamp.startswith("2026-09-19 02:30:00")  # 23:30 in São Paulo (UTC-3) is 02:30 UTC
    stamp = open(os.path.join(course, "submitted", "2026002", L1, "timestamp.txt")).read()
    assert stamp.startswith("2026-09-19 13:05:00")


def test_plain_name_strips_the_marks_of_a_copy():
    assert plain_name("lista01 (1).ipynb") == "lista01"
    assert plain_name("Copy of lista01.ipynb") == "lista01"
    assert plain_name("Cópia de lista01 - Copy (2).ipynb") == "lista01"
    assert plain_name("lista01-1.ipynb") == "lista01"
    assert plain_name("lista01.ipynb") == "lista01"


def test_lms_time_parses_english_and_portuguese():
    assert str(parse_lms_time("Friday, 18 September 2026, 11:30 PM", "America/Sao_Paulo")) == "2026-09-19 02:30:00"
    assert str(parse_lms_time("sexta-feira, 18 set. 2026, 23:30", "America/Sao_Paulo")) == "2026-09-19 02:30:00"
    assert parse_lms_time("-", "UTC") is None


def test_unknown_assignment_or_not_a_zip_is_refused(course, tmp_path):
    notzip = tmp_path / "x.zip"
    notzip.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip"):
        collect(str(notzip), L1, root=course, lms="teams")
    good = S.build_zip(str(tmp_path / "g.zip"), "teams", [])
    with pytest.raises(ValueError, match="no assignment"):
        collect(good, "lista99_nada", root=course, lms="teams")
