"""What the tests that grade share: the hostile batch's assignment and timeout, putting a
submission in place, and holding a grader uid while a test looks at its processes."""

import fcntl
import os
import shutil
import time

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTILE_ID = "lista00_exemplo"
HOSTILE_SRC = os.path.join(TESTS, "hostile", HOSTILE_ID + ".ipynb")
HOSTILE_TIMEOUT = 6  # per-cell seconds while grading the hostile batch
ROOT_USER = os.geteuid() == 0


# ----------------------------------------------------------------------------- grader uids
class HeldUid:
    """Hold the reservation of grader uid ``uid`` (its ``flock`` in the scratch base, as
    ``course.grading.sandbox.GraderUid`` takes it) while a test looks at that uid's
    processes: no other grading run (another pytest worker, another user's tests) can
    start processes under it meanwhile. Waits for the uid to be free, ``timeout`` seconds
    at most. Unlike ``GraderUid`` it kills nothing: what is left behind stays to be seen."""

    def __init__(self, uid, timeout=900):
        self.uid, self.timeout = uid, timeout

    def __enter__(self):
        from course.grading import sandbox

        self._fh = open(os.path.join(sandbox.scratch_base(), f"uid-{self.uid}.lock"), "w")
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self.uid
            except OSError:
                if time.monotonic() > deadline:
                    self._fh.close()
                    raise TimeoutError(f"grader uid {self.uid} stayed busy for {self.timeout} s")
                time.sleep(0.2)

    def __exit__(self, *exc):
        self._fh.close()


def submit(base, student, nb_id, data):
    """Put ``data`` where ``make collect`` puts a submission: submitted/<student>/<id>/."""
    d = os.path.join(base, "submitted", student, nb_id)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, nb_id + ".ipynb"), "wb") as fh:
        fh.write(data)


def hostile_course(base, sandboxed):
    """Fill course folder ``base`` as the hostile batches grade it: the fixture assignment's
    source, tests/hostile/make_hostile.py's set as students ``h_<name>`` and the source itself
    as ``controle`` (full marks in the same run: the zeros come from the hostile code, not
    from a broken fixture). Returns the pairs to grade, the control first."""
    from hostile import make_hostile

    os.makedirs(os.path.join(base, "solutions", HOSTILE_ID))
    shutil.copy(HOSTILE_SRC, os.path.join(base, "solutions", HOSTILE_ID, HOSTILE_ID + ".ipynb"))
    subs = make_hostile.build(HOSTILE_SRC, sandboxed=sandboxed)
    for name, data in subs.items():
        submit(base, "h_" + name, HOSTILE_ID, data)
    with open(HOSTILE_SRC, "rb") as fh:
        submit(base, "controle", HOSTILE_ID, fh.read())
    return [("controle", HOSTILE_ID)] + [("h_" + n, HOSTILE_ID) for n in subs]


def got_nothing(result):
    """A hostile submission's verdict: ``None`` when it earned nothing it should not have
    (0 points, or points only beside a "needs manual grade" flag the instructor must clear),
    else what is wrong."""
    if not result.get("row"):
        return "no gradebook row"
    if result["score"] and not result["needs_manual_grade"]:
        return f"got {result['score']} points without a flag for manual grading"
    return None
