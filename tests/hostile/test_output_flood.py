"""A submission that floods its output does not exhaust the grader or stop the batch.

Everything a kernel prints travels to the grading process (nbclient keeps a cell's outputs in
memory until the cell ends) and into the autograded notebook, the gradebook and the
feedback. The flooding submission writes 1 MB to stdout in a loop for most of its cell's
time limit (a few GB if it all arrived). The run is graded in a child process through
``course.grade.grade`` (what ``make grade`` runs), beside an honest submission, and the child
reports its own peak memory: measured 2026-12-04 at about 130 MB for the whole run (the
kernel's output queue drops what the client does not read in time, and nbgrader's
``LimitOutput`` cuts what is kept).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.hostile.test_isolation import NB_ID, SOURCE, _submission, _submit  # noqa: E402

_FLOOD = '''import sys, time
bloco = "x" * 1_000_000
t0 = time.time()
while time.time() - t0 < 8:
    sys.stdout.write(bloco)
'''

_CHILD = '''import json, resource, sys
sys.path.insert(0, {repo!r})
from course.grade import grade
res = grade({base!r}, pairs=[("inundador", {nb!r}), ("honesto", {nb!r})], csv=False,
            use_sandbox={sandbox!r}, **{{"Execute.timeout": 10}})
print("RESULT" + json.dumps({{"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                             "results": {{s: {{k: r.get(k) for k in ("success", "score", "max_score", "feedback")}}
                                         for (s, _), r in res.items()}}}}))
'''

PEAK_MB = 600  # the grading process; a flood that reached it would take GBs


@pytest.fixture(scope="module")
def flooded():
    base = tempfile.mkdtemp(prefix="t320-flood-")
    os.chmod(base, 0o711)
    try:
        os.makedirs(os.path.join(base, "solutions", NB_ID))
        shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
        _submit(base, "inundador", _submission(_FLOOD))
        _submit(base, "honesto", open(SOURCE, "rb").read())
        child = _CHILD.format(repo=REPO, base=base, nb=NB_ID, sandbox=os.geteuid() == 0)
        proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                              timeout=300)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        assert lines, f"the grading run printed no result:\n{proc.stderr[-3000:]}"
        report = json.loads(lines[-1][len("RESULT"):])
        graded = os.path.join(base, "autograded", "inundador", NB_ID, NB_ID + ".ipynb")
        report["notebook_bytes"] = os.path.getsize(graded) if os.path.exists(graded) else None
        yield report
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_batch_finishes_and_the_honest_submission_is_graded(flooded):
    honest = flooded["results"]["honesto"]
    assert honest["success"] and honest["score"] == honest["max_score"] > 0, honest
    flood = flooded["results"]["inundador"]
    assert flood["success"] and flood["feedback"], flood
    assert flood["score"] < flood["max_score"], "the flooded answer should earn nothing"


def test_grading_process_memory_stays_bounded(flooded):
    assert flooded["peak_mb"] < PEAK_MB, \
        f"the grading process peaked at {flooded['peak_mb']:.0f} MB while a submission flooded"


def test_kept_output_is_small(flooded):
    size = flooded["notebook_bytes"]
    assert size is not None and size < 2_000_000, f"autograded notebook of {size} bytes"
