"""The sandbox every process that runs or judges student code lives in (bubblewrap).

Two processes per submission run in one: the student's kernel (``kernel_launcher.py``) and
the trusted test process (``trusted_process.py``), each in a sandbox of its own. What both
sandboxes share is built here:

- a **mount namespace** with only the system folders, the interpreter, the venv and nnlib
  (read-only), plus the folders the caller names; nothing else of the host exists inside;
- **network, PID, IPC and UTS namespaces**: no network but a downed loopback, no process
  of the host visible (so none can be signalled, traced or read through ``/proc``);
- an **unprivileged uid**. As root the sandbox starts with only ``CAP_SETUID``/``CAP_SETGID``
  and a dropper (``DROP``) becomes the process's own uid, which clears every capability:
  the kernel runs as a *grader uid* (``GraderUid``: 61321-61399, no account, no files), the
  trusted process as that uid + 1000. As a normal user the sandbox is a **user namespace**
  (unprivileged bubblewrap, as Flatpak uses): the process holds the instructor's uid mapped,
  no capability outside, and cannot create further namespaces;
- resource limits (``rlimits``) set before bubblewrap starts, inherited by everything inside.

``mode()`` says which of the two applies, or raises ``SandboxUnavailable`` with what to do
when neither can start (user namespaces disabled, no bubblewrap, not Linux).
"""

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

from course.grading import limits

BWRAP = "/usr/bin/bwrap"
UID_RANGE = range(61321, 61400)
TRUSTED_UID_OFFSET = 1000
# read-only system folders the interpreter needs (bound only when present)
SYSTEM_RO = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache",
             "/etc/localtime", "/etc/fonts", "/etc/alternatives")

# Runs inside a root-started sandbox with only CAP_SETUID/CAP_SETGID (bubblewrap drops the
# rest): become ``uid`` (which clears every capability), ask to die with the sandbox's
# init, restore SIGINT (ignored up to here so an interrupt reaches only the kernel), then
# exec the command. argv: uid, command...
DROP = ("import ctypes, os, signal, sys; uid = int(sys.argv[1]); os.setgroups([]); "
        "os.setgid(uid); os.setuid(uid); "
        "ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0); "
        "signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.argv[2], sys.argv[2:])")


UNSAFE = "T320_UNSAFE"  # "1": make grade UNSAFE=1, every process without a sandbox


def unsafe():
    """True when this run grades without a sandbox (``make grade UNSAFE=1``)."""
    return os.environ.get(UNSAFE) == "1"


class SandboxUnavailable(RuntimeError):
    """Neither a root sandbox nor an unprivileged one can start on this machine."""


HOW_TO_ENABLE = """\
make grade confines every submission with bubblewrap, and here it cannot start one:
  {why}
What to do (docs/course.md, "Safe grading"):
  - Debian/Ubuntu: apt-get install bubblewrap
  - Ubuntu 23.10 and later restrict unprivileged user namespaces through AppArmor; allow
    them for bubblewrap with an AppArmor profile (/etc/apparmor.d/bwrap):
        abi <abi/4.0>, include <tunables/global>
        profile bwrap /usr/bin/bwrap flags=(unconfined) {{ userns, }}
    then: sudo apparmor_parser -r /etc/apparmor.d/bwrap
    (or, for the whole machine: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0)
  - other Linux with user namespaces off: sudo sysctl kernel.unprivileged_userns_clone=1
    and user.max_user_namespaces > 0
  - macOS or Windows: grade on a Linux machine or in the course's container (binder/)
  - or run make grade as root (sudo), which needs no user namespace.
Grading without a sandbox runs every submission with your own rights; only if you trust
every submission: make grade UNSAFE=1 (it says so in the log and on every feedback page)."""


# ----------------------------------------------------------------------------- which sandbox
_MODE = {}


def mode():
    """``"root"`` or ``"user"`` (unprivileged bubblewrap); ``SandboxUnavailable`` otherwise."""
    if "mode" not in _MODE:
        _MODE["mode"] = _detect_mode()
    return _MODE["mode"]


def _detect_mode():
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(HOW_TO_ENABLE.format(why=f"this is {sys.platform}, not Linux"))
    if not os.access(BWRAP, os.X_OK):
        raise SandboxUnavailable(HOW_TO_ENABLE.format(why=f"{BWRAP} is not installed"))
    if os.geteuid() == 0:
        return "root"
    probe = [BWRAP, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
             "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    res = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise SandboxUnavailable(HOW_TO_ENABLE.format(
            why="unprivileged bubblewrap failed: " + (res.stderr.strip() or f"exit {res.returncode}")))
    return "user"


# ----------------------------------------------------------------------------- uids
class GraderUid:
    """Reserve a grader uid for one grading run or worker (``with GraderUid() as uid:``).

    Concurrent runs (two ``make grade``, or the workers of one) must not share an uid: the
    process cap counts per uid and the cleanup kills every process of the uid. The
    reservation is an exclusive ``flock`` on ``<scratch>/uid-<n>.lock``; the uid is exported
    as ``T320_GRADER_UID`` so the kernel launcher (a grandchild) picks it up. As a normal
    user the number only names this run's folders (the sandbox maps the user's own uid).
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


def trusted_uid(grader_uid=None):
    """The trusted test process's uid: not root, not the instructor, not the kernel's."""
    return (current_uid() if grader_uid is None else grader_uid) + TRUSTED_UID_OFFSET


def scratch_base():
    """This user's folder of scratch homes, locks and logs (world-traversable, not listable).

    Root's is ``t320-grader`` (the grader uids it reserves there are the machine's), a
    normal user's ``t320-grader-<uid>``: root's and a normal user's runs, or two
    instructors', on one machine never share it.
    """
    name = "t320-grader" if os.geteuid() == 0 else f"t320-grader-{os.geteuid()}"
    base = os.path.join(tempfile.gettempdir(), name)
    os.makedirs(base, exist_ok=True)
    if os.stat(base).st_uid != os.geteuid():
        raise RuntimeError(f"{base} belongs to another user: remove it or set TMPDIR")
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


def kill_uid(uid, rounds=200):
    """Kill every process of ``uid`` (as root): a child becomes ``uid`` and calls
    ``kill(-1, SIGKILL)``, which reaches only that uid's processes; repeated until /proc
    shows none twice in a row (Linux's ``kill(-1)`` reports success whenever any other
    process exists, so its return value cannot be the stop condition)."""
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


def kill_grader_processes(uid=None):
    """Kill every process of the grader uid ``uid`` and of its trusted uid (root only).

    As a normal user there is nothing to do: each sandbox is a PID namespace that ends
    with the process that started it.
    """
    if os.geteuid() != 0:
        return
    uid = current_uid() if uid is None else uid
    for u in (uid, trusted_uid(uid)):
        kill_uid(u)


# ----------------------------------------------------------------------------- limits
def _user_tasks():
    """Tasks (threads) of this real uid now: RLIMIT_NPROC counts them all."""
    total = 0
    for pid in _live_pids(os.getuid()):
        with contextlib.suppress(OSError, ValueError):
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("Threads:"):
                        total += int(line.split()[1])
                        break
    return total


def rlimits(mem_mb, cpu_s, nproc, fsize_mb):
    """The resource limits of a sandboxed process, as ``{resource: (soft, hard)}``.

    ``RLIMIT_NPROC`` counts every task of the real uid: as root the sandbox's own uid starts
    with none; as a normal user it shares the instructor's uid, whose other processes (the
    other grading workers' kernels and their threads) come and go, so the cap is what the
    user runs now plus ``nproc`` plus ``USER_TASK_MARGIN``, within the user's hard limit.
    """
    if os.geteuid() != 0:
        nproc += _user_tasks() + limits.USER_TASK_MARGIN
        hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        if hard != resource.RLIM_INFINITY:
            nproc = min(nproc, hard)
    mem, fsize = mem_mb * limits.MiB, fsize_mb * limits.MiB
    return {resource.RLIMIT_AS: (mem, mem), resource.RLIMIT_CPU: (cpu_s, cpu_s + 5),
            resource.RLIMIT_NPROC: (nproc, nproc), resource.RLIMIT_FSIZE: (fsize, fsize),
            resource.RLIMIT_CORE: (0, 0)}


def apply_rlimits(caps):
    for res, value in caps.items():
        resource.setrlimit(res, value)


def die_with_parent(signum=signal.SIGKILL):
    """Ask the kernel to send ``signum`` to this process when its parent exits
    (``PR_SET_PDEATHSIG``)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signum, 0, 0, 0)


# ----------------------------------------------------------------------------- bubblewrap
def is_under(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def library_dirs(python, site_dir):
    """Folders bound read-only besides the system: interpreter prefix, venv, site, nnlib."""
    import importlib.util

    dirs = [os.path.dirname(os.path.dirname(os.path.realpath(python))), sys.prefix, site_dir]
    spec = importlib.util.find_spec("nnlib")
    if spec is not None and spec.origin:
        dirs.append(os.path.dirname(spec.origin))
    out = []
    for d in dirs:
        if d and os.path.isdir(d) and not any(is_under(d, o) for o in out + ["/usr"]):
            out.append(d)
    return out


def bwrap_argv(python, site_dir, chdir, rw=(), ro=(), tmpfs_mb=None, new_session=False,
               caps=()):
    """The bubblewrap command line of one sandbox (append the command to run).

    Read-only: the system, the interpreter, the venv and nnlib, and the paths in ``ro``;
    read-write: the folders in ``rw``, each at its own path; with ``tmpfs_mb`` a private
    ``/tmp`` of that size in memory, gone with the sandbox. New network, PID, IPC and UTS
    namespaces (and a user namespace as a normal user); the sandbox dies with its parent.
    As root it keeps CAP_SETUID/CAP_SETGID only (for ``DROP``), plus ``caps``.
    """
    argv = [BWRAP, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "t320-grader"]
    if mode() == "root":
        for cap in ("CAP_SETUID", "CAP_SETGID", *caps):
            argv += ["--cap-add", cap]
    else:
        argv += ["--unshare-user", "--disable-userns"]
    if new_session:
        argv += ["--new-session"]
    if tmpfs_mb is not None:  # first: a later mount under /tmp (a course there) stays visible
        argv += ["--size", str(tmpfs_mb * limits.MiB), "--perms", "1777", "--tmpfs", "/tmp"]
    mounts = []
    for path in SYSTEM_RO:
        if os.path.islink(path):
            mounts.append(("--symlink", os.readlink(path), path))
        elif os.path.exists(path):
            mounts.append(("--ro-bind", path, path))
    mounts += [("--ro-bind", d, d) for d in library_dirs(python, site_dir)]
    mounts += [("--ro-bind", p, p) for p in ro]
    mounts += [("--bind", d, d) for d in rw]
    bound, created = [], ({"/tmp"} if tmpfs_mb is not None else set())  # the tmpfs stays as made
    for kind, src, dest in mounts:
        argv += _parent_dirs(dest, bound, created) + [kind, src, dest]
        bound.append(dest)
    return argv + ["--proc", "/proc", "--dev", "/dev", "--chdir", chdir, "--"]


def as_uid(uid, command):
    """``command`` run inside the sandbox as ``uid`` (root mode) or as it is (user mode)."""
    if mode() == "root":
        return [command[0], "-I", "-c", DROP, str(uid)] + list(command)
    return list(command)


def _parent_dirs(dest, bound, created):
    """``--dir`` options creating the missing ancestors of ``dest`` with mode 0755.

    bubblewrap creates them 0700 otherwise, which the grader uid cannot traverse. An
    ancestor inside an already bound folder exists there and is left alone.
    """
    out = []
    parts = dest.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        anc = "/" + "/".join(parts[:i])
        if anc not in created and not any(is_under(anc, b) for b in bound):
            out += ["--perms", "0755", "--dir", anc]
            created.add(anc)
    return out


# ----------------------------------------------------------------------------- interpreter
def site_dir():
    """The site-packages folder the course's packages (ipykernel, numpy) are imported from."""
    import importlib.util

    spec = importlib.util.find_spec("ipykernel")
    return os.path.dirname(list(spec.submodule_search_locations)[0])


BOOT = ("import runpy, site, sys; site.addsitedir(sys.argv[1]); "
        "sys.argv = ['ipykernel_launcher'] + sys.argv[2:]; "
        "runpy.run_module('ipykernel_launcher', run_name='__main__')")


def _works_in_sandbox(python, site):
    """True if ``python`` imports ipykernel, numpy and nnlib in the sandbox as the grader uid."""
    import shutil

    code = BOOT.split("sys.argv = ")[0] + "import ipykernel, numpy, nnlib"
    home = tempfile.mkdtemp(dir=scratch_base())
    if mode() == "root":
        os.chown(home, current_uid(), current_uid())
    argv = bwrap_argv(python, site, home, rw=[home]) + as_uid(
        current_uid(), [python, "-I", "-c", code, site])
    try:
        res = subprocess.run(argv, env={"PATH": "/usr/bin:/bin", "HOME": home}, timeout=60,
                             capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return res.returncode == 0


def sandbox_python():
    """The interpreter the sandboxed processes run (``None`` if none works there).

    The venv's own interpreter when the sandbox's uid can run it; otherwise (for example a
    pyenv Python under root's 0700 home) a system interpreter of the same ``major.minor``
    that can, using the venv's site-packages (extension modules share the ABI).
    """
    if "python" not in _MODE:
        site = site_dir()
        ver = f"{sys.version_info.major}.{sys.version_info.minor}"
        _MODE["python"] = next(
            (cand for cand in (sys.executable, f"/usr/bin/python{ver}", f"/usr/local/bin/python{ver}")
             if os.path.exists(cand) and _works_in_sandbox(cand, site)), None)
    return _MODE["python"]
