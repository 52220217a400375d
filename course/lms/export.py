"""Grades and feedback out: what the instructor uploads to the LMS after grading.

Usage: ``python -m course.lms.export [--lms moodle|canvas|teams|classroom|plain] [ID ...]``
(``make export``). For each assignment in the gradebook (or each ``ID``):

1. **Nothing stale.** A submission collected again after ``make grade`` (its answers differ
   from the graded copy in ``autograded/``), or never graded, stops the export with the list
   and the command to run (``make grade``): no file is written from old grades.
2. **One source of truth.** The gradebook holds every grade: autograded, the manual scores
   and comments given in the formgrader. The late penalty follows the documented rule
   (``course/lms/late.py``) on the notebook's current total, auto + manual, with the due date of
   ``course.toml``; it is written into the gradebook, where the formgrader and the feedback
   read it. A feedback page older than the grades it shows (a manual grade or comment given
   after ``make grade``) is generated again (nbgrader's ``generate_feedback``: no student
   code runs).
3. **The LMS's own files**, in ``export/`` (closed to other users):

   - ``<id>.csv``, the grade file the LMS imports: Moodle's gradebook import ("ID number",
     "Email address", "Full name", grade), plus ``<id>-worksheet.csv``, the assignment's
     grading worksheet ("Identifier" = "Participant <id>", "Grade", "Maximum Grade",
     "Feedback comments") for students collected from a Moodle download; Canvas's gradebook
     CSV (Student, ID, SIS User ID, SIS Login ID, Section, the assignment column; a "Points
     Possible" row); MS Teams's and Google Classroom's grade tables (their own export's
     columns); or ``plain`` (``id,name,email,score,max_score``). A student without a
     submission gets an empty grade, not a 0.
   - ``<id>-feedback.zip``, ONE zip for the LMS's bulk upload: Moodle's "Upload multiple
     feedback files in a zip" (each student's files in the folder of their download,
     ``<Full name>_<participant id>_assignsubmission_file_/``); Canvas's "Re-upload
     submissions" (each file named like the download, ``<name>_<user id>_<attachment
     id>_<file>``); for MS Teams and Classroom, which have no bulk upload, one folder per
     student (``<name> (<id>)/``) to attach by hand.
   - ``<id>-summary.csv``: per exercise (grade cell) the mean, the median, how many got full
     marks, how many still wait for manual grading; also printed.

The LMS's ids come from ``downloaded/<id>/lms.json``, written by ``make collect``. Numbers
are rounded to 2 decimals. The grade CSVs come from :class:`LmsExportPlugin`, an nbgrader
export plugin.
"""

import argparse
import csv
import hashlib
import json
import os
import statistics
import sys
import zipfile

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Enum, Unicode

from course import ROOT, make_api, prepare_nbgrader
from course import course_toml
from course.lms import late as late_mod
from course.lms import roster as roster_mod
from course.lms.collect import load_identities
from course.grading.reviews import answer_checksums

FORMATS = ("moodle", "canvas", "teams", "classroom", "plain")
STATE = ".feedback-state.json"  # in export/: which gradebook state each feedback page shows


class StaleError(RuntimeError):
    """The gradebook is behind ``submitted/``: the message names what and the command."""


def _fmt(x):
    """A number as an LMS reads it: at most 2 decimals, no float noise (14.6, not 14.600000000000001)."""
    if x is None:
        return ""
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def final_score(submission):
    """nbgrader's score of a submission minus its late penalty (never below 0)."""
    return max(0.0, submission.score - (submission.late_submission_penalty or 0.0))


def _private(path):
    if os.path.lexists(path) and not os.path.islink(path):
        os.chmod(path, os.stat(path).st_mode & 0o700)


# ----------------------------------------------------------------------------- grade files
class LmsExportPlugin(ExportPlugin):
    """nbgrader export plugin: the grade file(s) of one LMS per assignment in the folder ``to``."""

    format = Enum(FORMATS, default_value="plain").tag(config=True)
    titles = Dict(help="{assignment id: its column title in the LMS}").tag(config=True)
    identities = Dict(help="{assignment id: {student id: lms_identity}} from make collect")
    section = Unicode("", help="Canvas section column").tag(config=True)
    roster = None  # a course.lms.roster.Roster, or None: the gradebook's students

    def _students(self, gb):
        if self.roster is not None and len(self.roster):
            return list(self.roster.students)
        return [roster_mod.Student(s.id, " ".join(x for x in (s.first_name, s.last_name) if x),
                                   s.email or "", s.first_name, s.last_name) for s in gb.students]

    def rows(self, gb, nb_id):
        """``[(student, score or None, max, manual comments)]`` for assignment ``nb_id``."""
        assignment = gb.find_assignment(nb_id)
        out = []
        for st in self._students(gb):
            try:
                sub = gb.find_submission(nb_id, st.id)
            except MissingEntry:
                out.append((st, None, assignment.max_score, ""))
                continue
            out.append((st, final_score(sub), assignment.max_score, _comments_text(sub)))
        return out

    def export(self, gradebook):
        os.makedirs(self.to, exist_ok=True)
        ids = self.assignment or [a.name for a in gradebook.assignments]
        written = []
        for nb_id in ids:
            rows = self.rows(gradebook, nb_id)
            title = self.titles.get(nb_id) or nb_id
            idents = self.identities.get(nb_id, {})
            writer = getattr(self, f"_write_{self.format}")
            written += writer(nb_id, title, rows, idents)
        return written

    def _csv(self, name, header, rows):
        path = os.path.join(self.to, name)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path

    def _write_plain(self, nb_id, title, rows, idents):
        return [self._csv(f"{nb_id}.csv", ["id", "name", "email", "score", "max_score"],
                          [[s.id, s.name, s.email, _fmt(score), _fmt(mx)] for s, score, mx, _ in rows])]

    def _write_moodle(self, nb_id, title, rows, idents):
        # Grades > Import > CSV file: map "ID number" (or "Email address") to the user
        made = [self._csv(f"{nb_id}.csv", ["ID number", "Email address", "Full name", title],
                          [[s.id, s.email, s.name, _fmt(score)] for s, score, _, _ in rows])]
        # Assignment > "Upload grading worksheet": the worksheet's own columns
        sheet = [[f"Participant {idents[s.id]['participant']}", s.name, s.email, _fmt(score),
                  _fmt(mx), comments]
                 for s, score, mx, comments in rows
                 if score is not None and idents.get(s.id, {}).get("participant")]
        if sheet:
            made.append(self._csv(f"{nb_id}-worksheet.csv",
                                  ["Identifier", "Full name", "Email address", "Grade",
                                   "Maximum Grade", "Feedback comments"], sheet))
        return made

    def _write_canvas(self, nb_id, title, rows, idents):
        # Grades > Import: Student, ID, SIS User ID, SIS Login ID, Section, then one column per
        # assignment; Canvas's own export has a "Points Possible" row under the header.
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", title]
        table = [["    Points Possible", "", "", "", "", _fmt(rows[0][2] if rows else None)]]
        for s, score, _, _ in rows:
            sortable = f"{s.last_name}, {s.first_name}" if s.last_name else s.first_name
            table.append([sortable, idents.get(s.id, {}).get("user_id", ""), s.id, s.email,
                          self.section, _fmt(score)])
        return [self._csv(f"{nb_id}.csv", header, table)]

    def _write_teams(self, nb_id, title, rows, idents):
        # Teams > Grades > "Export to Excel": First Name, Last Name, Email Address, then per
        # assignment its points and feedback
        return [self._csv(f"{nb_id}.csv",
                          ["First Name", "Last Name", "Email Address", title, "Points", "Feedback"],
                          [[s.first_name, s.last_name, s.email, _fmt(score), _fmt(mx), comments]
                           for s, score, mx, comments in rows])]

    def _write_classroom(self, nb_id, title, rows, idents):
        # Classroom > Grades > "Download grades as CSV": Last Name, First Name, Email Address,
        # then one column per assignment
        return [self._csv(f"{nb_id}.csv", ["Last Name", "First Name", "Email Address", title],
                          [[s.last_name, s.first_name, s.email, _fmt(score)]
                           for s, score, _, _ in rows])]


def _comments_text(submission):
    """The instructor's comments of a submission, one line (the worksheet's feedback column)."""
    parts = []
    for nb in submission.notebooks:
        for c in nb.comments:
            if c.manual_comment:
                parts.append(f"{c.name}: {c.manual_comment.strip()}")
        if nb.late_submission_penalty:
            parts.append(f"atraso: -{_fmt(nb.late_submission_penalty)}")
    return " | ".join(parts)


# ----------------------------------------------------------------------------- freshness
def stale_submissions(root, gb, nb_id):
    """``[(student, why)]`` for submissions of ``nb_id`` the gradebook does not reflect."""
    coursedir_sub = os.path.join(root, "submitted")
    out = []
    if not os.path.isdir(coursedir_sub):
        return out
    notebooks = [nb.name for nb in gb.find_assignment(nb_id).notebooks]
    for student in sorted(os.listdir(coursedir_sub)):
        folder = os.path.join(coursedir_sub, student, nb_id)
        if not os.path.isdir(folder):
            continue
        try:
            gb.find_submission(nb_id, student)
        except MissingEntry:
            out.append((student, "collected but never graded"))
            continue
        for name in notebooks:
            handed = os.path.join(folder, name + ".ipynb")
            graded = os.path.join(root, "autograded", student, nb_id, name + ".ipynb")
            if not os.path.exists(handed):
                continue
            if not os.path.exists(graded):
                out.append((student, f"{name}.ipynb has no graded copy in autograded/"))
            elif answer_checksums(handed) != answer_checksums(graded):
                out.append((student, f"{name}.ipynb was collected again after grading"))
    return out


def _fingerprint(submission):
    """Everything the feedback page shows of a submission's grades, as a digest."""
    data = []
    for nb in sorted(submission.notebooks, key=lambda n: n.name):
        data.append([nb.name, _fmt(nb.score), _fmt(nb.max_score), _fmt(nb.late_submission_penalty),
                     sorted([g.name, _fmt(g.score), _fmt(g.max_score)] for g in nb.grades),
                     sorted([c.name, c.manual_comment or "", c.auto_comment or ""]
                            for c in nb.comments)])
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def _tree_digest(folder):
    if not os.path.isdir(folder):
        return None
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            h.update(os.path.relpath(full, folder).encode() + b"\0")
            with open(full, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def refresh_feedback(root, api, gb, nb_id, out):
    """Generate again the feedback whose grades changed since it was written; the students."""
    state_path = os.path.join(out, STATE)
    state = {}
    if os.path.exists(state_path):
        with open(state_path, encoding="utf-8") as fh:
            state = json.load(fh)
    redone = []
    for sub in gb.find_assignment(nb_id).submissions:
        sid = sub.student.id
        folder = os.path.join(root, "feedback", sid, nb_id)
        key = f"{sid}/{nb_id}"
        want = _fingerprint(sub)
        have = state.get(key, {})
        digest = _tree_digest(folder)
        if digest is not None and have.get("grades") == want and have.get("files") == digest:
            continue
        res = api.generate_feedback(nb_id, sid, force=True)
        if not res["success"]:
            raise RuntimeError(f"generate_feedback({nb_id}, {sid}) failed:\n{res.get('log', '')[-2000:]}")
        for path in (os.path.join(root, "feedback"), os.path.join(root, "feedback", sid)):
            _private(path)
        state[key] = {"grades": want, "files": _tree_digest(folder)}
        redone.append(sid)
    fd = os.open(state_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1, sort_keys=True)
    return redone


# ----------------------------------------------------------------------------- feedback zip
BOOKKEEPING = {"timestamp.txt"}  # nbgrader copies it into feedback/: not feedback


def _files(folder):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name in BOOKKEEPING or name.startswith("."):
                continue
            if not os.path.islink(full):
                yield full, os.path.relpath(full, folder).replace(os.sep, "/")


def feedback_entry(fmt, ident, student, rel):
    """Where ``rel`` (a file of ``student``'s feedback) goes in the LMS's bulk-upload zip, or None."""
    if fmt == "moodle":
        if not ident or ident.get("lms") != "moodle":
            return None
        base = f"{ident['prefix']}_assignsubmission_file"
        if ident.get("folders"):
            return f"{base}{'_' if ident.get('trailing') else ''}/{rel}"
        return f"{base}_{rel.replace('/', '_')}"
    if fmt == "canvas":
        if not ident or ident.get("lms") != "canvas":
            return None
        return f"{ident['prefix']}_{ident['attachment_id']}_{rel.replace('/', '_')}"
    return f"{student.name} ({student.id})/{rel}"  # no bulk upload: attached by hand


def feedback_zip(root, nb_id, out, fmt, students, identities):
    """``out/<id>-feedback.zip`` for the LMS ``fmt``; ``(path, [student ids left out])``."""
    path = os.path.join(out, f"{nb_id}-feedback.zip")
    left_out = []
    entries = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for st in students:
            folder = os.path.join(root, "feedback", st.id, nb_id)
            if not os.path.isdir(folder):
                continue
            ident = identities.get(st.id)
            for full, rel in _files(folder):
                entry = feedback_entry(fmt, ident, st, rel)
                if entry is None:
                    left_out.append(st.id)
                    break
                zf.write(full, entry)
                entries += 1
    if not entries:
        os.remove(path)
        return None, sorted(set(left_out))
    return path, sorted(set(left_out))


# ----------------------------------------------------------------------------- summary
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


def pending_reviews(gb, nb_id):
    """``[(student, grade cell)]`` still flagged for manual grading."""
    return sorted((sub.student.id, g.name) for sub in gb.find_assignment(nb_id).submissions
                  for nb in sub.notebooks for g in nb.grades if g.needs_manual_grade)


# ----------------------------------------------------------------------------- driver
class Exported(dict):
    """{id: summary rows} plus what the run did: ``notes`` (lines for the instructor)."""

    def __init__(self):
        super().__init__()
        self.notes = []


def export(root=ROOT, ids=None, fmt=None, out=None):
    """Check, bring feedback up to date, write the LMS files; {id: summary rows} (:class:`Exported`).

    Raises :class:`StaleError` when a submission was collected after grading (or never graded).
    """
    prepare_nbgrader()
    root = os.path.abspath(root)
    cfg = course_toml.load(root)
    fmt = fmt or (cfg["lms"] if cfg["lms"] in FORMATS else "plain")
    out = out or os.path.join(root, "export")
    os.makedirs(out, mode=0o700, exist_ok=True)
    os.chmod(out, 0o700)  # grades and names: instructor only
    api = make_api(root)
    roster = roster_mod.load(root, cfg["roster"])
    per_day = course_toml.late_penalty_per_day(root, cfg)
    result = Exported()
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        ids = list(ids or [a.name for a in gb.assignments])
        for nb_id in ids:
            gb.find_assignment(nb_id)  # MissingEntry for an unknown id
        stale = [(nb_id, sid, why) for nb_id in ids for sid, why in stale_submissions(root, gb, nb_id)]
        if stale:
            lines = "\n".join(f"  {sid} {nb_id}: {why}" for nb_id, sid, why in stale)
            raise StaleError(f"the gradebook is behind submitted/ for:\n{lines}\n"
                             "run `make grade` (your manual grades and comments are kept), "
                             "then `make export`")
        for nb_id in ids:
            due = course_toml.due_utc(nb_id, root, cfg)
            if due is not None and gb.find_assignment(nb_id).duedate != due:
                gb.update_or_create_assignment(nb_id, duedate=due)
                result.notes.append(f"{nb_id}: due date set from course.toml ({due} UTC)")
            for sid, notebook, old, new in late_mod.apply_rule(gb, nb_id, per_day):
                result.notes.append(f"{sid} {nb_id}: late penalty {_fmt(old) or '0'} -> {_fmt(new) or '0'} "
                                    "(the rule on the current total, manual grades included)")
            redone = refresh_feedback(root, api, gb, nb_id, out)
            if redone:
                result.notes.append(f"{nb_id}: feedback generated again for {', '.join(redone)} "
                                    "(grades changed since it was written)")
        identities = {nb_id: load_identities(root, nb_id) for nb_id in ids}
        titles = {nb_id: str(cfg["assignments"].get(nb_id, {}).get("lms_title", "") or "")
                  for nb_id in ids}
        plugin = LmsExportPlugin(to=out, format=fmt, assignment=ids, identities=identities,
                                 titles={k: v for k, v in titles.items() if v})
        plugin.roster = roster
        plugin.export(gb)
        for nb_id in ids:
            if not gb.find_assignment(nb_id).submissions:
                continue
            rows = summary(gb, nb_id)
            result[nb_id] = rows
            with open(os.path.join(out, f"{nb_id}-summary.csv"), "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(SUMMARY_HEADER)
                w.writerows([[r[0], _fmt(r[1]), r[2], _fmt(r[3]), _fmt(r[4]), r[5], r[6]] for r in rows])
            zpath, left_out = feedback_zip(root, nb_id, out, fmt, plugin._students(gb), identities[nb_id])
            if left_out:
                result.notes.append(f"{nb_id}: no {fmt} download names {', '.join(left_out)} "
                                    f"(not collected from a {fmt} zip): their feedback is not in "
                                    f"{os.path.basename(zpath or '')}; attach feedback/<id>/{nb_id}/ by hand")
            pending = pending_reviews(gb, nb_id)
            if pending:
                result.notes.append(f"{nb_id}: {len(pending)} answer(s) still wait for manual grading "
                                    "(formgrader): " + ", ".join(f"{s} {g}" for s, g in pending))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*", help="assignment ids (default: all in the gradebook)")
    parser.add_argument("--lms", choices=FORMATS, default=None,
                        help="the LMS the files are for (default: course.toml's lms)")
    args = parser.parse_args(argv)
    try:
        result = export(ids=args.ids or None, fmt=args.lms)
    except StaleError as exc:
        print(f"export: nothing written: {exc}", file=sys.stderr)
        return 1
    except MissingEntry as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    for nb_id, rows in result.items():
        print(summary_text(nb_id, rows))
    for note in result.notes:
        print(note)
    print("written to export/: <id>.csv (grades for the LMS), <id>-feedback.zip (one upload), "
          "<id>-summary.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
