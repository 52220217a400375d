"""The grading process's side of the trusted test process: start it sandboxed, talk, end it.

Each grading worker keeps one trusted sandbox (``sandbox.bwrap_argv``): read-only system,
interpreter, venv, nnlib and ``course/grading``; a private ``/tmp`` of
``limits.TRUSTED_FSIZE_MB`` in memory; no network; its own PID namespace; ``limits.TRUSTED_*``
resource caps; as root the trusted uid (``sandbox.trusted_uid``), as a normal user a user
namespace. In it a zygote (``trusted_process.zygote_main``) that has imported numpy,
matplotlib and nnlib forks one trusted process per submission, started before the student's
cells run. When the submission is done the zygote kills every other process of the sandbox
and empties its /tmp and /dev/shm (``clean``); a zygote that does not answer is killed with
its sandbox and started again. Nothing of one submission reaches the next. With
``UNSAFE=1`` each submission gets a plain, unsandboxed process instead.

What it replies is validated here (``_valid_reply``): a frame over ``limits.REPLY_MAX_BYTES``
ends it, texts are cut to ``limits.REPLY_TEXT_MAX``, an error is three fields of bounded
text. A trusted process taken over by a student can therefore only misreport the test
cells of its own submission; the grading process writes nothing it is told to.
"""

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading

from course import ROOT
from course.grading import limits, pipe, sandbox
from course.grading.trusted_process import BOOT, ZYGOTE_BOOT

_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/mpl", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # serial joblib (scikit-learn): its semaphores need a /dev/shm the sandbox does not
        # give, and its warning on stderr would cost the test cell its points (nbgrader)
        "JOBLIB_MULTIPROCESSING": "0"}


def trusted_limits():
    return sandbox.rlimits(limits.TRUSTED_MEM_MB, limits.TRUSTED_CPU_S, limits.TRUSTED_NPROC,
                           limits.TRUSTED_FSIZE_MB)


def unsafe_argv(fd):
    """``UNSAFE=1``: one plain trusted process on pipe ``fd``, without a sandbox."""
    return [sys.executable, "-I", "-B", "-c", BOOT, ROOT, sandbox.site_dir(), str(fd)]


def zygote_argv(fd):
    """The command line of a worker's trusted sandbox with its zygote on pipe ``fd``."""
    python = sandbox.sandbox_python()
    if python is None:
        raise RuntimeError("no Python interpreter can run in the grading sandbox")
    code = [os.path.join(ROOT, "course", "__init__.py"), os.path.join(ROOT, "course", "grading")]
    return sandbox.bwrap_argv(python, sandbox.site_dir(), "/tmp", ro=code,
                              tmpfs_mb=limits.TRUSTED_FSIZE_MB, new_session=True,
                              caps=("CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")) + \
        [python, "-I", "-B", "-c", ZYGOTE_BOOT, ROOT, sandbox.site_dir(), str(fd)]


def _start(argv, fd):
    """Start ``argv`` with pipe end ``fd``, the trusted limits and its own session."""
    caps = trusted_limits()

    def confine():  # in the child, before bubblewrap: inherited by all inside
        sandbox.apply_rlimits(caps)
        sandbox.die_with_parent()

    return subprocess.Popen(argv, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_ENV,
                            preexec_fn=confine, start_new_session=True)


def _kill_group(proc):
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    proc.wait()


class Zygote:
    """This grading worker's trusted sandbox and its zygote (started on first use)."""

    _lock = threading.Lock()
    _current = None

    def __init__(self):
        self.control, theirs = socket.socketpair()
        try:
            self.proc = _start(zygote_argv(theirs.fileno()), theirs.fileno())
        finally:
            theirs.close()
        self.control.settimeout(limits.TRUSTED_START_S)
        try:
            ready = pipe.receive(self.control, max_bytes=4096)[0]
        except (pipe.PipeClosed, OSError):
            ready = None
        if ready != {"zygote": True}:
            self.stop()
            raise RuntimeError("the trusted sandbox did not start")

    def _ask(self, command, fds=(), timeout=limits.KILL_GRACE_S):
        self.control.settimeout(timeout)
        try:
            pipe.send(self.control, command, fds)
            return pipe.receive(self.control, max_bytes=4096)[0]
        except (pipe.PipeClosed, OSError):
            return None

    def stop(self):
        _kill_group(self.proc)
        self.control.close()

    @classmethod
    def fork(cls, uid):
        """A new trusted process as ``uid``: the grading process's end of its pipe."""
        with cls._lock:
            for _ in range(2):  # a zygote that died or hangs is replaced once
                if cls._current is None or cls._current.proc.poll() is not None:
                    cls._current = cls()
                ours, theirs = socket.socketpair()
                reply = cls._current._ask({"op": "fork", "uid": uid}, fds=[theirs.fileno()])
                theirs.close()
                if isinstance(reply, dict) and "pid" in reply:
                    return ours
                ours.close()
                cls._current.stop()
                cls._current = None
            raise RuntimeError("the trusted process could not be started")

    @classmethod
    def stop_current(cls):
        """End this process's zygote, if it has one (a parallel run's parent: its workers
        start their own)."""
        with cls._lock:
            if cls._current is not None:
                cls._current.stop()
                cls._current = None

    @classmethod
    def clean(cls):
        """End the submission's trusted process and everything it left in the sandbox."""
        with cls._lock:
            if cls._current is None:
                return
            if cls._current._ask({"op": "clean"}) != {"clean": True}:
                cls._current.stop()  # a stopped or killed zygote: a new one next time
                cls._current = None


def check_starts(grader_uid):
    """Start one trusted process and end it; RuntimeError saying why if it cannot start.

    Without this a trusted sandbox that cannot start (a course whose files the trusted uid
    cannot read, a broken venv) would show as every test cell timing out: 0 for everyone.
    """
    client = TrustedClient(grader_uid)
    try:
        if client.ask(None, timeout=limits.TRUSTED_START_S) != {"ready": True}:
            raise RuntimeError("the trusted test process does not start in its sandbox: check "
                               "that the course's files are readable by other users (as root "
                               "it runs as an unprivileged uid) and that the venv works")
    finally:
        client.close()


class TrustedClient:
    """One submission's trusted process and the queue of its (validated) replies."""

    def __init__(self, grader_uid=None):
        self.uid = sandbox.trusted_uid(grader_uid)
        self.proc = None
        if sandbox.unsafe():
            self.control, theirs = socket.socketpair()
            try:
                self.proc = _start(unsafe_argv(theirs.fileno()), theirs.fileno())
            finally:
                theirs.close()
        else:
            self.control = Zygote.fork(self.uid)
        self.ended = threading.Event()
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                reply, _ = pipe.receive(self.control, max_bytes=limits.REPLY_MAX_BYTES)
                self.replies.put(reply)
        except (pipe.PipeClosed, OSError):
            pass
        self.ended.set()
        self.replies.put(None)

    def alive(self):
        return not self.ended.is_set()

    def ask(self, command, timeout, fds=()):
        """Send ``command`` (unless None) and wait for the next reply; None on timeout/exit."""
        if command is not None:
            try:
                pipe.send(self.control, command, fds)
            except OSError:
                return None
        try:
            answer = self.replies.get(timeout=timeout)
        except queue.Empty:
            return None
        if answer is None:
            self.replies.put(None)
        return answer

    def kill(self):
        """End the trusted process (and all it started)."""
        if self.proc is not None:
            _kill_group(self.proc)
        else:
            Zygote.clean()

    def close(self):
        with contextlib.suppress(OSError):
            pipe.send(self.control, {"op": "exit"})
        self.ended.wait(limits.KILL_GRACE_S)
        self.kill()
        with contextlib.suppress(OSError):
            self.control.shutdown(socket.SHUT_RDWR)
        self.control.close()
        if os.geteuid() == 0 and not sandbox.unsafe():
            sandbox.kill_uid(self.uid)


# ----------------------------------------------------------------------------- replies
def _text(value, limit):
    if not isinstance(value, str):
        return ""
    return value if len(value) <= limit else value[:limit] + "\n[saída cortada]"


def valid_error(error):
    """An error reply as three fields of bounded text, or None."""
    if not isinstance(error, dict):
        return None
    tb = error.get("traceback")
    tb = [_text(line, limits.ERROR_TEXT_MAX) for line in tb[:50]] if isinstance(tb, list) else []
    return {"ename": _text(error.get("ename"), 200) or "Error",
            "evalue": _text(error.get("evalue"), limits.ERROR_TEXT_MAX),
            "traceback": tb}


def valid_run_reply(reply):
    """A test cell's reply: ``{"stdout", "stderr", "error"}`` with bounded text, or None."""
    if not isinstance(reply, dict) or "stdout" not in reply:
        return None
    return {"stdout": _text(reply.get("stdout"), limits.REPLY_TEXT_MAX),
            "stderr": _text(reply.get("stderr"), limits.REPLY_TEXT_MAX),
            "error": valid_error(reply.get("error"))}


def valid_setup_reply(reply):
    if not isinstance(reply, dict) or "connected" not in reply:
        return None
    problems = reply.get("problems") if isinstance(reply.get("problems"), list) else []
    return {"connected": reply.get("connected") is True,
            "problems": [p for p in map(valid_error, problems[:20]) if p]}
