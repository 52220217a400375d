"""A semester from a fresh clone, as docs/course.md tells a new instructor (issues 12, 15, 24):
`make release` on the clone (it creates and fills ``.venv`` itself and leaves the committed
student versions as they are), `make collect` on real-name downloads of the four LMSs, `make
grade` (grades.csv, a feedback page per student), manual grading through
the formgrader's REST API, `make export`, a student hands in again, `make grade` again,
`make export` again; the gradebook, the review flags, the late penalty, the CSVs and the
feedback zips are checked at each step.

The course: the small fixture assignment (tests/hostile/lista00_exemplo.ipynb) plus a written
answer graded by hand (``pergunta1``, 5 points; the autograded part is worth 5), ``lms =
"moodle"``, a late penalty of 0.1 per started day and a due date (course.toml), the 8-student
roster of tests/lms_samples.py. Two students hand in through each LMS, with each LMS's own
names (Moodle folders with the trailing underscore, Canvas's lower-cased accented names with
``LATE`` and a re-upload, Classroom with the Drive folder on top). Maria da Silva's Moodle
submission is 2 started days late (the grading worksheet gives the time): 20 % of her total.

The whole semester shares one grading batch per step (grading is the expensive part). The
re-grade keeps the reviews through course/grading/reviews.py, which the grading driver calls around
nbgrader's autograde. Each command's output is saved (``semester-transcript.txt`` with the
test artifacts): docs/course.md's walkthrough shows it.
"""

import copy
import csv
import json
import os
import shutil
import subprocess
import tempfile
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

import lms_samples as S  # noqa: E402

NB_ID = "lista00_exemplo"
FIXTURE = os.path.join(HERE, "hostile", NB_ID + ".ipynb")
ROOT_USER = os.geteuid() == 0
WRITTEN = "pergunta1"
# who hands in through which LMS (two each), by roster id
BY_LMS = {"teams": ["2026001", "2026002"], "moodle": ["2026005", "2026004"],
          "canvas": ["2026006", "2026007"], "classroom": ["2026008", "2026003"]}
NAMES = {sid: name for sid, name, _ in S.ROSTER}
LATE_STUDENT = "2026005"  # Maria da Silva: Moodle, 2 started days late
BLANK_STUDENT = "2026002"  # Bruno Lima: nothing answered
COURSE_TOML = '''timezone = "America/Sao_Paulo"
lms = "moodle"
roster = "students.csv"
[late]
penalty_per_day = 0.1
[assignments.lista00_exemplo]
due = "2026-09-18 23:59"
'''
WORKSHEET = ("Identifier,Full name,Email address,Status,Last modified (submission)\n"
             "Participant 1190365,Maria da Silva,maria.silva@aluno.exemplo.br,Submitted,"
             "\"Sunday, 20 September 2026, 10:00 AM\"\n"
             "Participant 1190364,João Sá Pereira,joao.pereira@aluno.exemplo.br,Submitted,"
             "\"Friday, 18 September 2026, 9:00 PM\"\n")
# the formgrader reviews: score out of 5 and a comment (Bruno's blank answer is left unreviewed)
REVIEWS = {sid: (4.0 if sid == LATE_STUDENT else 5.0, f"Comentário para {NAMES[sid]}: boa justificativa.")
           for sid, _, _ in S.ROSTER if sid != BLANK_STUDENT}


# ----------------------------------------------------------------------------- the course
def source_notebook():
    """The fixture with a written answer graded by hand (5 points) at the end."""
    nb = json.load(open(FIXTURE, encoding="utf-8"))
    nb["cells"].append({"cell_type": "markdown", "id": "pergunta1",
                        "source": "Explique em uma frase por que a ReLU zera os valores negativos.",
        "metadata": {"nbgrader": {"grade": True, "solution": True, "locked": False,
                                  "grade_id": WRITTEN, "points": 5, "schema_version": 3}}})
    return nb


def submission(sid, answer=None):
    """What student ``sid`` hands in: the solved notebook with a written answer of their own."""
    nb = copy.deepcopy(source_notebook())
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade_id") == WRITTEN:
            cell["source"] = answer or f"Resposta de {NAMES[sid]}: a ReLU é max(0, z)."
        elif sid == BLANK_STUDENT and meta.get("solution") and cell["cell_type"] == "code":
            cell["source"] = "raise NotImplementedError()"
    nb["metadata"]["t320_test_variant"] = sid
    return json.dumps(nb).encode()


def make(clone, *args, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin:" + env.get("PATH", "")
    res = subprocess.run(["make", *args], cwd=clone, env=env, capture_output=True, text=True,
                         timeout=1800)
    if check:
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def clone():
    """A fresh ``git clone`` of this checkout, with no ``.venv``."""
    # .git is a folder in a clone, a file in a git worktree
    if shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")):
        pytest.fail("this test needs git and a git checkout of the course")
    # not under /tmp: the trusted test process's sandbox mounts a private /tmp over the
    # course's .venv bound there (course/grading/sandbox.py bwrap_argv: --tmpfs /tmp comes
    # after the library binds), and every test cell then times out (reported to the lead)
    base = tempfile.mkdtemp(prefix="t320-semester-", dir="/var/tmp")
    os.chmod(base, 0o711)  # the grader uid must reach the clone (docs/course.md)
    path = os.path.join(base, "course")
    subprocess.run(["git", "clone", "-q", ROOT, path], check=True)
    import labserver

    open(os.path.join(labserver.artifacts_dir(), "semester-transcript.txt"), "w").close()
    yield path
    shutil.rmtree(base, ignore_errors=True)


def set_up_the_semester(clone):
    """The instructor's own files: the assignment's source, course.toml, the roster."""
    os.makedirs(os.path.join(clone, "solutions", NB_ID))
    with open(os.path.join(clone, "solutions", NB_ID, NB_ID + ".ipynb"), "w", encoding="utf-8") as fh:
        json.dump(source_notebook(), fh)
    with open(os.path.join(clone, "course.toml"), "w", encoding="utf-8") as fh:
        fh.write(COURSE_TOML)
    S.write_roster(os.path.join(clone, "students.csv"))


# ----------------------------------------------------------------------------- readers
def gradebook(clone):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{clone}/gradebook.db", "t320")


def written_grade(clone):
    """{student: (auto+manual score, manual score, needs_manual_grade, comment, late penalty, final)}."""
    out = {}
    with gradebook(clone) as gb:
        for sid, _, _ in S.ROSTER:
            sub = gb.find_submission(NB_ID, sid)
            nb = sub.notebooks[0]
            g = [x for x in nb.grades if x.name == WRITTEN][0]
            c = [x for x in nb.comments if x.name == WRITTEN][0]
            out[sid] = (sub.score, g.manual_score, g.needs_manual_grade, c.manual_comment,
                        nb.late_submission_penalty or 0.0,
                        round(max(0.0, sub.score - (sub.late_submission_penalty or 0.0)), 6))
    return out


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def zip_entries(clone):
    with zipfile.ZipFile(os.path.join(clone, "export", f"{NB_ID}-feedback.zip")) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist()}


# ----------------------------------------------------------------------------- steps
def collect_all(clone, tmp):
    for lms, sids in BY_LMS.items():
        files, opts = [], {}
        for k, sid in enumerate(sids):
            n = S.ROSTER.index(next(r for r in S.ROSTER if r[0] == sid)) + 1
            filename = f"{NB_ID}.ipynb"
            extra = {"n": n}
            if lms == "canvas" and k == 0:
                extra["late"] = True
            if lms == "canvas" and k == 1:
                filename = S.canvas_reupload_name(filename)
            files.append((NAMES[sid], filename, submission(sid), extra))
            files.append((NAMES[sid], "anotacoes.txt", b"rascunho", extra))
        if lms == "classroom":
            opts["top"] = "Lista 0 - Exemplo"
        zpath = S.build_zip(os.path.join(tmp, f"{lms}.zip"), lms, files, **opts)
        args = ["collect", f"ZIP={zpath}", f"ID={NB_ID}", f"LMS={lms}"]
        if lms == "moodle":
            sheet = os.path.join(tmp, "worksheet.csv")
            with open(sheet, "w", encoding="utf-8") as fh:
                fh.write(WORKSHEET)
            args.append(f"TIMES={sheet}")
        out = make(clone, *args).stdout
        transcript(clone, "make " + " ".join(a.replace(tmp, "~/Downloads") for a in args), out)
        for sid in sids:
            assert f"-> {sid}" in out, (lms, out)
        assert "not a notebook (2)" in out and "no student" not in out, out


def formgrader_reviews(clone):
    """Manual grading as the formgrader's page saves it: PUT /formgrader/api/grade/<id> and
    /formgrader/api/comment/<id> on a running `make lab` server of the clone; then the late
    student's grading page shows the penalty on the new total (course/browser/formgrader_view.py)."""
    import labserver

    with gradebook(clone) as gb:
        ids = {sid: (gb.find_grade(WRITTEN, NB_ID, NB_ID, sid).id,
                     gb.find_comment(WRITTEN, NB_ID, NB_ID, sid).id) for sid in REVIEWS}
        late_page = f"formgrader/submissions/{gb.find_submission_notebook(NB_ID, NB_ID, LATE_STUDENT).id}/"
    log = os.path.join(labserver.artifacts_dir(), "semester-formgrader.log")
    with labserver.LabServer(clone, log) as lab:
        for sid, (score, comment) in REVIEWS.items():
            grade_id, comment_id = ids[sid]
            saved = lab.api("PUT", f"formgrader/api/grade/{grade_id}", {"manual_score": score})
            assert saved["manual_score"] == score and saved["needs_manual_grade"] is False, saved
            saved = lab.api("PUT", f"formgrader/api/comment/{comment_id}", {"manual_comment": comment})
            assert saved["manual_comment"] == comment, saved
        title = lab.page(late_page).split('<h4 class="panel-title">', 1)[1].split("</h4>", 1)[0]
        assert "2 dia(s) de atraso: -1.8 de 9; nota após a penalidade: 7.2" in title, title


def regrade(clone):
    """`make grade` again; ``{student: [lines]}`` it prints for answers changed since review.

    The grading driver (course/grading/driver.py, ``grade_one``) calls course/grading/reviews.py's
    ``kept_reviews`` around nbgrader's autograde."""
    out = make(clone, "grade", "JOBS=2").stdout
    transcript(clone, "make grade", out)
    changed = {}
    for line in out.splitlines():
        words = line.split()
        if "changed since your review" in line and words[0] in NAMES:
            changed.setdefault(words[0], []).append(line.strip())
    return changed


def transcript(clone, command, out):
    """The outputs docs/course.md's walkthrough shows, saved with the test's artifacts."""
    import labserver

    path = os.path.join(labserver.artifacts_dir(), "semester-transcript.txt")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"$ {command}\n{out.replace(clone, '<course>')}\n")


# ----------------------------------------------------------------------------- the semester
def test_a_semester_on_real_downloads_with_manual_grading_and_a_regrade(clone, tmp_path):
    # 0. release on the fresh clone: .venv made and filled, the student versions unchanged
    assert not os.path.exists(os.path.join(clone, ".venv"))
    make(clone, "release")
    changed = subprocess.run(["git", "status", "--porcelain", "--", "lectures", "assignments"],
                             cwd=clone, capture_output=True, text=True).stdout
    assert changed == "", f"make release changed the committed student versions:\n{changed}"
    set_up_the_semester(clone)

    # 1. collect: the four LMSs' real names, the Moodle worksheet's submission times
    collect_all(clone, str(tmp_path))
    assert sorted(os.listdir(os.path.join(clone, "submitted"))) == sorted(s for s, _, _ in S.ROSTER)
    stamp = open(os.path.join(clone, "submitted", LATE_STUDENT, NB_ID, "timestamp.txt")).read()
    assert stamp.startswith("2026-09-20 13:00:00")  # 10:00 in São Paulo
    idents = json.load(open(os.path.join(clone, "downloaded", NB_ID, "lms.json"), encoding="utf-8"))
    assert idents[LATE_STUDENT]["prefix"] == "Maria da Silva_1190365" and idents[LATE_STUDENT]["trailing"]
    assert idents["2026006"]["prefix"] == "conceiçãoanamaria_LATE_48216"

    # 2. grade: autograded 5 of 5 (Bruno 0), the written answer waits for the instructor
    out = make(clone, "grade", "JOBS=2").stdout
    transcript(clone, "make grade", out)
    assert "8 submissions" in out, out
    with open(os.path.join(clone, "grades.csv"), newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == NB_ID}
    assert set(rows) == set(NAMES)
    assert (float(rows["2026004"]["score"]), float(rows["2026004"]["max_score"])) == (5.0, 10.0)
    for sid in NAMES:
        assert os.path.exists(os.path.join(clone, "feedback", sid, NB_ID, NB_ID + ".html")), sid
    first = written_grade(clone)
    for sid, (score, manual, flag, comment, late, final) in first.items():
        auto = 0.0 if sid == BLANK_STUDENT else 5.0
        assert (score, manual, flag, comment) == (auto, None, True, None), (sid, first[sid])
        assert late == pytest.approx(0.2 * auto if sid == LATE_STUDENT else 0.0), sid
    with gradebook(clone) as gb:
        assert {s.id: (s.first_name, s.last_name) for s in gb.students}["2026006"] == \
            ("Ana Maria", "Conceição"), "a compound first name stays whole in the formgrader"

    # 3. manual grading in the formgrader (its REST API, as its page saves)
    formgrader_reviews(clone)
    reviewed = written_grade(clone)
    assert reviewed[LATE_STUDENT][:4] == (9.0, 4.0, False, REVIEWS[LATE_STUDENT][1])
    assert reviewed[LATE_STUDENT][4] == pytest.approx(1.0), "the penalty is still the one of make grade"

    # 4. export straight away (the docs: "make grade is not needed"): one source of truth
    out = make(clone, "export").stdout
    transcript(clone, "make export", out)
    after = written_grade(clone)
    assert after[LATE_STUDENT][4] == pytest.approx(1.8), "20 % of the total 9 (auto 5 + manual 4)"
    assert "late penalty 1 -> 1.8" in out, out
    assert "1 answer(s) still wait for manual grading" in out and f"{BLANK_STUDENT} {WRITTEN}" in out
    check_export_moodle(clone, after)
    for lms in ("canvas", "teams", "classroom"):
        make(clone, "export", f"LMS={lms}")
        check_export_other(clone, lms, after)
    make(clone, "export")  # back to course.toml's LMS

    # 5. João hands in again (a new written answer): export refuses until it is graded
    zpath = S.build_zip(str(tmp_path / "moodle2.zip"), "moodle", [
        (NAMES["2026004"], f"{NB_ID}.ipynb", submission("2026004", "Outra resposta, reenviada."), {"n": 4})])
    out = make(clone, "collect", f"ZIP={zpath}", f"ID={NB_ID}", "LMS=moodle", "FORCE=1").stdout
    assert "-> 2026004" in out, out
    before = os.path.getmtime(os.path.join(clone, "export", NB_ID + ".csv"))
    res = make(clone, "export", check=False)
    transcript(clone, "make export", res.stdout + res.stderr)
    assert res.returncode != 0
    assert "2026004 lista00_exemplo" in res.stderr and "collected again" in res.stderr, res.stderr
    assert "make grade" in res.stderr and "nothing written" in res.stderr, res.stderr
    assert os.path.getmtime(os.path.join(clone, "export", NB_ID + ".csv")) == before

    # 6. re-grade: reviews kept, flags off, except João's changed answer (told, flagged, score kept)
    changed = regrade(clone)
    assert list(changed) == ["2026004"] and WRITTEN in changed["2026004"][0], changed
    again = written_grade(clone)
    for sid, (score, manual, flag, comment, late, final) in again.items():
        if sid == BLANK_STUDENT:
            assert (manual, flag) == (None, True)
            continue
        assert (manual, comment) == REVIEWS[sid], f"{sid}: a review was lost"
        assert flag is (sid == "2026004"), f"{sid}: needs_manual_grade {flag} after the re-grade"
    assert again[LATE_STUDENT][4] == pytest.approx(1.8) and again[LATE_STUDENT][5] == pytest.approx(7.2)

    # 7. export again: the same numbers, João pending again
    out = make(clone, "export").stdout
    transcript(clone, "make export", out)
    assert "2 answer(s) still wait for manual grading" in out and f"2026004 {WRITTEN}" in out, out
    check_export_moodle(clone, written_grade(clone))

    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                            text=True).stdout.splitlines()
    # only the fixture's source and course.toml change in git: nothing personal shows up
    assert sorted(status) == sorted([" M course.toml", f"?? solutions/{NB_ID}/"]), status


def check_export_moodle(clone, grades):
    """The Moodle CSVs and feedback zip agree with the gradebook, penalty and comments included."""
    rows = {r["ID number"]: r for r in read_csv(os.path.join(clone, "export", NB_ID + ".csv"))}
    assert set(rows) == {s for s, _, _ in S.ROSTER}
    for sid, (score, manual, flag, comment, late, final) in grades.items():
        assert float(rows[sid][NB_ID]) == pytest.approx(final, abs=0.005), sid
    maria = grades[LATE_STUDENT]
    assert rows[LATE_STUDENT][NB_ID] == "7.2" and maria[5] == pytest.approx(7.2)
    sheet = {r["Identifier"]: r for r in read_csv(os.path.join(clone, "export", NB_ID + "-worksheet.csv"))}
    assert set(sheet) == {"Participant 1190365", "Participant 1190364"}, "the Moodle students only"
    assert sheet["Participant 1190365"]["Grade"] == "7.2"
    assert REVIEWS[LATE_STUDENT][1] in sheet["Participant 1190365"]["Feedback comments"]
    assert "atraso: -1.8" in sheet["Participant 1190365"]["Feedback comments"]
    entries = zip_entries(clone)
    page = entries[f"Maria da Silva_1190365_assignsubmission_file_/{NB_ID}.html"]
    assert "Score: 7.2 / 10.0" in page and "Late submission penalty (Score: -1.8)" in page
    assert REVIEWS[LATE_STUDENT][1] in page
    joao = entries[f"João Sá Pereira_1190364_assignsubmission_file_/{NB_ID}.html"]
    assert "Score: 10.0 / 10.0" in joao
    assert len(entries) == 2, sorted(entries)


def check_export_other(clone, lms, grades):
    with open(os.path.join(clone, "export", NB_ID + ".csv"), newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    entries = zip_entries(clone)
    if lms == "canvas":
        assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", NB_ID]
        rows = {r[2]: r for r in table[2:]}
        assert rows["2026006"][:2] == ["Conceição, Ana Maria", "48216"]
        assert float(rows[LATE_STUDENT][5]) == pytest.approx(7.2) and rows[LATE_STUDENT][1] == ""
        names = sorted(entries)
        assert names == sorted([f"conceiçãoanamaria_LATE_48216_7730478_{NB_ID}.html",
                                f"araújoletícia_48217_7730491_{NB_ID}.html"]), names
    else:
        assert "Email Address" in table[0] and NB_ID in table[0]
        # no bulk upload in Teams or Classroom: a folder per student to attach by hand
        assert sorted(entries) == sorted(f"{name} ({sid})/{NB_ID}.html" for sid, name, _ in S.ROSTER)
        assert "Score: 7.2 / 10.0" in entries[f"Maria da Silva ({LATE_STUDENT})/{NB_ID}.html"]
