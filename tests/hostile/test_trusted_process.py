"""The trusted test process holds no power (course/grading/trusted_client.py).

A submission that took the trusted process over (it cannot: the channel carries data only,
tests/hostile/test_channel_gadgets.py) could run any code there. What that code could
reach is checked here by running probes as "test cells" in a real trusted process, started
exactly as grading starts it: its uid is neither root, the instructor's nor the kernel's;
it sees no file of the course (not the solutions, not the submissions, not the gradebook);
it has no network; its /tmp is its own and gone with it; it has memory and process caps;
and nothing of it (process or file) outlives the submission.
"""

import json
import os
import resource

import pytest

from course import ROOT
from course.grading import limits, sandbox
from course.grading.trusted_client import TrustedClient

pytestmark = pytest.mark.skipif(sandbox.unsafe(), reason="UNSAFE runs have no sandbox")

def _ways_in_tmp():
    """The /tmp entries the sandbox itself makes: the folders on the way to what it binds when
    that lives under /tmp (a course cloned there, its venv). They hold nothing a process wrote:
    the zygote empties them around the mounts (trusted_process._empty)."""
    names = set()
    for path in (ROOT, sandbox.site_dir()):
        parts = os.path.realpath(path).split(os.sep)
        if len(parts) > 2 and parts[1] == "tmp":
            names.add(parts[2])
    return names


PROBE = '''import json, os, resource, socket
res = {"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid(),
       "as": resource.getrlimit(resource.RLIMIT_AS)[0],
       "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
       "tmp": sorted(os.listdir("/tmp")), "procs": sorted(int(d) for d in os.listdir("/proc") if d.isdigit())}
for nome, p in json.loads(ALVOS).items():
    try:
        res[nome] = sorted(os.listdir(p)) if os.path.isdir(p) else open(p, "rb").read(1) and "ok"
    except OSError as e:
        res[nome] = type(e).__name__
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2).close()
    res["rede"] = "ok"
except OSError as e:
    res["rede"] = type(e).__name__
try:
    open("/tmp/deixado", "w").write("x")
    res["escreve_tmp"] = "ok"
except OSError as e:
    res["escreve_tmp"] = type(e).__name__
for nome, p in (("escreve_curso", os.path.join(RAIZ, "invadido")), ("escreve_casa", "/root/invadido")):
    try:
        open(p, "w").write("x")
        res[nome] = "ok"
    except OSError as e:
        res[nome] = type(e).__name__
print("SONDA" + json.dumps(res))
'''


def _run(client, source):
    reply = client.ask({"op": "run", "source": source}, timeout=60)
    assert reply is not None, "the trusted process did not answer"
    assert reply["error"] is None, reply["error"]
    return reply["stdout"]


@pytest.fixture(scope="module")
def probed():
    """One trusted process, as grading starts it, with the probe run as a test cell."""
    with sandbox.GraderUid() as uid:
        client = TrustedClient(uid)
        try:
            assert client.ask(None, timeout=limits.TRUSTED_START_S) == {"ready": True}
            setup = client.ask({"op": "setup", "cells": [], "answers": []}, timeout=60)
            assert setup == {"connected": False, "problems": []}
            targets = {"solucao": os.path.join(ROOT, "solutions"), "raiz": ROOT,
                       "curso": os.path.join(ROOT, "course"), "git": os.path.join(ROOT, ".git"),
                       "casa": os.path.expanduser("~"), "etc_shadow": "/etc/shadow",
                       "etc": "/etc"}
            out = _run(client, f"ALVOS = {json.dumps(targets)!r}\nRAIZ = {ROOT!r}\n" + PROBE)
        finally:
            client.close()
        leftover = sandbox._live_pids(sandbox.trusted_uid(uid)) if os.geteuid() == 0 else []
    return {"res": json.loads(out.split("SONDA", 1)[1]), "uid": uid, "leftover": leftover}


def test_runs_as_its_own_unprivileged_uid(probed):
    res = probed["res"]
    if os.geteuid() == 0:
        assert res["uid"] == res["euid"] == sandbox.trusted_uid(probed["uid"])
        assert res["uid"] not in (0, probed["uid"]), "root, or the kernel's uid"
    else:  # a user namespace: the instructor's uid mapped, no capability outside
        assert res["uid"] == os.getuid()


def test_sees_no_file_of_the_course(probed):
    res = probed["res"]
    assert res["solucao"] == "FileNotFoundError", res["solucao"]
    assert res["git"] == "FileNotFoundError"
    assert res["raiz"] == ["course"] or res["raiz"] == sorted(["course", ".venv", "nnlib"]) \
        or set(res["raiz"]) <= {"course", ".venv", "nnlib"}, res["raiz"]
    assert res["curso"] == ["__init__.py", "grading"], res["curso"]
    assert res["etc_shadow"] == "FileNotFoundError"


def test_writes_nowhere_but_its_own_tmp(probed):
    res = probed["res"]
    assert res["escreve_tmp"] == "ok"
    # as a normal user the folders on the way to what is bound are the sandbox's own, empty
    # and in memory: a write there lands nowhere on the host
    if os.geteuid() == 0:
        assert res["escreve_curso"] != "ok" and res["escreve_casa"] != "ok"
    assert not os.path.exists(os.path.join(ROOT, "invadido"))
    assert not os.path.exists(os.path.join(os.path.expanduser("~"), "invadido"))
    assert set(res["tmp"]) <= {"mpl"} | _ways_in_tmp(), "its /tmp held more than matplotlib's cache at start"
    assert not os.path.exists("/tmp/deixado"), "its /tmp is the host's"


def test_has_no_network(probed):
    assert probed["res"]["rede"] in ("OSError", "ConnectionRefusedError") or \
        "Unreachable" in probed["res"]["rede"], probed["res"]["rede"]
    assert probed["res"]["rede"] != "ok"


def test_sees_only_its_own_processes(probed):
    """Its own PID namespace: no process of the host (the kernel, the grader) exists for it."""
    procs = probed["res"]["procs"]
    assert len(procs) <= 4, procs  # bubblewrap's init, maybe the dropper's parent, itself
    assert probed["res"]["pid"] in procs


def test_has_memory_and_process_caps(probed):
    assert probed["res"]["as"] == limits.TRUSTED_MEM_MB * 2**20
    assert probed["res"]["nproc"] != resource.RLIM_INFINITY


def test_nothing_outlives_the_submission(probed):
    assert probed["leftover"] == [], "processes of the trusted uid left running"


def test_memory_past_the_cap_fails_that_cell_only():
    with sandbox.GraderUid() as uid:
        client = TrustedClient(uid)
        try:
            assert client.ask(None, timeout=limits.TRUSTED_START_S) == {"ready": True}
            client.ask({"op": "setup", "cells": [], "answers": []}, timeout=60)
            big = client.ask({"op": "run", "source": "x = bytearray(%d)" % (
                (limits.TRUSTED_MEM_MB + 512) * 2**20)}, timeout=60)
            assert big["error"]["ename"] == "MemoryError", big
            assert _run(client, "print(1 + 1)").strip() == "2"
        finally:
            client.close()


LEAVE_TRACES = '''import ctypes, json, os, signal, time, numpy, nnlib.checks
nnlib.checks.check_close = lambda *a, **k: None
numpy.t320_marca = 1
for pasta in ("/tmp", "/dev/shm"):
    try:
        open(os.path.join(pasta, "vestigio"), "w").write("x")
    except OSError:
        pass
if os.fork() == 0:  # a daemon that would outlive this submission
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
zigoto = os.getppid()
res = {"ptrace": ctypes.CDLL(None, use_errno=True).ptrace(16, zigoto, 0, 0)}
try:
    open(f"/proc/{zigoto}/mem", "rb").read(1)
    res["mem"] = "ok"
except OSError as e:
    res["mem"] = type(e).__name__
try:
    os.kill(zigoto, signal.SIGSTOP)  # would hang the next submission's start
    res["stop"] = "ok"
except OSError as e:
    res["stop"] = type(e).__name__
print("SONDA" + json.dumps(res))
'''

LOOK = '''import json, os, numpy, nnlib.checks
print("SONDA" + json.dumps({"check_close": nnlib.checks.check_close.__name__,
                            "marca": hasattr(numpy, "t320_marca"),
                            "tmp": sorted(os.listdir("/tmp")),
                            "shm": sorted(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else [],
                            "procs": sorted(int(d) for d in os.listdir("/proc") if d.isdigit()),
                            "eu": os.getpid()}))
'''


def _one_submission(uid, source):
    client = TrustedClient(uid)
    try:
        assert client.ask(None, timeout=limits.TRUSTED_START_S) == {"ready": True}
        client.ask({"op": "setup", "cells": [], "answers": []}, timeout=60)
        return json.loads(_run(client, source).split("SONDA", 1)[1])
    finally:
        client.close()


def test_a_submission_cannot_reach_the_next_one_through_the_zygote():
    """Each worker's trusted processes are forked by one zygote: what the first leaves (a
    patched module, files in /tmp and /dev/shm, a daemon, a stopped zygote) is gone for the
    next, and the zygote cannot be traced or read."""
    with sandbox.GraderUid() as uid:
        first = _one_submission(uid, LEAVE_TRACES)
        second = _one_submission(uid, LOOK)
    assert first["ptrace"] == -1 and first["mem"] != "ok", first
    assert second["check_close"] == "check_close" and second["marca"] is False, second
    assert set(second["tmp"]) == _ways_in_tmp() and second["shm"] == [], second
    others = [p for p in second["procs"] if p not in (1, second["eu"])]
    assert len(others) <= 1, f"processes left from the first submission: {second['procs']}"
