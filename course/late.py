"""nbgrader's late-submission penalty for the course: a fraction of the score per day late.

``course.toml`` sets ``[late] penalty_per_day`` (0 = no penalty, 0.1 = 10 % of the notebook's
score per started day after the due date, 1 = zero for any delay). nbgrader computes how late
a submission is from its ``timestamp.txt`` (written by ``make collect`` when the LMS gives a
submission time) and the assignment's due date in the gradebook (set from ``course.toml`` by
``make grade``); this plugin turns that into the penalty, which nbgrader caps at the score.
"""

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


class PerDayPenalty(LateSubmissionPlugin):
    """Penalty = ``penalty_per_day`` x started days late x score (at most the score)."""

    penalty_per_day = Float(0.0, help="fraction of the score lost per started day late").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        if total_seconds_late <= 0 or self.penalty_per_day <= 0:
            return None
        days = math.ceil(total_seconds_late / 86400)
        return min(1.0, days * self.penalty_per_day) * score
