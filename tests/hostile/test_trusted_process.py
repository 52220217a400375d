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
            pid_outside = client.proc.pid
        finally:
            client.close()
        leftover = sandbox._live_pids(sandbox.trusted_uid(uid)) if os.geteuid() == 0 else []
    return {"res": json.loads(out.split("SONDA", 1)[1]), "uid": uid, "pid": pid_outside,
            "leftover": leftover}


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
    assert res["escreve_curso"] != "ok" and res["escreve_casa"] != "ok"
    assert not os.path.exists(os.path.join(ROOT, "invadido"))
    assert set(res["tmp"]) <= {"mpl"}, "its /tmp held more than matplotlib's cache at start"
    assert not os.path.exists("/tmp/deixado"), "its /tmp is the host's"


def test_has_no_network(probed):
    assert probed["res"]["rede"] in ("OSError", "ConnectionRefusedError") or \
        "Unreachable" in probed["res"]["rede"], probed["res"]["rede"]
    assert probed["res"]["rede"] != "ok"


def test_sees_only_its_own_processes(probed):
    """Its own PID namespace: no process of the host (the kernel, the grader) exists for it."""
    procs = probed["res"]["procs"]
    assert len(procs) <= 4, procs  # bubblewrap's init, maybe the dropper's parent, itself
    assert probed["res"]["pid"] in procs and probed["res"]["pid"] < 10


def test_has_memory_and_process_caps(probed):
    assert probed["res"]["as"] == limits.TRUSTED_MEM_MB * 2**20
    assert probed["res"]["nproc"] != resource.RLIM_INFINITY


def test_nothing_outlives_the_submission(probed):
    assert probed["leftover"] == [], "processes of the trusted uid left running"
    assert not os.path.exists(f"/proc/{probed['pid']}") or \
        open(f"/proc/{probed['pid']}/status").read().find("State:\tZ") >= 0


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
