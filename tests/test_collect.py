"""`make collect` (course/lms/collect.py): an LMS download becomes submitted/<student>/<id>/<id>.ipynb.

One sample zip per supported layout, built here (tests/lms_samples.py) with the names each
LMS really writes (Canvas's lower-cased sortable name with its accents and ``LATE``, Moodle's
folders with and without the trailing underscore, Classroom with the Drive folder on top):
the students of the roster, a renamed copy, a file that is not a notebook, another
assignment's notebook named like this one, a name not in the roster and system junk. Every
file must end up in the report, the right ones in submitted/, the roster in the gradebook.
"""

import json
import os
import shutil
import zipfile

import pytest


import lms_samples as S  # noqa: E402
from course import ROOT  # noqa: E402
from course.lms.collect import collect, load_identities, parse_lms_time, plain_name  # noqa: E402

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
    ] + [(name, f"{L1}.ipynb", S.variant(nb, sid)) for sid, name, _ in S.ROSTER[4:]]  # compound names
    zpath = S.build_zip(str(tmp_path / f"{lms}.zip"), lms, files)
    report = collect(zpath, L1, root=course, lms=lms)

    assert json.loads(S.read(submitted(course, "2026001")))["metadata"]["t320_test_variant"] == "ana"
    assert json.loads(S.read(submitted(course, "2026002")))["metadata"]["t320_test_variant"] == "bruno"
    assert json.loads(S.read(submitted(course, "2026004")))["metadata"]["t320_test_variant"] == "joao"
    assert not os.path.exists(os.path.join(course, "submitted", "2026003")), "Carla sent nothing valid"
    assert sorted(os.listdir(os.path.join(course, "submitted"))) == \
        ["2026001", "2026002", "2026004", "2026005", "2026006", "2026007", "2026008"]
    for sid, _, _ in S.ROSTER[4:]:
        assert json.loads(S.read(submitted(course, sid)))["metadata"]["t320_test_variant"] == sid

    by_status = {}
    for status, path, detail in report.rows:
        by_status.setdefault(status, []).append((path, detail))
    assert len(by_status["collected"]) == 7
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
    assert students["2026004"] == ("João Sá", "Pereira", "joao.pereira@aluno.exemplo.br")
    assert students["2026005"][:2] == ("Maria", "da Silva")
    assert students["2026006"][:2] == ("Ana Maria", "Conceição"), "a compound first name stays whole"
    assert set(students) == {r[0] for r in S.ROSTER}


@pytest.mark.parametrize("folders,trailing", [(True, True), (True, False), (False, False)],
                         ids=["folders-moodle3.1-4.0", "folders-moodle4.1", "flat"])
def test_moodle_download_with_and_without_folders(course, tmp_path, folders, trailing):
    nb = student_version(L1)
    files = [(name, f"{L1}.ipynb", S.variant(nb, sid)) for sid, name, _ in S.ROSTER]
    zpath = S.build_zip(str(tmp_path / "m.zip"), "moodle", files, folders=folders, trailing=trailing)
    if folders and trailing:  # the name every grading script written against real downloads sees
        with zipfile.ZipFile(zpath) as zf:
            assert "Maria da Silva_1190365_assignsubmission_file_/lista01_otimizadores.ipynb" in zf.namelist()
    report = collect(zpath, L1, root=course, lms="moodle")
    assert len(report.of("collected")) == len(S.ROSTER), report.text()
    for sid, _, _ in S.ROSTER:
        assert json.loads(S.read(submitted(course, sid)))["metadata"]["t320_test_variant"] == sid
    ident = load_identities(course, L1)["2026005"]
    assert ident["participant"] == "1190365" and ident["prefix"] == "Maria da Silva_1190365"
    assert ident["folders"] == folders and ident["trailing"] == trailing


@pytest.mark.parametrize("legacy", [False, True], ids=["LATE", "late"])
def test_canvas_names_keep_accents_and_mark_late(course, tmp_path, legacy):
    nb = student_version(L1)
    late = {"2026006", "2026007"}
    files = [(name, f"{L1}.ipynb", S.variant(nb, sid), {"late": sid in late, "legacy": legacy})
             for sid, name, _ in S.ROSTER]
    zpath = S.build_zip(str(tmp_path / "c.zip"), "canvas", files)
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
    mark = "late" if legacy else "LATE"
    # as canvas-lms's ContentZipper writes them: accents kept, "Silva, Maria da" -> silvamariada
    assert f"conceiçãoanamaria_{mark}_48216_7730478_{L1}.ipynb" in names
    assert f"silvamariada_48215_7730465_{L1}.ipynb" in names
    assert f"santosjoséantôniodos_48218_7730504_{L1}.ipynb" in names
    report = collect(zpath, L1, root=course, lms="canvas")
    assert len(report.of("collected")) == len(S.ROSTER), report.text()
    said_late = {d.split(",")[0][3:] for _, _, d in report.of("collected") if "marks it late" in d}
    assert said_late == late
    ident = load_identities(course, L1)["2026006"]
    assert (ident["user_id"], ident["attachment_id"], ident["late"]) == ("48216", "7730478", True)
    assert ident["prefix"] == f"conceiçãoanamaria_{mark}_48216"


def test_canvas_reupload_is_recognised_as_the_same_notebook(course, tmp_path):
    nb = student_version(L1)
    zpath = S.build_zip(str(tmp_path / "c.zip"), "canvas",
                        [("Letícia Araújo", S.canvas_reupload_name(f"{L1}.ipynb"), nb)])
    assert zipfile.ZipFile(zpath).namelist() == [f"araújoletícia_48211_7730413_{L1}-1.ipynb"]
    report = collect(zpath, L1, root=course, lms="canvas")
    [(_, _, detail)] = report.of("collected")
    assert detail.startswith("-> 2026007") and "renamed (copy" in detail


@pytest.mark.parametrize("top", [None, "Lista 1 - Otimizadores"], ids=["selection", "drive-folder"])
def test_classroom_with_and_without_the_drive_folder_on_top(course, tmp_path, top):
    nb = student_version(L1)
    files = [(name, f"Cópia de {L1}.ipynb", S.variant(nb, sid)) for sid, name, _ in S.ROSTER]
    zpath = S.build_zip(str(tmp_path / "g.zip"), "classroom", files, top=top)
    report = collect(zpath, L1, root=course, lms="classroom")
    assert len(report.of("collected")) == len(S.ROSTER), report.text()
    assert json.loads(S.read(submitted(course, "2026008")))["metadata"]["t320_test_variant"] == "2026008"


def test_names_match_without_case_or_accents(course, tmp_path):
    nb = student_version(L1)
    zpath = S.build_zip(str(tmp_path / "t.zip"), "teams", [
        ("JOAO SA PEREIRA", f"{L1}.ipynb", S.variant(nb, "joao")),
        ("leticia araujo", f"{L1}.ipynb", S.variant(nb, "leticia"))])
    report = collect(zpath, L1, root=course, lms="teams")
    assert sorted(d.split(",")[0] for _, _, d in report.of("collected")) == ["-> 2026004", "-> 2026007"]


def test_a_name_two_students_share_is_reported_not_guessed(course, tmp_path):
    rows = S.ROSTER + [("2026009", "Ana Souza", "ana.souza2@aluno.exemplo.br")]
    S.write_roster(os.path.join(course, "students.csv"), rows)
    nb = student_version(L1)
    for lms in S.LMS:
        zpath = S.build_zip(str(tmp_path / f"{lms}.zip"), lms, [("Ana Souza", f"{L1}.ipynb", nb)])
        report = collect(zpath, L1, root=course, lms=lms)
        [(_, _, detail)] = report.of("no student")
        assert "more than one student (2026001, 2026009)" in detail, (lms, detail)
        assert not report.of("collected")
    assert not os.path.exists(os.path.join(course, "submitted"))


def test_roster_first_and_last_names():
    from course.lms.roster import Student, split_name

    assert split_name("Ana Maria da Silva") == ("Ana Maria", "da Silva")
    assert split_name("José Antônio dos Santos") == ("José Antônio", "dos Santos")
    assert split_name("Letícia Araújo") == ("Letícia", "Araújo")
    assert split_name("Xuxa") == ("Xuxa", "")
    s = Student("1", "Maria Clara Sá Pereira", "", first_name="Maria Clara", last_name="Sá Pereira")
    assert (s.first_name, s.last_name) == ("Maria Clara", "Sá Pereira")
    # Canvas's surname-first spelling of either split is still the student
    assert "sapereiramariaclara" in s.keys() and "pereiramariaclarasa" in s.keys()


def test_roster_first_and_last_name_columns(tmp_path):
    from course.lms.roster import Roster

    path = tmp_path / "students.csv"
    path.write_text("id;name;email;first_name;last_name\n"
                    "1;Maria Clara Sá Pereira;m@x.br;Maria Clara;Sá Pereira\n", encoding="utf-8")
    [s] = Roster.load(str(path)).students
    assert (s.first_name, s.last_name) == ("Maria Clara", "Sá Pereira")


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


def test_unknown_assignment_missing_zip_or_not_a_zip_is_refused(course, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no such file"):
        collect(str(tmp_path / "absent.zip"), L1, root=course, lms="teams")
    monkeypatch.setenv("HOME", str(tmp_path))
    S.build_zip(str(tmp_path / "home.zip"), "teams", [("Ana Souza", f"{L1}.ipynb", student_version(L1))])
    report = collect("~/home.zip", L1, root=course, lms="teams")  # make passes ~ unexpanded
    assert len(report.of("collected")) == 1
    notzip = tmp_path / "x.zip"
    notzip.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip"):
        collect(str(notzip), L1, root=course, lms="teams")
    good = S.build_zip(str(tmp_path / "g.zip"), "teams", [])
    with pytest.raises(ValueError, match="no assignment"):
        collect(good, "lista99_nada", root=course, lms="teams")
