"""Confined, resource-limited Jupyter kernel for autograding student code.

This file is both a module (``install_kernel``, ``kernel_config``, ``kill_grader_processes``)
and the kernel launcher itself (``python course/sandbox.py --python PY --site DIR
{connection_file}``), so the launcher imports nothing from the repository.

What the launcher does as root, in order:

1. creates a private scratch home (``$TMPDIR/t320-grader/<random>``) owned by the grader
   uid (``T320_GRADER_UID``, reserved per grading run from 61321-61399 by ``GraderUid``: ids
   with no account and no files) and a socket folder in it; rewrites the connection file
   (ipc transport only) so the kernel binds its sockets there, and links each
   ``<KernelManager.ip>-<port>`` the client connects to (a root-only folder) to them;
2. forks; the child ignores SIGINT, sets ``RLIMIT_AS``, ``RLIMIT_CPU``, ``RLIMIT_NPROC``,
   ``RLIMIT_FSIZE`` and execs bubblewrap (``bwrap_argv``): new mount, network, PID, IPC and
   UTS namespaces in which only the system, the interpreter, the venv and nnlib (read-only),
   the kernel's working folder (the submission's ``autograded/<student>/<id>/``) and the
   scratch home (read-write) exist; inside, a small dropper becomes the grader uid (which
   clears every capability), restores SIGINT and execs ``ipykernel`` with a scrubbed
   environment;
3. the parent (still root) waits for the sandbox, watching the scratch home (the only
   place the kernel can write, on the host's disk: ``RLIMIT_FSIZE`` caps one file, not how
   many): past ``SCRATCH_MB`` or ``SCRATCH_FILES`` it kills the sandbox. Then it removes
   the links, kills every process left under the grader uid (a backstop: the PID namespace
   already ended them) and deletes the scratch home.

Without root there is no sandbox: the launcher applies the resource limits only and says
so on stderr.
"""

import contextlib
import ctypes
import json
import os
import resource
import select
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
SCRATCH_MB = int(os.environ.get("T320_GRADER_SCRATCH_MB", "256"))
SCRATCH_FILES = int(os.environ.get("T320_GRADER_SCRATCH_FILES", "10000"))

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
    """Cap memory, CPU time, processes of the uid, file size; no core dumps (inherited)."""
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
    """The kernel's environment: a short allow-list plus a private HOME/TMPDIR in ``home``.

    ``JPY_PARENT_PID`` is dropped: inside the PID namespace that pid does not exist and
    ipykernel would take its parent for dead; the namespace ends the kernel with its parent.
    """
    env = {k: v for k, v in os.environ.items()
           if (k in _KEEP_ENV or k.startswith("LC_")) and k != "JPY_PARENT_PID"}
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

# Runs inside the sandbox as root with only CAP_SETUID/CAP_SETGID (bubblewrap drops the
# rest): become the grader uid (which clears every capability), ask to die with the
# sandbox's init, restore SIGINT (ignored up to here so an interrupt reaches only the
# kernel), then exec the command. argv: uid, command...
_DROP = ("import ctypes, os, signal, sys; uid = int(sys.argv[1]); os.setgroups([]); "
         "os.setgid(uid); os.setuid(uid); "
         "ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0); "
         "signal.signal(signal.SIGINT, signal.SIG_DFL); "
         "os.execv(sys.argv[2], sys.argv[2:])")

BWRAP = "/usr/bin/bwrap"
# read-only system folders the interpreter needs (bound only when present)
_SYSTEM_RO = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache",
              "/etc/localtime", "/etc/fonts", "/etc/alternatives")


def _is_under(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _library_dirs(python, site_dir):
    """Folders bound read-only besides the system: interpreter prefix, venv, site, nnlib."""
    import importlib.util

    dirs = [os.path.dirname(os.path.dirname(os.path.realpath(python))), sys.prefix, site_dir]
    spec = importlib.util.find_spec("nnlib")
    if spec is not None and spec.origin:
        dirs.append(os.path.dirname(spec.origin))
    out = []
    for d in dirs:
        if d and os.path.isdir(d) and not any(_is_under(d, o) for o in out + ["/usr"]):
            out.append(d)
    return out


def bwrap_argv(python, site_dir, workdir, rw=()):
    """The bubblewrap command line that confines one submission (append the command).

    Mount namespace: an empty root with the system folders, the interpreter, the venv and
    nnlib read-only, ``workdir`` (the submission's folder, also the cwd) and the folders in
    ``rw`` read-write at their own paths, a fresh /proc and a minimal /dev; nothing else of
    the host exists inside. New network (only its own loopback), PID, IPC and UTS
    namespaces; the sandbox dies with the launcher.
    """
    argv = [BWRAP, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "t320-grader",
            "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    mounts = []
    for path in _SYSTEM_RO:
        if os.path.islink(path):
            mounts.append(("--symlink", os.readlink(path), path))
        elif os.path.exists(path):
            mounts.append(("--ro-bind", path, path))
    mounts += [("--ro-bind", d, d) for d in _library_dirs(python, site_dir)]
    mounts += [("--bind", d, d) for d in (*rw, workdir)]
    bound, created = [], set()
    for kind, src, dest in mounts:
        argv += _parent_dirs(dest, bound, created) + [kind, src, dest]
        bound.append(dest)
    return argv + ["--proc", "/proc", "--dev", "/dev", "--chdir", workdir, "--"]


def _parent_dirs(dest, bound, created):
    """``--dir`` options creating the missing ancestors of ``dest`` with mode 0755.

    bubblewrap creates them 0700 otherwise, which the grader uid cannot traverse. An
    ancestor inside an already bound folder exists there and is left alone.
    """
    out = []
    parts = dest.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        anc = "/" + "/".join(parts[:i])
        if anc not in created and not any(_is_under(anc, b) for b in bound):
            out += ["--perms", "0755", "--dir", anc]
            created.add(anc)
    return out


def _check_workdir(workdir):
    """Refuse to bind a folder that holds the course (the cwd must be one submission's)."""
    if workdir == "/" or _is_under(sys.prefix, workdir) or any(
            os.path.lexists(os.path.join(workdir, n)) for n in ("gradebook.db", ".git", "solutions")):
        raise RuntimeError(f"refusing to expose {workdir} to student code: the kernel's "
                           "working folder must be one submission's autograded folder")


def _ipc_links(info, sockdir):
    """Rewrite ``info`` to put the kernel's sockets in ``sockdir``; return {link: target}.

    The client connects to ``<ip>-<port>`` (``KernelManager.ip``, a root-only folder, see
    ``kernel_config``); each becomes a symlink to the socket the kernel binds in
    ``sockdir``, the only socket folder bound into the sandbox.
    """
    if info.get("transport") != "ipc":
        raise RuntimeError("the sandbox has no network: grade with KernelManager.transport "
                           "= 'ipc' (course.sandbox.kernel_config())")
    ip = info["ip"]
    if not os.path.isabs(ip):
        raise RuntimeError(f"KernelManager.ip must be an absolute path for ipc, got {ip!r}")
    new_ip = os.path.join(sockdir, "k")
    links = {f"{ip}-{info[name]}": f"{new_ip}-{info[name]}"
             for name in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")}
    info["ip"] = new_ip
    return links


def launch(connection_file, python=sys.executable, site_dir=None):
    """Run the sandboxed kernel for ``connection_file``; return its exit status."""
    if site_dir is None:
        site_dir = _site_dir()
    if os.geteuid() != 0:
        print("t320-grader: not root, cannot drop privileges; resource limits only",
              file=sys.stderr)
        argv = [python, "-I", "-c", _BOOT, site_dir, "-f", connection_file,
                "--HistoryManager.enabled=False"]
        home = tempfile.mkdtemp(dir=scratch_base())
        return _run(argv, _kernel_env(home), home, {}, None)
    uid = current_uid()
    workdir = os.getcwd()
    _check_workdir(workdir)
    if not os.access(BWRAP, os.X_OK):
        raise RuntimeError(f"{BWRAP} missing: install the Debian package bubblewrap")
    home = tempfile.mkdtemp(dir=scratch_base())
    sockdir = os.path.join(home, "ipc")
    os.mkdir(sockdir, 0o700)
    with open(connection_file, encoding="utf-8") as fh:
        info = json.load(fh)
    links = _ipc_links(info, sockdir)
    conn = os.path.join(home, "kernel.json")
    with open(conn, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    os.chmod(conn, 0o600)
    for path in (home, sockdir, conn):
        os.chown(path, uid, uid)
    for link, target in links.items():
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    kernel = [python, "-I", "-c", _BOOT, site_dir, "-f", conn, "--HistoryManager.enabled=False"]
    argv = bwrap_argv(python, site_dir, workdir, rw=[home]) + [
        python, "-I", "-c", _DROP, str(uid)] + kernel
    return _run(argv, _kernel_env(home), home, links, uid)


def _silence_standard_streams():
    """Point the kernel's stdin, stdout and stderr at /dev/null.

    The notebook client gets every output over the kernel's sockets; what the kernel writes
    to its file descriptors 1 and 2 (ipykernel's start-up banner, or a submission's
    ``os.write(1, ...)`` with terminal escape sequences) would otherwise reach the
    instructor's terminal running ``make grade``.
    """
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _run(argv, env, home, links, uid):
    """Fork and exec ``argv`` with the limits; wait; clean up links, processes and home.

    SIGINT is ignored by the launcher and by bubblewrap (the kernel restores it, and gets
    the interrupt through the process group); SIGTERM and SIGHUP are forwarded.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        report = os.dup(2)  # not inherited by the kernel (Python's fds are close-on-exec)
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _silence_standard_streams()
            _set_limits()
            _die_with_parent()
            os.execve(argv[0], argv, env)
        except BaseException as exc:
            os.write(report, f"t320-grader: cannot start kernel: {exc!r}\n".encode())
        os._exit(127)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    status = _wait_watching_scratch(pid, home)
    for link in links:
        with contextlib.suppress(OSError):
            os.unlink(link)
    if uid is not None:
        kill_grader_processes(uid)
    shutil.rmtree(home, ignore_errors=True)
    return os.waitstatus_to_exitcode(status)


def scratch_usage(home, max_entries=SCRATCH_FILES):
    """(bytes on disk, entries) under ``home``; stops counting past ``max_entries``."""
    used, entries, folders = 0, 0, [home]
    while folders and entries <= max_entries:
        try:
            listing = os.scandir(folders.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                entries += 1
                if entries > max_entries:
                    break
                try:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    else:
                        used += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    pass
    return used, entries


def _wait_watching_scratch(pid, home, interval=0.1):
    """Wait for the sandbox ``pid``; kill it once ``home`` holds more than ``SCRATCH_MB``
    or ``SCRATCH_FILES`` entries (a submission filling the instructor's disk, or its
    inodes, while its cell runs: about 0.4 GB/s on the course's machine). Its exit status."""
    killed = False
    try:
        exited = os.pidfd_open(pid)  # readable once the sandbox has exited: no polling delay
    except OSError:
        exited = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)  # retried on EINTR by Python (PEP 475)
        if done:
            if exited is not None:
                os.close(exited)
            return status
        if not killed:
            used, entries = scratch_usage(home)
            if used > SCRATCH_MB * 2**20 or entries > SCRATCH_FILES:
                print(f"t320-grader: the submission wrote {used >> 20} MB in {entries} entries to "
                      f"its scratch folder (limits {SCRATCH_MB} MB, {SCRATCH_FILES} entries): "
                      "kernel stopped", file=sys.stderr)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed = True
        if exited is not None:
            select.select([exited], [], [], interval)
        else:
            time.sleep(interval)


def ipc_dir(uid=None):
    """Root-only folder of this run's ``KernelManager.ip`` (it holds only symlinks)."""
    uid = current_uid() if uid is None else uid
    path = os.path.join(scratch_base(), f"ipc-{uid}")
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def kernel_config(uid=None):
    """nbgrader config overrides for grading in the sandbox kernel.

    The kernel has no network, so the client reaches it over Jupyter's ``ipc`` transport
    (Unix sockets); ``KernelManager.ip`` must be absolute (the default ``kernel-ipc`` is
    relative to the client's cwd, which differs from the kernel's).
    """
    return {"Execute.kernel_name": KERNEL_NAME, "KernelManager.transport": "ipc",
            "KernelManager.ip": os.path.join(ipc_dir(uid), "kernel")}


def _site_dir():
    import sysconfig
    return sysconfig.get_paths()["purelib"]


def _works_as_grader(python, site_dir):
    """True if ``python`` imports ipykernel, numpy and nnlib in the sandbox as the grader uid.

    Runs the same bubblewrap confinement as the kernel (in a scratch working folder), so a
    missing ``bwrap`` or an unreachable interpreter, venv or nnlib fails here.
    """
    import subprocess

    code = _BOOT.split("sys.argv = ")[0] + "import ipykernel, numpy, nnlib"
    home = tempfile.mkdtemp(dir=scratch_base())
    os.chown(home, current_uid(), current_uid())
    argv = bwrap_argv(python, site_dir, home) + [python, "-I", "-c", _DROP, str(current_uid()),
                                                python, "-I", "-c", code, site_dir]
    try:
        res = subprocess.run(argv, env=_kernel_env(home), timeout=60, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(home, ignore_errors=True)
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
        try:
            sys.exit(launch(sys.argv[5], python=sys.argv[2], site_dir=sys.argv[4]))
        except RuntimeError as exc:
            sys.exit(f"t320-grader: {exc}")
    else:
        sys.exit("usage: sandbox.py --python PY --site DIR {connection_file} | --install")
