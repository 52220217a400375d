"""A submission cannot fill the instructor's disk (or its inodes) while it is graded.

In the sandbox the only place the kernel can write is its scratch home
(``$TMPDIR/t320-grader/<random>``, its HOME and TMPDIR), on the host's disk. ``RLIMIT_FSIZE``
caps one file at 64 MiB, not how many: measured 2026-12-04, a cell wrote 1.2 GB in 3 s
(about 0.4 GB/s), so one 30 s cell could leave 11 GB and a few cells fill the disk that the
gradebook and every other submission's results are written to. The launcher
(``course/grading/sandbox.py``) now watches the scratch home and kills the sandbox past
``T320_SCRATCH_MB`` (default 256) or ``T320_SCRATCH_FILES`` entries (10000).

Graded through ``course.grading.driver.grade`` with an honest submission in the same batch, with
low limits so the test is quick; a thread of the test measures the scratch folders' size
every 20 ms. The control raises the limit and sees the same kind of submission go well past
it, so the check can fail. Root only (the sandbox is used only then; CI runs as root).
"""

import os
import shutil
import tempfile
import threading
import time

import pytest


from course.grading import kernel_launcher, sandbox  # noqa: E402
from tests.hostile.test_isolation import NB_ID, SOURCE, _submission, _submit  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox is used only as root")

LIMIT_MB, LIMIT_FILES = 64, 500

_BIG_FILES = '''import os, tempfile, time
bloco = b"x" * (8 << 20)
t0, i = time.time(), 0
while time.time() - t0 < {seconds}:
    with open(os.path.join(tempfile.gettempdir(), f"f{{i}}"), "wb") as fh:
        for _ in range(7):
            fh.write(bloco)
    i += 1
'''

_MANY_FILES = '''import os, tempfile, time
t0, i = time.time(), 0
while time.time() - t0 < 6:
    open(os.path.join(tempfile.gettempdir(), f"v{i}"), "wb").close()
    i += 1
'''


def own_scratch_usage():
    """(bytes, entries) of the scratch homes of this process's grading run: the folders of
    the scratch base owned by its grader uid (``T320_GRADER_UID``, set by ``GraderUid`` while
    ``grade()`` runs). Another run's homes (another pytest worker's, another user's tests)
    belong to its own uid and are not counted."""
    uid = os.environ.get("T320_GRADER_UID")
    if uid is None:
        return 0, 0
    used = entries = 0
    with os.scandir(sandbox.scratch_base()) as listing:
        for entry in listing:
            try:
                if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != int(uid):
                    continue
            except OSError:
                continue  # removed meanwhile
            u, e = kernel_launcher.scratch_usage(entry.path, 10**6)
            used, entries = used + u, entries + e + 1
    return used, entries


class ScratchPeak:
    """Largest size and entry count of this run's grader scratch folders while running."""

    def __init__(self):
        self.bytes = self.entries = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.is_set():
            used, entries = own_scratch_usage()
            self.bytes, self.entries = max(self.bytes, used), max(self.entries, entries)
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _grade_with_limits(code, scratch_mb, scratch_files, capfd, monkeypatch):
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-disk-")
    os.chmod(base, 0o711)
    monkeypatch.setenv("T320_SCRATCH_MB", str(scratch_mb))  # read by the launcher
    monkeypatch.setenv("T320_SCRATCH_FILES", str(scratch_files))
    try:
        os.makedirs(os.path.join(base, "solutions", NB_ID))
        shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
        _submit(base, "enchedor", _submission(code))
        _submit(base, "honesto", open(SOURCE, "rb").read())
        capfd.readouterr()
        with ScratchPeak() as peak:
            results = grade(base, pairs=[("enchedor", NB_ID), ("honesto", NB_ID)],
                            feedback=False, csv=False)
        launcher_said = capfd.readouterr().err
        return {s: r for (s, _), r in results.items()}, peak, launcher_said
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _batch_finished(results):
    honest = results["honesto"]
    assert honest["success"] and honest["score"] == honest["max_score"] > 0, honest
    assert results["enchedor"]["success"], "the filling submission got no gradebook row"


def test_big_files_stop_the_kernel_near_the_limit(capfd, monkeypatch):
    results, peak, said = _grade_with_limits(_BIG_FILES.format(seconds=6), LIMIT_MB, LIMIT_FILES,
                                             capfd, monkeypatch)
    _batch_finished(results)
    assert "kernel stopped" in said, "the launcher did not stop the kernel"
    assert peak.bytes < (LIMIT_MB + 128) * 2**20, f"the scratch reached {peak.bytes >> 20} MB"


def test_many_empty_files_stop_the_kernel_too(capfd, monkeypatch):
    results, peak, said = _grade_with_limits(_MANY_FILES, 10**5, LIMIT_FILES, capfd, monkeypatch)
    _batch_finished(results)
    assert "kernel stopped" in said
    assert peak.entries < LIMIT_FILES * 20, f"the scratch reached {peak.entries} entries"


def test_control_with_a_high_limit_the_scratch_grows_past_it(capfd, monkeypatch):
    results, peak, said = _grade_with_limits(_BIG_FILES.format(seconds=4), 10**5, 10**6, capfd,
                                             monkeypatch)
    _batch_finished(results)
    assert "kernel stopped" not in said
    assert peak.bytes > (LIMIT_MB + 128) * 2**20, \
        f"only {peak.bytes >> 20} MB written: the limit test above proves nothing"
