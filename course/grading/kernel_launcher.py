"""The student's kernel in its sandbox: the ``t320-grader`` kernel spec and its launcher.

Jupyter starts ``main`` (``install_kernel`` writes the kernel spec) with the connection file
of one submission's kernel, in the submission's ``autograded/<student>/<id>/`` folder. The
launcher runs as the grading user (root, or the instructor) and:

1. creates a private scratch home (``<scratch_base>/<random>``; as root owned by the
   grader uid) and a socket folder in it; rewrites the connection file (ipc transport
   only) so the kernel binds its sockets there, and links each ``<KernelManager.ip>-<port>``
   the client connects to (a folder only the grading user reads) to them;
2. forks; the child ignores SIGINT, sets the kernel's limits (``limits.KERNEL_*``) and execs
   bubblewrap (``sandbox.bwrap_argv``) with the submission's folder and the scratch home
   read-write; inside, the kernel runs as the grader uid (as root) or in a user namespace
   (as a normal user), with a scrubbed environment and its stdin/stdout/stderr on /dev/null;
3. waits for the sandbox, watching the scratch home (the only place besides the
   submission's folder the kernel can write, on the host's disk): past
   ``limits.SCRATCH_MB`` or ``limits.SCRATCH_FILES`` it kills the sandbox. Then it removes
   the links, kills every process left under the grader uid (a backstop: the PID namespace
   already ended them) and deletes the scratch home.

With ``T320_UNSAFE=1`` (``make grade UNSAFE=1``) the kernel runs without a sandbox, with
the limits only.
"""

import contextlib
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time

from course import ROOT
from course.grading import limits, sandbox

KERNEL_NAME = "t320-grader"

# environment variables passed through to the kernel; everything else is dropped
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING",
             "MPLBACKEND", "TZ")


def kernel_env(home):
    """The kernel's environment: a short allow-list plus a private HOME/TMPDIR in ``home``.

    ``JPY_PARENT_PID`` is dropped: inside the PID namespace that pid does not exist and
    ipykernel would take its parent for dead; the namespace ends the kernel with its parent.
    """
    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV or k.startswith("LC_")}
    env.update(HOME=home, TMPDIR=home, MPLCONFIGDIR=os.path.join(home, "mpl"),
               IPYTHONDIR=os.path.join(home, "ipython"), XDG_CACHE_HOME=home,
               XDG_CONFIG_HOME=home, JUPYTER_CONFIG_DIR=os.path.join(home, "jupyter"),
               JUPYTER_DATA_DIR=os.path.join(home, "jupyter"),
               PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.setdefault("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    return env


def _check_workdir(workdir):
    """Refuse to bind a folder that holds the course (the cwd must be one submission's)."""
    if workdir == "/" or sandbox.is_under(sys.prefix, workdir) or any(
            os.path.lexists(os.path.join(workdir, n)) for n in ("gradebook.db", ".git", "solutions")):
        raise RuntimeError(f"refusing to expose {workdir} to student code: the kernel's "
                           "working folder must be one submission's autograded folder")


def _ipc_links(info, sockdir):
    """Rewrite ``info`` to put the kernel's sockets in ``sockdir``; return {link: target}.

    The client connects to ``<ip>-<port>`` (``KernelManager.ip``, a folder only the grading
    user reads, see ``kernel_config``); each becomes a symlink to the socket the kernel
    binds in ``sockdir``, the only socket folder bound into the sandbox.
    """
    if info.get("transport") != "ipc":
        raise RuntimeError("the sandbox has no network: grade with KernelManager.transport "
                           "= 'ipc' (course.grading.kernel_launcher.kernel_config())")
    ip = info["ip"]
    if not os.path.isabs(ip):
        raise RuntimeError(f"KernelManager.ip must be an absolute path for ipc, got {ip!r}")
    new_ip = os.path.join(sockdir, "k")
    links = {f"{ip}-{info[name]}": f"{new_ip}-{info[name]}"
             for name in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")}
    info["ip"] = new_ip
    return links


def kernel_limits():
    return sandbox.rlimits(limits.KERNEL_MEM_MB, limits.KERNEL_CPU_S, limits.KERNEL_NPROC,
                           limits.KERNEL_FSIZE_MB)


def launch(connection_file, python, site_dir):
    """Run the sandboxed kernel for ``connection_file``; return its exit status."""
    home = tempfile.mkdtemp(dir=sandbox.scratch_base())
    kernel = [python, "-I", "-c", sandbox.BOOT, site_dir, "-f", "{conn}",
              "--HistoryManager.enabled=False"]
    if sandbox.unsafe():
        print("t320-grader: UNSAFE=1: this kernel runs without a sandbox", file=sys.stderr)
        argv = [a.replace("{conn}", connection_file) for a in kernel]
        return _run(argv, kernel_env(home), home, {}, None)
    uid = sandbox.current_uid()
    workdir = os.getcwd()
    _check_workdir(workdir)
    sockdir = os.path.join(home, "ipc")
    os.mkdir(sockdir, 0o700)
    with open(connection_file, encoding="utf-8") as fh:
        info = json.load(fh)
    links = _ipc_links(info, sockdir)
    conn = os.path.join(home, "kernel.json")
    with open(conn, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    os.chmod(conn, 0o600)
    if sandbox.mode() == "root":
        for path in (home, sockdir, conn):
            os.chown(path, uid, uid)
    for link, target in links.items():
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    argv = sandbox.bwrap_argv(python, site_dir, workdir, rw=[home, workdir]) + sandbox.as_uid(
        uid, [a.replace("{conn}", conn) for a in kernel])
    return _run(argv, kernel_env(home), home, links, uid if sandbox.mode() == "root" else None)


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
    caps = kernel_limits()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        report = os.dup(2)  # not inherited by the kernel (Python's fds are close-on-exec)
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _silence_standard_streams()
            sandbox.apply_rlimits(caps)
            sandbox.die_with_parent()
            os.execve(argv[0], argv, env)
        except BaseException as exc:
            os.write(report, f"t320-grader: cannot start kernel: {exc!r}\n".encode())
        os._exit(127)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    status = _wait_watching_scratch(pid, home)
    for link in links:
        with contextlib.suppress(OSError):
            os.unlink(link)
    if uid is not None:
        sandbox.kill_grader_processes(uid)
    shutil.rmtree(home, ignore_errors=True)
    return os.waitstatus_to_exitcode(status)


def scratch_usage(home, max_entries=None):
    """(bytes on disk, entries) under ``home``; stops counting past ``max_entries``."""
    max_entries = limits.SCRATCH_FILES if max_entries is None else max_entries
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


def _wait_watching_scratch(pid, home):
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
            if used > limits.SCRATCH_MB * limits.MiB or entries > limits.SCRATCH_FILES:
                print(f"t320-grader: the submission wrote {used >> 20} MB in {entries} entries "
                      f"to its scratch folder (limits {limits.SCRATCH_MB} MB, "
                      f"{limits.SCRATCH_FILES} entries): kernel stopped", file=sys.stderr)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed = True
        if exited is not None:
            select.select([exited], [], [], limits.SCRATCH_POLL_S)
        else:
            time.sleep(limits.SCRATCH_POLL_S)


def ipc_dir(uid=None):
    """The folder of this run's ``KernelManager.ip``, readable by the grading user only
    (it holds only symlinks to the sockets in the kernel's scratch home)."""
    uid = sandbox.current_uid() if uid is None else uid
    path = os.path.join(sandbox.scratch_base(), f"ipc-{uid}")
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


# The launcher runs with -I (no current folder on sys.path: it starts in the submission's
# folder, whose files are the student's) and finds the course package at its root.
_LAUNCHER_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
                  "from course.grading.kernel_launcher import main; sys.exit(main(sys.argv[2:]))")


def install_kernel(prefix=sys.prefix):
    """Write ``<prefix>/share/jupyter/kernels/t320-grader/kernel.json``; return its path.

    Where ``prefix`` is not the user's to write (a system interpreter), the kernel goes to
    the user's own Jupyter data folder, where Jupyter finds it as well.

    Raises ``sandbox.SandboxUnavailable`` when no sandbox can start (unless UNSAFE) and
    RuntimeError when no interpreter works in it, rather than installing a kernel that
    cannot start.
    """
    python = sys.executable
    if not sandbox.unsafe():
        sandbox.mode()
        python = sandbox.sandbox_python()
        if python is None:
            raise RuntimeError("no Python interpreter can run in the grading sandbox; "
                               "see docs/course.md, Safe grading")
    data = os.path.join(prefix, "share", "jupyter")
    if not os.access(prefix, os.W_OK):
        from jupyter_core.paths import jupyter_data_dir

        data = jupyter_data_dir()
    folder = os.path.join(data, "kernels", KERNEL_NAME)
    os.makedirs(folder, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-I", "-c", _LAUNCHER_BOOT, ROOT, "--python", python,
                 "--site", sandbox.site_dir(), "{connection_file}"],
        "display_name": "T320 grader (sandbox)",
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }
    path = os.path.join(folder, "kernel.json")
    # written beside and renamed into place: a grading run starting a kernel meanwhile (another
    # worker, another instructor's run) reads the old file or the new one, never a half-written one
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kernel-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(spec, fh, indent=1)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def main(argv):
    # an interrupted grading worker ends its kernel through the launcher's cleanup
    sandbox.die_with_parent(signal.SIGTERM)
    if len(argv) == 5 and argv[0] == "--python" and argv[2] == "--site":
        try:
            return launch(argv[4], python=argv[1], site_dir=argv[3])
        except (RuntimeError, sandbox.SandboxUnavailable) as exc:
            print(f"t320-grader: {exc}", file=sys.stderr)
            return 1
    print("usage: kernel_launcher --python PY --site DIR {connection_file}", file=sys.stderr)
    return 2
