"""A notebook of many slow cells cannot hold a grading worker for hours.

``Execute.timeout`` (30 s) limits one cell, and the sandbox's CPU limit does not count
``time.sleep``: a submission that adds a thousand cells of ``time.sleep(29)`` would take
eight hours of one worker. ``TrustedExecute.max_student_seconds`` (default 180) bounds the
student's cells in all; past it the remaining cells do not run and the cell says
"tempo total esgotado". Here with a 4 s budget (set like any nbgrader option) and twelve
cells of one second, beside an honest submission; the control gives the same submission
room and sees every cell run, so the check can fail.
"""

import json
import os
import shutil
import tempfile


from tests.hostile.test_isolation import NB_ID, SOURCE, _submit  # noqa: E402

SLOW_CELLS = 12
MARK = "CELULA_LENTA_"


def _slow_submission():
    """The fixture's right answers, with twelve one-second cells after the first answer."""
    with open(SOURCE, encoding="utf-8") as fh:
        nb = json.load(fh)
    first = next(i for i, c in enumerate(nb["cells"])
                 if c["metadata"].get("nbgrader", {}).get("solution") and c["cell_type"] == "code")
    slow = [{"cell_type": "code", "execution_count": None, "id": f"lenta-{k}", "metadata": {},
             "outputs": [], "source": f"import time\ntime.sleep(1)\nprint('{MARK}' + '{k}')"}
            for k in range(SLOW_CELLS)]
    nb["cells"][first + 1:first + 1] = slow
    return json.dumps(nb).encode()


def _grade(max_seconds, honest=True):
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-slow-")
    os.chmod(base, 0o711)
    try:
        os.makedirs(os.path.join(base, "solutions", NB_ID))
        shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
        _submit(base, "lento", _slow_submission())
        pairs = [("lento", NB_ID)]
        if honest:  # the budget's run: an honest notebook in the same batch keeps its points
            _submit(base, "honesto", open(SOURCE, "rb").read())
            pairs.append(("honesto", NB_ID))
        results = grade(base, pairs=pairs, feedback=False,
                        csv=False, use_sandbox=os.geteuid() == 0,
                        **{"TrustedExecute.max_student_seconds": max_seconds})
        with open(os.path.join(base, "autograded", "lento", NB_ID, NB_ID + ".ipynb"),
                  encoding="utf-8") as fh:
            text = fh.read()
        ran = [k for k in range(SLOW_CELLS) if f"{MARK}{k}" in text]
        return {s: r for (s, _), r in results.items()}, ran, "tempo total esgotado" in text
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_slow_cells_stop_at_the_budget():
    results, ran, said = _grade(max_seconds=4)
    honest = results["honesto"]
    assert honest["success"] and honest["score"] == honest["max_score"] > 0, honest
    assert results["lento"]["success"], "the slow submission got no gradebook row"
    assert len(ran) <= 5, f"cells {ran} ran: the 4 s budget was not kept"
    assert said, "the notebook does not say why its last cells did not run"
    assert results["lento"]["score"] < results["lento"]["max_score"], \
        "the answers after the budget cannot have been graded"


def test_control_with_room_every_cell_runs():
    results, ran, said = _grade(max_seconds=120, honest=False)
    assert ran == list(range(SLOW_CELLS)) and not said, ran
    assert results["lento"]["score"] == results["lento"]["max_score"], results["lento"]
