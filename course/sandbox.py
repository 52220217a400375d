"""Resource-limited, unprivileged Jupyter kernel for autograding student code.

This file is both a module (``install_kernel``, ``kill_grader_processes``) and the kernel
launcher itself (``python course/sandbox.py {connection_file}``), so the launcher imports
nothing from the repository.

What the launcher does, in order:

1. creates a private scratch home (``$TMPDIR/t320-grader/<random>``) and copies the
   connection file into it;
2. forks; the child drops to the grader uid/gid (``T320_GRADER_UID``, reserved per
   grading run from 61321-61399 by ``GraderUid``: ids with no account and no files) when started as root, sets ``RLIMIT_AS``,
   ``RLIMIT_CPU``, ``RLIMIT_NPROC`` and ``RLIMIT_FSIZE``, asks the kernel to die with its
   parent, scrubs the environment and execs ``ipykernel``;
3. the parent (still root) ignores SIGINT (the kernel gets it through the process group),
   waits for the kernel, then kills every process left under the grader uid (fork bombs,
   daemonized children) and deletes the scratch home.

Without root the launcher cannot change uid: it degrades to resource limits only and says
so on stderr.
"""

import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time

KERNEL_NAME = "t320-grader"
MEM_MB = int(os.environ.get("T320_GRADER_MEM_MB", "3072"))
CPU_S = int(os.environ.get("T320_GRADER_CPU_S", "300"))
NPROC = int(os.environ.get("T320_GRADER_NPROC", "32"))
FSIZE_MB = int(os.environ.get("T320_GRADER_FSIZE_MB", "64"))

# environment variables passed through to the kernel; everything else is dropped
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING",
             "MPLBACKEND", "PYTHONPATH", "TZ", "JPY_PARENT_PID")


UID_RANGE = range(61321, 61400)


class GraderUid:
    """Reserve a grader uid for one grading run (``with GraderUid() as uid:``).

    Concurrent runs (two ``make grade`` or test sessions) must not share an uid: the
    process cap counts per uid and the cleanup kills every process of the uid. The
    reservation is an exclusive ``flock`` on ``<scratch>/uid-<n>.lock``; the uid is exported
    as ``T320_GRADER_UID`` so the kernel launcher (a grandchild) picks it up.
    """

    def __enter__(self):
        import fcntl

        for uid in UID_RANGE:
            fh = open(os.path.join(scratch_base(), f"uid-{uid}.lock"), "w")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self._fh, self.uid = fh, uid
            self._old = os.environ.get("T320_GRADER_UID")
            os.environ["T320_GRADER_UID"] = str(uid)
            return uid
        raise RuntimeError("all grader uids are busy")

    def __exit__(self, *exc):
        kill_grader_processes(self.uid)
        if self._old is None:
            os.environ.pop("T320_GRADER_UID", None)
        else:
            os.environ["T320_GRADER_UID"] = self._old
        self._fh.close()


def current_uid():
    """The grader uid of this run (``T320_GRADER_UID``, default the first of the range)."""
    return int(os.environ.get("T320_GRADER_UID", str(UID_RANGE[0])))


def scratch_base():
    """Folder holding the grader kernels' scratch homes (world-traversable, not listable)."""
    base = os.path.join(tempfile.gettempdir(), "t320-grader")
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o711)
    return base


def _live_pids(uid):
    """Pids of processes (not zombies) whose real uid is ``uid``, read from /proc."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status", encoding="ascii", errors="replace") as fh:
                state = uid_line = None
                for line in fh:
                    if line.startswith("State:"):
                        state = line.split()[1]
                    elif line.startswith("Uid:"):
                        uid_line = line.split()
                        break
        except OSError:
            continue
        if uid_line and int(uid_line[1]) == uid and state not in ("Z", "X"):
            pids.append(int(d))
    return pids


def kill_grader_processes(uid=None, rounds=200):
    """Kill every process running under ``uid`` (only possible as root; no-op otherwise).

    A child switches to ``uid`` and calls ``kill(-1, SIGKILL)``, which reaches only that
    uid's processes (so no other user's process is touched and no recycled pid is hit);
    repeated until /proc shows none left twice in a row (a fork in flight can add one).
    Linux's ``kill(-1)`` reports success whenever any other process exists, so its return
    value cannot be the stop condition.
    """
    if os.geteuid() != 0:
        return
    uid = current_uid() if uid is None else uid
    empty = 0
    for _ in range(rounds):
        if not _live_pids(uid):
            empty += 1
            if empty == 2:
                return
            time.sleep(0.01)
            continue
        empty = 0
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked child
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.02)


def _set_limits():
    mem = MEM_MB * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S + 5))
    resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))
    fsize = FSIZE_MB * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _die_with_parent():
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _kernel_env(home):
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV or k.startswith("LC_")}
    env.update(HOME=home, TMPDIR=home, MPLCONFIGDIR=os.path.join(home, "mpl"),
               IPYTHONDIR=os.path.join(home, "ipython"), XDG_CACHE_HOME=home,
               XDG_CONFIG_HOME=home, JUPYTER_CONFIG_DIR=os.path.join(home, "jupyter"),
               JUPYTER_DATA_DIR=os.path.join(home, "jupyter"),
               PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.setdefault("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    return env


_BOOT = ("import runpy, site, sys; site.addsitedir(sys.argv[1]); "
         "sys.argv = ['ipykernel_launcher'] + sys.argv[2:]; "
         "runpy.run_module('ipykernel_launcher', run_name='__main__')")


def launch(connection_file, python=sys.executable, site_dir=None):
    uid = current_uid()
    return _launch(connection_file, python, site_dir, uid)


def _launch(connection_file, python, site_dir, GRADER_UID):
    """Run the sandboxed kernel with interpreter ``python``; return its exit status.

    ``site_dir`` (the venv's site-packages) is added with ``site.addsitedir`` so that an
    interpreter outside the venv (see ``install_kernel``) sees the venv's packages.
    """
    if site_dir is None:
        site_dir = _site_dir()
    privileged = os.geteuid() == 0
    home = tempfile.mkdtemp(dir=scratch_base())
    conn = os.path.join(home, "kernel.json")
    shutil.copyfile(connection_file, conn)
    os.chmod(conn, 0o600)
    if privileged:
        os.chown(home, GRADER_UID, GRADER_UID)
        os.chown(conn, GRADER_UID, GRADER_UID)
    else:
        print("t320-grader: not root, cannot drop privileges; resource limits only",
              file=sys.stderr)
    env = _kernel_env(home)
    argv = [python, "-I", "-c", _BOOT, site_dir, "-f", conn, "--HistoryManager.enabled=False"]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        try:
            if privileged:
                os.setgroups([])
                os.setgid(GRADER_UID)
                os.setuid(GRADER_UID)
            _set_limits()
            _die_with_parent()
            os.execve(python, argv, env)
        except BaseException as exc:
            print(f"t320-grader: cannot start kernel: {exc!r}", file=sys.stderr)
        os._exit(127)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    kill_grader_processes(GRADER_UID)
    shutil.rmtree(home, ignore_errors=True)
    return os.waitstatus_to_exitcode(status)


def _site_dir():
    import sysconfig
    return sysconfig.get_paths()["purelib"]


def _works_as_grader(python, site_dir):
    """True if ``python`` can import ipykernel and numpy when run as the grader uid."""
    import subprocess

    def demote():
        os.setgroups([])
        os.setgid(current_uid())
        os.setuid(current_uid())

    code = _BOOT.split("sys.argv = ")[0] + "import ipykernel, numpy, nnlib"
    try:
        res = subprocess.run([python, "-I", "-c", code, site_dir], preexec_fn=demote, cwd="/",
                             env={"PATH": "/usr/bin:/bin", "HOME": "/"}, timeout=60,
                             capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0


def grader_python():
    """The interpreter the sandboxed kernel runs.

    The venv's own interpreter when the grader uid can run it; otherwise (for example a
    pyenv Python under root's 0700 home) a system interpreter of the same ``major.minor``
    that can, using the venv's site-packages (extension modules share the ABI). ``None``
    if there is none: the caller must degrade to limits only.
    """
    if os.geteuid() != 0:
        return sys.executable
    site_dir = _site_dir()
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    for cand in (sys.executable, f"/usr/bin/python{ver}", f"/usr/local/bin/python{ver}"):
        if os.path.exists(cand) and _works_as_grader(cand, site_dir):
            return cand
    return None


def install_kernel(prefix=sys.prefix):
    """Write ``<prefix>/share/jupyter/kernels/t320-grader/kernel.json``; return its path.

    As root, refuses (RuntimeError) when no interpreter works under the grader uid rather
    than silently installing a kernel that cannot start.
    """
    python = grader_python()
    if python is None:
        raise RuntimeError("no Python interpreter usable by the grader uid "
                           f"{current_uid()}; see docs/course.md")
    folder = os.path.join(prefix, "share", "jupyter", "kernels", KERNEL_NAME)
    os.makedirs(folder, exist_ok=True)
    spec = {
        "argv": [sys.executable, os.path.abspath(__file__), "--python", python,
                 "--site", _site_dir(), "{connection_file}"],
        "display_name": "T320 grader (sandbox)",
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }
    path = os.path.join(folder, "kernel.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(spec, fh, indent=1)
        fh.write("\n")
    return path


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--install":
        print(install_kernel())
    elif len(sys.argv) == 6 and sys.argv[1] == "--python" and sys.argv[3] == "--site":
        sys.exit(launch(sys.argv[5], python=sys.argv[2], site_dir=sys.argv[4]))
    else:
        sys.exit("usage: sandbox.py --python PY --site DIR {connection_file} | --install")
