"""Submissions that flood their output do not exhaust the grader or stop the batch.

Everything a kernel sends travels to the grading process: nbclient keeps every output of a
cell in memory, and the autograded notebook, the gradebook and the feedback hold them. Four
floods, each for a few seconds of its first answer cell: 1 MB of stdout in a loop; a 10 MB
picture displayed in a loop; 100 small displays each updated in a loop with a 10 MB
picture; an exception whose message is 50 MB; one 300 MB message. Measured 2026-12-04 before
``TrustedExecute.max_output_bytes``: the picture flood alone, 8 s, took the grading process
to 7.7 GB and left a 1.57 GB autograded notebook and a 1.57 GB feedback page (83 s to
grade); with it (32 MiB for all the student's outputs, then a note in Portuguese and the
rest dropped) 0.3 GB and 27 MB. The 300 MB message took the grading process to 0.98 GB
although none of it was kept; the kernel client's sockets now refuse messages over 64 MiB
(``ZMQ_MAXMSGSIZE``, ``course.grading.execute.BoundedKernelClient``): 0.13 GB. The stdout flood was already bounded (about 130 MB: the
kernel's output queue drops what the client does not read in time, and nbgrader's
``LimitOutput`` cuts long text).

Graded in a child process through ``course.grading.driver.grade`` (what ``make grade`` runs), beside an
honest submission; the child reports its own peak memory.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.hostile.test_isolation import NB_ID, SOURCE, _submission, _submit  # noqa: E402

#: student -> the code of its first answer cell; each floods for a few seconds
FLOODS = {
    "texto": """import sys, time
bloco = "x" * 1_000_000
t0 = time.time()
while time.time() - t0 < 5:
    sys.stdout.write(bloco)
""",
    "figuras": """import base64, time
from IPython.display import display
img = base64.b64encode(b"\\x89PNG" + b"x" * 10_000_000).decode()
t0 = time.time()
while time.time() - t0 < 5:
    display({"image/png": img, "text/plain": "figura"}, raw=True)
""",
    "atualizacoes": """import base64, time
from IPython.display import display, update_display
img = base64.b64encode(b"\\x89PNG" + b"x" * 10_000_000).decode()
for i in range(100):
    display({"text/plain": "pequena"}, raw=True, display_id=f"d{i}")
t0 = time.time()
while time.time() - t0 < 5:
    for i in range(100):
        update_display({"image/png": img, "text/plain": "grande"}, raw=True, display_id=f"d{i}")
""",
    "erro_enorme": """raise ValueError("x" * 50_000_000)
""",
    # one message of 300 MB: refused by the client's sockets (its kernel loses the
    # connection, so this one, like the 100 MB error above, also loses its other answer)
    "mensagem_gigante": """from IPython.display import display
display({"text/plain": "x" * 300_000_000}, raw=True)
""",
}
LOSES_ITS_KERNEL = {"erro_enorme", "mensagem_gigante"}  # messages over 64 MiB

_CHILD = '''import json, sys
sys.path.insert(0, {repo!r})
from course.grading.driver import grade
res = grade({base!r}, pairs=[(s, {nb!r}) for s in {students!r}], csv=False,
            use_sandbox={sandbox!r}, **{{"Execute.timeout": 20}})
# VmHWM: this process's own peak (ru_maxrss would also count what pytest held when it forked)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print("RESULT" + json.dumps({{"peak_mb": int(hwm) / 1024,
                             "results": {{s: {{k: r.get(k) for k in ("success", "score", "max_score", "feedback")}}
                                         for (s, _), r in res.items()}}}}))
'''

PEAK_MB = 800  # the grading process; the floods, kept, would take several GB
KEPT_MB = 40  # TrustedExecute.max_output_bytes is 32 MiB


@pytest.fixture(scope="module")
def flooded():
    base = tempfile.mkdtemp(prefix="t320-flood-")
    os.chmod(base, 0o711)
    try:
        os.makedirs(os.path.join(base, "solutions", NB_ID))
        shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
        for student, code in FLOODS.items():
            _submit(base, student, _submission(code))
        _submit(base, "honesto", open(SOURCE, "rb").read())
        students = [*FLOODS, "honesto"]
        child = _CHILD.format(repo=REPO, base=base, nb=NB_ID, students=students,
                              sandbox=os.geteuid() == 0)
        proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                              timeout=600)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        assert lines, f"the grading run printed no result:\n{proc.stderr[-3000:]}"
        report = json.loads(lines[-1][len("RESULT"):])
        report["kept"] = {}
        for student in students:
            graded = os.path.join(base, "autograded", student, NB_ID, NB_ID + ".ipynb")
            feedback = os.path.join(base, "feedback", student, NB_ID, NB_ID + ".html")
            report["kept"][student] = {
                "notebook": os.path.getsize(graded) if os.path.exists(graded) else None,
                "feedback": os.path.getsize(feedback) if os.path.exists(feedback) else None,
                "cut_note": os.path.exists(graded) and "saída cortada" in open(graded, encoding="utf-8").read()}
        yield report
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_batch_finishes_and_the_honest_submission_is_graded(flooded):
    honest = flooded["results"]["honesto"]
    assert honest["success"] and honest["score"] == honest["max_score"] > 0, honest
    assert not flooded["kept"]["honesto"]["cut_note"], "an honest notebook's output was cut"
    for student in FLOODS:
        flood = flooded["results"][student]
        assert flood["success"] and flood["feedback"], (student, flood)
        if student in LOSES_ITS_KERNEL:
            assert flood["score"] == 0, (student, flood)
        else:  # its first answer is the flood; the other one is right and earns its points
            assert 0 < flood["score"] < flood["max_score"], (student, flood)


def test_grading_process_memory_stays_bounded(flooded):
    assert flooded["peak_mb"] < PEAK_MB, \
        f"the grading process peaked at {flooded['peak_mb']:.0f} MB while submissions flooded"


@pytest.mark.parametrize("student", sorted(FLOODS))
def test_kept_output_is_bounded(flooded, student):
    kept = flooded["kept"][student]
    for what in ("notebook", "feedback"):
        assert kept[what] is not None and kept[what] < KEPT_MB * 2**20, \
            f"{student}: {what} of {kept[what]} bytes"


@pytest.mark.parametrize("student", ["figuras", "atualizacoes"])
def test_the_cut_is_said_in_the_notebook(flooded, student):
    assert flooded["kept"][student]["cut_note"], f"{student}: no note that its output was cut"
