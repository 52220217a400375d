"""Test cells run in a trusted process; the student's code runs in the sandboxed kernel.

nbgrader's ``Execute`` runs every cell of a submission, tests included, in one kernel: the
student's code can then rewrite the tests (input transformers, a replaced ``run_cell``,
patched ``checks``), read the hidden tests (``pre_run_cell`` hooks) and decide its own
grade. ``TrustedExecute`` replaces it in the autograde pipeline (``nbgrader_config.py``):

1. every cell that is not an autograded test cell (setup, the student's answers, demos)
   runs in the kernel, in order, as nbgrader would run it;
2. then each autograded test cell runs in a separate **trusted process** (this module's
   ``main``, with the grading user's rights; the student's uid can neither write to it nor
   signal it). It is forked, one per submission, from a *zygote* that the grading process
   starts once and that has only imported numpy, matplotlib and nnlib (``zygote_main``):
   each submission's tests start from that same state, without paying for the imports. Its source comes from the instructor's source notebook, never from
   the submission, and it is never sent to the kernel. The trusted process first runs the
   source notebook's cells tagged ``grader-setup`` (imports, data, ``checks``) and then the
   test cells in order, in one namespace. A name that is one of the student's answer names
   (top-level names of the source's solution cells) and is not bound there is fetched from
   the kernel through ``course/channel.py``: data comes back as data, functions and other
   objects as handles whose calls run in the kernel.

The kernel learns nothing but the arguments of the calls the tests make. It serves them
from a hidden, silent execution per test cell (no ``pre_run_cell`` hooks run for it) that
the trusted process ends when the cell is done. Test cells never produce an
``execute_result`` here (nbgrader would read a number there as partial credit); their
printed text and their error, if any, become the cell's outputs. When a test cell runs past
``Execute.timeout`` the kernel is interrupted, then killed, then the trusted process too.

What the student's cells can cost the grading process is bounded: their outputs in all
(``max_output_bytes``, then dropped with a note), one kernel message (``MAX_MESSAGE_BYTES``,
refused by the client's sockets) and their wall-clock time in all (``max_student_seconds``).
A submission graded without ``make grade``'s sandbox settings (the formgrader's Autograde
button, a hand-run ``nbgrader autograde``) is put in the sandbox kernel here
(``allow_outside_sandbox`` turns that off, for ``course.grade --no-sandbox``).

``nnlib.checks.check_not_calling`` asks the kernel to profile the student's call and report
entries into the forbidden functions; that verdict comes from the student's process, so a
determined student can defeat it (docs/course.md, "Safe grading").
"""

import ast
import contextlib
import io
import json
import os
import queue
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

TAG = "grader-setup"
TEST_FILE = "<célula de teste>"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- notebook
def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    """An autograded test cell: a code cell with ``grade`` and without ``solution``."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def without_magics(source):
    """``source`` with IPython magic and shell lines (``%``, ``!``) blanked, same line numbers."""
    return re.sub(r"^\s*[%!].*$", "", source, flags=re.M)


def _target_names(node, out):
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)


def top_level_names(tree, imports=True):
    """Names a cell binds in the module namespace (not inside functions, classes, lambdas).

    With ``imports=False`` the names bound by ``import`` statements are left out.
    """
    names = set()

    def visit(stmts):
        for s in stmts:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(s.name)
            elif isinstance(s, (ast.Import, ast.ImportFrom)) and imports:
                for a in s.names:
                    names.add((a.asname or a.name).split(".")[0])
            elif isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for t in (s.targets if isinstance(s, ast.Assign) else [s.target]):
                    _target_names(t, names)
            elif isinstance(s, (ast.For, ast.AsyncFor)):
                _target_names(s.target, names)
            elif isinstance(s, (ast.With, ast.AsyncWith)):
                for item in s.items:
                    if item.optional_vars is not None:
                        _target_names(item.optional_vars, names)
            elif isinstance(s, ast.Try):
                for h in s.handlers:
                    if h.name:
                        names.add(h.name)
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(s, field, None)
                if inner and not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit([x for x in inner if isinstance(x, ast.stmt)] if field != "handlers"
                          else [y for h in inner for y in h.body])
            for n in ast.walk(s) if not isinstance(s, (ast.FunctionDef, ast.ClassDef)) else ():
                if isinstance(n, ast.NamedExpr):
                    names.add(n.target.id)

    visit(tree.body)
    return names


def setup_sources(source_nb):
    """Sources of the cells tagged ``grader-setup``, in order, magics blanked."""
    return [without_magics(c["source"]) for c in source_nb["cells"]
            if c.get("cell_type") == "code" and TAG in c.get("metadata", {}).get("tags", [])]


def answer_names(source_nb):
    """The student's answer names: what the solution cells bind, minus imports and setup."""
    names = set()
    for c in source_nb["cells"]:
        if c.get("cell_type") == "code" and nbgrader_meta(c).get("solution"):
            try:
                names |= top_level_names(ast.parse(without_magics(c["source"])), imports=False)
            except SyntaxError:
                continue
    for src in setup_sources(source_nb):
        with contextlib.suppress(SyntaxError):
            names -= top_level_names(ast.parse(src))
    return sorted(names)


def test_sources(source_nb):
    """{grade_id: source} of the source notebook's autograded test cells."""
    return {nbgrader_meta(c)["grade_id"]: c["source"] for c in source_nb["cells"]
            if is_test_cell(c) and nbgrader_meta(c).get("grade_id")}


# ----------------------------------------------------------------------------- trusted side
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


def run_cell(source, ns):
    """Execute one cell's ``source`` in ``ns``; return ``(stdout, stderr, error or None)``."""
    out, err = io.StringIO(), io.StringIO()
    error = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = compile(without_magics(source), TEST_FILE, "exec")
            exec(code, ns)
        except BaseException as exc:  # a failing test: recorded, the next cell still runs
            error = _format_error(exc, source)
    return out.getvalue(), err.getvalue(), error


def main(argv=None):
    """The trusted process: ``<socket name>``; commands on stdin, replies on stdout (JSON lines).

    Commands: ``{"op": "listen"}`` (create the socket in the submission's folder, the
    starting cwd), ``{"op": "setup", "cells": [...], "answers": [...], "wait": s}`` (accept
    the kernel's connection, run the setup cells), ``{"op": "run", "source": ...}`` (one test
    cell, then tell the kernel the cell is done), ``{"op": "exit"}``.
    """

    argv = sys.argv[1:] if argv is None else argv
    sock_name = argv[0]
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # C-level writes must not reach the protocol stream
    workdir = os.getcwd()
    sock_path = os.path.join(workdir, sock_name)
    os.chdir(tempfile.mkdtemp(prefix="t320-trusted-"))
    listener = None
    import matplotlib

    matplotlib.use("Agg")
    from course import channel
    import nnlib.checks

    endpoint, ns = None, TestNamespace((), None)

    def reply(**msg):
        proto.write(json.dumps(msg) + "\n")

    reply(ready=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "listen":  # the socket exists only from the end of the student's cells
            os.chdir(workdir)  # bound by a relative name: a socket path is limited to 108 bytes
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(sock_name)
            os.chmod(sock_path, 0o666)
            listener.listen(1)
            os.chdir(tempfile.gettempdir())
            reply(listening=True)
        elif cmd["op"] == "setup":
            try:
                listener.settimeout(cmd.get("wait", 20))
                conn, _ = listener.accept()
                conn.settimeout(None)
                endpoint = channel.Endpoint(conn, "trusted")
                nnlib.checks._remote_tracer = remote_tracer(endpoint)
            except (OSError, AttributeError):
                endpoint = None
            finally:
                if listener is not None:
                    listener.close()
                with contextlib.suppress(OSError):
                    os.unlink(sock_path)
            ns = TestNamespace(cmd["answers"], endpoint)
            ns["__name__"] = "__main__"  # classes of the tests: instances the kernel may use
            ns["display"] = print
            problems = []
            for src in cmd["cells"]:
                _, _, error = run_cell(src, ns)
                if error:
                    problems.append(error)
            for name in cmd["answers"]:
                dict.pop(ns, name, None)
            reply(connected=endpoint is not None, problems=problems)
        elif cmd["op"] == "run":
            ns.forget_fetched()
            stdout, stderr, error = run_cell(cmd["source"], ns)
            with contextlib.suppress(Exception):
                if endpoint is not None:
                    endpoint.done()
            reply(stdout=stdout, stderr=stderr, error=error)
        else:
            break
    return 0


# ----------------------------------------------------------------------------- zygote
# Starting a trusted process costs about 0.5 s of CPU (Python, numpy, matplotlib, nnlib):
# as much as a whole test phase. The grading process starts one *zygote* instead, which
# imports those modules once and forks a trusted process per submission. The zygote runs
# no test and no student code: each fork starts from the same freshly imported state.
PRELOAD = ("numpy", "matplotlib.pyplot", "threadpoolctl", "course.channel")
_ZYGOTE_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); from course.trusted import "
                "zygote_main; sys.exit(zygote_main(int(sys.argv[2])))")


def _preload():
    """Import what every trusted process needs: ``PRELOAD`` and every module of nnlib."""
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


def zygote_main(fd):
    """The zygote: preload, then fork one trusted process per request on socket ``fd``.

    A request is ``{"cwd": folder, "argv": [...]}`` with two file descriptors attached (the
    new process's stdin and stdout); the reply is ``{"pid": n}``. The zygote exits when the
    grading process closes its end of the socket.
    """
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked processes are reaped by the kernel
    ctl = socket.socket(fileno=fd)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 1 << 16, 2)
        except OSError:
            return 0
        if not msg:
            return 0
        request = json.loads(msg)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked trusted process
            code = 1
            try:
                ctl.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.dup2(fds[0], 0)
                os.dup2(fds[1], 1)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                for f in (*fds, null):
                    os.close(f)
                sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
                os.chdir(request["cwd"])
                code = main(request["argv"])
            finally:
                os._exit(code)
        for f in fds:
            os.close(f)
        ctl.sendall(json.dumps({"pid": pid}).encode())


class _Zygote:
    """The grading process's zygote (one per process, started on first use)."""

    _lock = threading.Lock()
    _current = None

    def __init__(self):
        self.ctl, theirs = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
        env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-c", _ZYGOTE_BOOT, ROOT, str(theirs.fileno())],
                                     pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        theirs.close()

    @classmethod
    def spawn(cls, cwd, argv):
        """Fork a trusted process running ``main(argv)`` in ``cwd``: (pid, stdin, stdout)."""
        with cls._lock:
            for _ in range(2):  # a zygote that died (killed, out of memory) is replaced once
                if cls._current is None or cls._current.proc.poll() is not None:
                    cls._current = cls()
                try:
                    return cls._current._fork(cwd, argv)
                except (OSError, ValueError):
                    cls._current.proc.kill()
                    cls._current = None
            raise RuntimeError("the trusted process could not be started")

    def _fork(self, cwd, argv):
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            socket.send_fds(self.ctl, [json.dumps({"cwd": cwd, "argv": argv}).encode()],
                            [in_r, out_w])
            reply = json.loads(self.ctl.recv(1 << 16))
        except BaseException:
            for f in (in_w, out_r):
                os.close(f)
            raise
        finally:
            os.close(in_r)
            os.close(out_w)
        return (reply["pid"], os.fdopen(in_w, "w", encoding="utf-8"),
                os.fdopen(out_r, encoding="utf-8"))


# ----------------------------------------------------------------------------- preprocessor
def _kernel_bootstrap(sock_name):
    """Code run silently in the kernel: load the channel module and connect to the socket."""
    with open(os.path.join(ROOT, "course", "channel.py"), encoding="utf-8") as fh:
        source = fh.read()
    return ("def __t320_connect():\n"
            "    import sys, types\n"
            "    m = types.ModuleType('t320_channel')\n"
            f"    exec(compile({source!r}, 't320_channel', 'exec'), m.__dict__)\n"
            "    sys.modules['t320_channel'] = m\n"
            f"    m.connect({sock_name!r}, get_ipython().user_ns)\n"
            "__t320_connect()\n"
            "del __t320_connect\n")


SERVE = "__import__('t320_channel').serve()"


def _make_preprocessor():
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output
    import zmq
    from jupyter_client.asynchronous import AsyncKernelClient
    from nbgrader.preprocessors import Execute
    from traitlets import Bool, Integer

    from course.sandbox import KERNEL_NAME as SANDBOX_KERNEL

    def call(f, *args, **kwargs):
        res = f(*args, **kwargs)
        if hasattr(res, "__await__"):
            async def wait():
                return await res
            return run_sync(wait)()
        return res

    class BoundedKernelClient(AsyncKernelClient):
        """A kernel client whose sockets refuse a message over ``MAX_MESSAGE_BYTES``
        (``ZMQ_MAXMSGSIZE``): it costs the kernel its connection, not the grader its memory."""

        def _context_default(self):
            context = super()._context_default()
            context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            return context

    class TrustedExecute(Execute):
        """nbgrader's ``Execute`` with the autograded test cells run in a trusted process."""

        def create_kernel_manager(self):
            km = super().create_kernel_manager()
            km.client_factory = BoundedKernelClient
            return km

        max_output_bytes = Integer(
            32 * 2**20, help="Bytes of output (text, pictures, errors, widget state) the "
            "student's cells may send in all. Past it the kernel's further outputs are "
            "dropped and the cell says so: nbclient keeps every output in memory, and the "
            "graded notebook, the gradebook and the feedback would hold them.").tag(config=True)

        max_student_seconds = Integer(
            180, help="Wall-clock seconds the student's cells (all but the tests) may take in "
            "all; Execute.timeout still limits each cell. Past it the remaining cells do not "
            "run: a notebook of many slow cells (time.sleep uses no CPU time) would hold a "
            "grading worker for hours.").tag(config=True)

        allow_outside_sandbox = Bool(
            False, help="Run the student's cells in the kernel Execute.kernel_name names "
            "even when it is not the grading sandbox's (course.grade sets it for "
            "--no-sandbox). Otherwise a submission graded without make grade's sandbox "
            "settings (the formgrader's Autograde button, a hand-run `nbgrader autograde`) "
            "is put in the sandbox here, instead of running as the instructor.").tag(config=True)

        def preprocess(self, nb, resources=None, km=None):
            if self.allow_outside_sandbox or self.kernel_name == SANDBOX_KERNEL:
                return self._preprocess(nb, resources, km)
            with self._in_sandbox():
                return self._preprocess(nb, resources, None)

        @contextlib.contextmanager
        def _in_sandbox(self):
            """This submission in the sandbox kernel with a grader uid of its own, as
            ``make grade`` runs it (``course.grade``); its processes killed afterwards."""
            import copy

            from course import config_from, sandbox

            self.log.warning("TrustedExecute: not started by make grade; grading this "
                             "submission in the sandbox kernel %s", SANDBOX_KERNEL)
            with sandbox.GraderUid() as uid:
                sandbox.install_kernel()
                confined = copy.deepcopy(self.config)  # the parent's config stays as it is
                confined.merge(config_from(sandbox.kernel_config(uid)))
                saved = self.config, self.kernel_name
                self.config, self.kernel_name = confined, SANDBOX_KERNEL
                try:
                    yield
                finally:
                    self.config, self.kernel_name = saved

        def _preprocess(self, nb, resources, km):
            NotebookClient.__init__(self, nb, km)
            self.reset_execution_trackers()
            self._output_bytes, self._output_cut = 0, False
            self._check_assign_resources(resources)
            tests = [i for i, c in enumerate(self.nb.cells) if is_test_cell(c)]
            runner = None
            workdir = self.resources.get("metadata", {}).get("path") or os.getcwd()
            if tests:  # started first: its imports overlap the student's cells
                runner = _Runner(f".t320-{secrets.token_hex(8)}.sock", workdir)
            remove_notebook_files(workdir)
            try:
                self._execute(tests, runner, resources)
            finally:
                if runner is not None:
                    runner.close()
            self.set_widgets_metadata()
            return self.nb, self.resources

        def _execute(self, tests, runner, resources):
            with self.setup_kernel():
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                self._kernel_alive = True
                self._run_student_cells(tests, resources)
                t_kernel = time.monotonic()
                if tests:
                    self._run_tests(tests, runner, resources)
                self.log.info("TrustedExecute: trusted tests took %.2f s", time.monotonic() - t_kernel)

        def _run_student_cells(self, tests, resources):
            """Every cell but the tests, in order, within ``max_student_seconds`` in all
            (each cell's own limit is ``Execute.timeout``, cut to what is left of that)."""
            per_cell = self.timeout
            deadline = time.monotonic() + self.max_student_seconds
            try:
                for index, cell in enumerate(self.nb.cells):
                    if index in tests:
                        continue
                    left = deadline - time.monotonic()
                    if left <= 0 and cell.cell_type == "code":
                        self.log.warning("student cells over %d s: stopped at cell %d",
                                         self.max_student_seconds, index)
                        cell.outputs.append(self._error("TempoEsgotado", TIME_UP.format(
                            s=self.max_student_seconds)))
                        break
                    self.timeout = per_cell if per_cell is None else max(1, min(per_cell, int(left) + 1))
                    try:
                        self.preprocess_cell(cell, resources, index)
                    except (DeadKernelError, CellTimeoutError) as exc:
                        # the student's code killed or wedged the kernel: its answers are
                        # out of reach, so the tests below fail (the submission still gets
                        # a gradebook row, with 0 for them)
                        self.log.warning("kernel lost in cell %d: %s", index, type(exc).__name__)
                        why = (TIME_UP.format(s=self.max_student_seconds)
                               if time.monotonic() >= deadline else "o kernel parou de responder")
                        cell.outputs.append(self._error(type(exc).__name__, why))
                        self._kill_kernel()
                        break
            finally:
                self.timeout = per_cell

        # ---- what the student's cells send back
        def process_message(self, msg, cell, cell_index):
            if msg["msg_type"] in KEPT_MESSAGES and not self._within_output_budget(msg, cell):
                return None
            return super().process_message(msg, cell, cell_index)

        def _within_output_budget(self, msg, cell):
            size = kept_size(msg)
            if self._output_bytes + size <= self.max_output_bytes:
                self._output_bytes += size
                return True
            if not self._output_cut:
                self._output_cut = True
                self.log.warning("TrustedExecute: output over %d bytes; the rest is dropped",
                                 self.max_output_bytes)
                cell.outputs.append(new_output("stream", name="stderr", text=OUTPUT_CUT.format(
                    mb=self.max_output_bytes / 2**20)))
            return False

        def on_cell_executed(self, **kwargs):
            # nbgrader adds the reply's error to the cell when no error output arrived (the
            # iopub one may have been dropped above): keep it short past the budget
            content = (kwargs.get("execute_reply") or {}).get("content") or {}
            if (content.get("status") == "error" and self._output_bytes
                    + kept_size(kwargs["execute_reply"]) > self.max_output_bytes):
                ename = str(content.get("ename", "Error"))[:200]
                evalue = str(content.get("evalue", ""))[:1000]
                content.update(ename=ename, evalue=evalue,
                               traceback=[f"{ename}: {evalue} [mensagem cortada]"])
            return super().on_cell_executed(**kwargs)

        # ---- the source notebook
        def _source_notebook(self, resources):
            import nbformat
            from nbgrader.coursedir import CourseDirectory

            info = (resources or {}).get("nbgrader", {})
            coursedir = CourseDirectory(config=self.config)
            path = os.path.join(coursedir.format_path(coursedir.source_directory, ".",
                                                      info.get("assignment", "")),
                                info.get("notebook", "") + ".ipynb")
            if not os.path.isfile(path):
                raise RuntimeError(f"TrustedExecute: source notebook {path} not found")
            return nbformat.read(path, as_version=4)

        # ---- phase 2
        def _run_tests(self, tests, runner, resources):
            source = self._source_notebook(resources)
            trusted = test_sources(source)
            listening = runner.ask(None, timeout=60) is not None and \
                runner.ask({"op": "listen"}, timeout=10) is not None
            boot_id = None
            if listening and self._kernel_alive:
                boot_id = self._kernel_execute(_kernel_bootstrap(runner.sock_name))
            answer = runner.ask({"op": "setup", "cells": setup_sources(source),
                                 "answers": answer_names(source),
                                 "wait": 20 if boot_id is not None else 0.01}, timeout=120)
            connected = bool(answer and answer.get("connected"))
            for problem in (answer or {}).get("problems", []):
                self.log.warning("grader-setup cell failed in the trusted process: %s: %s",
                                 problem["ename"], problem["evalue"])
            if boot_id is not None:
                self._wait_kernel(boot_id, 10)
            for count, index in enumerate(tests, start=1):
                cell = self.nb.cells[index]
                grade_id = nbgrader_meta(cell).get("grade_id")
                src = trusted.get(grade_id)
                if src is None:
                    cell.outputs = [self._error("KeyError", f"teste {grade_id!r} não está na "
                                                "fonte do professor")]
                    continue
                t0 = time.monotonic()
                self._run_test(runner, cell, src, connected)
                cell.execution_count = count
                self.log.info("TrustedExecute: %s in %.2f s", grade_id, time.monotonic() - t0)

        def _run_test(self, runner, cell, src, connected):
            serve_id = self._kernel_execute(SERVE) if connected and self._kernel_alive else None
            answer = runner.ask({"op": "run", "source": src}, timeout=self.timeout)
            if answer is None and runner.alive():
                self.log.warning("test cell past the time limit: interrupting the kernel")
                self._interrupt()
                answer = runner.ask(None, timeout=10)
                if answer is None:
                    self._kill_kernel()
                    answer = runner.ask(None, timeout=10)
            if answer is None:
                runner.kill()
                cell.outputs = [self._error("CellTimeoutError",
                                            "o teste não terminou no tempo limite")]
                return
            if serve_id is not None and not self._wait_kernel(serve_id, 10):
                self._interrupt()
                if not self._wait_kernel(serve_id, 5):
                    self._kill_kernel()
            outputs = []
            for name in ("stdout", "stderr"):
                if answer.get(name):
                    outputs.append(new_output("stream", name=name, text=answer[name]))
            if answer.get("error"):
                e = answer["error"]
                outputs.append(self._error(e["ename"], e["evalue"], e["traceback"]))
            cell.outputs = outputs

        @staticmethod
        def _error(ename, evalue, tb=None):
            return new_output("error", ename=ename, evalue=evalue,
                              traceback=tb or [f"{ename}: {evalue}"])

        # ---- the kernel
        def _kernel_execute(self, code):
            try:
                return call(self.kc.execute, code, silent=True, store_history=False,
                            allow_stdin=False, stop_on_error=False)
            except Exception:
                self._kernel_alive = False
                return None

        def _wait_kernel(self, msg_id, timeout):
            """Wait for the kernel's reply to ``msg_id``; False on timeout or a dead kernel."""
            deadline = time.monotonic() + timeout
            while self._kernel_alive:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                try:
                    msg = call(self.kc.get_shell_msg, timeout=min(left, 1.0))
                except queue.Empty:
                    if not call(self.km.is_alive):
                        self._kernel_alive = False
                    continue
                except Exception:
                    self._kernel_alive = False
                    return False
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
            return False

        def _interrupt(self):
            with contextlib.suppress(Exception):
                call(self.km.interrupt_kernel)

        def _kill_kernel(self):
            self.log.warning("kernel unresponsive: killing it")
            with contextlib.suppress(Exception):
                call(self.km.shutdown_kernel, now=True)
            self._kernel_alive = False

    return TrustedExecute


#: Largest kernel message the grading process receives at all (a picture is a few 100 KB).
MAX_MESSAGE_BYTES = 64 * 2**20
#: Kernel messages whose content the notebook keeps (outputs, errors, widget state).
KEPT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "update_display_data",
                           "error", "comm_open", "comm_msg"})
TIME_UP = ("tempo total esgotado: as células deste notebook passaram de {s} s somadas; "
           "as seguintes não rodaram")
OUTPUT_CUT = ("[saída cortada: as células deste notebook mandaram mais de {mb:.0f} MB de saída "
              "(texto, figuras, erros); o resto não foi guardado]\n")
_MESSAGE_OVERHEAD = 200  # bytes an output costs besides its content (its node, its keys)


def kept_size(msg):
    """Bytes of what the notebook would keep of a kernel message (its content and buffers)."""
    content = msg.get("content") or {}
    size = _MESSAGE_OVERHEAD + sum(len(b) for b in msg.get("buffers") or ())
    for key in ("text", "evalue", "ename"):
        if isinstance(content.get(key), str):
            size += len(content[key])
    for line in content.get("traceback") or ():
        size += len(line) if isinstance(line, str) else 0
    for key in ("data", "metadata"):
        value = content.get(key)
        if isinstance(value, dict):
            for item in value.values():
                size += len(item) if isinstance(item, str) else len(json.dumps(item, default=str))
    return size


def remove_notebook_files(workdir):
    """Delete the notebooks in the kernel's working folder before the student's code runs.

    nbgrader writes the submission there with its test cells restored from the gradebook,
    hidden tests included, then reads it back and executes it; the student's code could read
    that file and print the hidden tests into its own feedback. Grading works on the notebook
    in memory; nbgrader writes the graded one back when the preprocessors are done.
    """
    if not os.path.isdir(workdir):
        return
    for name in os.listdir(workdir):
        if name.endswith(".ipynb"):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(workdir, name))


class _Runner:
    """One submission's trusted process (forked by the zygote) and the queue of its replies."""

    def __init__(self, sock_name, workdir):
        self.sock_name = sock_name
        self.pid, self.stdin, self.stdout = _Zygote.spawn(workdir, [sock_name])
        try:
            self.pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:  # already gone: every ask() then times out at once
            self.pidfd = None
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with self.stdout:  # EOF when the trusted process has exited
            for line in self.stdout:
                with contextlib.suppress(ValueError):
                    self.replies.put(json.loads(line))
        self.replies.put(None)

    def alive(self):
        if self.pidfd is None:
            return False
        return not select.select([self.pidfd], [], [], 0)[0]  # readable once it has exited

    def ask(self, command, timeout):
        """Send ``command`` (unless None) and wait for the next reply; None on timeout/exit."""
        if command is not None:
            try:
                self.stdin.write(json.dumps(command) + "\n")
                self.stdin.flush()
            except (OSError, ValueError):
                return None
        try:
            answer = self.replies.get(timeout=timeout)
        except queue.Empty:
            return None
        if answer is None:
            self.replies.put(None)
        return answer

    def kill(self):
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def _wait(self, timeout):
        return self.pidfd is None or bool(select.select([self.pidfd], [], [], timeout)[0])

    def close(self):
        with contextlib.suppress(OSError, ValueError):
            self.stdin.write(json.dumps({"op": "exit"}) + "\n")
            self.stdin.close()
        if not self._wait(5):
            self.kill()
            self._wait(5)
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def __getattr__(name):
    if name == "TrustedExecute":  # built on first use: importing nbgrader is slow
        cls = _make_preprocessor()
        globals()["TrustedExecute"] = cls
        return cls
    raise AttributeError(name)
