"""No student markup runs in the instructor's browser (Chromium, JupyterLab as ``make lab``).

A hostile submission (``tests/hostile/make_markup.py``: ``<script>``, ``Javascript(...)``,
``<img onerror>``, ``<svg onload>``, ``<iframe srcdoc>``, an isolated HTML output, a markdown
output, a ``text/html`` + ``application/javascript`` bundle and raw HTML in a markdown
answer) is graded with ``course.grading.driver.grade`` into a scratch course. JupyterLab is then
started in that course as ``make lab`` starts it, and every page the instructor can open for
the submission is loaded:

- the formgrader's manual-grading page ``/formgrader/submissions/<id>/``;
- the feedback HTML in a browser tab (``/files/feedback/...html``);
- the feedback HTML in JupyterLab's HTML viewer (``/lab/tree/feedback/...html``);
- the autograded notebook opened in JupyterLab;
- the ``.html`` and ``.svg`` files handed in beside the notebook, as the formgrader serves
  them (``/formgrader/submissions/<id>/<file>``) and under ``/files/`` (``course/browser/student_files.py``),
  with a control that opens the same files from a folder that is not a student's and sees
  their script run.

Each attack, if it ran, would request ``<beacon>/<name>`` from a recording server of the
test, fetch ``/api/contents/t320-ataque-<name>`` from the Jupyter server and change the
page's title. The test asserts none of that happened, and that the submission's PNG figure
and printed text are on the page. Skips, saying why, where Chromium or playwright is missing.
"""

import http.server
import os
import shutil
import tempfile
import threading
import time

import nbformat
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

import labserver  # noqa: E402
from hostile import make_markup  # noqa: E402

REASON = labserver.browser_unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"browser test skipped: {REASON}")

NB_ID = "lista00_exemplo"
STUDENT = "atacante"
FIXTURE = os.path.join(os.path.dirname(HERE), "hostile", NB_ID + ".ipynb")
SETTLE = 3.0  # seconds a page gets to run whatever it would run after it loaded
ROOT_USER = os.geteuid() == 0
CONTROL_FOLDER = "material_extra"  # where the same files are not a student's
HANDED_IN = sorted(make_markup.handed_in_files("/"))


# ---------------------------------------------------------------------------- fixtures
class Beacon:
    """A local HTTP server that records every path requested from it (the attacks' target)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def beacon():
    b = Beacon()
    yield b
    b.close()


@pytest.fixture(scope="module")
def course(beacon):
    """A scratch course with the hostile submission graded (autograded/, feedback/)."""
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-markup-")
    os.chmod(base, 0o711)  # the sandbox user must reach autograded/, as in a real course
    source = nbformat.from_dict(make_markup.source(FIXTURE))
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    nbformat.write(source, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    sub = os.path.join(base, "submitted", STUDENT, NB_ID)
    os.makedirs(sub)
    with open(os.path.join(sub, NB_ID + ".ipynb"), "wb") as fh:
        fh.write(make_markup.submission(source, beacon.url))
    for folder in (sub, os.path.join(base, CONTROL_FOLDER)):  # the control: not a student folder
        os.makedirs(folder, exist_ok=True)
        for name, text in make_markup.handed_in_files(beacon.url).items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
                fh.write(text)
    # what `make lab` finds at the root of a real course: its config and the course package
    labserver.scratch_course(base, folders=())
    shutil.copytree(os.path.join(labserver.REPO, "course"), os.path.join(base, "course"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    res = grade(base, pairs=[(STUDENT, NB_ID)], use_sandbox=ROOT_USER, csv=False)[(STUDENT, NB_ID)]
    assert res["success"] and res.get("feedback"), res["log"][-3000:]
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def lab(course):
    labserver.write_lab_overrides()
    log = os.path.join(labserver.artifacts_dir(), "markup-server.log")
    server = labserver.LabServer(course, log)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    yield from labserver.chromium_context()


@pytest.fixture
def page(browser, lab, beacon):
    """A new tab that records dialogs (alert, confirm); the beacon's record and the server
    log are looked at from here on only, so each test sees only its own page's effects."""
    beacon.hits.clear()
    lab.log_start = os.path.getsize(lab.log_path)
    page = browser.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    page.close()


# ---------------------------------------------------------------------------- helpers
def autograded_path(course):
    return os.path.join(course, "autograded", STUDENT, NB_ID, NB_ID + ".ipynb")


def feedback_rel():
    return f"feedback/{STUDENT}/{NB_ID}/{NB_ID}.html"


def server_saw_attack(lab):
    """Lines of the Jupyter server's log that name an attack's request."""
    with open(lab.log_path, "rb") as fh:
        fh.seek(getattr(lab, "log_start", 0))
        lines = fh.read().decode("utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if "t320-ataque-" in line]


def frame_marks(page):
    """(title, attacks recorded) of every frame of the page that the page may read."""
    marks = []
    for frame in page.frames:
        try:
            marks.append(frame.evaluate("[document.title, window.t320_ataques || []]"))
        except Exception:  # a sandboxed frame of another origin: its requests still show
            pass
    return marks


def assert_inert(page, lab, beacon, what):
    """Nothing any attack would do happened while ``page`` showed ``what``."""
    time.sleep(SETTLE)
    ran = sorted({p.strip("/") for p in beacon.hits})
    titles = [m for m in frame_marks(page) if m[0].startswith(make_markup.TITLE_PREFIX) or m[1]]
    problems = []
    if ran:
        problems.append(f"the beacon was called by: {ran}")
    if titles:
        problems.append(f"a page's title or t320_ataques changed: {titles}")
    if server_saw_attack(lab):
        problems.append(f"the Jupyter server got: {server_saw_attack(lab)}")
    if page.dialogs:
        problems.append(f"dialogs opened: {page.dialogs}")
    if problems:
        path = os.path.join(labserver.artifacts_dir(), f"markup-{what}.png")
        page.screenshot(path=path, full_page=True)
        pytest.fail(f"student script ran in {what}: " + "; ".join(problems)
                    + f"\nscreenshot: {path}")


def png_shown(scope):
    """How many PNG images (``data:image/png``) in ``scope`` loaded with a real size."""
    return scope.locator("img[src^='data:image/png']").evaluate_all(
        "els => els.filter(e => e.complete && e.naturalWidth > 10).length")


def assert_visible(scope, what):
    """The submission's printed text and its PNG figure are shown in ``scope``."""
    text = scope.locator("body").inner_text()
    assert make_markup.VISIBLE_TEXT in text, f"{what}: the student's printed text is missing"
    assert png_shown(scope) >= 1, f"{what}: the student's PNG figure does not show"


def submission_id(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db", "t320") as gb:
        return gb.find_submission_notebook(NB_ID, NB_ID, STUDENT).id


# ---------------------------------------------------------------------------- tests
def test_submission_carries_every_attack(course):
    """The pages below are only a test if the graded notebook holds the attacks."""
    text = open(autograded_path(course), encoding="utf-8").read()
    missing = [n for n in make_markup.all_names() if f"var n='{n}'" not in text
               and f"var n=\\u0027{n}\\u0027" not in text]
    assert not missing, f"attacks missing from the autograded notebook: {missing}"
    nb = nbformat.read(autograded_path(course), as_version=4)
    mimes = {k for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
             for k in o.get("data", {})}
    assert {"text/html", "application/javascript", "image/svg+xml", "image/png",
            "text/markdown"} <= mimes, mimes


def test_formgrader_manual_grading_page(lab, course, beacon, page):
    sid = submission_id(course)
    page.goto(f"{lab.base}formgrader/submissions/{sid}/?token={lab.token}")
    page.wait_for_selector("#notebook-container .cell")
    assert_inert(page, lab, beacon, "formgrader")
    assert_visible(page, "formgrader")
    text = page.locator("#notebook-container").first.inner_text()
    assert make_markup.MARKDOWN_TEXT in text, "the markdown answer is missing"
    assert page.locator("#notebook-container strong", has_text=make_markup.MARKDOWN_TEXT) \
        .count() >= 1, "the markdown answer's formatting was lost"
    assert "<script>" in text, "the student's script should show as text"
    assert page.locator("input.score").count() >= 1, "the grading form is gone"


def test_feedback_in_a_browser_tab(lab, beacon, page):
    page.goto(f"{lab.base}files/{feedback_rel()}?token={lab.token}")
    page.wait_for_selector("body")
    assert_inert(page, lab, beacon, "feedback-tab")
    assert_visible(page, "feedback tab")


def test_feedback_in_jupyterlab_html_viewer(lab, beacon, page):
    page.goto(f"{lab.base}lab/workspaces/t320-markup-fb-{os.getpid()}/tree/{feedback_rel()}"
              f"?reset&token={lab.token}")
    page.wait_for_selector(".jp-HTMLViewer iframe")
    frame = page.frame_locator(".jp-HTMLViewer iframe")
    frame.locator("body").wait_for()
    assert_inert(page, lab, beacon, "feedback-htmlviewer")
    assert_visible(frame, "feedback in JupyterLab")


def test_autograded_notebook_in_jupyterlab(lab, beacon, page):
    path = f"autograded/{STUDENT}/{NB_ID}/{NB_ID}.ipynb"
    try:
        page.goto(f"{lab.base}lab/workspaces/t320-markup-nb-{os.getpid()}/tree/{path}"
                  f"?reset&token={lab.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        for i in range(cells.count()):  # JupyterLab renders a cell once it is scrolled to
            cells.nth(i).scroll_into_view_if_needed()
        assert_inert(page, lab, beacon, "autograded-notebook")
        answer = cells.nth(3)
        answer.scroll_into_view_if_needed()
        assert make_markup.VISIBLE_TEXT in answer.inner_text(), "printed text missing"
        assert png_shown(answer) >= 1, "the PNG figure does not show"
    finally:
        lab.shutdown_kernels(path)


def test_handed_in_files_reach_the_autograded_folder(course):
    folder = os.path.dirname(autograded_path(course))
    assert set(HANDED_IN) <= set(os.listdir(folder)), "nbgrader did not copy the handed-in files"


def test_answer_link_to_its_file_is_not_a_link_in_the_formgrader(lab, course, page):
    page.goto(f"{lab.base}formgrader/submissions/{submission_id(course)}/?token={lab.token}")
    page.wait_for_selector("#notebook-container .cell")
    link = page.locator("#notebook-container a", has_text=make_markup.LINK_TEXT)
    assert link.count() >= 1, "the answer's link text is gone"
    assert link.first.get_attribute("href") is None, "a relative link into the server survived"


def assert_handed_in_file_inert(page, lab, beacon, url_path, what):
    """The handed-in file at ``url_path`` is served (its text shows) and none of its script runs."""
    page.goto(f"{lab.base}{url_path}?token={lab.token}")
    page.wait_for_load_state()
    assert make_markup.HANDED_IN_TEXT in page.content(), f"{url_path} was not served"
    assert_inert(page, lab, beacon, what)


@pytest.mark.parametrize("name", HANDED_IN)
def test_handed_in_file_served_by_the_formgrader(lab, course, beacon, page, name):
    assert_handed_in_file_inert(page, lab, beacon,
                                f"formgrader/submissions/{submission_id(course)}/{name}",
                                f"formgrader-{name}")


@pytest.mark.parametrize("folder", ["autograded", "submitted", "%61utograded"])
@pytest.mark.parametrize("name", HANDED_IN)
def test_handed_in_file_under_files(lab, beacon, page, folder, name):
    assert_handed_in_file_inert(page, lab, beacon, f"files/{folder}/{STUDENT}/{NB_ID}/{name}",
                                f"files-{folder.strip('%')}-{name}")


def test_control_the_same_file_elsewhere_runs_its_script(lab, beacon, page):
    """Outside the student folders JupyterLab's own policy lets a file's script run (in an
    origin of its own): the beacon hears it, so the inert pages above are a real result."""
    page.goto(f"{lab.base}files/{CONTROL_FOLDER}/anexo.html?token={lab.token}")
    page.wait_for_load_state()
    time.sleep(SETTLE)
    assert "/file_html" in beacon.hits, f"the control's script did not run: {beacon.hits}"
