"""``TrustedExecute``: nbgrader's ``Execute`` with the test cells judged outside the kernel.

nbgrader's ``Execute`` runs every cell of a submission, tests included, in one kernel: the
student's code can then rewrite the tests (input transformers, a replaced ``run_cell``,
patched ``checks``), read the hidden tests (``pre_run_cell`` hooks) and decide its own
grade. ``TrustedExecute`` replaces it in the autograde pipeline (``nbgrader_config.py``)
and runs in the grading process:

1. it starts the submission's trusted test process in its sandbox
   (``trusted_client.TrustedClient``), so its imports overlap step 2;
2. every cell that is not an autograded test cell (setup, the student's answers, demos)
   runs in the sandboxed kernel (``kernel_launcher.py``), in order, as nbgrader would run
   it, within ``max_student_seconds`` and ``max_output_bytes`` in all;
3. the kernel connects to a fresh socket in the submission's folder (``kernel_bootstrap``:
   it loads ``channel.py`` from its source) and the connection is handed to the trusted
   process, with the ``grader-setup`` cells, the answer names and then, one by one, the test
   cells of the **instructor's source notebook** (``notebook.py``), never the submission's;
4. each test cell's reply (validated text: its printed output and its error) becomes that
   cell's outputs. Test cells never produce an ``execute_result`` (nbgrader would read a
   number there as partial credit). A test cell past ``Execute.timeout`` interrupts the
   kernel, then kills it, then the trusted process.

The kernel learns nothing but the arguments of the calls the tests make. It serves them
from a hidden, silent execution per test cell (``SERVE``: no ``pre_run_cell`` hooks run
for it) that the trusted process ends when the cell is done.

A submission graded without ``make grade``'s sandbox settings (the formgrader's Autograde
button, a hand-run ``nbgrader autograde``) is put in the sandbox kernel here, with a grader
uid of its own; only ``make grade UNSAFE=1`` turns that off (``allow_outside_sandbox``), and
the graded notebook then carries ``t320_grading: {"sandbox": false}`` for its feedback.

``nnlib.checks.check_not_calling`` asks the kernel to profile the student's call and report
entries into the forbidden functions; that verdict comes from the student's process, so a
determined student can defeat it (docs/course.md, "Safe grading").
"""

import contextlib
import copy
import json
import os
import queue
import secrets
import socket
import time

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer

from course import traitlets_config
from course.grading import kernel_launcher, limits, sandbox
from course.grading.kernel_launcher import KERNEL_NAME as SANDBOX_KERNEL
from course.grading.notebook import (answer_names, is_test_cell, nbgrader_meta, setup_sources,
                                     test_sources)
from course.grading.trusted_client import TrustedClient, valid_run_reply, valid_setup_reply

CHANNEL_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "channel.py")
_CHANNEL_LIMITS = ("CHANNEL_MESSAGE_MAX", "CHANNEL_DEPTH_MAX", "CHANNEL_ITEMS_MAX",
                   "CHANNEL_ARRAY_MAX", "CHANNEL_TEXT_MAX")


def kernel_bootstrap(sock_name):
    """Code run silently in the kernel: load the channel module and connect to the socket."""
    with open(CHANNEL_SOURCE, encoding="utf-8") as fh:
        source = fh.read()
    channel_limits = {name: getattr(limits, name) for name in _CHANNEL_LIMITS}
    return ("def __t320_connect():\n"
            "    import sys, types\n"
            "    m = types.ModuleType('t320_channel')\n"
            f"    m.T320_LIMITS = {channel_limits!r}\n"
            f"    exec(compile({source!r}, 't320_channel', 'exec'), m.__dict__)\n"
            "    sys.modules['t320_channel'] = m\n"
            f"    m.connect({sock_name!r}, get_ipython().user_ns)\n"
            "__t320_connect()\n"
            "del __t320_connect\n")


SERVE = "__import__('t320_channel').serve()"


def call(f, *args, **kwargs):
    res = f(*args, **kwargs)
    if hasattr(res, "__await__"):
        async def wait():
            return await res
        return run_sync(wait)()
    return res


class BoundedKernelClient(AsyncKernelClient):
    """A kernel client whose sockets refuse a message over ``limits.KERNEL_MESSAGE_MAX``
    (``ZMQ_MAXMSGSIZE``): it costs the kernel its connection, not the grader its memory."""

    def _context_default(self):
        context = super()._context_default()
        context.setsockopt(zmq.MAXMSGSIZE, limits.KERNEL_MESSAGE_MAX)
        return context


class TrustedExecute(Execute):
    """nbgrader's ``Execute`` with the autograded test cells run in a trusted process."""

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.client_factory = BoundedKernelClient
        return km

    max_output_bytes = Integer(
        limits.OUTPUT_MAX_BYTES, help="Bytes of output (text, pictures, errors, widget state) the "
        "student's cells may send in all. Past it the kernel's further outputs are "
        "dropped and the cell says so: nbclient keeps every output in memory, and the "
        "graded notebook, the gradebook and the feedback would hold them.").tag(config=True)

    max_student_seconds = Integer(
        limits.STUDENT_SECONDS, help="Wall-clock seconds the student's cells (all but the tests) may take in "
        "all; Execute.timeout still limits each cell. Past it the remaining cells do not "
        "run: a notebook of many slow cells (time.sleep uses no CPU time) would hold a "
        "grading worker for hours.").tag(config=True)

    allow_outside_sandbox = Bool(
        False, help="Run the student's cells in the kernel Execute.kernel_name names "
        "even when it is not the grading sandbox's (make grade UNSAFE=1 sets it; the "
        "graded notebook and its feedback then say so). Otherwise a submission graded without make grade's sandbox "
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
        ``make grade`` runs it (``course.grading.driver``); its processes killed afterwards."""
        self.log.warning("TrustedExecute: not started by make grade; grading this "
                         "submission in the sandbox kernel %s", SANDBOX_KERNEL)
        with sandbox.GraderUid() as uid:
            kernel_launcher.install_kernel()
            confined = copy.deepcopy(self.config)  # the parent's config stays as it is
            confined.merge(traitlets_config(kernel_launcher.kernel_config(uid)))
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
        self.workdir = self.resources.get("metadata", {}).get("path") or os.getcwd()
        if self.allow_outside_sandbox and self.kernel_name != SANDBOX_KERNEL:
            self.nb.metadata["t320_grading"] = {"sandbox": False}
        if tests:  # started first: its imports overlap the student's cells
            runner = TrustedClient(sandbox.current_uid())
        remove_notebook_files(self.workdir)
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
        ready = runner.ask(None, timeout=limits.TRUSTED_START_S) is not None
        kernel_conn = self._connect_kernel() if ready and self._kernel_alive else None
        try:
            answer = valid_setup_reply(runner.ask(
                {"op": "setup", "cells": setup_sources(source), "answers": answer_names(source)},
                timeout=limits.TRUSTED_SETUP_S,
                fds=[kernel_conn.fileno()] if kernel_conn is not None else ()))
        finally:
            if kernel_conn is not None:
                kernel_conn.close()  # the trusted process holds its own copy
        connected = bool(answer and answer["connected"])
        for problem in (answer or {}).get("problems", []):
            self.log.warning("grader-setup cell failed in the trusted process: %s: %s",
                             problem["ename"], problem["evalue"])
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

    def _connect_kernel(self):
        """The kernel's connection to the channel, or None.

        The grading process listens on a fresh Unix socket in the submission's folder (the
        only folder of the course the kernel sees), the kernel connects to it from a silent
        execution, and the accepted connection is handed to the trusted process as a file
        descriptor: the trusted process needs no file of the course, the kernel no path to
        the trusted process.
        """
        name = f".t320-{secrets.token_hex(8)}.sock"
        folder = os.open(self.workdir, os.O_PATH | os.O_DIRECTORY)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # bound through the folder's descriptor: a socket path holds at most 108 bytes,
            # and a submission's folder can be deeper than that
            listener.bind(f"/proc/self/fd/{folder}/{name}")
            os.chmod(name, 0o666, dir_fd=folder)
            listener.listen(1)
            listener.settimeout(limits.KERNEL_CONNECT_S)
            boot_id = self._kernel_execute(kernel_bootstrap(name))
            if boot_id is None:
                return None
            try:
                conn, _ = listener.accept()
            except OSError:
                self.log.warning("the kernel did not connect to the test channel")
                return None
            conn.settimeout(None)
            self._wait_kernel(boot_id, limits.KERNEL_REPLY_S)
            return conn
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=folder)
            os.close(folder)

    def _run_test(self, runner, cell, src, connected):
        serve_id = self._kernel_execute(SERVE) if connected and self._kernel_alive else None
        answer = runner.ask({"op": "run", "source": src}, timeout=self.timeout)
        if answer is None and runner.alive():
            self.log.warning("test cell past the time limit: interrupting the kernel")
            self._interrupt()
            answer = runner.ask(None, timeout=limits.INTERRUPT_GRACE_S)
            if answer is None:
                self._kill_kernel()
                answer = runner.ask(None, timeout=limits.INTERRUPT_GRACE_S)
        answer = valid_run_reply(answer) if answer is not None else None
        if answer is None:
            runner.kill()
            cell.outputs = [self._error("CellTimeoutError",
                                        "o teste não terminou no tempo limite")]
            return
        if serve_id is not None and not self._wait_kernel(serve_id, limits.KERNEL_REPLY_S):
            self._interrupt()
            if not self._wait_kernel(serve_id, limits.KILL_GRACE_S):
                self._kill_kernel()
        outputs = []
        for name in ("stdout", "stderr"):
            if answer[name]:
                outputs.append(new_output("stream", name=name, text=answer[name]))
        if answer["error"]:
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
