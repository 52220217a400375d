"""Helpers for the real-use tests: start JupyterLab as ``make lab`` does, talk to its REST API,
stop it cleanly, and drive Debian's Chromium with playwright.

Used by ``test_jupyterlab.py`` and ``test_make_lab.py``; no test lives here.

- ``lab_command(python)``: the arguments ``make lab`` gives ``jupyter lab`` (``--notebook-dir=.``,
  ``--config=course/browser/jupyter_server_config.py``, ``--allow-root`` as root) plus ``--no-browser``, a port
  and a token.
- ``LabServer``: a running server in a course folder. The URL is read from the server's log,
  because a busy port silently moves to the next one.
- ``write_lab_overrides(prefix)``: turns off the "get notified about Jupyter news" pop-up
  (``<prefix>/share/jupyter/lab/settings/overrides.d/t320-nnlib.json``).
- ``browser_unavailable()``: why the browser tests cannot run here (None when they can).
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_CONFIG = os.path.join(REPO, "course", "browser", "jupyter_server_config.py")  # make lab's server settings
CHROMIUM = "/usr/bin/chromium"
# The flags that keep Chromium quiet on a machine with a closed network (python.md).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# JupyterLab asks "Would you like to get notified about official Jupyter news?" on first start.
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification":
                 {"fetchNews": "false", "checkForUpdates": False}}
URL_RE = re.compile(r"(http://(?:localhost|127\.0\.0\.1):(\d+)/)lab\?token=(\S+)")


def artifacts_dir():
    """Folder for failure screenshots (``test-artifacts/`` at the repo root, git-ignored)."""
    path = os.environ.get("T320_TEST_ARTIFACTS", os.path.join(REPO, "test-artifacts"))
    os.makedirs(path, exist_ok=True)
    return path


def browser_unavailable():
    """A one-line reason why Chromium + playwright cannot run here, or None."""
    chromium = os.environ.get("T320_CHROMIUM", CHROMIUM)
    if not os.path.exists(chromium):
        return (f"no Chromium at {chromium}: install Debian's package "
                "(apt-get install -y chromium), as .ci/run does")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("the Python package playwright is missing: pip install -e '.[browser]' "
                "(never `playwright install`; the tests drive Debian's Chromium)")
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_bin(python=sys.executable):
    return os.path.dirname(python)


def lab_command(python=sys.executable, port=None, token=None):
    """``jupyter lab`` with the Makefile's arguments, headless, on ``port`` with ``token``."""
    cmd = [os.path.join(venv_bin(python), "jupyter"), "lab", "--notebook-dir=.",
           f"--config={LAB_CONFIG}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + lab_args(port, token)


def lab_args(port, token):
    """The extra arguments (``LAB_ARGS``) that make the server headless and reachable."""
    return ["--no-browser", f"--port={port}", f"--ServerApp.token={token}",
            "--ServerApp.port_retries=50"]


def lab_env(python=sys.executable):
    """The Makefile's environment: the venv's bin first on PATH (kernels, alembic)."""
    env = dict(os.environ)
    env["PATH"] = venv_bin(python) + os.pathsep + env.get("PATH", "")
    env.pop("JUPYTER_TOKEN", None)
    return env


def write_lab_overrides(prefix=sys.prefix):
    """Write the lab settings that turn off the news pop-up; return the file's path.

    Uses the namespaced ``overrides.d`` folder, so a user's own ``overrides.json`` is kept.
    """
    os.makedirs(os.path.dirname(lab_overrides_path(prefix)), exist_ok=True)
    path = lab_overrides_path(prefix)
    if read_lab_overrides(prefix) != LAB_OVERRIDES:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(LAB_OVERRIDES, indent=2) + "\n")
    return path


def lab_overrides_path(prefix=sys.prefix):
    return os.path.join(prefix, "share", "jupyter", "lab", "settings", "overrides.d",
                        "t320-nnlib.json")


def read_lab_overrides(prefix=sys.prefix):
    """The settings in our overrides file, or None if it is missing or not JSON."""
    try:
        with open(lab_overrides_path(prefix), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def wait_for_url(log_path, proc, timeout=90):
    """(base_url, token) printed by the server in ``log_path``; raises on exit or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = open(log_path, encoding="utf-8", errors="replace").read()
        m = URL_RE.search(text)
        if m:
            return m.group(1), m.group(3)
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.3)
    raise RuntimeError(f"no server URL after {timeout} s:\n{text[-3000:]}")


class LabServer:
    """A JupyterLab server started by ``cmd`` in ``cwd``; use as a context manager.

    ``cmd`` defaults to :func:`lab_command`. Attributes: ``base`` (``http://host:port/``),
    ``token``, ``log_path``, ``proc``. On exit every kernel is shut down, then the server
    (``POST /api/shutdown``; SIGTERM to its process group if that does not end it).
    """

    def __init__(self, cwd, log_path, cmd=None, env=None, token=None):
        self.cwd, self.log_path = cwd, log_path
        self.token = token or secrets.token_hex(16)
        self.port = free_port()
        self.cmd = cmd or lab_command(port=self.port, token=self.token)
        self.env = env or lab_env()
        self.proc = None
        self.base = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=90):
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # the log masks a token that was given on the command line ("?token=...")
            self.base, _ = wait_for_url(self.log_path, self.proc, timeout)
            self.wait_ready(timeout)
        except BaseException:
            self.stop(timeout=10)  # never leave a server behind
            raise

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.api("GET", "api/status")
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def api(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def page(self, path, timeout=30):
        """The text of ``GET path`` (an HTML page), with the server's token."""
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read().decode("utf-8")

    def sessions(self, tries=10):
        """``GET /api/sessions``; retried, since it may answer 500 while a kernel is replaced
        (seen once on a cold server)."""
        for k in range(tries):
            try:
                return self.api("GET", "api/sessions")
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or k == tries - 1:
                    raise
                time.sleep(0.5)

    def shutdown_kernels(self, path=None):
        """Delete the sessions (and their kernels) of ``path``, or every session and kernel.

        A session the page is closing at the same time may answer 400/404: that is fine."""
        for s in self.sessions():
            if path is None or s["path"] == path:
                try:
                    self.api("DELETE", f"api/sessions/{s['id']}")
                except urllib.error.HTTPError:
                    pass
        if path is None:
            for k in self.api("GET", "api/kernels"):
                try:
                    self.api("DELETE", f"api/kernels/{k['id']}")
                except urllib.error.HTTPError:
                    pass

    def stop(self, timeout=30):
        """Stop kernels and server; return the process's exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                if self.base:
                    self.shutdown_kernels()
                    self.api("POST", "api/shutdown")
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
        self._log.close()
        return self.proc.returncode


def scratch_course(dest, folders=("lectures", "assignments"), source=REPO):
    """Copy the student folders of ``source`` and the repo's ``nbgrader_config.py`` to ``dest``
    (the server autosaves what it opens, so the tests never open the repository's files)."""
    for folder in folders:
        if os.path.isdir(os.path.join(source, folder)):
            shutil.copytree(os.path.join(source, folder), os.path.join(dest, folder),
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(os.path.join(REPO, "nbgrader_config.py"), dest)
    return dest


def launch_chromium(playwright):
    """Debian's Chromium, headless, with a fresh profile (never `playwright install`)."""
    import tempfile

    profile = tempfile.mkdtemp(prefix="t320-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=os.environ.get("T320_CHROMIUM", CHROMIUM), headless=True,
        args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
    return context, profile


def chromium_context():
    """Generator for a module-scoped pytest fixture: a Chromium context (60 s default
    timeout) that is closed, and its profile deleted, at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context, profile = launch_chromium(p)
        context.set_default_timeout(60_000)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)
