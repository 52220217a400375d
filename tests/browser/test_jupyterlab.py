"""The student's real path: JupyterLab (started as ``make lab`` starts it) in Chromium.

One server for the whole module, on a scratch copy of ``lectures/`` and ``assignments/`` (the
server autosaves what it opens). For every lecture and every assignment, as a student has it
(the student version, its exercises blank: the widgets run on the notebook's own given
functions, never on an exercise): open it in a fresh workspace, wait for one idle kernel, Run
All from the menu, then check that

- every code cell got an execution count (in the page and in the saved file; the save is tried
  by toolbar button, File menu and Ctrl+S in turn), retrying Run All once
  if a cold-start kernel swap lost the run;
- errors come only from cells tagged ``raises-exception`` (the blank exercises and their
  tests), and Run All went on past them;
- every widget cell rendered its controls and a plot;
- moving a slider with the keyboard (a dropdown where a lecture has no slider) changes the
  readout and the plot's PNG bytes.

For one assignment: the Nbgrader menu is there and the Validate button reports the blank
exercises. Failures keep a screenshot under ``test-artifacts/`` (named in the message).
Skips, saying why, where Chromium or playwright is missing.
"""

import json
import os
import re
import time

import nbformat
import pytest


import labserver  # noqa: E402

REASON = labserver.browser_unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"browser test skipped: {REASON}")

# T320_BROWSER_SOURCE=<folder with lectures/ and assignments/> tests other student versions;
# T320_NOTEBOOKS=id1,id2 restricts the Run All test to some notebooks (as in test_pipeline.py).
SOURCE = os.environ.get("T320_BROWSER_SOURCE", labserver.REPO)


def _ids(folder):
    base = os.path.join(SOURCE, folder)
    ids = sorted(d for d in (os.listdir(base) if os.path.isdir(base) else [])
                 if os.path.isfile(os.path.join(base, d, d + ".ipynb")))
    return ids


def _selected(ids):
    """The ids that T320_NOTEBOOKS names (all when it is not set)."""
    wanted = os.environ.get("T320_NOTEBOOKS")
    return [i for i in ids if i in wanted.split(",")] if wanted else ids


LECTURES = _ids("lectures")
ASSIGNMENTS = _ids("assignments")
STUDENT_NOTEBOOKS = ([f"lectures/{i}" for i in _selected(LECTURES)]
                     + [f"assignments/{i}" for i in _selected(ASSIGNMENTS)])
VALIDATE_ID = "lista00_exemplo" if "lista00_exemplo" in ASSIGNMENTS else (ASSIGNMENTS or [None])[0]
RUN_TIMEOUT = 240  # seconds for Run All of one notebook (the slowest runs about 20 s here)
WIDGET_CELL = re.compile(r"widgets\.(interactive|interact|interactive_output|HBox|VBox)\b"
                         r"|\bfigures\.interativo_\w+\(")  # or a widget of nnlib/figures
PROMPT_DONE = re.compile(r"^\[\d+\]:$")
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
DIRTY = f"{PANEL}.jp-mod-dirty, .lm-DockPanel-tabBar .lm-mod-current.jp-mod-dirty"  # unsaved changes


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The server, as ``make lab`` runs it, in a scratch course folder."""
    labserver.write_lab_overrides()
    course = labserver.scratch_course(str(tmp_path_factory.mktemp("course")), source=SOURCE)
    log = os.path.join(labserver.artifacts_dir(), "jupyterlab-server.log")
    server = labserver.LabServer(course, log)
    server.start()
    server.course = course
    yield server
    code = server.stop()
    assert code == 0, f"JupyterLab exited with {code}; log: {log}"


@pytest.fixture(scope="module")
def browser():
    yield from labserver.chromium_context()


class Failure(AssertionError):
    pass


def fail_with_screenshot(page, name, message):
    path = os.path.join(labserver.artifacts_dir(), f"{name}.png")
    try:
        page.screenshot(path=path, full_page=True)
        where = f"screenshot: {path}"
    except Exception as exc:  # the page itself may be gone
        where = f"no screenshot ({exc})"
    raise Failure(f"{message}\n{where}")


# ---------------------------------------------------------------------------- helpers
def open_notebook(lab, page, path, workspace):
    """Open ``path`` in a new, reset workspace (the last workspace is otherwise restored)."""
    page.goto(f"{lab.base}lab/workspaces/{workspace}/tree/{path}?reset&token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")


def wait_single_idle_kernel(lab, path, stable=2.0, timeout=90):
    """Wait until the server shows exactly one session for ``path``, idle for ``stable`` s.

    On a cold server JupyterLab may start two kernels and drop the one that got Run All.
    """
    deadline = time.monotonic() + timeout
    since, kernel = None, None
    while time.monotonic() < deadline:
        mine = [s for s in lab.sessions() if s["path"] == path]
        ok = len(mine) == 1 and mine[0]["kernel"]["execution_state"] == "idle"
        if ok and kernel == mine[0]["kernel"]["id"]:
            if time.monotonic() - since >= stable:
                return kernel
        elif ok:
            since, kernel = time.monotonic(), mine[0]["kernel"]["id"]
        else:
            since, kernel = None, None
        time.sleep(0.25)
    raise Failure(f"no single idle kernel for {path} after {timeout} s: {lab.sessions()}")


def run_all(page):
    page.click("#jp-MainMenu .lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")


def prompts(page):
    return page.eval_on_selector_all(
        f"{PANEL} .jp-Notebook .jp-CodeCell .jp-InputPrompt",
        "els => els.map(e => e.textContent.trim())")


def wait_run_finished(lab, page, path, n_code, timeout=RUN_TIMEOUT):
    """Wait until no cell is running and the kernel is idle; return the prompts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = prompts(page)
        busy = any(p == "[*]:" for p in shown)
        states = [s["kernel"]["execution_state"] for s in lab.sessions() if s["path"] == path]
        if not busy and states == ["idle"] and len(shown) == n_code:
            time.sleep(1.0)  # idle between two cells is not the end: look again
            again = prompts(page)
            states = [s["kernel"]["execution_state"] for s in lab.sessions() if s["path"] == path]
            if again == shown and states == ["idle"]:
                return shown
        time.sleep(0.5)
    return prompts(page)


def _save_by_toolbar(page):
    page.locator(f"{PANEL} .jp-Toolbar [data-command='docmanager:save']").first.click()


def _save_by_menu(page):
    page.click("#jp-MainMenu .lm-MenuBar-itemLabel:text-is('File')")
    page.click(".lm-Menu-itemLabel:text-is('Save Notebook')")


def _save_by_keyboard(page):
    page.click(f"{PANEL} .jp-Notebook .jp-Cell >> nth=-1")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")


SAVE_WAYS = (("toolbar button", _save_by_toolbar), ("File > Save Notebook", _save_by_menu),
             ("Ctrl+S", _save_by_keyboard))


def _last_modified(lab, path):
    """The file's time stamp as the server sees it (``content=0``: a stat, the file is not read).

    Never poll ``content=1`` while a save may be in flight: jupyter_server writes the notebook in
    place, and a read that meets the half-written file "repairs" it by moving the previous version
    back over it, so the save is lost (CI saw this twice: a saved file without execution counts,
    then an HTTP 500).
    """
    return lab.api("GET", f"api/contents/{path}?content=0")["last_modified"]


def _page_clean(page):
    """No unsaved-changes marker on the notebook: the last save's PUT has returned."""
    return page.locator(DIRTY).count() == 0


def _read_file(file):
    """The notebook on disk, or None while a (later auto)save is writing it."""
    try:
        return nbformat.read(file, as_version=4)
    except ValueError:  # JSON cut short, or a UTF-8 character cut in half
        return None


def _all_ran(nb):
    return nb is not None and all(c.get("execution_count")
                                  for c in nb.cells if c.cell_type == "code")


def saved_notebook(lab, page, path, timeout_each=20):
    """Save from the page, wait until the save has landed, then read the file from disk.

    A save has landed when the server's time stamp of the file moved and the page shows no
    unsaved changes. Tries the toolbar's save button, then File > Save Notebook, then Ctrl+S;
    each gets ``timeout_each`` seconds. If none lands, the failure names any open dialog, the
    dirty marker and the end of the server log.
    """
    file = os.path.join(lab.course, path)
    tried = []
    for how, save in SAVE_WAYS:
        tried.append(how)
        stamp = _last_modified(lab, path)
        try:
            save(page)
        except Exception as exc:  # a control not found or covered: try the next way
            tried[-1] += f" (failed: {str(exc).splitlines()[0]})"
            continue
        if not wait_for(lambda: _last_modified(lab, path) != stamp and _page_clean(page),
                        timeout_each, interval=0.5):
            tried[-1] += " (not landed)"
            continue
        nb = wait_for(lambda: _read_file(file), 10, interval=0.5)
        if _all_ran(nb):
            return nb
        tried[-1] += " (landed, but some code cell has no execution count)"
    dialogs = page.locator(".jp-Dialog").all_inner_texts()
    dirty = page.locator(DIRTY).count()
    log = open(lab.log_path, encoding="utf-8", errors="replace").read().splitlines()[-15:]
    fail_with_screenshot(page, f"save-{os.path.basename(path)}",
                         f"{path}: no save left a file in which every code cell ran; tried {', '.join(tried)}; "
                         f"open dialogs: {dialogs!r}; dirty markers: {dirty}; "
                         "server log ends:\n" + "\n".join(log))


def cell_locator(page, index):
    """The ``index``-th cell, scrolled into view (JupyterLab skips rendering off-screen cells)."""
    cell = page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    return cell


def images(cell):
    return cell.locator(".jp-OutputArea img").evaluate_all("els => els.map(e => e.src)")


def wait_for(predicate, timeout, interval=0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def move_one_control(page, widget_cells):
    """Move the first slider (keyboard), or pick the next dropdown option where there is no
    slider; return a description of what changed, or raise Failure."""
    for kind, selector in (("slider", ".widget-slider .noUi-handle"),
                           ("dropdown", ".widget-dropdown select")):
        for i in widget_cells:
            cell = cell_locator(page, i)
            controls = cell.locator(selector)
            if controls.count() == 0:
                continue
            control = controls.first
            before = images(cell)
            if kind == "slider":
                slider = cell.locator(".widget-slider").first
                readout = slider.locator(".widget-readout")
                old_value = readout.text_content().strip()
                control.focus()
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")
                new_value = wait_for(lambda: readout.text_content().strip() != old_value and
                                     readout.text_content().strip(), 10)
                if not new_value:
                    raise Failure(f"cell {i}: the slider readout stayed at {old_value!r} "
                                  "after two ArrowRight presses")
            else:
                # a closed <select> ignores arrow keys in headless Chromium: pick like a mouse
                old_value = control.input_value()
                options = control.locator("option").evaluate_all("els => els.map(e => e.value)")
                control.select_option(options[(options.index(old_value) + 1) % len(options)])
                new_value = wait_for(lambda: control.input_value() != old_value and
                                     control.input_value(), 10)
                if not new_value:
                    raise Failure(f"cell {i}: the dropdown stayed at {old_value!r}")
            after = wait_for(lambda: (lambda now: now and now != before and now)(images(cell)), 60)
            if not after:
                raise Failure(f"cell {i}: the plot did not change after moving the {kind} "
                              f"{old_value} -> {new_value} ({len(before)} image(s) before)")
            return f"{kind} {old_value} -> {new_value} in cell {i}"
    raise Failure("no slider and no dropdown found in the widget cells")


# ---------------------------------------------------------------------------- tests
def test_lectures_found():
    assert LECTURES, "no lectures/<id>/<id>.ipynb found"


@pytest.mark.parametrize("notebook", STUDENT_NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab, browser, notebook):
    """``notebook`` is ``lectures/<id>`` or ``assignments/<id>``: its student version."""
    nb_id = os.path.basename(notebook)
    path = f"{notebook}/{nb_id}.ipynb"
    source = nbformat.read(os.path.join(lab.course, path), as_version=4)
    code_idx = [i for i, c in enumerate(source.cells) if c.cell_type == "code"]
    tagged = {i for i in code_idx
              if "raises-exception" in source.cells[i].metadata.get("tags", [])}
    widget_cells = [i for i in code_idx if WIDGET_CELL.search(source.cells[i].source)]
    assert widget_cells, f"{nb_id}: no widget cell found (pattern {WIDGET_CELL.pattern})"

    page = browser.new_page()
    t0 = time.monotonic()
    try:
        open_notebook(lab, page, path, f"t320-{nb_id}-{os.getpid()}")
        for attempt in (1, 2):
            wait_single_idle_kernel(lab, path)
            run_all(page)
            shown = wait_run_finished(lab, page, path, len(code_idx))
            missing = [code_idx[k] for k, p in enumerate(shown) if not PROMPT_DONE.match(p)]
            if len(shown) == len(code_idx) and not missing:
                break
            before = code_idx[code_idx.index(missing[0]) - 1] if missing and missing[0] != \
                code_idx[0] else None
            shown_out = cell_locator(page, before).locator(".jp-OutputArea").inner_text() \
                if before is not None else ""
            print(f"{nb_id}: attempt {attempt}: cells without an execution count: {missing}; "
                  f"output of cell {before}: {shown_out[-800:]!r}; sessions: {lab.sessions()}")
        if len(shown) != len(code_idx) or missing:
            fail_with_screenshot(page, f"{nb_id}-run-all",
                                 f"{nb_id}: after Run All (twice) {len(shown)} code cells shown "
                                 f"of {len(code_idx)}; cells without an execution count: {missing}")

        # widgets: controls and a plot in every widget cell, no widget error
        for i in widget_cells:
            cell = cell_locator(page, i)
            ok = wait_for(lambda: cell.locator(".jupyter-widgets").count() > 0
                          and cell.locator(".widget-slider, .widget-dropdown").count() > 0
                          and cell.locator(".jp-OutputArea img").count() > 0, 30)
            text = cell.locator(".jp-Cell-outputWrapper").inner_text()
            if not ok or "Error displaying widget" in text or "Loading widget" in text:
                n_controls = cell.locator(".widget-slider, .widget-dropdown").count()
                n_images = cell.locator(".jp-OutputArea img").count()
                hint = ("; controls but no plot: widgets.interactive(f) does not display what f "
                        "returns (auto_display is False): display or plt.show() the figure "
                        "inside f" if n_controls and not n_images else "")
                fail_with_screenshot(page, f"{nb_id}-widgets",
                                     f"{nb_id}: widget cell {i} rendered {n_controls} control(s) "
                                     f"and {n_images} plot image(s){hint}; "
                                     f"output text: {text[:300]!r}")

        try:
            moved = move_one_control(page, widget_cells)
        except Failure as exc:
            fail_with_screenshot(page, f"{nb_id}-slider", f"{nb_id}: {exc}")

        # the saved file: every code cell ran, errors only where expected
        nb = saved_notebook(lab, page, path)  # fails unless every code cell was saved as run
        errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                  and any(o.output_type == "error" for o in c.outputs)]
        untagged = [i for i in errors if i not in tagged]
        if untagged:
            msgs = [next(o for o in nb.cells[i].outputs if o.output_type == "error")
                    for i in untagged]
            fail_with_screenshot(page, f"{nb_id}-errors",
                                 f"{nb_id}: cells not tagged raises-exception raised: "
                                 + "; ".join(f"cell {i}: {m.ename}: {m.evalue}"
                                             for i, m in zip(untagged, msgs)))
        assert errors, f"{nb_id}: the blank exercises raised nothing (student version stale?)"
        later = [i for i in code_idx if i > errors[0]]
        assert not later or all(nb.cells[i].execution_count for i in later), \
            f"{nb_id}: Run All stopped at the first exercise (cell {errors[0]})"
        print(f"{nb_id}: {len(code_idx)} code cells ran, {len(errors)} expected errors, "
              f"{moved}, {time.monotonic() - t0:.1f} s")
    finally:
        page.close()
        lab.shutdown_kernels(path)  # kernels outlive the browser: stop this one now


@pytest.mark.skipif(VALIDATE_ID is None, reason="no assignment to validate")
def test_assignment_validate_and_nbgrader_menu(lab, browser):
    path = f"assignments/{VALIDATE_ID}/{VALIDATE_ID}.ipynb"
    page = browser.new_page()
    try:
        open_notebook(lab, page, path, f"t320-validate-{os.getpid()}")
        menus = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").all_text_contents()
        if "Nbgrader" not in menus:
            fail_with_screenshot(page, "nbgrader-menu", f"no Nbgrader menu; menus: {menus}")
        page.click("#jp-MainMenu .lm-MenuBar-itemLabel:text-is('Nbgrader')")
        items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_text_contents()
        page.keyboard.press("Escape")
        if not any("Assignment" in t for t in items):
            fail_with_screenshot(page, "nbgrader-menu", f"Nbgrader menu items: {items}")

        wait_single_idle_kernel(lab, path)
        button = page.locator(f"{PANEL} .jp-Toolbar") \
                     .get_by_role("button", name="Validate")
        if button.count() != 1:
            fail_with_screenshot(page, "validate", "no Validate button in the notebook toolbar")
        button.click()
        try:
            page.wait_for_selector(".jp-Dialog:has-text('Validation Results')", timeout=180_000)
        except Exception:
            fail_with_screenshot(page, "validate", "no 'Validation Results' dialog after Validate")
        text = page.locator(".jp-Dialog").inner_text()
        # the blank student version must fail, naming the unsolved exercise
        if "The following cell failed" not in text or "NotImplementedError" not in text:
            fail_with_screenshot(page, "validate",
                                 f"Validate did not report the blank exercises:\n{text[:2000]}")
        page.locator(".jp-Dialog").get_by_role("button", name="Ok").click()
    finally:
        page.close()
        lab.shutdown_kernels(path)


def test_no_kernel_left(lab, browser):
    """Runs last in this module: every kernel the tests started is gone."""
    kernels = lab.api("GET", "api/kernels")
    assert kernels == [], f"kernels still running: {json.dumps(kernels)[:500]}"
