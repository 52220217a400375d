"""``make grade`` run by an instructor who is not root: the same sandbox, in user namespaces.

Before this wave a normal user's ``make grade`` had no sandbox at all: a submission read
``solutions/`` and a classmate's submission and wrote into the course root, and with two
workers the unsandboxed kernels' messages crossed ("Invalid Signature", both submissions
"AUTOGRADE FAILED").

Here a batch is graded by an unprivileged user (created as ``t320prof`` when the tests run as
root, as CI does; the current user otherwise) with two workers, as ``make grade`` does:
an honest submission, a probe that tries to read the solution, the gradebook and a
classmate's submission and to write into the course root, the network, and the test
process's own classmate. Expected: the honest one full marks, every probe refused, nothing
written, and the batch's scratch base the user's own (``t320-grader-<uid>``), beside root's.
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

from course import ROOT  # noqa: E402
from course.grading import sandbox  # noqa: E402
from hostile import make_hostile  # noqa: E402
from hostile.batch import HOSTILE_SRC, HOSTILE_TIMEOUT, got_nothing, hostile_course  # noqa: E402
from tests.hostile.test_isolation import NB_ID, SOURCE, _probe_result, _submission, _submit  # noqa: E402

USER = "t320prof"

# One pytest-xdist worker for the whole module: its tests all act as t320prof, and one of them
# checks that no process of that user is left once a batch ends.
pytestmark = pytest.mark.xdist_group("t320prof")
PROBE = '''import json, os, socket
res = {{}}
for nome, p in json.loads({targets!r}).items():
    try:
        res[nome] = sorted(os.listdir(p)) if os.path.isdir(p) else open(p, "rb").read(1) and "ok"
    except OSError as e:
        res[nome] = type(e).__name__
try:
    open({intruder!r}, "w").write("x")
    res["escreve_curso"] = "ok"
except OSError as e:
    res["escreve_curso"] = type(e).__name__
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2).close()
    res["rede"] = "ok"
except OSError as e:
    res["rede"] = type(e).__name__
res["uid"] = os.getuid()
print("SONDA" + json.dumps(res))
'''

GRADE = '''import json, sys
sys.path.insert(0, {root!r})
from course.grading import sandbox
from course.grading.driver import grade
results = grade({base!r}, jobs={jobs}, csv=False, **{{"Execute.timeout": {timeout}}})
print("RESULTADO" + json.dumps({{s: [r["success"], r["score"], r["max_score"]]
                                 for (s, _), r in results.items()}}))
print("LINHAS" + json.dumps({{s: {{k: r.get(k) for k in ("row", "score", "max_score", "needs_manual_grade")}}
                              for (s, _), r in results.items()}}))
print("BASE" + sandbox.scratch_base())
'''


def _user():
    """(name, uid) of the unprivileged instructor; created when the tests run as root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name, os.getuid()
    try:
        return USER, pwd.getpwnam(USER).pw_uid
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                       check=True)
        return USER, pwd.getpwnam(USER).pw_uid


def _runner_command(base, script):
    """The command that runs ``script`` as the unprivileged user, with the course's packages.

    The venv's own interpreter may live where the user cannot go (pyenv under root's 0700
    home): the system interpreter of the same version with the venv's site-packages is used,
    as the sandbox itself does (``sandbox.sandbox_python``); nbgrader's ``alembic`` call gets
    a wrapper on PATH that does the same.
    """
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = next(p for p in (f"/usr/bin/python{ver}", f"/usr/local/bin/python{ver}", sys.executable)
                  if os.path.exists(p))
    site = sandbox.site_dir()
    bindir = os.path.join(base, "bin")
    os.makedirs(bindir, exist_ok=True)
    alembic = os.path.join(bindir, "alembic")
    with open(alembic, "w") as fh:
        fh.write(f"#!/bin/sh\nexec {python} -I -c 'import site, sys; site.addsitedir(\"{site}\"); "
                 "from alembic.config import main; sys.exit(main())' \"$@\"\n")
    os.chmod(alembic, 0o755)
    code = f"import site; site.addsitedir({site!r})\n" + script
    env = ["env", "-i", f"HOME={base}", f"PATH={bindir}:/usr/bin:/bin", "LANG=C.UTF-8"]
    cmd = env + [python, "-I", "-c", code]
    return cmd if os.geteuid() != 0 else ["runuser", "-u", USER, "--"] + cmd


def _give_to(base, uid):
    """``base`` and everything in it owned by ``uid``, private to it (as the instructor's course)."""
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames + [""]:
            os.chown(os.path.join(dirpath, name), uid, uid)
    os.chmod(base, 0o700)


def _grade_as_user(base, jobs=2, timeout=30):
    """``grade()`` run by the unprivileged user on its course ``base``: (stdout, stderr)."""
    name, _ = _user()
    res = subprocess.run(_runner_command(base, GRADE.format(root=ROOT, base=base, jobs=jobs,
                                                            timeout=timeout)),
                         capture_output=True, text=True, timeout=900)
    assert "RESULTADO" in res.stdout, f"grading as {name} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def _printed(stdout, tag):
    return json.loads(stdout.split(tag, 1)[1].splitlines()[0])


def _course(uid):
    base = tempfile.mkdtemp(prefix="t320-prof-")
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    targets = {"solucao": os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"),
               "gradebook": os.path.join(base, "gradebook.db"),
               "colega": os.path.join(base, "submitted", "honesto", NB_ID, NB_ID + ".ipynb"),
               "curso": base, "raiz_repositorio": os.path.join(ROOT, "solutions")}
    _submit(base, "honesto", open(SOURCE, "rb").read())
    _submit(base, "espiao", _submission(PROBE.format(
        targets=json.dumps(targets), intruder=os.path.join(base, "invadido"))))
    _give_to(base, uid)
    return base


@pytest.fixture(scope="module")
def graded_by_user():
    name, uid = _user()
    base = _course(uid)
    try:
        out = _grade_as_user(base)
        yield {"base": base, "results": _printed(out, "RESULTADO"), "uid": uid,
               "scratch": _printed_line(out, "BASE"), "probe": _probe_result(base, "espiao")}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _printed_line(stdout, tag):
    return stdout.split(tag, 1)[1].splitlines()[0]


@pytest.fixture(scope="module")
def hostile_by_user():
    """tests/hostile/make_hostile.py's whole set and its control, graded by the unprivileged
    user with two workers, as the root batch (tests/conftest.py, ``hostile_batch``) is."""
    name, uid = _user()
    base = tempfile.mkdtemp(prefix="t320-prof-hostile-")
    try:
        hostile_course(base, sandboxed=True)
        _give_to(base, uid)
        out = _grade_as_user(base, jobs=2, timeout=HOSTILE_TIMEOUT)
        left = _processes_after(uid, 10) if os.geteuid() == 0 else None  # t320prof runs nothing else
        yield {"rows": _printed(out, "LINHAS"), "left": left}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _processes_after(uid, seconds):
    """``uid``'s processes still there ``seconds`` after grading returned (a sandbox's PID
    namespace is torn down by the kernel once its first process is gone: its last processes
    may take a moment to disappear)."""
    deadline = time.monotonic() + seconds
    while True:
        left = subprocess.run(["pgrep", "-u", str(uid)], capture_output=True, text=True).stdout.split()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_the_control_gets_full_marks_when_a_user_grades_the_hostile_set(hostile_by_user):
    control = hostile_by_user["rows"]["controle"]
    assert control["row"] and control["score"] == control["max_score"] > 0, control


@pytest.mark.parametrize("sub", sorted(make_hostile.build(HOSTILE_SRC, sandboxed=True)))
def test_a_hostile_submission_gets_nothing_when_a_user_grades(hostile_by_user, sub):
    wrong = got_nothing(hostile_by_user["rows"]["h_" + sub])
    assert wrong is None, f"{sub}: {wrong}"


def test_the_users_hostile_batch_leaves_no_process(hostile_by_user):
    """The daemon, the fork bomb and the loops ended with their sandboxes (PID namespaces)."""
    if hostile_by_user["left"] is None:
        pytest.skip("run as a normal user, the grading user is the one running pytest")
    assert hostile_by_user["left"] == [], hostile_by_user["left"]


def test_both_submissions_are_graded_side_by_side(graded_by_user):
    results = graded_by_user["results"]
    assert results["honesto"] == [True, 5.0, 5.0], results
    assert results["espiao"][0], "the probe's submission got no gradebook row"


def test_the_submission_sees_nothing_of_the_course(graded_by_user):
    probe = graded_by_user["probe"]
    for name in ("solucao", "gradebook", "colega", "raiz_repositorio"):
        assert probe[name] == "FileNotFoundError", (name, probe[name])
    assert probe["curso"] == "FileNotFoundError" or probe["curso"] == ["autograded"], probe["curso"]
    # the course folder inside the sandbox is an empty stand-in: a write lands nowhere on the host
    assert not os.path.exists(os.path.join(graded_by_user["base"], "invadido"))


def test_no_network_in_the_user_sandbox(graded_by_user):
    assert graded_by_user["probe"]["rede"] != "ok"


def test_the_scratch_base_is_the_users_own(graded_by_user):
    scratch = graded_by_user["scratch"]
    assert scratch.endswith(f"t320-grader-{graded_by_user['uid']}"), scratch
    assert os.stat(scratch).st_uid == graded_by_user["uid"]


SUITE = '''import sys
sys.path.insert(0, {root!r})
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-o", "addopts=",
                      {trusted!r}, {gadgets!r}]))
'''


def test_the_trusted_process_suite_holds_as_an_unprivileged_user():
    """tests/hostile/test_trusted_process.py and test_channel_gadgets.py, run by the
    unprivileged user: the trusted sandbox as a user namespace (its uid mapped, nothing of
    the course, no network, caps, a zygote a child can stop but not hold up)."""
    name, uid = _user()
    home = tempfile.mkdtemp(prefix="t320-prof-")
    os.chown(home, uid, uid)
    try:
        script = SUITE.format(root=ROOT, trusted=os.path.join(HERE, "test_trusted_process.py"),
                              gadgets=os.path.join(HERE, "test_channel_gadgets.py"))
        res = subprocess.run(_runner_command(home, script), capture_output=True, text=True,
                             timeout=600, cwd=home)
        assert res.returncode == 0, f"as {name}:\n{res.stdout[-4000:]}\n{res.stderr[-2000:]}"
        assert " passed" in res.stdout and "failed" not in res.stdout, res.stdout[-2000:]
    finally:
        shutil.rmtree(home, ignore_errors=True)
