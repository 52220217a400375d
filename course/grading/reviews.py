"""A re-grade never loses a review: the instructor's manual grades around nbgrader's autograde.

nbgrader's ``autograde`` keeps a grade's ``manual_score`` and a comment's ``manual_comment``
when it grades a submission again, but it sets the grade's ``needs_manual_grade`` flag back
on whenever a manual score exists (``SaveAutoGrades``): after ``make grade`` runs again,
answers the instructor already reviewed look exactly like answers nobody has read.

:func:`kept_reviews` wraps one submission's autograde. Before, it records every reviewed
grade (a manual score given and the flag off), every manual comment, extra credit and the
notebook's "flagged" mark, with a checksum of the student's answer for that grade (the
solution cells since the previous graded cell, as graded last time in ``autograded/``).
After, a review whose answer is unchanged is put back as it was (score, comment, flag off);
a review whose answer changed keeps the instructor's score and comment but stays flagged
for review, and is listed in :attr:`KeptReviews.changed` so the instructor is told::

    with reviews.kept_reviews(api.coursedir, student, nb_id) as kept:
        res = api.autograde(nb_id, student, force=True, create=True)
    kept.changed  # [(notebook, grade id, manual score kept), ...] answers changed since review

Nothing here runs student code; only the gradebook and the autograded notebooks are read.
"""

import contextlib
import hashlib
import json
import os


def answer_checksums(path):
    """{grade id: checksum of the student's answer} for the notebook at ``path``.

    A graded cell's answer is the source of the solution cells since the previous graded
    cell, the cell itself included when it is a solution (a written answer). Empty dict if
    the notebook does not exist or cannot be read.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            cells = json.load(fh)["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    sums, pending = {}, []
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        if not isinstance(nbg, dict):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if nbg.get("solution"):
            pending.append(source)
        if nbg.get("grade") or nbg.get("task"):
            if isinstance(nbg.get("grade_id"), str):
                sums[nbg["grade_id"]] = hashlib.sha256("\0".join(pending).encode()).hexdigest()
            pending = []
    return sums


def _notebook_paths(coursedir, student, nb_id, notebook):
    folder = coursedir.format_path(coursedir.autograded_directory, student, nb_id)
    return os.path.join(folder, notebook + ".ipynb")


def snapshot(gb, coursedir, student, nb_id):
    """The instructor's work on one submission: ``{"grades": ..., "comments": ..., "flagged": ...}``.

    Empty when the submission is not in the gradebook yet (a first grading).
    """
    from nbgrader.api import MissingEntry

    try:
        submission = gb.find_submission(nb_id, student)
    except MissingEntry:
        return {"grades": {}, "comments": {}, "flagged": {}}
    grades, comments, flagged = {}, {}, {}
    for nb in submission.notebooks:
        sums = answer_checksums(_notebook_paths(coursedir, student, nb_id, nb.name))
        flagged[nb.name] = bool(nb.flagged)
        for g in nb.grades:
            if g.manual_score is None and not g.extra_credit:
                continue
            grades[(nb.name, g.name)] = {"manual_score": g.manual_score,
                                         "extra_credit": g.extra_credit,
                                         "reviewed": not g.needs_manual_grade,
                                         "answer": sums.get(g.name)}
        for c in nb.comments:
            if c.manual_comment:
                comments[(nb.name, c.name)] = {"manual_comment": c.manual_comment,
                                               "answer": sums.get(c.name)}
    return {"grades": grades, "comments": comments, "flagged": flagged}


def restore(gb, coursedir, student, nb_id, snap):
    """Put ``snap`` back after an autograde; ``[(notebook, grade id, manual score)]`` changed."""
    from nbgrader.api import MissingEntry

    try:
        submission = gb.find_submission(nb_id, student)
    except MissingEntry:
        return []
    changed = []
    for nb in submission.notebooks:
        sums = answer_checksums(_notebook_paths(coursedir, student, nb_id, nb.name))
        if snap["flagged"].get(nb.name):
            nb.flagged = True
        for g in nb.grades:
            before = snap["grades"].get((nb.name, g.name))
            if before is None:
                continue
            # the instructor's numbers are data: never dropped, whatever the answer became
            if g.manual_score is None:
                g.manual_score = before["manual_score"]
            if not g.extra_credit and before["extra_credit"]:
                g.extra_credit = before["extra_credit"]
            same = before["answer"] is not None and before["answer"] == sums.get(g.name)
            if before["reviewed"] and same:
                g.needs_manual_grade = False
            elif before["reviewed"]:
                g.needs_manual_grade = True
                changed.append((nb.name, g.name, before["manual_score"]))
        for c in nb.comments:
            before = snap["comments"].get((nb.name, c.name))
            if before is not None and not c.manual_comment:
                c.manual_comment = before["manual_comment"]
    gb.db.commit()
    return changed


class KeptReviews:
    """What :func:`kept_reviews` did: ``changed`` answers (their reviews stay flagged)."""

    def __init__(self):
        self.changed = []
        self.kept = 0

    def message(self, student, nb_id):
        """One line per answer changed since its review (for the grading report), or ''."""
        return "\n".join(
            f"{student} {nb_id}: the answer of {grade} ({notebook}) changed since your review "
            f"(your score {score} is kept); review it again in the formgrader"
            for notebook, grade, score in self.changed)


@contextlib.contextmanager
def kept_reviews(coursedir, student, nb_id):
    """Around one ``api.autograde(nb_id, student, ...)``: the reviews survive it (see module)."""
    from nbgrader.api import Gradebook

    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        snap = snapshot(gb, coursedir, student, nb_id)
    kept = KeptReviews()
    kept.kept = sum(1 for g in snap["grades"].values() if g["reviewed"])
    yield kept
    if not (snap["grades"] or snap["comments"] or any(snap["flagged"].values())):
        return
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        kept.changed = restore(gb, coursedir, student, nb_id, snap)
