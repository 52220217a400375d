"""An interrupted ``make grade`` leaves nothing running: Ctrl-C (SIGINT to the process group,
as a terminal sends it) and SIGTERM (``kill``, a closed session) while two workers grade
submissions whose answers loop forever. Afterwards no process of the grader uids the run used
(their kernels) nor of their trusted uids (the test processes) is alive, and the command says
it was interrupted. Killed outright (SIGKILL to the grading process alone, as the OOM killer
does), it cannot clean up: its workers and their sandboxes must end with it."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from hostile.batch import HOSTILE_ID, HOSTILE_SRC, HeldUid, submit
from tests.hostile.test_isolation import _submission

from course.grading import sandbox

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="grader uids exist only when grading as root")

LOOP = "import time\nwhile True:\n    time.sleep(0.05)\n"


def _uid_of(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            return int(next(line for line in fh if line.startswith("Uid:")).split()[1])
    except (OSError, StopIteration):
        return None


def _stat(pid):
    """(state, parent pid) of ``pid`` from /proc/<pid>/stat; ("Z", None) once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return "Z", None


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(pid):
    """Pids below ``pid`` in the process tree (from /proc's parent links)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            children.setdefault(_stat(d)[1], []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _wait_gone(pids, seconds):
    """Wait until none of ``pids`` is alive (zombies count as gone)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [p for p in pids if _stat(p)[0] != "Z"]
        if not alive:
            return
        time.sleep(0.2)
    raise AssertionError(f"still alive {seconds} s after the grading process was killed: "
                         f"{[_cmdline(p)[:200] for p in alive]}")


def _grader_uids_running(pid):
    """The grader uids under ``pid`` right now, and those of them that run a kernel.

    The run's own uid (held by the parent, which checks that the sandbox starts) is a grader
    uid too; only the workers' uids run kernels."""
    uid_of = {p: _uid_of(p) for p in _descendants(pid)}
    graders = {p: u for p, u in uid_of.items() if u in sandbox.UID_RANGE}
    return set(graders.values()), {u for p, u in graders.items() if "ipykernel_launcher" in _cmdline(p)}


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_an_interrupted_grade_leaves_no_process(how):
    base = tempfile.mkdtemp(prefix="t320-interrupted-")
    os.chmod(base, 0o711)
    try:
        os.makedirs(os.path.join(base, "solutions", HOSTILE_ID))
        shutil.copy(HOSTILE_SRC, os.path.join(base, "solutions", HOSTILE_ID, HOSTILE_ID + ".ipynb"))
        for k in range(4):
            submit(base, f"laco{k}", HOSTILE_ID, _submission(LOOP))
        proc = subprocess.Popen([sys.executable, "-m", "course.grading", "--root", base, "-j", "2",
                                 "--no-progress", "--timeout", "120"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        uids, kernels, deadline = set(), set(), time.monotonic() + 120
        while len(kernels) < 2 and time.monotonic() < deadline and proc.poll() is None:
            seen, running = _grader_uids_running(proc.pid)
            uids |= seen
            kernels |= running  # both workers' kernels are looping
            time.sleep(0.2)
        assert len(kernels) == 2, f"the two workers' kernels never ran: {proc.communicate()}"
        time.sleep(1)
        tree = _descendants(proc.pid)  # workers, their kernels and trusted processes
        if how == "SIGINT":
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        else:
            proc.send_signal(getattr(signal, how))
        out, err = proc.communicate(timeout=120)
        if how == "SIGKILL":
            assert proc.returncode == -signal.SIGKILL
            _wait_gone(tree, 30)
        else:
            assert proc.returncode == 130, (proc.returncode, out[-2000:], err[-3000:])
            assert "make grade interrupted" in err, err[-2000:]
        for uid in uids:
            with HeldUid(uid):  # no other grading run can start there while we look
                for u in (uid, sandbox.trusted_uid(uid)):
                    left = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-u", str(u)],
                                          capture_output=True, text=True).stdout.splitlines()
                    alive = [line for line in left if line.split()[1][0] != "Z"]
                    assert alive == [], f"{how}: uid {u} still runs {alive}"
    finally:
        shutil.rmtree(base, ignore_errors=True)
