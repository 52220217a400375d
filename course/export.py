"""Grades and feedback out: what the instructor uploads to the LMS after ``make grade``.

Usage: ``python -m course.export [--lms moodle|plain] [ID ...]`` (``make export``). For
each assignment in the gradebook (or each ``ID``), in ``export/``:

- ``<id>.csv``: one row per roster student (or per graded student without a roster), the
  final score (autograded + manual, minus nbgrader's late penalty) out of the maximum.
  ``--lms moodle`` (default when ``course.toml`` says ``lms = "moodle"``) writes the columns
  Moodle's grade import maps ("ID number", "Email address", a grade column); every other
  LMS gets the plain table ``id,name,email,score,max_score`` (MS Teams, Canvas and Google
  Classroom have no import keyed by the course's own id, so it is the table to copy from).
  A student without a submission gets an empty score, not a 0: handing in nothing and
  scoring nothing are different things in the LMS.
- ``<id>/<student id>.zip``: that student's feedback (``feedback/<student>/<id>/``), the
  file to attach in the LMS.
- ``<id>-summary.csv``: per exercise (grade cell) the mean, the median, how many got full
  marks, how many still need manual grading; also printed, so the instructor sees which
  exercise the class missed.

The CSVs come from :class:`LmsExportPlugin`, an nbgrader export plugin (``nbgrader export
--to export/ --exporter course.export.LmsExportPlugin`` writes the same tables).
"""

import argparse
import csv
import os
import statistics
import sys
import zipfile

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Enum

from course import ROOT, ensure_venv_on_path, make_api
from course import config as course_config
from course import roster as roster_mod

FORMATS = ("moodle", "plain")


def _fmt(x):
    return "" if x is None else f"{x:.2f}".rstrip("0").rstrip(".")


def final_score(submission):
    """nbgrader's score of a submission minus its late penalty (never below 0)."""
    return max(0.0, submission.score - (submission.late_submission_penalty or 0.0))


class LmsExportPlugin(ExportPlugin):
    """nbgrader export plugin: one CSV per assignment in the folder ``to``."""

    format = Enum(FORMATS, default_value="plain").tag(config=True)
    roster = None  # a course.roster.Roster, or None: the gradebook's students

    def _students(self, gb):
        if self.roster is not None and len(self.roster):
            return [(s.id, s.name, s.email) for s in self.roster.students]
        return [(s.id, " ".join(x for x in (s.first_name, s.last_name) if x), s.email or "")
                for s in gb.students]

    def rows(self, gb, nb_id):
        """``[(id, name, email, score or None, max)]`` for assignment ``nb_id``."""
        assignment = gb.find_assignment(nb_id)
        out = []
        for sid, name, email in self._students(gb):
            try:
                score = final_score(gb.find_submission(nb_id, sid))
            except MissingEntry:
                score = None
            out.append((sid, name, email, score, assignment.max_score))
        return out

    def export(self, gradebook):
        os.makedirs(self.to, exist_ok=True)
        ids = self.assignment or [a.name for a in gradebook.assignments]
        written = []
        for nb_id in ids:
            path = os.path.join(self.to, f"{nb_id}.csv")
            with open(path, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                if self.format == "moodle":
                    w.writerow(["ID number", "Email address", "Full name", nb_id])
                    for sid, name, email, score, _ in self.rows(gradebook, nb_id):
                        w.writerow([sid, email, name, _fmt(score)])
                else:
                    w.writerow(["id", "name", "email", "score", "max_score"])
                    for sid, name, email, score, max_score in self.rows(gradebook, nb_id):
                        w.writerow([sid, name, email, _fmt(score), _fmt(max_score)])
            written.append(path)
        return written


def summary(gb, nb_id):
    """Per grade cell of ``nb_id``: ``[(cell, max, n, mean, median, full, manual)]`` + total."""
    assignment = gb.find_assignment(nb_id)
    cells = [(nb.name, c.name, c.max_score) for nb in assignment.notebooks for c in nb.grade_cells]
    scores = {(nb, cell): [] for nb, cell, _ in cells}
    pending = {(nb, cell): 0 for nb, cell, _ in cells}
    totals = []
    for sub in assignment.submissions:
        totals.append(final_score(sub))
        for snb in sub.notebooks:
            for g in snb.grades:
                key = (snb.name, g.name)
                if key not in scores:
                    continue
                if g.needs_manual_grade:
                    pending[key] += 1
                else:
                    scores[key].append(g.score)
    rows = []
    for nb, cell, max_score in cells:
        s = scores[(nb, cell)]
        rows.append((cell, max_score, len(s), statistics.fmean(s) if s else None,
                     statistics.median(s) if s else None,
                     sum(1 for x in s if x >= max_score), pending[(nb, cell)]))
    rows.append(("TOTAL", assignment.max_score, len(totals),
                 statistics.fmean(totals) if totals else None,
                 statistics.median(totals) if totals else None,
                 sum(1 for x in totals if x >= assignment.max_score), ""))
    return rows


SUMMARY_HEADER = ("exercise", "max", "graded", "mean", "median", "full_marks", "needs_manual")


def summary_text(nb_id, rows):
    width = max([len(SUMMARY_HEADER[0])] + [len(str(r[0])) for r in rows])
    head = [f"{SUMMARY_HEADER[0]:<{width}s}"] + [f"{h:>12s}" for h in SUMMARY_HEADER[1:]]
    lines = [f"{nb_id}", "  " + " ".join(head)]
    for r in rows:
        cells = [_fmt(r[1]), str(r[2]), _fmt(r[3]), _fmt(r[4]), str(r[5]), str(r[6])]
        lines.append("  " + " ".join([f"{r[0]:<{width}s}"] + [f"{c:>12s}" for c in cells]))
    return "\n".join(lines)


def feedback_zips(root, nb_id, out_dir):
    """One zip per student with feedback for ``nb_id``: ``out_dir/<id>/<student>.zip``."""
    src = os.path.join(root, "feedback")
    made = []
    if not os.path.isdir(src):
        return made
    dest = os.path.join(out_dir, nb_id)
    os.makedirs(dest, exist_ok=True)
    for student in sorted(os.listdir(src)):
        folder = os.path.join(src, student, nb_id)
        if not os.path.isdir(folder):
            continue
        path = os.path.join(dest, f"{student}.zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for dirpath, _, filenames in os.walk(folder):
                for name in sorted(filenames):
                    full = os.path.join(dirpath, name)
                    if os.path.islink(full):
                        continue
                    zf.write(full, os.path.join(nb_id, os.path.relpath(full, folder)))
        made.append(path)
    return made


def export(root=ROOT, ids=None, fmt=None, out=None):
    """Write the CSVs, feedback zips and summaries; return {id: summary rows}."""
    ensure_venv_on_path()
    root = os.path.abspath(root)
    cfg = course_config.load(root)
    fmt = fmt or ("moodle" if cfg["lms"] == "moodle" else "plain")
    out = out or os.path.join(root, "export")
    os.makedirs(out, mode=0o700, exist_ok=True)
    os.chmod(out, 0o700)  # grades and names: instructor only
    api = make_api(root)
    plugin = LmsExportPlugin(to=out, format=fmt, assignment=list(ids or []))
    plugin.roster = roster_mod.load(root, cfg["roster"])
    summaries = {}
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        plugin.export(gb)
        for nb_id in ids or [a.name for a in gb.assignments]:
            if not gb.find_assignment(nb_id).submissions:
                continue
            rows = summary(gb, nb_id)
            summaries[nb_id] = rows
            with open(os.path.join(out, f"{nb_id}-summary.csv"), "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(SUMMARY_HEADER)
                w.writerows([[r[0], _fmt(r[1]), r[2], _fmt(r[3]), _fmt(r[4]), r[5], r[6]] for r in rows])
            feedback_zips(root, nb_id, out)
    return summaries


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="assignment ids (default: all in the gradebook)")
    parser.add_argument("--lms", choices=FORMATS, default=None,
                        help="CSV format (default: moodle if course.toml says so, else plain)")
    args = parser.parse_args(argv)
    try:
        summaries = export(ids=args.ids or None, fmt=args.lms)
    except MissingEntry as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    for nb_id, rows in summaries.items():
        print(summary_text(nb_id, rows))
    print("written to export/: <id>.csv (grades), <id>/<student>.zip (feedback), <id>-summary.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
