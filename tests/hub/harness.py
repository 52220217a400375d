"""A throw-away class hub for tests and benchmarks: real Unix users, loopback ports, cleanup.

``ClassHub`` runs ``deploy/hub/setup.py``'s ``setup`` into a temporary state folder with
users named ``<prefix>-<role>`` (a random prefix, so nothing on the machine is touched),
starts JupyterHub on free loopback ports and, on ``close`` (always called, also after a
failure), stops the hub, kills what is left under the test users' uids (by pid), deletes
those users, their homes and groups, and the state folder. ``User`` is one person's
browser-like HTTP session: hub login with ``_xsrf``, the OAuth hop to their server, and
calls to that server with the ``X-XSRFToken`` header Jupyter requires.
"""

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_setup():
    """deploy/hub/setup.py as module ``t320_hub_setup`` (a plain ``import setup`` could clash)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "t320_hub_setup", os.path.join(REPO, "deploy", "hub", "setup.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hub_setup = _load_setup()


def hub_unavailable():
    """A one-line reason why a class hub cannot run here, or None (CI: .ci/run installs all)."""
    if os.geteuid() != 0:
        return "creates Unix users and their servers: run as root (CI does)"
    try:
        import jupyterhub  # noqa: F401
        import ltiauthenticator  # noqa: F401
    except ImportError:
        return "the hub extra is missing: pip install -e '.[hub]'"
    if shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy missing: npm install -g configurable-http-proxy@5.3.0"
    for tool in ("useradd", "userdel", "runuser", "bwrap"):
        if shutil.which(tool) is None:
            return f"{tool} missing (apt-get install passwd util-linux bubblewrap)"
    return None

PASSWORD = "t320-hub-test-" + secrets.token_hex(4)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout, interval=0.25):
    """Call ``check`` until it returns something truthy; fail saying ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (requests.RequestException, OSError) as exc:
            value, last = None, exc
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                         + (f" (last error: {last!r})" if last else ""))


def _group_exists(name):
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def pids_of_uid(uid):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
    return pids


def home_of(user):
    return pwd.getpwnam(user).pw_dir


def run_as(user, argv, timeout=60):
    """Run ``argv`` as Unix user ``user`` with a clean environment (``runuser`` + ``env -i``)."""
    home = pwd.getpwnam(user).pw_dir
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", f"HOME={home}",
                           f"USER={user}", "PATH=/usr/bin:/bin", *argv],
                          capture_output=True, text=True, timeout=timeout)


class ClassHub:
    """A hub with ``n_students`` students, one instructor and one grader (see module doc)."""

    def __init__(self, n_students=3, auth="password", lti13=None, staff_emails=None,
                 student_emails=None, cull_idle_seconds=0, start_timeout=60, http_timeout=60):
        if os.geteuid() != 0:
            raise RuntimeError("the class hub test creates Unix users: run it as root")
        self.prefix = "t3h" + secrets.token_hex(3)
        self.students = [f"{self.prefix}-s{i + 1}" for i in range(n_students)]
        self.instructor = f"{self.prefix}-prof"
        self.grader = f"{self.prefix}-ta"
        # not under /tmp: the grading sandbox's trusted process gets a private tmpfs on /tmp,
        # which hides a course folder there (every test cell then times out)
        self.state = tempfile.mkdtemp(prefix="t320-hub-", dir="/var/tmp")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.created_users = []
        self.timings = {}  # what a test measured, printed at the end
        self.proc = None
        self.log_path = os.path.join(self.state, "jupyterhub.log")
        emails = student_emails or {}
        roster = os.path.join(self.state, "students.csv")
        with open(roster, "w", encoding="utf-8") as fh:
            fh.write("id,name,email\n")
            for i, s in enumerate(self.students):
                fh.write(f"{s},Estudante {i + 1},{emails.get(s, s + '@example.edu')}\n")
        self._setup_kwargs = dict(
            venv=None, roster=roster, port=self.port, hub_port=free_port(),
            proxy_api_port=free_port(), auth=auth, lti13=lti13, staff_emails=staff_emails,
            password=PASSWORD, cull_idle_seconds=cull_idle_seconds, apt=False,
            grade_python=sys.executable,
            # groups of this hub only: a real class hub's groups on the machine stay untouched
            student_group=f"{self.prefix}-st", staff_group=f"{self.prefix}-staff",
            extra={"start_timeout": start_timeout, "http_timeout": http_timeout})

    # ------------------------------------------------------------ lifecycle
    def start(self, timeout=60):
        # the servers run as the test users: the test's environment through the system Python
        self._setup_kwargs["venv"] = hub_setup.overlay_env(os.path.join(self.state, "env"))
        self.settings = hub_setup.setup(self.state, self.students, [self.instructor],
                                        [self.grader], **self._setup_kwargs)
        self.created_users = self.settings["created_users"]
        self.token = open(os.path.join(self.state, "driver_token")).read().strip()
        argv, env = hub_setup.hub_command(self.settings)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=self.state, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"jupyterhub exited with {self.proc.returncode}:\n"
                                     + self.log_tail())
            return requests.get(self.url + "/hub/api/", timeout=2).status_code == 200
        wait_for("the hub's API to answer", up, timeout)
        return self

    def log_tail(self, n=60):
        with contextlib.suppress(OSError):
            with open(self.log_path, errors="replace") as fh:
                return "".join(fh.readlines()[-n:])
        return ""

    def close(self):
        """Stop everything this hub started and delete its users; never raises."""
        errors = []
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the hub stops the servers it spawned
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        for user in self.all_users():
            try:
                uid = pwd.getpwnam(user).pw_uid
            except KeyError:
                continue
            for _ in range(3):  # servers, kernels, anything a student left behind
                pids = pids_of_uid(uid)
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
        # every account with this run's random prefix was made by this run (also when setup
        # failed half-way and never returned the list)
        for user in self.all_users():
            try:
                pwd.getpwnam(user)
            except KeyError:
                continue
            r = subprocess.run(["userdel", "--remove", user], capture_output=True, text=True)
            if r.returncode not in (0, 12):  # 12: home could not be removed (already gone)
                errors.append(f"userdel {user}: {r.stderr.strip()}")
        for group in (self._setup_kwargs["student_group"], self._setup_kwargs["staff_group"]):
            if _group_exists(group):
                r = subprocess.run(["groupdel", group], capture_output=True, text=True)
                if r.returncode != 0:
                    errors.append(f"groupdel {group}: {r.stderr.strip()}")
        shutil.rmtree(self.state, ignore_errors=True)
        return errors

    def all_users(self):
        return [*self.students, self.instructor, self.grader]

    # ------------------------------------------------------------ the hub's REST API
    def api(self, method, path, **kw):
        return requests.request(method, self.url + "/hub/api" + path, timeout=30,
                                headers={"Authorization": f"token {self.token}"}, **kw)

    def start_server(self, name, timeout=60):
        """Ask the hub for ``name``'s server; wait until it is ready; return seconds taken."""
        t0 = time.monotonic()
        r = self.api("POST", f"/users/{name}/server")
        assert r.status_code in (201, 202, 400), f"spawn {name}: {r.status_code} {r.text}"

        def ready():
            model = self.api("GET", f"/users/{name}").json()
            server = model.get("servers", {}).get("")
            return bool(server and server.get("ready"))
        try:
            wait_for(f"{name}'s server to be ready", ready, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nhub log:\n{self.log_tail()}") from None
        return time.monotonic() - t0

    def password_of(self, name):
        if name == self.instructor:
            with open(self.settings["admin_password_file"]) as fh:
                return fh.read().strip()
        return PASSWORD

    def start_servers(self, names, timeout=90):
        """Ask for several servers at once (the hub starts them concurrently); wait for all.
        Returns {name: seconds from the request to that server being ready}."""
        t0, taken = time.monotonic(), {}
        for name in names:
            r = self.api("POST", f"/users/{name}/server")
            assert r.status_code in (201, 202, 400), f"spawn {name}: {r.status_code} {r.text}"

        def all_ready():
            for name in names:
                if name not in taken:
                    server = self.api("GET", f"/users/{name}").json().get("servers", {}).get("")
                    if server and server.get("ready"):
                        taken[name] = time.monotonic() - t0
            return len(taken) == len(names)
        try:
            wait_for(f"the servers of {sorted(set(names) - set(taken))}", all_ready, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nhub log:\n{self.log_tail()}") from None
        return taken

    def login(self, name):
        return User(self, name).login()


class User:
    """One person's session: the hub's login form, then their own server's API."""

    def __init__(self, hub, name):
        self.hub, self.name = hub, name
        self.s = requests.Session()
        self.base = f"{hub.url}/user/{name}"

    def login(self):
        r = self.s.get(self.hub.url + "/hub/login", timeout=30)
        assert r.status_code == 200, f"login page: {r.status_code}"
        xsrf = self.s.cookies.get("_xsrf")
        r = self.s.post(self.hub.url + "/hub/login", timeout=30, allow_redirects=False,
                        data={"username": self.name, "password": self.hub.password_of(self.name),
                              "_xsrf": xsrf})
        assert r.status_code == 302, f"{self.name} could not log in: {r.status_code} {r.text[:300]}"
        return self

    def open_server(self):
        """The OAuth hop hub -> server (sets the server's cookies); returns the Lab page."""
        r = self.s.get(self.base + "/lab", timeout=60)
        assert r.status_code == 200, f"{self.name}'s Lab: {r.status_code} {r.url}"
        return r

    def _xsrf(self):
        for c in self.s.cookies:
            if c.name == "_xsrf" and c.path.startswith(f"/user/{self.name}"):
                return c.value
        return self.s.cookies.get("_xsrf")

    def get(self, path, **kw):
        return self.s.get(self.base + path, timeout=kw.pop("timeout", 60), **kw)

    def post(self, path, **kw):
        headers = {"X-XSRFToken": self._xsrf(), **kw.pop("headers", {})}
        return self.s.post(self.base + path, headers=headers,
                           timeout=kw.pop("timeout", 120), **kw)

    def put(self, path, **kw):
        headers = {"X-XSRFToken": self._xsrf(), **kw.pop("headers", {})}
        return self.s.put(self.base + path, headers=headers,
                          timeout=kw.pop("timeout", 60), **kw)

    def json(self, method, path, **kw):
        r = getattr(self, method)(path, **kw)
        assert r.status_code == 200, f"{self.name} {method.upper()} {path}: {r.status_code} {r.text[:500]}"
        return r.json()

    def read_notebook(self, path):
        return self.json("get", "/api/contents/" + path)["content"]

    def write_notebook(self, path, nb):
        r = self.put("/api/contents/" + path,
                     data=json.dumps({"type": "notebook", "format": "json", "content": nb}))
        assert r.status_code in (200, 201), f"{self.name} saving {path}: {r.status_code} {r.text[:300]}"
