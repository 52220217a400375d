"""Run a notebook in a real kernel, then call its functions from a test.

Widget callbacks in the notebooks are plain functions; a test executes the notebook once
and calls them directly with chosen arguments::

    with NotebookSession("solutions/aula01_x/aula01_x.ipynb") as nb:
        nb.run("fig = plot_trajectories(batch_size=1, alpha=0.1)")
        assert nb.eval("len(fig.axes)") == 2

``eval`` returns any value that survives ``json`` (numbers, strings, lists, dicts).
"""

import json
import os
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

MARK = "__NOTEBOOK_SESSION_VALUE__"


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

    def verdict(self, code):
        """Exec ``code`` in the kernel; None if it ran, else ``'ExceptionName: message'``.

        How a test shows that a test cell rejects a wrong answer (or accepts a right one).
        """
        self.run(
            f"_src = {json.dumps(code)}\n"
            "try:\n"
            "    exec(_src, globals())\n"
            "    _verdict = None\n"
            "except Exception as _e:\n"
            "    _verdict = type(_e).__name__ + ': ' + str(_e)\n"
        )
        return self.eval("_verdict")

    def eval(self, expression):
        """The value of ``expression`` in the kernel, passed back through json."""
        outputs = self.run(f"import json as _json; print({MARK!r} + _json.dumps({expression}))")
        for out in outputs:
            for line in out.get("text", "").splitlines():
                if line.startswith(MARK):
                    return json.loads(line[len(MARK):])
        raise AssertionError(f"no value came back for {expression!r}: {outputs}")


def grade_cell_source(path, grade_id):
    """The source of the cell whose nbgrader ``grade_id`` is ``grade_id`` in notebook ``path``."""
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(f"no cell with grade_id {grade_id!r} in {path}")
