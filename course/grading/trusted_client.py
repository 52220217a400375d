"""The grading process's side of the trusted test process: start it sandboxed, talk, end it.

One trusted process per submission, in a sandbox of its own (``sandbox.bwrap_argv``):
read-only system, interpreter, venv, nnlib and ``course/grading``; a private ``/tmp`` of
``limits.TRUSTED_FSIZE_MB`` in memory; no network; its own PID namespace; ``limits.TRUSTED_*``
resource caps; as root its own uid (``sandbox.trusted_uid``), as a normal user a user
namespace. It is started before the student's cells run (its imports overlap them) and
killed with its whole sandbox when the submission is done: nothing of it outlives the
submission, in memory or in ``/tmp``.

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
from course.grading.trusted_process import BOOT

_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/mpl", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # serial joblib (scikit-learn): its semaphores need a /dev/shm the sandbox does not
        # give, and its warning on stderr would cost the test cell its points (nbgrader)
        "JOBLIB_MULTIPROCESSING": "0"}


def trusted_limits():
    return sandbox.rlimits(limits.TRUSTED_MEM_MB, limits.TRUSTED_CPU_S, limits.TRUSTED_NPROC,
                           limits.TRUSTED_FSIZE_MB)


def trusted_argv(fd, uid):
    """The command line of one trusted process on pipe ``fd``, in its sandbox."""
    if sandbox.unsafe():
        return [sys.executable, "-I", "-c", BOOT, ROOT, sandbox.site_dir(), str(fd)]
    python = sandbox.sandbox_python()
    if python is None:
        raise RuntimeError("no Python interpreter can run in the grading sandbox")
    code = [os.path.join(ROOT, "course", "__init__.py"), os.path.join(ROOT, "course", "grading")]
    return sandbox.bwrap_argv(python, sandbox.site_dir(), "/tmp", ro=code,
                              tmpfs_mb=limits.TRUSTED_FSIZE_MB, new_session=True) + \
        sandbox.as_uid(uid, [python, "-I", "-c", BOOT, ROOT, sandbox.site_dir(), str(fd)])


class TrustedClient:
    """One submission's trusted process and the queue of its (validated) replies."""

    def __init__(self, grader_uid=None):
        self.uid = sandbox.trusted_uid(grader_uid)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        caps = trusted_limits()

        def confine():  # in the child, before bubblewrap: inherited by all inside
            sandbox.apply_rlimits(caps)
            sandbox.die_with_parent()

        try:
            self.proc = subprocess.Popen(
                trusted_argv(theirs.fileno(), self.uid), pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=_ENV, preexec_fn=confine, start_new_session=True)
        finally:
            theirs.close()
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                reply, _ = pipe.receive(self.control, max_bytes=limits.REPLY_MAX_BYTES)
                self.replies.put(reply)
        except (pipe.PipeClosed, OSError):
            pass
        self.replies.put(None)

    def alive(self):
        return self.proc.poll() is None

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
        """End the trusted process and everything in its sandbox (its PID namespace)."""
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()

    def close(self):
        with contextlib.suppress(OSError):
            pipe.send(self.control, {"op": "exit"})
        try:
            self.proc.wait(limits.KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        self.proc.wait()
        self.control.close()
        if os.geteuid() == 0 and not sandbox.unsafe():
            sandbox._kill_uid(self.uid)


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
