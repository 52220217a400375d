"""The trusted test process: runs the instructor's test cells, reaches the student through
the channel. It runs in a sandbox of its own (``trusted_client.py`` starts it).

Started as ``python -I -c BOOT <course root> <site dir> <fd>``; ``fd`` is its end of the pipe
to the grading process (``pipe.py`` frames). Inside its sandbox it sees the system, the
interpreter, the venv, nnlib and this package read-only, a private ``/tmp`` in memory, and
nothing of the course: the grading process sends it the source notebook's ``grader-setup``
cells, the answer names and each test cell, and hands it its connection to the student's
kernel as a file descriptor. As root it runs under its own uid (the kernel's + 1000), as a
normal user in a user namespace; it has no network, its own PID namespace (the kernel
cannot see, signal or trace it) and ``limits.TRUSTED_*`` caps.

Commands (one frame each), after it sends ``{"ready": true}``:

- ``{"op": "setup", "cells": [...], "answers": [...]}``, with the kernel connection's
  descriptor attached when the kernel connected: run the setup cells; reply
  ``{"connected": bool, "problems": [errors]}``;
- ``{"op": "run", "source": ...}``: one test cell, then tell the kernel the cell is done;
  reply ``{"stdout": ..., "stderr": ..., "error": None or {ename, evalue, traceback}}``;
- ``{"op": "exit"}``.
"""

import contextlib
import io
import os
import socket
import traceback

from course.grading.notebook import without_magics

TEST_FILE = "<célula de teste>"
SETUP_FILE = "<célula de preparação>"


class TestNamespace(dict):
    """Globals of the test cells: an answer name not bound here is fetched from the kernel."""

    def __init__(self, answers, endpoint):
        super().__init__()
        self.answers = frozenset(answers)
        self.endpoint = endpoint
        self.fetched = set()

    def __missing__(self, name):
        if name not in self.answers:
            raise KeyError(name)  # then the builtins are looked up
        if self.endpoint is None:
            raise NameError(f"name '{name}' is not defined (o notebook do aluno não "
                            "pôde ser executado)")
        value = self.endpoint.get(name)
        dict.__setitem__(self, name, value)
        self.fetched.add(name)
        return value

    def forget_fetched(self):
        """Fetch answers again in the next cell (the student's values may have changed)."""
        for name in self.fetched:
            dict.pop(self, name, None)
        self.fetched.clear()


def remote_tracer(endpoint):
    """``nnlib.checks`` hook: run ``call()`` with the kernel profiling the student's calls."""

    def spec(target):
        import types

        if isinstance(target, types.ModuleType):
            return target.__name__
        module = getattr(target, "__module__", None) or ""
        return f"{module}:{getattr(target, '__qualname__', getattr(target, '__name__', ''))}"

    def tracer(call, targets):
        previous_forbid, previous_hits = endpoint.forbid, endpoint.hits
        endpoint.forbid, endpoint.hits = [spec(t) for t in targets], []
        try:
            result = call()
            return result, list(endpoint.hits)
        finally:
            endpoint.forbid, endpoint.hits = previous_forbid, previous_hits

    return tracer


def _format_error(exc, source):
    """IPython-like traceback lines limited to the test cell's own frames."""
    lines = source.split("\n")
    frames = []
    for fs in traceback.extract_tb(exc.__traceback__):
        if fs.filename == TEST_FILE and 1 <= fs.lineno <= len(lines):
            frames.append(f"Célula de teste, linha {fs.lineno}:\n    {lines[fs.lineno - 1].strip()}")
    name = type(exc).__name__
    text = str(exc)
    return {"ename": name, "evalue": text,
            "traceback": frames + [f"\x1b[0;31m{name}\x1b[0m: {text}"]}


def run_cell(source, ns, filename=TEST_FILE):
    """Execute one cell's ``source`` in ``ns``; return ``(stdout, stderr, error or None)``."""
    out, err = io.StringIO(), io.StringIO()
    error = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = compile(without_magics(source), filename, "exec")
            exec(code, ns)
        except BaseException as exc:  # a failing test: recorded, the next cell still runs
            error = _format_error(exc, source)
    return out.getvalue(), err.getvalue(), error


def main(fd):
    """Serve the grading process on the pipe ``fd`` until it says exit or closes the pipe."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray C-level writes go nowhere
    import matplotlib

    matplotlib.use("Agg")
    import nnlib.checks
    from course.grading import channel, limits, pipe

    control = socket.socket(fileno=fd)
    endpoint, ns = None, TestNamespace((), None)
    pipe.send(control, {"ready": True})
    while True:
        try:
            cmd, fds = pipe.receive(control, max_bytes=limits.CHANNEL_MESSAGE_MAX, max_fds=1)
        except pipe.PipeClosed:
            return 0
        op = cmd.get("op")
        if op == "setup":
            if fds:
                endpoint = channel.Endpoint(socket.socket(fileno=fds[0]), "trusted")
                nnlib.checks._remote_tracer = remote_tracer(endpoint)
            ns = TestNamespace(cmd["answers"], endpoint)
            ns["__name__"] = "__main__"  # classes of the tests: instances the kernel may use
            ns["display"] = print
            problems = []
            for src in cmd["cells"]:
                _, _, error = run_cell(src, ns, SETUP_FILE)
                if error:
                    problems.append(error)
            for name in cmd["answers"]:
                dict.pop(ns, name, None)
            pipe.send(control, {"connected": endpoint is not None, "problems": problems})
        elif op == "run":
            ns.forget_fetched()
            stdout, stderr, error = run_cell(cmd["source"], ns)
            with contextlib.suppress(Exception):
                if endpoint is not None:
                    endpoint.done()
            pipe.send(control, {"stdout": stdout, "stderr": stderr, "error": error})
        else:
            return 0


# Run with -I (nothing from the environment or the current folder on sys.path): the venv's
# site-packages and the course root are added explicitly. argv: root, site dir, fd.
BOOT = ("import site, sys; site.addsitedir(sys.argv[2]); sys.path.insert(0, sys.argv[1]); "
        "from course.grading.trusted_process import main; sys.exit(main(int(sys.argv[3])))")
