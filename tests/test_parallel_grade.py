"""`make grade -j N` (course/grading/driver.py): submissions graded side by side, one gradebook writer.

A small class of the fixture assignment (tests/hostile/lista00_exemplo.ipynb): honest
submissions, a blank one, a late one and a hostile one whose cell ignores the interrupt
(it costs a full time-out). Graded with two workers: every submission gets its gradebook
row and its score, each worker has its own grader uid, the others finish while the hostile
one times out, and the late one loses the course.toml penalty.
"""

import json
import multiprocessing
import os
import shutil
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

from hostile import make_hostile  # noqa: E402

NB_ID = "lista00_exemplo"
FIXTURE = os.path.join(HERE, "hostile", NB_ID + ".ipynb")
ROOT_USER = os.geteuid() == 0
TIMEOUT = 5


def blank(source_bytes):
    nb = json.loads(source_bytes)
    for cell in nb["cells"]:
        m = cell.get("metadata", {}).get("nbgrader", {})
        if m.get("solution") and cell["cell_type"] == "code":
            cell["source"] = "raise NotImplementedError()"
    return json.dumps(nb).encode()


@pytest.fixture(scope="module")
def graded():
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-parallel-")
    os.chmod(base, 0o711)  # the grader uid must reach autograded/
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(FIXTURE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    with open(os.path.join(base, "course.toml"), "w", encoding="utf-8") as fh:
        fh.write('timezone = "America/Sao_Paulo"\n[late]\npenalty_per_day = 0.25\n'
                 f'[assignments.{NB_ID}]\ndue = "2026-09-18 23:59"\n')
    source = open(FIXTURE, "rb").read()
    subs = {"h_sem_sigint": make_hostile.build(FIXTURE)["loop_sem_sigint"],
            "branco": blank(source), "atrasado": source}
    subs.update({f"aluno{i}": source for i in range(1, 5)})
    for student, data in subs.items():
        d = os.path.join(base, "submitted", student, NB_ID)
        os.makedirs(d)
        with open(os.path.join(d, NB_ID + ".ipynb"), "wb") as fh:
            fh.write(data)
    # 36 hours after the due date (UTC-3): two started days late
    with open(os.path.join(base, "submitted", "atrasado", NB_ID, "timestamp.txt"), "w") as fh:
        fh.write("2026-09-20 14:59:00")
    pairs = [(s, NB_ID) for s in subs]  # the hostile one first: it starts at once
    t0 = time.monotonic()
    results = grade(base, pairs=pairs, use_sandbox=ROOT_USER, jobs=2,
                    **{"Execute.timeout": TIMEOUT})
    yield {"base": base, "results": results, "seconds": time.monotonic() - t0}
    shutil.rmtree(base, ignore_errors=True)


def test_every_submission_has_its_row_and_score(graded):
    res = graded["results"]
    assert len(res) == 7
    for student in ("aluno1", "aluno2", "aluno3", "aluno4"):
        r = res[(student, NB_ID)]
        assert r["success"] and r["row"], r["log"][-2000:]
        assert r["max_score"] > 0 and r["score"] == r["max_score"], student
    assert res[("branco", NB_ID)]["score"] == 0
    hostile = res[("h_sem_sigint", NB_ID)]
    assert hostile["row"] and (hostile["score"] == 0 or hostile["needs_manual_grade"])


def test_each_worker_has_its_own_grader_uid(graded):
    if not ROOT_USER:
        pytest.skip("grader uids exist only when grading as root")
    uids = {r["uid"] for r in graded["results"].values()}
    assert len(uids) == 2 and None not in uids


def test_the_others_finish_while_a_hostile_submission_times_out(graded):
    res = graded["results"]
    h = res[("h_sem_sigint", NB_ID)]
    assert h["seconds"] >= TIMEOUT
    done_meanwhile = [k for k, r in res.items()
                      if k[0] != "h_sem_sigint" and h["started"] < r["finished"] < h["finished"]]
    assert len(done_meanwhile) >= 1, {k: (r["started"], r["finished"]) for k, r in res.items()}


def test_late_submission_loses_the_course_penalty(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['base']}/gradebook.db", "t320") as gb:
        late = gb.find_submission(NB_ID, "atrasado")
        on_time = gb.find_submission(NB_ID, "aluno1")
        assert late.total_seconds_late == pytest.approx(36 * 3600)
        assert late.score == late.max_score > 0
        assert late.late_submission_penalty == pytest.approx(0.5 * late.score)
        assert on_time.late_submission_penalty == 0


def test_feedback_for_every_graded_submission(graded):
    for student in ("aluno1", "atrasado", "branco"):
        assert os.path.exists(os.path.join(graded["base"], "feedback", student, NB_ID, NB_ID + ".html"))


def _hold_gradebook(db_url, lock_path, queue):
    from course import prepare_nbgrader
    from course.grading import gradebook_lock
    from nbgrader.api import Gradebook

    prepare_nbgrader()
    gradebook_lock.install(lock_path)
    with Gradebook(db_url):
        start = time.monotonic()
        time.sleep(0.6)
        queue.put((start, time.monotonic()))


def test_gradebook_lock_lets_one_process_at_a_time(tmp_path):
    from nbgrader.api import Gradebook

    db_url = f"sqlite:///{tmp_path}/gradebook.db"
    Gradebook(db_url).close()  # create it once
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_hold_gradebook, args=(db_url, str(tmp_path / "lock"), queue))
             for _ in range(3)]
    for p in procs:
        p.start()
    spans = sorted(queue.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, f"two processes held the gradebook at once: {spans}"
