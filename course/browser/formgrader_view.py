"""The formgrader tells the truth: each submission's late penalty where the instructor grades.

nbgrader's formgrader lists submissions ("Manage Submissions", a student's assignments)
with nbgrader's score, which has no late penalty in it, and the time in UTC. Installed from
``nbgrader_config.py`` (which the formgrader reads on every request), :func:`install` makes
the formgrader's API (``NbGraderAPI.get_submission``/``get_submissions``, the answers of
``/formgrader/api/submissions/<id>`` and ``/formgrader/api/student_submissions/<id>``)
give, for a late submission, the score after the penalty of the documented rule
(``course/lms/late.py``) applied to the CURRENT total (auto + manual: a manual grade just saved
counts at once, as ``make export`` will count it) and the submission time followed by the
penalty, e.g. ``20/09/2026 10:00 -03 (2 dia(s) de atraso: -1.8 de 9)``. The page where the
instructor grades one notebook (``/formgrader/submissions/<id>/``, nbgrader's
``SubmissionHandler``) shows, in its title bar, when the submission came in, its due date and,
for a late one, the penalty and the score after it (:func:`submission_banner`). The time zone of
every time shown is ``course.toml``'s (``NbGraderAPI.timezone``, set in nbgrader_config.py).
Nothing is written to the gradebook here.
"""

import html
import math

from course import course_toml
from course.lms import late as late_mod


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
    per_day = course_toml.late_penalty_per_day(api.coursedir.root)
    with api.gradebook as gb:
        for s in wanted:
            penalty, note = late_note(gb, nb_id, s["student"], per_day)
            if note is None:
                continue
            s["score"] = max(0.0, (s.get("score") or 0.0) - penalty)
            s["late_penalty"] = penalty
            s["display_timestamp"] = f"{s.get('display_timestamp') or ''} ({note})".strip()
    return submissions


def submission_banner(api, submission_notebook_id):
    """The grading page's line for one submitted notebook (HTML, escaped), or ``None``.

    ``Entregue em 20/09/2026 10:00 -03, prazo 18/09/2026 23:59 -03: 2 dia(s) de atraso:
    -1.8 de 9; nota após a penalidade: 7.2`` for a late one; ``... : no prazo`` otherwise.
    """
    from nbgrader.api import MissingEntry
    from nbgrader.utils import as_timezone

    def local(ts):
        return as_timezone(ts, api.timezone).strftime(api.timestamp_format)

    per_day = course_toml.late_penalty_per_day(api.coursedir.root)
    with api.gradebook as gb:
        try:
            nb = gb.find_submission_notebook_by_id(submission_notebook_id)
        except MissingEntry:
            return None
        sub = nb.assignment
        if sub.timestamp is None:
            return None
        text = f"Entregue em {local(sub.timestamp)}"
        if sub.duedate is not None:
            text += f", prazo {local(sub.duedate)}"
        penalty, note = late_note(gb, sub.assignment.name, nb.student.id, per_day)
        if note is None:
            text += ": no prazo"
        else:
            text += f": {note}"
            if penalty > 0:
                total = sum(n.score for n in sub.notebooks)
                text += f"; nota após a penalidade: {_fmt(max(0.0, total - penalty))}"
    return f'<span class="t320-late-note" style="margin-left: 2em">{html.escape(text)}</span>'


#: Where the banner goes on the grading page: before nbgrader's "Submission k / n" counter in the
#: panel's title bar (the first occurrence: the notebook's own cells come after it).
PAGE_MARK = '<span class="pull-right">Submission '


def with_banner(page, banner):
    """``page`` with ``banner`` inserted in the title bar (unchanged without a banner)."""
    if not banner or PAGE_MARK not in page:
        return page
    return page.replace(PAGE_MARK, banner + PAGE_MARK, 1)


def _install_grading_page():
    """Wrap nbgrader's ``SubmissionHandler.get``: its page gets :func:`submission_banner`.

    The banner is computed when the handler writes its page, i.e. after nbgrader's own
    authentication and XSRF checks have passed."""
    from nbgrader.server_extensions.formgrader import handlers

    plain_get = handlers.SubmissionHandler.get

    def get(self, submission_id):
        plain_write = self.write

        def write(chunk):
            if isinstance(chunk, str) and PAGE_MARK in chunk:
                chunk = with_banner(chunk, submission_banner(self.api, submission_id))
            return plain_write(chunk)

        self.write = write
        return plain_get(self, submission_id)

    get.__doc__ = plain_get.__doc__
    handlers.SubmissionHandler.get = get


def install():
    """Wrap ``NbGraderAPI.get_submission(s)`` and the grading page once per process (idempotent)."""
    from nbgrader.apps.api import NbGraderAPI

    if getattr(NbGraderAPI, "_t320_late_view", False):
        return
    _install_grading_page()
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
