"""The formgrader tells the truth: each submission's late penalty where the instructor grades.

nbgrader's formgrader lists submissions ("Manage Submissions", a student's assignments)
with nbgrader's score, which has no late penalty in it, and the time in UTC. Installed from
``nbgrader_config.py`` (which the formgrader reads on every request), :func:`install` makes
the formgrader's API (``NbGraderAPI.get_submission``/``get_submissions``, the answers of
``/formgrader/api/submissions/<id>`` and ``/formgrader/api/student_submissions/<id>``)
give, for a late submission, the score after the penalty of the documented rule
(``course/late.py``) applied to the CURRENT total (auto + manual: a manual grade just saved
counts at once, as ``make export`` will count it) and the submission time followed by the
penalty, e.g. ``20/09/2026 10:00 -03 (2 dia(s) de atraso: -1.8 de 9)``. The time zone of
every time shown is ``course.toml``'s (``NbGraderAPI.timezone``, set in nbgrader_config.py).
Nothing is written to the gradebook here.
"""

import math

from course import config as course_config
from course import late as late_mod


def _fmt(x):
    return f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")


def late_note(gb, nb_id, student, per_day):
    """``(penalty, note)`` for a submission by the rule on its current total, or ``(0, None)``."""
    from nbgrader.api import MissingEntry

    try:
        sub = gb.find_submission(nb_id, student)
    except MissingEntry:
        return 0.0, None
    seconds = sub.total_seconds_late
    total = sum(nb.score for nb in sub.notebooks)
    penalty = sum(late_mod.penalty(nb.score, seconds, per_day) or 0.0 for nb in sub.notebooks)
    if seconds <= 0:
        return 0.0, None
    days = math.ceil(seconds / 86400)
    if penalty <= 0:
        return 0.0, f"{days} dia(s) de atraso, sem penalidade"
    return penalty, f"{days} dia(s) de atraso: -{_fmt(penalty)} de {_fmt(total)}"


def with_penalties(api, nb_id, submissions):
    """The formgrader's submission dicts of ``nb_id`` with the late penalty applied and shown."""
    wanted = [s for s in submissions if s.get("autograded")]
    if not wanted:
        return submissions
    per_day = course_config.late_penalty_per_day(api.coursedir.root)
    with api.gradebook as gb:
        for s in wanted:
            penalty, note = late_note(gb, nb_id, s["student"], per_day)
            if note is None:
                continue
            s["score"] = max(0.0, (s.get("score") or 0.0) - penalty)
            s["late_penalty"] = penalty
            s["display_timestamp"] = f"{s.get('display_timestamp') or ''} ({note})".strip()
    return submissions


def install():
    """Wrap ``NbGraderAPI.get_submission(s)`` once per process (idempotent)."""
    from nbgrader.apps.api import NbGraderAPI

    if getattr(NbGraderAPI, "_t320_late_view", False):
        return
    plain_one, plain_all = NbGraderAPI.get_submission, NbGraderAPI.get_submissions

    def get_submission(self, assignment_id, student_id, ungraded=None, students=None):
        sub = plain_one(self, assignment_id, student_id, ungraded=ungraded, students=students)
        return with_penalties(self, assignment_id, [sub])[0]

    def get_submissions(self, assignment_id):
        # nbgrader's get_submissions calls get_submission only for ungraded ones (no penalty)
        return with_penalties(self, assignment_id, plain_all(self, assignment_id))

    get_submission.__doc__, get_submissions.__doc__ = plain_one.__doc__, plain_all.__doc__
    NbGraderAPI.get_submission, NbGraderAPI.get_submissions = get_submission, get_submissions
    NbGraderAPI._t320_late_view = True
