"""Submissions in: an LMS download (zip) -> ``submitted/<student>/<id>/<id>.ipynb``.

Usage: ``python -m course.lms.collect ZIP ID [--lms teams|moodle|canvas|classroom]
[--roster students.csv] [--times worksheet.csv] [--force]`` (``make collect ZIP=... ID=...``).

It runs nbgrader's own ``zip_collect`` machinery (``ZipCollectApp``): the zip is placed in
``downloaded/<id>/archive/``, an extractor plugin unpacks it into
``downloaded/<id>/extracted/``, a file-name collector plugin says whose file each one is,
and ``ZipCollectApp`` copies the notebooks into ``submitted/`` (with ``timestamp.txt`` when
a submission time is known). The two plugins are ours:

- :class:`SafeExtractor` unpacks only regular files at safe paths: an entry with an absolute
  path, a ``..`` component, a symlink or a device, or beyond the size caps, is refused and
  listed (nbgrader's extractor, through setuptools, drops ``..`` entries without a word and
  writes a zip's symlink entry as a file with the entry's mode bits).
- :class:`LmsCollector` reads the LMS's layout (:data:`LAYOUTS`), finds the student in the
  roster (``students.csv``, loaded into the gradebook), recognises renamed copies
  (``lista01 (1).ipynb``, ``Copy of ...``) by their content, and decides, file by file,
  what is collected.

For every student collected, what the LMS calls them (the download's name prefix, Moodle's
participant id, Canvas's user and attachment ids) is kept in ``downloaded/<id>/lms.json``:
``make export`` names the feedback files so that the LMS's bulk upload finds each student.

Nothing is dropped silently: every file of the zip ends up in the report, printed and saved
as ``downloaded/<id>/report.txt``: collected, already collected, or a problem (unsafe
entry, no such student, not a notebook, another assignment, two files for one student, an
existing different submission that is only replaced with ``--force``).
"""

import argparse
import csv
import datetime
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import unicodedata
import zipfile
from zoneinfo import ZoneInfo

from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from traitlets import Bool, Dict, Enum, Instance, Unicode

from course import ROOT, load_nbgrader_config, notebook_ids, prepare_nbgrader, release_dir_for
from course import course_toml
from course.lms import roster as roster_mod

# ----------------------------------------------------------------------------- layouts
# Each LMS's download, as a regular expression on a file's path inside the zip (named
# groups: ``student`` the LMS's name for the student, ``file`` the name the student gave
# the file, optionally ``late``). docs/course.md, "Submissions in", describes each one.
LAYOUTS = {
    # SharePoint "Student Work" > "Submitted files" > <student> > <assignment> > file, as
    # downloaded from the class team's Files tab (OneDrive_1_<date>.zip). Which of the two
    # folders is the student is decided by the roster (both orders are accepted).
    "teams": (r"^(?:(?:Student Work|Trabalho dos alunos)/)?(?:(?:Submitted files|Arquivos enviados)/)?"
              r"(?P<outer>[^/]+)/(?P<inner>[^/]+)/(?P<file>[^/]+)$"),
    # Moodle "Download all submissions" (mod/assign/locallib.php): the prefix
    # <Full name>_<participant id>, then the plugin, then the file:
    #   <prefix>_assignsubmission_file_<file>            without "Download submissions in folders"
    #   <prefix>_assignsubmission_file_/<path>/<file>    in folders, Moodle 3.1 to 4.0
    #   <prefix>_assignsubmission_file/<path>/<file>     in folders, Moodle 4.1 and later
    "moodle": (r"^(?P<student>[^/]+?)_(?P<lms_id>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
               r"(?:_(?P<file>[^/]+)|(?P<trailing>_?)/(?:[^/]+/)*(?P<file2>[^/]+))$"),
    # Canvas "Download Submissions" (canvas-lms lib/content_zipper.rb): the sortable name
    # ("Silva, Maria da") lower-cased, LATE if late, the user id, joined by "_" with every
    # non-word character removed (accents stay: "conceiçãoanamaria"; current Canvas keeps
    # "LATE" upper-case, older Canvas lower-cased everything), then the attachment id and
    # the file name: silvamariada_LATE_48215_7730465_lista01.ipynb
    "canvas": (r"^(?P<student>\w+?)(?P<late>_(?i:late))?_(?P<lms_id>\d+)_(?P<attach>\d+)_"
               r"(?P<file>[^/]+)$"),
    # Google Classroom, "Make a copy for each student": Drive names each copy
    # "<Student Name> - <file>"; the assignment's Drive folder downloaded as a zip has the
    # folder at the top ("<Assignment title>/<Student Name> - <file>"), a selection does not.
    "classroom": r"^(?:(?P<top>[^/]+)/)?(?P<student>[^/]+?) - (?P<file>[^/]+)$",
}
# Every pattern is anchored at the top of the download: the student is the LMS's own
# folder or file-name prefix, never a name a student chose for a file deeper inside.
JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\._)")
# copies made by a browser, a file manager or Drive: "x (1).ipynb", "Copy of x", "x-1.ipynb"
_COPY_PREFIX = re.compile(r"^(copy of |c[oó]pia de |copia de )+", re.I)
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|\s*-\s*(copy|c[oó]pia)(\s*\(\d+\))?|-\d+)+$", re.I)

MAX_FILE_MB = 50
MAX_TOTAL_MB = 2000
MAX_ENTRIES = 20000


class Report:
    """What happened to each file of the download: ``rows`` of (status, path, detail)."""

    PROBLEMS = ("unsafe", "no student", "not a notebook", "wrong assignment",
                "two files", "not overwritten")

    def __init__(self):
        self.rows = []

    def add(self, status, path, detail=""):
        self.rows.append((status, path, detail))

    def problems(self):
        return [r for r in self.rows if r[0] in self.PROBLEMS]

    def of(self, status):
        return [r for r in self.rows if r[0] == status]

    def text(self):
        order = ("collected", "unchanged") + self.PROBLEMS + ("ignored", "no submission")
        lines = []
        for status in order:
            rows = self.of(status)
            if not rows:
                continue
            lines.append(f"{status} ({len(rows)}):")
            lines += [f"  {path}" + (f"  -- {detail}" if detail else "") for _, path, detail in rows]
        n = len(self.problems())
        lines.append(f"{n} file(s) need your attention" if n else "no problem found")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- extractor
def _entry_name(info):
    """The entry's name; a name stored in cp437 that is really UTF-8 (old Windows zips) fixed."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def unsafe_reason(info, name):
    """Why a zip entry must not be extracted, or None."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in parts:
        return "path leaves the folder ('..')"
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if kind and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "special file"
    if info.file_size > MAX_FILE_MB * 2**20:
        return f"larger than {MAX_FILE_MB} MB"
    return None


class SafeExtractor(ExtractorPlugin):
    """nbgrader's extractor plugin, unpacking each zip with the checks of :func:`unsafe_reason`.

    Files are written 0600 with ``O_EXCL|O_NOFOLLOW`` under folders this plugin created, so
    nothing in an archive can point outside ``extracted/``. Refused entries go to the report.
    """

    report = Instance(Report, allow_none=True)

    def extract(self, archive_path, extracted_path):
        for name in sorted(os.listdir(archive_path)):
            src = os.path.join(archive_path, name)
            if not os.path.isfile(src) or os.path.islink(src):
                continue
            dest = os.path.join(extracted_path, os.path.splitext(name)[0])
            os.makedirs(dest, mode=0o700, exist_ok=True)
            if zipfile.is_zipfile(src):
                self._unzip(src, dest, name)
            else:
                shutil.copyfile(src, os.path.join(dest, name), follow_symlinks=False)

    def _unzip(self, src, dest, label):
        total = 0
        seen = set()
        with zipfile.ZipFile(src) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise RuntimeError(f"{label}: {len(infos)} entries, more than {MAX_ENTRIES}")
            for info in infos:
                name = _entry_name(info)
                if name.endswith("/"):
                    continue
                reason = unsafe_reason(info, name)
                rel = "/".join(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
                if reason is None and rel.lower() in seen:
                    reason = "second entry with the same name"
                if reason is None and total + info.file_size > MAX_TOTAL_MB * 2**20:
                    reason = f"archive larger than {MAX_TOTAL_MB} MB"
                if reason:
                    self.report.add("unsafe", name, f"{reason}; not extracted")
                    continue
                seen.add(rel.lower())
                total += info.file_size
                self._write(zf, info, os.path.join(dest, *rel.split("/")))

    @staticmethod
    def _write(zf, info, target):
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        limit = MAX_FILE_MB * 2**20
        with os.fdopen(fd, "wb") as out, zf.open(info) as inp:
            written = 0
            while chunk := inp.read(2**20):
                written += len(chunk)
                if written > limit:  # the header lied about the size
                    raise RuntimeError(f"{info.filename}: more than {MAX_FILE_MB} MB uncompressed")
                out.write(chunk)
        when = datetime.datetime(*info.date_time).timestamp()
        os.utime(target, (when, when))


# ----------------------------------------------------------------------------- collector
def _grade_ids(path):
    """nbgrader grade ids of a notebook's cells, or None if it is not a notebook."""
    try:
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
        cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(cells, list):
        return None
    ids = set()
    for cell in cells:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        if isinstance(nbg, dict) and isinstance(nbg.get("grade_id"), str):
            ids.add(nbg["grade_id"])
    return ids


def plain_name(filename):
    """A file name without extension and without the marks of a copy (``Copy of x (1)`` -> ``x``)."""
    stem = os.path.splitext(filename)[0].strip()
    stem = _COPY_PREFIX.sub("", stem)
    return _COPY_SUFFIX.sub("", stem).strip()


def _digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def lms_identity(lms, match, rel):
    """What the LMS calls the student's submission, for ``make export`` to name the feedback
    the way the LMS's bulk upload finds it: the name, the LMS's ids, the download's prefix."""
    g = match.groupdict()
    ident = {"lms": lms, "entry": rel}
    if lms == "moodle":
        ident.update(name=g["student"], participant=g["lms_id"],
                     prefix=f"{g['student']}_{g['lms_id']}",
                     folders=g.get("file2") is not None, trailing=bool(g.get("trailing")))
    elif lms == "canvas":
        ident.update(name=g["student"], user_id=g["lms_id"], attachment_id=g["attach"],
                     late=bool(g.get("late")), prefix=rel[:match.start("attach") - 1])
    elif lms == "teams":
        ident.update(folders=[g["outer"], g["inner"]])
    else:
        ident.update(name=g["student"], top=g.get("top"))
    return ident


IDENTITIES = "lms.json"


def save_identities(path, identities):
    """Merge ``identities`` ({student id: lms_identity}) into the JSON file ``path``."""
    known = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            known = json.load(fh)
    known.update(identities)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(known, fh, ensure_ascii=False, indent=1, sort_keys=True)


def load_identities(root, nb_id):
    """{student id: lms_identity} recorded by ``make collect`` for ``nb_id`` (empty if none)."""
    path = os.path.join(root, "downloaded", nb_id, IDENTITIES)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class LmsCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector plugin for one LMS layout and the course roster.

    ``select(files)`` decides for every extracted file and writes the report; ``collect``
    then answers nbgrader's ``ZipCollectApp`` for the files selected.
    """

    lms = Enum(sorted(LAYOUTS), default_value="teams").tag(config=True)
    force = Bool(False, help="replace an existing, different submission").tag(config=True)
    report = Instance(Report, allow_none=True)
    roster = Instance(roster_mod.Roster, allow_none=True)
    extracted_root = Unicode("")
    submitted_root = Unicode("")
    assignment = Unicode("")
    assignment_ids = Dict()   # {id: grade ids of its source}
    times = Dict()            # {student id: naive UTC datetime} from --times
    identities = Dict()       # {student id: who the LMS says they are} (lms_identity)
    _chosen = Dict()

    def _rel(self, path):
        rel = os.path.relpath(path, self.extracted_root).replace(os.sep, "/")
        return rel.split("/", 1)[1] if "/" in rel else rel  # drop the zip's own folder

    def _student(self, match):
        """``(student, lms name)`` or ``(None, reason)`` from a layout match."""
        groups = match.groupdict()
        if "outer" in groups:  # teams: whichever folder is a roster student
            names = [groups["outer"], groups["inner"]]
        else:
            names = [groups["student"]]
        if self.roster is None:
            return roster_mod.Student(re.sub(r"[^A-Za-z0-9_.-]+", "_", names[0]).strip("_"),
                                      names[0], ""), names[0]
        reasons = []
        for name in names:
            student, reason = self.roster.find(name)
            if student is not None:
                return student, name
            reasons.append(reason)
        return None, "; ".join(reasons)

    def _which_assignment(self, ids):
        """The assignment id whose grade cells a notebook has, or None."""
        best = [a for a, source_ids in self.assignment_ids.items() if ids & source_ids]
        if len(best) == 1:
            return best[0]
        return max(best, key=lambda a: len(ids & self.assignment_ids[a])) if best else None

    def classify(self, path):
        """``(student id, detail)`` for a file to collect, or None (then it is reported)."""
        rel = self._rel(path)
        if JUNK.search(rel):
            self.report.add("ignored", rel, "system file, not a submission")
            return None
        match = re.match(LAYOUTS[self.lms], rel)
        if not match:
            self.report.add("no student", rel, f"does not follow the {self.lms} layout")
            return None
        student, why = self._student(match)
        if student is None:
            self.report.add("no student", rel, why)
            return None
        filename = match.group("file") or match.groupdict().get("file2")
        if not filename.lower().endswith(".ipynb"):
            self.report.add("not a notebook", rel, f"{student.id}: not an .ipynb file")
            return None
        ids = _grade_ids(path)
        if ids is None:
            self.report.add("not a notebook", rel, f"{student.id}: not a valid notebook (JSON)")
            return None
        found = self._which_assignment(ids)
        if found != self.assignment:
            what = f"it is {found}" if found else "it has no cell of this assignment"
            self.report.add("wrong assignment", rel, f"{student.id}: {what}")
            return None
        notes = []
        if filename != self.assignment + ".ipynb":
            how = "copy" if plain_name(filename) == self.assignment else "name differs"
            notes.append(f"renamed ({how}: {filename}), recognised by its cells")
        if "late" in match.groupdict() and match.group("late"):
            notes.append("the LMS marks it late")
        return student.id, ", ".join(notes), lms_identity(self.lms, match, rel)

    def select(self, src_files):
        """Decide for every file; return the files to collect (one per student)."""
        by_student = {}
        for path in src_files:
            res = self.classify(path)
            if res is not None:
                by_student.setdefault(res[0], []).append((path, res[1]))
                self.identities[res[0]] = res[2]
        chosen = {}
        for sid, cands in sorted(by_student.items()):
            if len(cands) > 1:
                names = ", ".join(self._rel(p) for p, _ in cands)
                for path, _ in cands:
                    self.report.add("two files", self._rel(path),
                                    f"{sid}: {len(cands)} notebooks ({names}); none collected: "
                                    f"keep one in the zip, or copy it to submitted/{sid}/{self.assignment}/")
                continue
            path, note = cands[0]
            dest = os.path.join(self.submitted_root, sid, self.assignment, self.assignment + ".ipynb")
            if os.path.exists(dest) and not self.force:
                if _digest(dest) == _digest(path):
                    self.report.add("unchanged", self._rel(path), f"{sid}: already collected")
                else:
                    self.report.add("not overwritten", self._rel(path),
                                    f"{sid}: {dest} exists and differs (collect with --force to replace it)")
                continue
            chosen[path] = sid
            stamp = self.times.get(sid)
            detail = f"-> {sid}" + (f", {note}" if note else "") + (
                f", submitted {stamp:%Y-%m-%d %H:%M} UTC" if stamp else "")
            self.report.add("collected", self._rel(path), detail)
        self._chosen = chosen
        if self.roster is not None:
            handed_in = set(by_student)
            for s in self.roster.students:
                if s.id not in handed_in:
                    self.report.add("no submission", s.id, s.name)
        return sorted(chosen)

    def collect(self, submitted_file):
        sid = self._chosen.get(submitted_file)
        if sid is None:
            return None
        info = {"student_id": sid, "file_id": self.assignment + ".ipynb"}
        if sid in self.times:
            info["timestamp"] = self.times[sid].isoformat(" ")
        return info


class CourseZipCollect(ZipCollectApp):
    """``ZipCollectApp`` whose collector first decides for the whole download (``select``)."""

    def _collect_files(self, src_files):
        return super()._collect_files(self.collector_plugin_inst.select(src_files))


# ----------------------------------------------------------------------------- times
_PT_MONTHS = {"jan": "Jan", "fev": "Feb", "mar": "Mar", "abr": "Apr", "mai": "May", "jun": "Jun",
              "jul": "Jul", "ago": "Aug", "set": "Sep", "out": "Oct", "nov": "Nov", "dez": "Dec"}


def parse_lms_time(text, zone):
    """A submission time as Moodle's grading worksheet writes it, in ``zone``; naive UTC."""
    import dateutil.parser

    text = text.strip()
    if not text or text == "-":
        return None
    words = re.sub(r"^[^\d,]*,\s*", "", text)  # drop the weekday ("Friday, ", "sexta-feira, ")
    words = re.sub(r"\b([a-zç]{3})[a-zç]*\.?", lambda m: _PT_MONTHS.get(m.group(1).lower(), m.group(0)),
                   words, flags=re.I)
    words = re.sub(r"\bde\b", " ", words)
    when = dateutil.parser.parse(words, dayfirst=True)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(zone))
    return when.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def load_times(path, roster, zone):
    """{student id: naive UTC} from an LMS table with a submission time per student.

    Moodle's grading worksheet (``Email address``/``Full name``, ``Last modified
    (submission)``) or any CSV with a student column (``id``, ``email`` or ``name``) and a
    ``submitted`` column.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    cols = {k.strip().lower(): k for k in rows[0] if k}
    time_col = next((cols[c] for c in ("last modified (submission)", "submitted", "submitted_at",
                                       "última modificação (envio)") if c in cols), None)
    who_cols = [cols[c] for c in ("id", "email address", "email", "endereço de email",
                                  "full name", "nome completo", "name") if c in cols]
    if time_col is None or not who_cols:
        raise ValueError(f"{path}: needs a submission time column and an e-mail or name column")
    times = {}
    for row in rows:
        for col in who_cols:
            student, _ = roster.find(row[col] or "") if roster else (None, None)
            if student is not None:
                stamp = parse_lms_time(row[time_col] or "", zone)
                if stamp is not None:
                    times[student.id] = stamp
                break
    return times


# ----------------------------------------------------------------------------- driver
def collect(zip_path, nb_id, root=ROOT, lms=None, roster_file=None, times_file=None, force=False):
    """Collect ``zip_path`` for assignment ``nb_id`` into ``root/submitted``; return the Report."""
    root = os.path.abspath(root)
    cfg_course = course_toml.load(root)
    lms = lms or cfg_course["lms"]
    if lms not in LAYOUTS:
        raise ValueError(f"unknown LMS {lms!r}; one of {sorted(LAYOUTS)}")
    if nb_id not in notebook_ids(root):
        raise ValueError(f"no assignment {nb_id!r} in solutions/ (one of {notebook_ids(root)})")
    zip_path = os.path.expanduser(zip_path)  # make passes ZIP=~/... quoted: dash leaves the ~
    if not os.path.exists(zip_path):
        raise ValueError(f"{zip_path}: no such file (the LMS download to collect)")
    if os.path.isdir(zip_path):
        raise ValueError(f"{zip_path} is a folder; give the .zip the LMS downloaded")
    if not zipfile.is_zipfile(zip_path):
        raise ValueError(f"{zip_path} is not a zip file")
    roster = roster_mod.load(root, roster_file or cfg_course["roster"])

    prepare_nbgrader()
    cfg = load_nbgrader_config(root, **{"Application.log_level": "ERROR"})
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = nb_id
    coursedir.release_directory = release_dir_for(nb_id)
    app = CourseZipCollect(coursedir=coursedir, config=cfg)
    app.force = force
    app.extractor_plugin = SafeExtractor
    app.collector_plugin = LmsCollector
    app.init_plugins()

    report = Report()
    downloaded = os.path.join(root, app.downloaded_directory)
    os.makedirs(downloaded, mode=0o700, exist_ok=True)
    os.chmod(downloaded, 0o700)
    archive = app._format_collect_path(app.archive_directory)
    extracted = app._format_collect_path(app.extracted_directory)
    for folder in (archive, extracted):  # scratch copies of this download only
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, mode=0o700)
    shutil.copyfile(zip_path, os.path.join(archive, os.path.basename(zip_path)))

    ext, col = app.extractor_plugin_inst, app.collector_plugin_inst
    ext.report = report
    col.lms, col.force, col.report, col.roster = lms, force, report, roster
    col.extracted_root, col.assignment = extracted, nb_id
    col.submitted_root = os.path.join(root, "submitted")
    col.assignment_ids = {a: _grade_ids(os.path.join(root, "solutions", a, a + ".ipynb")) or set()
                          for a in notebook_ids(root)}
    if times_file:
        col.times = load_times(os.path.expanduser(times_file), roster, cfg_course["timezone"])

    app.extract_archive_files()
    app.process_extracted_files()

    if roster is not None:
        roster.load_into_gradebook(coursedir.db_url, coursedir.course_id)
    for sid in col._chosen.values():
        for folder in (os.path.join(root, "submitted", sid),
                       os.path.join(root, "submitted", sid, nb_id)):
            os.chmod(folder, 0o700)
    if os.path.isdir(os.path.join(root, "submitted")):
        os.chmod(os.path.join(root, "submitted"), 0o700)
    with open(os.path.join(downloaded, nb_id, "report.txt"), "w", encoding="utf-8") as fh:
        fh.write(report.text() + "\n")
    collected = {sid: col.identities[sid] for sid in col._chosen.values()}
    unchanged = {sid: col.identities[sid] for st, _, d in report.rows if st == "unchanged"
                 for sid in [d.split(":")[0]] if sid in col.identities}
    save_identities(os.path.join(downloaded, nb_id, IDENTITIES), {**unchanged, **collected})
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip", help="the LMS download (a .zip)")
    parser.add_argument("id", help="assignment id, e.g. lista01_otimizadores")
    parser.add_argument("--lms", choices=sorted(LAYOUTS), default=None,
                        help="layout of the download (default: course.toml's lms)")
    parser.add_argument("--roster", default=None, help="roster CSV (default: students.csv)")
    parser.add_argument("--times", default=None,
                        help="CSV with submission times (Moodle's grading worksheet)")
    parser.add_argument("--force", action="store_true",
                        help="replace existing submissions that differ")
    args = parser.parse_args(argv)
    try:
        report = collect(args.zip, args.id, lms=args.lms, roster_file=args.roster,
                         times_file=args.times, force=args.force)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"collect: {exc}", file=sys.stderr)
        return 1
    print(report.text())
    print(f"report saved in downloaded/{args.id}/report.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
