"""Run a notebook in a real kernel, then call its functions from a test.

Widget callbacks in the notebooks are plain functions; a test executes the notebook once
and calls them directly with chosen arguments::

    with NotebookSession("solutions/aula01_x/aula01_x.ipynb") as nb:
        nb.run("fig = plot_trajectories(batch_size=1, alpha=0.1)")
        assert nb.eval("len(fig.axes)") == 2

``eval`` returns any value that survives ``json`` (numbers, strings, lists, dicts).

A test that runs an autograded test cell against a wrong answer (a mutant) asks for the cell's
``verdict``: it passed, it was rejected (an ``AssertionError`` raised by a check of
``nnlib.checks``), or it broke (any other exception: a NameError or TypeError of the test cell,
a ``raise AssertionError(...)`` written in the cell itself, an error the answer raised outside a
check). Only a rejection counts as the test cell catching the mutant; ``rejects`` and
``accepts`` fail the test with the cell's traceback when it broke::

    nb.run(wrong_answer)
    assert nb.rejects(grade_cell_source(SOURCE, "teste_x"))
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from paths import ROOT

MARK = "__NOTEBOOK_SESSION_VALUE__"

# How a test cell's source ends, judged in the kernel. "rejected": an AssertionError whose innermost
# frame is in the nnlib.checks module the notebook imported (a check's own failure, in Portuguese);
# "broken": any other exception, an AssertionError raised by the test cell's own code (a
# `raise AssertionError(...)` it writes itself), by the answer or by another library included.
_JUDGE = '''
def _notebook_session_judge(_src, _filename):
    import os as _os, sys as _sys, traceback as _traceback
    try:
        exec(compile(_src, _filename, "exec"), globals())
    except Exception as _error:
        _frames = _traceback.extract_tb(_error.__traceback__)
        _where = _frames[-1].filename if _frames else ""
        _checks = getattr(_sys.modules.get("nnlib.checks"), "__file__", None)
        _in_checks = (_checks is not None and _where != ""
                      and _os.path.realpath(_where) == _os.path.realpath(_checks))
        _by = "nnlib.checks" if _in_checks else "test cell" if _where == _filename else _where
        _rejected = type(_error) is AssertionError and _in_checks
        return {"outcome": "rejected" if _rejected else "broken", "error": type(_error).__name__,
                "message": str(_error), "raised_in": _by,
                "traceback": "".join(_traceback.format_exception(type(_error), _error, _error.__traceback__))}
    return {"outcome": "passed", "error": None, "message": "", "raised_in": None, "traceback": ""}
'''


@dataclass(frozen=True)
class Verdict:
    """How a test cell ended: ``outcome`` is "passed", "rejected" or "broken".

    "rejected" only when an ``AssertionError`` raised by ``nnlib.checks`` (its innermost frame in
    that module) failed the cell; an exception raised in the cell's own code, a ``raise
    AssertionError(...)`` included, is "broken", as is any error of the answer or of a library.
    """

    outcome: str
    error: str | None      # the exception's class name, None if it passed
    message: str
    raised_in: str | None  # where the innermost frame is: "nnlib.checks", "test cell" or its file
    traceback: str

    @property
    def passed(self):
        return self.outcome == "passed"

    @property
    def rejected(self):
        """True only when an ``AssertionError`` raised by ``nnlib.checks`` failed the cell."""
        return self.outcome == "rejected"

    @property
    def broken(self):
        return self.outcome == "broken"

    def __str__(self):
        return "passed" if self.passed else f"{self.outcome}: {self.error}: {self.message}"


class TestCellBroke(AssertionError):
    """A test cell raised something other than a check's failure: the test itself is wrong."""

    __test__ = False  # not a pytest test class


class NotebookSession:
    """A kernel that has executed every cell of ``path`` (errors in cells are raised)."""

    def __init__(self, path, timeout=120, env=None, allow_errors=False):
        self.path = Path(path)
        self.nb = nbformat.read(self.path, as_version=4)
        # not graded unless the caller says so: widgets are built, demos run
        inherited = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
        self.env = {**inherited, "MPLBACKEND": "Agg", **(env or {})}
        self.client = NotebookClient(
            self.nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
            resources={"metadata": {"path": str(self.path.parent)}},
        )
        self._context = None

    def __enter__(self):
        self._context = self.client.setup_kernel(env=self.env)
        self._context.__enter__()
        for index, cell in enumerate(self.nb.cells):
            self.client.execute_cell(cell, index)
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    def run(self, code):
        """Execute ``code`` in the kernel; raise AssertionError with the traceback if it fails."""
        outputs = []

        def collect(msg):
            if msg["header"]["msg_type"] in ("stream", "error", "execute_result"):
                outputs.append(msg["content"])

        reply = run_sync(self.client.kc.execute_interactive)(code, output_hook=collect, timeout=self.client.timeout)
        if reply["content"]["status"] != "ok":
            trace = "\n".join(reply["content"].get("traceback", []))
            raise AssertionError(f"code failed in the notebook's kernel:\n{code}\n{trace}")
        return outputs

    def verdict(self, code, filename="<test cell>"):
        """Exec ``code`` (a test cell's source) in the kernel's namespace; return its ``Verdict``.

        Never raises for an error of ``code``: the verdict says whether a check rejected it
        or something else broke it.
        """
        if not getattr(self, "_judge_defined", False):
            self.run(_JUDGE)
            self._judge_defined = True
        self.run(f"_notebook_session_src = {json.dumps(code)}")
        return Verdict(**self.eval(f"_notebook_session_judge(_notebook_session_src, {filename!r})"))

    def rejects(self, code, filename="<test cell>"):
        """True if a check rejected ``code``, False if it passed; a broken cell fails the test."""
        return not _unless_broken(self.verdict(code, filename), code).passed

    def accepts(self, code, filename="<test cell>"):
        """True if ``code`` passed, False if a check rejected it; a broken cell fails the test."""
        return _unless_broken(self.verdict(code, filename), code).passed

    def eval(self, expression):
        """The value of ``expression`` in the kernel, passed back through json."""
        outputs = self.run(f"import json as _json; print({MARK!r} + _json.dumps({expression}))")
        for out in outputs:
            for line in out.get("text", "").splitlines():
                if line.startswith(MARK):
                    return json.loads(line[len(MARK):])
        raise AssertionError(f"no value came back for {expression!r}: {outputs}")


def _unless_broken(verdict, code):
    if verdict.broken:
        raise TestCellBroke(f"the test cell broke ({verdict.error}), it was not rejected by a check:\n"
                            f"{verdict.traceback}\n--- the code run ---\n{code}")
    return verdict


# Kernel code that imports the pixel helpers the live-widget tests compare images with.
PIXELS = ("import io as _io\nimport numpy as _np\n"
          "from nnlib.liveplot import png_pixels as _png_pixels, figure_pixels as _full_draw, "
          "differing_pixels as _differing_pixels\n")


def notebook_path(folder, nb_id):
    """``<repository>/<folder>/<nb_id>/<nb_id>.ipynb`` (folder: solutions, lectures, assignments)."""
    return os.path.join(ROOT, folder, nb_id, nb_id + ".ipynb")


def grade_cell(notebook, grade_id):
    """The cell whose nbgrader ``grade_id`` is ``grade_id``; ``notebook`` is a path or a notebook node."""
    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else _read(str(notebook))
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    where = "the notebook" if isinstance(notebook, nbformat.NotebookNode) else notebook
    raise KeyError(f"no cell with grade_id {grade_id!r} in {where}")


def grade_cell_source(notebook, grade_id):
    """The source of the cell whose nbgrader ``grade_id`` is ``grade_id`` (``notebook``: path or node)."""
    return grade_cell(notebook, grade_id).source


def visible_part(source):
    """A test cell's source before its hidden tests (what the student sees)."""
    return source.split("### BEGIN HIDDEN TESTS")[0]


def _read(path):
    """The notebook at ``path``, read once while the file is unchanged (callers only read it)."""
    mtime = os.stat(path).st_mtime_ns
    cached = _NOTEBOOKS.get(path)
    if cached is None or cached[0] != mtime:
        cached = _NOTEBOOKS[path] = (mtime, nbformat.read(path, as_version=4))
    return cached[1]


_NOTEBOOKS = {}
