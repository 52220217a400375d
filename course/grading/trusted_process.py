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
    _preload()
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


# ----------------------------------------------------------------------------- zygote
# Starting an interpreter and importing numpy, matplotlib and nnlib costs about 0.5 s of CPU
# per submission. Each grading worker keeps one *zygote* in the trusted sandbox instead: it
# imports those once and forks the trusted process of each submission. It runs no test and
# no student code. As root it is uid 0 in the sandbox with only the capabilities to become
# the trusted uid, signal it and clear its files; each child becomes the trusted uid (which
# drops them all). Between submissions (``clean``) it kills every other process of its
# sandbox and empties /tmp and /dev/shm, so nothing of one submission reaches the next; it
# is not dumpable, so a child cannot trace it or read its memory.
PRELOAD = ("numpy", "matplotlib.pyplot", "course.grading.channel", "course.grading.pipe")


def _preload():
    import importlib
    import pkgutil

    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOAD:
        importlib.import_module(name)
    import nnlib

    for info in pkgutil.walk_packages(nnlib.__path__, "nnlib."):
        with contextlib.suppress(ImportError):
            importlib.import_module(info.name)


def _become(uid):
    """As root in the sandbox: become ``uid`` (every capability goes); die with the zygote."""
    import ctypes
    import signal

    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _end_others():
    """Kill every process of the sandbox but this one (and its init), reap our children."""
    import signal

    for _ in range(50):
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        others = [d for d in os.listdir("/proc") if d.isdigit() and int(d) not in (1, os.getpid())]
        if not others:
            return
        import time

        time.sleep(0.01)


def _mount_points():
    """The mount points of this sandbox (the read-only binds of the course among them)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        return {line.split()[4] for line in fh}


def _empty(folder, mounts=None):
    """Remove everything in ``folder`` (even what a child made unreadable), except the
    sandbox's mount points and the folders that lead to them (a course under /tmp)."""
    import shutil

    mounts = _mount_points() if mounts is None else mounts
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if path in mounts:
                continue
            if any(m.startswith(path + "/") for m in mounts):
                _empty(path, mounts)
                continue

            def unlock(func, target, exc, top=path):
                with contextlib.suppress(OSError):
                    if os.path.dirname(target).startswith(top):
                        os.chmod(os.path.dirname(target), 0o700)
                    os.chmod(target, 0o700)
                    func(target)

            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, onerror=unlock)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def zygote_main(fd):
    """The zygote on pipe ``fd``: ``fork`` (a pipe end attached, the uid to become) starts a
    trusted process serving that pipe; ``clean`` ends it and empties the shared folders."""
    import ctypes

    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    _preload()
    from course.grading import pipe

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/mem
    for folder in ("/tmp", "/dev/shm"):  # the imports' caches: every child starts with nothing
        _empty(folder)
    control = socket.socket(fileno=fd)
    pipe.send(control, {"zygote": True})
    while True:
        try:
            cmd, fds = pipe.receive(control, max_bytes=1 << 16, max_fds=1)
        except pipe.PipeClosed:
            return 0
        if cmd.get("op") == "fork" and fds:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the trusted process of one submission
                code = 1
                try:
                    control.close()
                    _become(int(cmd["uid"]))
                    os.chdir("/tmp")
                    code = main(fds[0])
                except BaseException:
                    traceback.print_exc()  # to the sandbox's stderr (the grading log)
                finally:
                    os._exit(code)
            os.close(fds[0])
            pipe.send(control, {"pid": pid})
        elif cmd.get("op") == "clean":
            _end_others()
            for folder in ("/tmp", "/dev/shm"):
                _empty(folder)
            pipe.send(control, {"clean": True})
        else:
            return 0


# Run with -I (nothing from the environment or the current folder on sys.path): the venv's
# site-packages and the course root are added explicitly. argv: root, site dir, fd.
BOOT = ("import site, sys; site.addsitedir(sys.argv[2]); sys.path.insert(0, sys.argv[1]); "
        "from course.grading.trusted_process import main; sys.exit(main(int(sys.argv[3])))")
ZYGOTE_BOOT = BOOT.replace("import main; sys.exit(main(", "import zygote_main; sys.exit(zygote_main(")
