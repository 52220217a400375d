"""Sample LMS downloads built by test code (no binary fixture in git): one per layout.

``entry_name(lms, name, filename, n)`` is where that LMS puts a file ``filename`` handed in
by the student called ``name`` (``n``: a running number standing for the LMS's own ids);
``build_zip(path, lms, files)`` writes a zip of ``(name, filename, data)`` triples. The
layouts are the ones docs/course.md ("Submissions in") describes.
"""

import re
import unicodedata
import zipfile

LMS = ("teams", "moodle", "canvas", "classroom")

ROSTER = [  # id, name, email
    ("2026001", "Ana Souza", "ana.souza@aluno.exemplo.br"),
    ("2026002", "Bruno Lima", "bruno.lima@aluno.exemplo.br"),
    ("2026003", "Carla Dias", "carla.dias@aluno.exemplo.br"),
    ("2026004", "João Sá Pereira", "joao.pereira@aluno.exemplo.br"),
]


def write_roster(path, rows=ROSTER):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,name,email\n")
        for row in rows:
            fh.write(",".join(row) + "\n")


def _canvas_name(name):
    """Canvas's ``lastnamefirstname``: sortable name folded, surname first."""
    words = name.split()
    folded = unicodedata.normalize("NFKD", words[-1] + "".join(words[:-1]))
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in folded if not unicodedata.combining(c)).lower())


def entry_name(lms, name, filename, n=1, late=False, title="Lista 1 - Otimizadores", folders=False):
    if lms == "teams":
        return f"Submitted files/{name}/{title}/{filename}"
    if lms == "moodle":
        prefix = f"{name}_{100 + n}_assignsubmission_file"
        return f"{prefix}/{filename}" if folders else f"{prefix}_{filename}"
    if lms == "canvas":
        return f"{_canvas_name(name)}{'_LATE' if late else ''}_{5000 + n}_{90000 + n}_{filename}"
    if lms == "classroom":
        return f"{name} - {filename}"
    raise ValueError(lms)


def build_zip(path, lms, files, **kw):
    """Write ``path``: ``files`` is a list of (student name, file name, bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, (name, filename, data) in enumerate(files, start=1):
            zf.writestr(entry_name(lms, name, filename, n, **kw), data)
    return path


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def variant(data, tag):
    """The same notebook with a marker in its metadata (a different file, same cells)."""
    import json

    nb = json.loads(data)
    nb.setdefault("metadata", {})["t320_test_variant"] = tag
    return json.dumps(nb).encode()

