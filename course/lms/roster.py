"""The class roster, ``students.csv`` (columns ``id,name,email``, optionally ``first_name`` and
``last_name``), and who an LMS name is.

``id`` is the student's id in the course (the university's matrícula): the folder name in
``submitted/``, ``autograded/``, ``feedback/`` and the key of every export. LMS downloads
name students differently (MS Teams and Google Classroom by display name, Moodle by full
name, Canvas by its lower-cased ``sortable_name`` with the non-letters removed:
``silvamariada`` for "Maria da Silva"), so :meth:`Roster.find` matches a name, an e-mail or
an id, ignoring case, accents and punctuation, and in Canvas's surname-first order. A name
that fits two students fits none (it is reported, never guessed).

The gradebook (and so the formgrader, which lists "last name, first name") gets each
student's first and last names from the ``first_name``/``last_name`` columns when the roster
has them (Moodle's participant export has both). Without them the last name is the last word
with the particles before it ("Ana Maria da Silva" -> "Ana Maria" / "da Silva"): a compound
first name is never cut after its first word.
"""

import csv
import os
import re
import unicodedata

REQUIRED = ("id", "name", "email")
OPTIONAL = {"first_name": ("first_name", "first name", "nome"),
            "last_name": ("last_name", "last name", "surname", "sobrenome")}
# Portuguese particles that belong to the surname that follows them ("da Silva", "dos Santos")
PARTICLES = {"da", "de", "do", "das", "dos", "e", "d'"}


def _fold(text):
    """Lower case, no accents, only letters and digits: ``'João Sá-Lima'`` -> ``'joaosalima'``."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _words(name):
    return [w for w in re.split(r"[\s,_.\-]+", name) if w]


def split_name(name):
    """``(first, last)``: the last word with the particles before it is the last name."""
    words = name.split()
    if len(words) < 2:
        return name.strip(), ""
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


class Student:
    def __init__(self, sid, name, email, first_name=None, last_name=None):
        self.id, self.name, self.email = sid, name, email
        if first_name or last_name:
            self.first_name, self.last_name = (first_name or "").strip(), (last_name or "").strip()
        else:
            self.first_name, self.last_name = split_name(name)

    def keys(self):
        """Every folded spelling an LMS may use for this student."""
        words = [_fold(w) for w in _words(self.name)]
        keys = {_fold(self.id), _fold(self.name)}
        if self.email:
            keys |= {_fold(self.email), _fold(self.email.split("@")[0])}
        for i in range(1, len(words)):  # Canvas: surname(s) first ("Silva, Maria da")
            keys.add("".join(words[i:] + words[:i]))
        if self.first_name and self.last_name:  # both orders of the roster's own split
            keys |= {_fold(self.first_name + self.last_name), _fold(self.last_name + self.first_name)}
        return keys - {""}


class Roster:
    """The students of ``students.csv``; :meth:`find` maps an LMS name to one of them."""

    def __init__(self, students):
        self.students = list(students)
        ids = [s.id for s in self.students]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"roster: duplicate id(s) {dup}")
        self._by_key = {}
        for s in self.students:
            for key in s.keys():
                self._by_key.setdefault(key, set()).add(s.id)
        self._by_id = {s.id: s for s in self.students}

    @classmethod
    def load(cls, path):
        """Read ``path`` (UTF-8, with or without BOM, comma or semicolon separated)."""
        with open(path, newline="", encoding="utf-8-sig") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=",;") if sample else csv.excel
            rows = list(csv.DictReader(fh, dialect=dialect))
        if rows is None or not rows:
            return cls([])
        header = {k.strip().lower(): k for k in rows[0].keys() if k}
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; expected {list(REQUIRED)}")
        optional = {key: next((header[c] for c in names if c in header), None)
                    for key, names in OPTIONAL.items()}
        students = []
        for n, row in enumerate(rows, start=2):
            sid = (row[header["id"]] or "").strip()
            if not sid:
                continue
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", sid):
                raise ValueError(f"{path}:{n}: id {sid!r} must be letters, digits, '_', '.', '-' "
                                 "(it becomes a folder name)")
            extra = {key: (row[col] or "") if col else None for key, col in optional.items()}
            students.append(Student(sid, (row[header["name"]] or "").strip(),
                                    (row[header["email"]] or "").strip(), **extra))
        return cls(students)

    def __len__(self):
        return len(self.students)

    def __contains__(self, sid):
        return sid in self._by_id

    def get(self, sid):
        return self._by_id.get(sid)

    def find(self, lms_name):
        """``(student, None)`` or ``(None, reason)`` for a name/e-mail/id from an LMS download."""
        key = _fold(lms_name)
        ids = self._by_key.get(key, set())
        if len(ids) == 1:
            return self._by_id[next(iter(ids))], None
        if len(ids) > 1:
            return None, f"'{lms_name}' fits more than one student ({', '.join(sorted(ids))})"
        return None, f"'{lms_name}' is not in the roster"

    def load_into_gradebook(self, db_url, course_id):
        """Create or update every student of the roster in the gradebook; return the count."""
        from nbgrader.api import Gradebook

        with Gradebook(db_url, course_id) as gb:
            for s in self.students:
                gb.update_or_create_student(s.id, first_name=s.first_name,
                                            last_name=s.last_name, email=s.email or None)
        return len(self.students)


def load(root, filename="students.csv"):
    """The roster at ``root/filename``, or None when there is no such file."""
    path = os.path.join(root, filename)
    return Roster.load(path) if os.path.exists(path) else None
