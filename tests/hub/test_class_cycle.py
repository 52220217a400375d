"""A class on the hub, end to end, through the hub's HTTP API (deploy/hub/).

One hub (``deploy/hub/setup.py`` + ``jupyterhub_config.py``), one instructor, three students
with real Unix accounts: the instructor releases lista01 through the formgrader; the students
log in, see it in their Assignments list, fetch it, answer it (one with the source's
solutions, one half, one hostile that tries to read its classmates' work), Validate and
submit; the instructor collects, autogrades the hostile submission with the formgrader's
Autograde (the sandbox as the instructor's uid), root grades the class (``setup.py grade``,
``make hub-grade``); the instructor grades a manual answer; Chromium shows the formgrader
inside Lab and the student's markup inert; feedback is generated and released; each student
fetches only their own; ``course.lms.export`` writes the grades.

The steps are tests in file order sharing one hub (each needs the one before; after a failure
the rest are skipped, naming it: conftest.py). Needs root (it creates users and their
servers); CI runs it as root (``.ci/run``).
"""

import contextlib
import copy
import json
import os
import re
import time

import pytest

from harness import ClassHub, home_of, hub_setup, hub_unavailable, run_as

STEPS_IN_ORDER = True
REASON = hub_unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"class hub test skipped: {REASON}")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTA = "lista01_otimizadores"
COURSE = "t320"
NB = f"{LISTA}/{LISTA}.ipynb"
AUTO_POINTS = 65  # the autograded points of lista01 (test cells 15+10+10+10+20)
MANUAL_POINTS = 7  # what the instructor gives student 1's pergunta1 in the formgrader


@pytest.fixture(scope="module")
def hub():
    h = ClassHub(n_students=3)
    try:
        h.start()
        yield h
    finally:
        for what, seconds in h.timings.items():
            print(f"hub cycle: {what:36s} {seconds:6.2f} s")
        errors = h.close()
        assert not errors, errors


@pytest.fixture(scope="module")
def cls(hub):
    """Sessions and results the steps hand each other."""
    return {"timings": hub.timings}


def solution_sources(course_dir):
    """grade_id -> the source's solution cell text (nbgrader's solution markers dropped)."""
    with open(os.path.join(course_dir, "solutions", LISTA, f"{LISTA}.ipynb")) as fh:
        src = json.load(fh)
    out = {}
    for cell in src["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            text = "".join(cell["source"])
            out[meta["grade_id"]] = "\n".join(
                line for line in text.splitlines()
                if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    return out


def answered(nb, solutions, grade_ids, marker):
    """A copy of student notebook ``nb`` with the cells ``grade_ids`` answered from ``solutions``."""
    nb = copy.deepcopy(nb)
    previous = None
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if previous == "identificacao_enunciado":  # the plain cell below it: name, matrícula
            cell["source"] = f"Nome: {marker}"
        elif gid in grade_ids:
            cell["source"] = solutions[gid]
        previous = gid
    assert any(f"Nome: {marker}" == c["source"] for c in nb["cells"]), "no identification cell"
    return nb


def assert_ok(result):
    """A formgrader API answer says success; else show nbgrader's error and log."""
    assert result.get("success"), f"{result.get('error')}\n--- log ---\n{result.get('log', '')[-3000:]}"


MARKUP = ("\n\n<img src=\"x\" onerror=\"document.title='ATAQUE img'\">"
          "<script>document.title='ATAQUE script'</script>\n\n**resposta em negrito**")


def add_markup_attack(nb):
    """Student markup that would run in the instructor's formgrader page if rendered live."""
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "pergunta2":
            cell["source"] = "".join(cell["source"]) + MARKUP


PROBE = """import os
for alvo in {targets!r}:
    try:
        dado = os.listdir(alvo) if os.path.isdir(alvo) else open(alvo, "rb").read(1)
        print("LEU", alvo)
    except OSError as erro:
        print("BLOQUEADO", type(erro).__name__)
"""


def add_grading_probe(nb, hub):
    """The hostile student's first answer: read the solutions, the gradebook and a classmate's
    home while being autograded (it runs in the grading kernel, on the staff's side)."""
    course = hub.settings["course_dir"]
    targets = [os.path.join(course, "solutions", LISTA, f"{LISTA}.ipynb"),
               os.path.join(course, "gradebook.db"), os.path.join(course, "submitted"),
               home_of(hub.students[0]), home_of(hub.instructor)]
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            cell["source"] = PROBE.format(targets=targets)
            return


# ----------------------------------------------------------------------------- steps
def test_servers_start_with_the_role_of_their_user(hub, cls):
    for name, seconds in hub.start_servers([hub.instructor, *hub.students]).items():
        cls["timings"]["server start (4 at once) " + name] = seconds
    prof = cls["prof"] = hub.login(hub.instructor)
    lab = prof.open_server()
    assert lab.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    formgrader = prof.get("/formgrader")
    assert formgrader.status_code == 200, "the instructor's server has no formgrader"
    assert formgrader.headers["Content-Security-Policy"] == "frame-ancestors 'self'", \
        "the formgrader would be blank inside Lab (jupyterhub-singleuser's frame-ancestors 'none')"
    cls["students"] = {}
    for name in hub.students:
        s = cls["students"][name] = hub.login(name)
        page = s.open_server().text
        disabled = json.loads(re.search(r'"disabledExtensions": (\[[^\]]*\])', page).group(1))
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled)
        assert "@jupyter/nbgrader:assignment-list" not in disabled
        assert s.get("/formgrader").status_code == 404, f"{name} reaches the formgrader"
        assert s.get("/formgrader/api/assignments").status_code == 404


def test_instructor_releases_lista01_through_the_formgrader(hub, cls):
    prof = cls["prof"]
    r = prof.json("post", f"/formgrader/api/assignment/{LISTA}/assign")
    assert_ok(r)
    r = prof.json("post", f"/formgrader/api/assignment/{LISTA}/release")
    assert_ok(r)
    outbound = os.path.join(hub.settings["exchange"], COURSE, "outbound", LISTA, f"{LISTA}.ipynb")
    assert os.path.exists(outbound)
    with open(outbound) as fh:
        released = fh.read()
    assert "BEGIN SOLUTION" not in released and "### BEGIN HIDDEN TESTS" not in released


def test_students_see_fetch_answer_validate_and_submit(hub, cls):
    solutions = solution_sources(hub.settings["course_dir"])
    code_answers = [g for g in solutions if not g.startswith(("pergunta", "identificacao"))]
    plans = {hub.students[0]: list(solutions),                    # everything
             hub.students[1]: code_answers[:2],                    # half
             hub.students[2]: []}                                  # the hostile one, below
    for name, s in cls["students"].items():
        listed = s.json("get", f"/assignments?course_id={COURSE}")
        assert listed["success"] and [a["assignment_id"] for a in listed["value"]] == [LISTA], listed
        assert listed["value"][0]["status"] == "released"
        t0 = time.monotonic()
        fetched = s.json("post", "/assignments/fetch",
                         data={"assignment_id": LISTA, "course_id": COURSE})
        cls["timings"]["fetch " + name] = time.monotonic() - t0
        assert fetched["success"] and fetched["value"][0]["status"] == "fetched", fetched
        nb = s.read_notebook(NB)
        nb = answered(nb, solutions, plans[name], marker=f"marca-{name}")
        if name == hub.students[0]:
            add_markup_attack(nb)
        if name == hub.students[2]:
            add_grading_probe(nb, hub)
        s.write_notebook(NB, nb)
    full, half, _ = hub.students
    v = cls["students"][full].json("post", "/assignments/validate", data={"path": NB},
                                   timeout=180)
    assert v["success"] and not v["value"].get("failed"), f"Validate of the full answer: {v}"
    v = cls["students"][half].json("post", "/assignments/validate", data={"path": NB},
                                   timeout=180)
    assert v["success"] and v["value"].get("failed"), f"Validate of the half answer: {v}"
    for name in (full, half):
        t0 = time.monotonic()
        r = cls["students"][name].json("post", "/assignments/submit",
                                       data={"assignment_id": LISTA, "course_id": COURSE})
        cls["timings"]["submit " + name] = time.monotonic() - t0
        assert r["success"], r


def test_a_student_cannot_read_a_classmate_or_the_exchange(hub, cls):
    full, _, hostile = hub.students
    exchange = os.path.join(hub.settings["exchange"], COURSE)
    inbound = os.path.join(exchange, "inbound")
    submissions = [d for d in os.listdir(inbound) if d.startswith(full + "+")]
    assert len(submissions) == 1, submissions
    theirs = os.path.join(inbound, submissions[0], f"{LISTA}.ipynb")
    home = home_of(full)
    attempts = {  # as the hostile student's Unix user: each must be refused
        "list the classmate's home": ["ls", home],
        "read the classmate's notebook": ["cat", f"{home}/{NB}"],
        "list the submissions": ["ls", inbound],
        "list the course folder": ["ls", hub.settings["course_dir"]],
        "read the solutions": ["cat", os.path.join(hub.settings["course_dir"], "solutions",
                                                   LISTA, f"{LISTA}.ipynb")],
    }
    # nbgrader makes each submission readable by "others" (the instructor reads it so) and
    # relies on the folder's name: inbound cannot be listed and the name ends in 72 random bits
    random_part = submissions[0].rsplit("+", 1)[1]
    assert len(random_part) >= 12, f"a guessable submission name: {submissions[0]}"
    assert os.path.exists(theirs)
    for what, argv in attempts.items():
        r = run_as(hostile, argv)
        assert r.returncode != 0 and "denied" in r.stderr, f"{hostile} could {what}: {r.stdout[:200]}"
    assert oct(os.stat(hub.settings["exchange"]).st_mode & 0o7777) == "0o1777"
    assert oct(os.stat(inbound).st_mode & 0o7777) == "0o2733"  # drwx-ws-wx
    # through HTTP, with the hostile student's own cookies
    s = cls["students"][hostile]
    other = s.s.get(f"{hub.url}/user/{full}/api/contents/{NB}", timeout=30, allow_redirects=False)
    assert other.status_code in (302, 403, 404) and "cells" not in other.text, other.status_code
    hub_api = s.s.get(f"{hub.url}/hub/api/users/{full}", timeout=30)
    assert hub_api.status_code in (403, 404)
    up = s.get("/api/contents/..%2F" + full)
    assert up.status_code in (400, 403, 404), up.status_code
    # and then it submits its (unanswered) notebook like everyone else
    r = s.json("post", "/assignments/submit", data={"assignment_id": LISTA, "course_id": COURSE})
    assert r["success"], r


def test_instructor_collects_and_autogrades_in_the_sandbox(hub, cls):
    prof = cls["prof"]
    r = prof.json("post", f"/formgrader/api/assignment/{LISTA}/collect")
    assert_ok(r)
    course = hub.settings["course_dir"]
    for name in hub.students:
        assert os.path.exists(os.path.join(course, "submitted", name, LISTA, f"{LISTA}.ipynb")), name
    # the formgrader's Autograde button, in the instructor's (unprivileged) server: the
    # hostile submission's probe runs in the sandbox and reads nothing of the course
    hostile = hub.students[2]
    t0 = time.monotonic()
    r = prof.json("post", f"/formgrader/api/submission/{LISTA}/{hostile}/autograde", timeout=300)
    cls["timings"]["formgrader Autograde, 1 submission"] = time.monotonic() - t0
    assert_ok(r)
    with open(os.path.join(course, "autograded", hostile, LISTA, f"{LISTA}.ipynb")) as fh:
        graded = json.load(fh)
    printed = "".join("".join(o.get("text", "")) for c in graded["cells"]
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert printed.count("BLOQUEADO") == 5 and "LEU" not in printed, \
        f"the formgrader's autograde let student code read the course: {printed}"
    assert graded["metadata"].get("t320_grading", {}).get("sandbox") is not False
    # make hub-grade: root grades every collected submission in the sandbox
    t0 = time.monotonic()
    status = hub_setup_grade(hub)
    cls["timings"]["make hub-grade, 3 submissions"] = time.monotonic() - t0
    assert status == 0, "setup.py grade (course.grading in the sandbox, as root) failed"
    scores = {s["student"]: s for s in prof.json("get", f"/formgrader/api/submissions/{LISTA}")}
    full, half, hostile = hub.students
    assert scores[full]["code_score"] == AUTO_POINTS, \
        f"{scores[full]['code_score']} points; errors: {graded_errors(course, full)}"
    assert 0 < scores[half]["code_score"] < AUTO_POINTS, scores[half]
    assert scores[hostile]["code_score"] == 0, scores[hostile]
    cls["scores"] = scores


def graded_errors(course, student):
    """The error outputs of ``student``'s autograded notebook (for a failure message)."""
    path = os.path.join(course, "autograded", student, LISTA, f"{LISTA}.ipynb")
    with open(path) as fh:
        nb = json.load(fh)
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb["cells"]
            for o in c.get("outputs", []) if o.get("output_type") == "error"][:5]


def hub_setup_grade(hub):
    return hub_setup.grade(hub.state)  # deploy/hub/setup.py grade = make hub-grade


def test_instructor_grades_a_manual_answer_and_returns_feedback(hub, cls):
    prof = cls["prof"]
    full = hub.students[0]
    notebooks = prof.json("get", f"/formgrader/api/submitted_notebooks/{LISTA}/{LISTA}")
    theirs = next(nb for nb in notebooks if nb["student"] == full)
    grades = prof.json("get", f"/formgrader/api/grades?submission_id={theirs['id']}")
    pergunta1 = next(g for g in grades if g["name"] == "pergunta1")
    r = prof.put(f"/formgrader/api/grade/{pergunta1['id']}",
                 data=json.dumps({"manual_score": MANUAL_POINTS}))
    assert r.status_code == 200, r.text
    total = {s["student"]: s for s in prof.json("get", f"/formgrader/api/submissions/{LISTA}")}
    assert total[full]["score"] == AUTO_POINTS + MANUAL_POINTS, total[full]
    r = prof.json("post", f"/formgrader/api/assignment/{LISTA}/generate_feedback", timeout=180)
    assert_ok(r)
    r = prof.json("post", f"/formgrader/api/assignment/{LISTA}/release_feedback")
    assert_ok(r)


def test_formgrader_renders_in_lab_and_student_markup_stays_inert(hub, cls):
    """Chromium (Debian's, through playwright) with the instructor's cookies: the formgrader
    in an iframe of the Lab page (as Lab's formgrader panel shows it) loads, and the manual
    grading page of the submission with script in a markdown answer runs none of it."""
    import labserver

    reason = labserver.browser_unavailable()
    if reason:
        pytest.skip(f"browser step skipped: {reason}")
    prof = cls["prof"]
    notebooks = prof.json("get", f"/formgrader/api/submitted_notebooks/{LISTA}/{LISTA}")
    theirs = next(nb for nb in notebooks if nb["student"] == hub.students[0])
    gen = labserver.chromium_context()
    context = next(gen)
    try:
        context.add_cookies([{"name": c.name, "value": c.value, "domain": "127.0.0.1",
                              "path": c.path or "/"} for c in prof.s.cookies])
        page = context.new_page()
        page.goto(prof.base + "/lab")
        page.wait_for_selector("#jp-main-dock-panel")
        page.evaluate("""url => { const f = document.createElement('iframe');
            f.id = 't320-formgrader'; f.src = url; document.body.appendChild(f); }""",
                      prof.base + "/formgrader/manage_assignments")
        frame = page.frame_locator("#t320-formgrader")
        frame.locator(f"text={LISTA}").first.wait_for(timeout=60_000)
        page.goto(prof.base + f"/formgrader/submissions/{theirs['id']}/")
        page.wait_for_load_state("load")
        page.locator("text=resposta em negrito").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # an onerror fires as soon as the image fails
        assert not page.title().startswith("ATAQUE"), f"student markup ran: {page.title()}"
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


def test_each_student_fetches_only_their_own_feedback(hub, cls):
    for name, s in cls["students"].items():
        r = s.json("post", "/assignments/fetch_feedback",
                   data={"assignment_id": LISTA, "course_id": COURSE})
        assert r["success"], r
        folder = os.path.join(home_of(name), LISTA, "feedback")
        htmls = [os.path.join(root, f) for root, _, files in os.walk(folder)
                 for f in files if f.endswith(".html")]
        assert len(htmls) == 1, f"{name}'s feedback: {htmls}"
        with open(htmls[0]) as fh:
            html = fh.read()
        assert f"marca-{name}" in html, f"{name} got someone else's feedback"
        for other in hub.students:
            assert other == name or f"marca-{other}" not in html, f"{name} got {other}'s feedback"
        assert "BEGIN HIDDEN TESTS" not in html
    feedback = os.path.join(hub.settings["exchange"], COURSE, "feedback")
    r = run_as(hub.students[2], ["ls", feedback])
    assert r.returncode != 0 and "denied" in r.stderr, f"a student lists {feedback}: {r.stdout}"
    full = hub.students[0]
    with open(next(os.path.join(r, f) for r, _, fs in os.walk(os.path.join(home_of(full), LISTA, "feedback"))
                   for f in fs if f.endswith(".html"))) as fh:
        assert f"Score: {AUTO_POINTS + MANUAL_POINTS}" in fh.read().replace(".0", "")


def test_instructor_exports_the_grades(hub, cls):
    course = hub.settings["course_dir"]
    r = run_as(hub.instructor, ["sh", "-c", f"cd {course} && "
                                f"{hub.settings['env_bin']}/python -m course.lms.export --lms plain {LISTA}"])
    assert r.returncode == 0, r.stderr[-2000:]
    with open(os.path.join(course, "export", f"{LISTA}.csv")) as fh:
        rows = {row.split(",")[0]: row.strip().split(",") for row in fh.readlines()[1:]}
    full, half, hostile = hub.students
    assert float(rows[full][3]) == AUTO_POINTS + MANUAL_POINTS, rows[full]
    assert float(rows[hostile][3]) == 0, rows[hostile]
