"""nbgrader's late-submission penalty for the course: a fraction of the score per day late.

``course.toml`` sets ``[late] penalty_per_day`` (0 = no penalty, 0.1 = 10 % of the notebook's
score per started day after the due date, 1 = zero for any delay). nbgrader computes how late
a submission is from its ``timestamp.txt`` (written by ``make collect`` when the LMS gives a
submission time) and the assignment's due date in the gradebook (set from ``course.toml`` by
``make grade``); this plugin turns that into the penalty, which nbgrader caps at the score.
``nbgrader_config.py`` names the plugin (``AssignLatePenalties.plugin_class``), and the
plugin reads ``penalty_per_day`` from the ``course.toml`` of the course being graded
(``CourseDirectory.root``): the penalty is configured in one place, for ``make grade``,
``nbgrader autograde`` and the formgrader alike.

The rule (:func:`penalty`) applies to the notebook's whole score, autograded plus manual:
nbgrader computes it at ``make grade`` time, before any manual grade exists, so ``make
export`` applies it again to the current scores (:func:`apply_rule`) and writes it into the
gradebook, where the formgrader and the feedback read it.
"""

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, default

from course import ROOT, course_toml


def penalty(score, seconds_late, per_day):
    """``per_day`` x started days late x ``score``, at most ``score``; None when not late."""
    if seconds_late <= 0 or per_day <= 0 or score is None:
        return None
    days = math.ceil(seconds_late / 86400)
    # rounded: 0.2 x 73 is 14.600000000000001 in floating point, and grades.csv shows it
    return round(min(1.0, days * per_day) * max(0.0, score), 6)


class PerDayPenalty(LateSubmissionPlugin):
    """Penalty = ``penalty_per_day`` x started days late x score (at most the score)."""

    penalty_per_day = Float(help="fraction of the score lost per started day late "
                                 "(default: course.toml's [late] penalty_per_day)").tag(config=True)

    @default("penalty_per_day")
    def _penalty_of_course_toml(self):
        root = self.config.get("CourseDirectory", {}).get("root")
        return course_toml.late_penalty_per_day(root if isinstance(root, str) and root else ROOT)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return penalty(score, total_seconds_late, self.penalty_per_day)


def apply_rule(gb, nb_id, per_day):
    """Recompute every submitted notebook's penalty of ``nb_id`` from its current score.

    Writes ``SubmittedNotebook.late_submission_penalty`` (what nbgrader's feedback, the
    formgrader and the exports read); returns ``[(student, notebook, old, new)]`` changed.
    """
    changed = []
    for sub in gb.find_assignment(nb_id).submissions:
        seconds = sub.total_seconds_late
        for nb in sub.notebooks:
            new = penalty(nb.score, seconds, per_day)
            old = nb.late_submission_penalty
            if (old or 0.0) != (new or 0.0):
                changed.append((sub.student.id, nb.name, old, new))
            nb.late_submission_penalty = new
    gb.db.commit()
    return changed
