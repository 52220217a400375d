"""Isolation of each submission while it is graded (course/grading/sandbox.py, bubblewrap).

Student code graded through the real pipeline (``course.grading.driver.grade``) into a scratch course
tries to read a classmate's submission, autograded copy and feedback, ``solutions/``,
``gradebook.db``, ``grades.csv`` and ``.git``; to connect to a TCP port the test listens on
and to a public address; and to leave a daemon behind (double fork, ``setsid``). Each probe
prints what it got as one ``SONDA {json}`` line, read back from the autograded notebook.
A control probe in the same run (the submission's own copy) must succeed, so a probe that
cannot open anything at all would fail the test.

Runs only as root (the sandbox drops to the grader uid only then; CI runs as root).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from hostile.batch import HeldUid

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NB_ID = "lista00_exemplo"
SOURCE = os.path.join(TESTS, "hostile", NB_ID + ".ipynb")
MARKER = "t320-daemon-marker-%d" % os.getpid()

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox isolates only as root")

_PROBE = '''import json, os
alvos = json.loads({targets!r})
res = {{}}
for nome, p in alvos.items():
    try:
        if os.path.isdir(p):
            res[nome] = sorted(os.listdir(p))
        else:
            open(p, "rb").read(1)
            res[nome] = "ok"
    except OSError as e:
        res[nome] = type(e).__name__
print("SONDA" + json.dumps(res))'''

_NETWORK = '''import json, socket
res = {{}}
for nome, addr in (("local", ("127.0.0.1", {port})), ("publico", ("1.1.1.1", 80))):
    try:
        socket.create_connection(addr, timeout=3).close()
        res[nome] = "ok"
    except OSError as e:
        res[nome] = type(e).__name__
print("SONDA" + json.dumps(res))'''

_DAEMON = '''import json, os, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", {marker!r}])
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.5)
vivo = any({marker!r} in open(f"/proc/{{d}}/cmdline").read() for d in os.listdir("/proc") if d.isdigit())
print("SONDA" + json.dumps({{"daemon": "vivo" if vivo else "ausente"}}))'''


def _submission(code):
    """The fixture notebook with its first answer cell replaced by ``code``."""
    with open(SOURCE, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution") and cell["cell_type"] == "code":
            cell["source"] = code
            break
    return json.dumps(nb).encode()


def _submit(base, student, data):
    d = os.path.join(base, "submitted", student, NB_ID)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, NB_ID + ".ipynb"), "wb") as fh:
        fh.write(data)


def _probe_result(base, student):
    """The dict printed by the probe of ``student``, from its autograded notebook."""
    path = os.path.join(base, "autograded", student, NB_ID, NB_ID + ".ipynb")
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", ""))
            if "SONDA" in text:
                return json.loads(text.split("SONDA", 1)[1].splitlines()[0])
    raise AssertionError(f"{student}: the probe printed nothing; outputs lost or cell not run")


def private_targets(base):
    """Files and folders of the course no submission may read, by name."""
    other = os.path.join("colega", NB_ID)
    return {
        "submetido_colega": os.path.join(base, "submitted", other, NB_ID + ".ipynb"),
        "corrigido_colega": os.path.join(base, "autograded", other, NB_ID + ".ipynb"),
        "feedback_colega": os.path.join(base, "feedback", other, NB_ID + ".html"),
        "solucao": os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"),
        "gradebook": os.path.join(base, "gradebook.db"),
        "notas": os.path.join(base, "grades.csv"),
        "git": os.path.join(base, ".git", "HEAD"),
        "proprio_submetido": os.path.join(base, "submitted", "espiao", NB_ID, NB_ID + ".ipynb"),
        "lista_curso": base,
        "lista_corrigidos": os.path.join(base, "autograded"),
        "lista_submetidos": os.path.join(base, "submitted"),
    }


@pytest.fixture(scope="module")
def graded():
    """A scratch course: a classmate graded first (gradebook, grades.csv, feedback, .git
    exist), then the probes graded in one batch while a TCP listener waits."""
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-isol-")
    os.chmod(base, 0o711)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        os.makedirs(os.path.join(base, "solutions", NB_ID))
        shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
        subprocess.run(["git", "init", "-q", base], check=True)
        _submit(base, "colega", open(SOURCE, "rb").read())
        first = grade(base, pairs=[("colega", NB_ID)])
        targets = private_targets(base)
        own = os.path.join(base, "autograded", "espiao", NB_ID)
        _submit(base, "espiao", _submission(_PROBE.format(
            targets=json.dumps(dict(targets, controle_proprio=own)))))
        _submit(base, "rede", _submission(_NETWORK.format(port=listener.getsockname()[1])))
        _submit(base, "daemon", _submission(_DAEMON.format(marker=MARKER)))
        pairs = [("espiao", NB_ID), ("rede", NB_ID), ("daemon", NB_ID)]
        t0 = time.monotonic()
        results = grade(base, pairs=pairs)
        seconds = time.monotonic() - t0
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
        # control: a connection from outside the sandbox does reach the listener
        socket.create_connection(listener.getsockname(), timeout=2).close()
        listener.settimeout(2)
        try:
            listener.accept()[0].close()
            works = True
        except OSError:
            works = False
        yield {"base": base, "first": first, "results": results, "targets": targets,
               "listener_reached": reached, "listener_works": works, "seconds": seconds}
    finally:
        listener.close()
        shutil.rmtree(base, ignore_errors=True)


def test_private_files_exist_outside(graded):
    # the probes below are meaningful only if every target is really there
    for name, path in graded["targets"].items():
        assert os.path.exists(path), f"{name}: {path} missing, the probe proves nothing"


def test_batch_finishes(graded):
    assert graded["first"][("colega", NB_ID)]["score"] == graded["first"][("colega", NB_ID)]["max_score"] > 0
    for key, r in graded["results"].items():
        assert r["success"] and r["row"], f"{key}: {r['log'][-2000:]}"


def test_submission_reads_only_its_own_copy(graded):
    got = _probe_result(graded["base"], "espiao")
    own = got.pop("controle_proprio")
    assert isinstance(own, list), f"the probe cannot even list its own folder: {own}"
    # nbgrader's copy of the submission (test cells restored, hidden tests included) is gone
    assert not [name for name in own if name.endswith(".ipynb")], own
    assert set(got) == set(graded["targets"])
    # the folders on the way to its own copy exist inside, holding only that way
    assert got.pop("lista_curso") in ("PermissionError", "FileNotFoundError", ["autograded"])
    assert got.pop("lista_corrigidos") in ("PermissionError", "FileNotFoundError", ["espiao"])
    readable = sorted(name for name, result in got.items()
                      if result not in ("PermissionError", "FileNotFoundError"))
    assert readable == [], f"readable from inside the sandbox: {readable}"


def test_no_network(graded):
    got = _probe_result(graded["base"], "rede")
    assert got == {"local": got["local"], "publico": got["publico"]}
    assert got["local"] != "ok" and got["publico"] != "ok", got
    assert not graded["listener_reached"], "student code reached the test's TCP port"
    assert graded["listener_works"], "the listener accepts nobody: the check proves nothing"


def test_daemon_does_not_outlive_grading(graded):
    got = _probe_result(graded["base"], "daemon")
    assert got == {"daemon": "vivo"}, "the daemon never started: the test proves nothing"
    time.sleep(0.3)
    left = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as fh:
                    if MARKER.encode() in fh.read():
                        left.append(int(d))
            except OSError:
                continue
    assert left == [], f"daemon processes left after grading: {left}"
    uid = graded["results"][("daemon", NB_ID)]["uid"]
    with HeldUid(uid):  # no other grading run (another pytest worker) starts under it now
        out = subprocess.run(["ps", "-o", "stat=", "-u", str(uid)], capture_output=True, text=True)
    assert [s for s in out.stdout.split() if not s.startswith("Z")] == []


@pytest.fixture
def short_tmp():
    """A scratch folder with a short path: a socket's path must fit AF_UNIX's 108 bytes, which
    pytest's tmp_path under an xdist worker (.../pytest-N/popen-gw0/<test name>0) does not."""
    import pathlib

    path = tempfile.mkdtemp(prefix="t320-sock-")
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_kernel_reaches_a_unix_socket_in_its_folder(short_tmp):
    """The interface the grading process relies on: after the kernel starts, a socket file
    created (as root, outside) in the kernel's working folder, which is the submission's
    autograded folder, is reachable from the kernel, whose cwd is that folder."""
    from jupyter_client import KernelManager

    from course import load_nbgrader_config
    from course.grading import kernel_launcher, sandbox

    tmp_path = short_tmp
    os.chmod(tmp_path, 0o711)
    folder = tmp_path / "autograded" / "aluno" / NB_ID
    folder.mkdir(parents=True)
    with sandbox.GraderUid() as uid:
        kernel_launcher.install_kernel()
        cfg = load_nbgrader_config(str(tmp_path), **{k: v for k, v in kernel_launcher.kernel_config(uid).items()
                                            if k.startswith("KernelManager.")})
        km = KernelManager(kernel_name=kernel_launcher.KERNEL_NAME, config=cfg)
        km.start_kernel(cwd=str(folder))
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            path = str(folder / "canal.sock")
            srv = socket.socket(socket.AF_UNIX)
            srv.bind(path)
            os.chmod(path, 0o666)
            srv.listen(1)
            srv.settimeout(30)
            code = ("import os, socket\ns = socket.socket(socket.AF_UNIX)\n"
                    "s.connect('canal.sock')\ns.sendall(os.getcwd().encode())\ns.close()")
            reply = kc.execute_interactive(code, timeout=30)
            assert reply["content"]["status"] == "ok", reply["content"]
            conn, _ = srv.accept()
            assert conn.recv(4096).decode() == str(folder)
            conn.close()
            srv.close()
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
