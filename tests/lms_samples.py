"""Sample LMS downloads built by test code (no binary fixture in git), named as each LMS names them.

Each builder follows the LMS's own code or documentation:

- Canvas, "Download Submissions" (``lib/content_zipper.rb`` of canvas-lms): the student's
  ``sortable_name`` ("Silva, Maria da": Canvas takes the last word as the surname), lower-cased;
  ``LATE`` when the submission is late; the user id; joined by ``_``; then every character
  that is not a word character (letter of any alphabet, digit, ``_``) removed, so accents stay
  (``conceiçãoanamaria``). Older Canvas lower-cased the whole string (``_late_``), current
  Canvas only the name (``_LATE_``). Then ``_<attachment id>_<file name>``; a file handed in
  again under the same name is renamed by Canvas ``name-1.ext``.
- Moodle, "Download all submissions" (``mod/assign/locallib.php``): the prefix is
  ``<Full name>_<participant id>`` (``_`` in the name becomes a space); with "Download
  submissions in folders" (the default since 3.1) each file is in the folder
  ``<prefix>_assignsubmission_file_/`` (trailing underscore up to Moodle 4.0) or
  ``<prefix>_assignsubmission_file/`` (4.1 and later); without folders the file is
  ``<prefix>_assignsubmission_file_<file name>``.
- MS Teams, the class team's SharePoint "Student Work" folder downloaded from the Files tab:
  ``Student Work/Submitted files/<Display name>/<Assignment title>/<file>``.
- Google Classroom, "Make a copy for each student": Drive names each copy
  ``<Student name> - <file>``; the assignment's Drive folder downloaded as a zip has the
  folder itself at the top (``<Assignment title>/<Student name> - <file>``), a selection of
  files does not.

``entry_name(lms, name, filename, n, ...)`` is where that LMS puts file ``filename`` handed in
by the student ``name`` (``n`` stands for the LMS's own ids); ``build_zip(path, lms, files)``
writes a zip of ``(name, filename, data)`` triples.
"""

import re
import unicodedata
import zipfile

LMS = ("teams", "moodle", "canvas", "classroom")

ROSTER = [  # id, name, email: Brazilian names with accents, particles and compound first names
    ("2026001", "Ana Souza", "ana.souza@aluno.exemplo.br"),
    ("2026002", "Bruno Lima", "bruno.lima@aluno.exemplo.br"),
    ("2026003", "Carla Dias", "carla.dias@aluno.exemplo.br"),
    ("2026004", "João Sá Pereira", "joao.pereira@aluno.exemplo.br"),
    ("2026005", "Maria da Silva", "maria.silva@aluno.exemplo.br"),
    ("2026006", "Ana Maria Conceição", "ana.conceicao@aluno.exemplo.br"),
    ("2026007", "Letícia Araújo", "leticia.araujo@aluno.exemplo.br"),
    ("2026008", "José Antônio dos Santos", "jose.santos@aluno.exemplo.br"),
]


def write_roster(path, rows=ROSTER):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,name,email\n")
        for row in rows:
            fh.write(",".join(row) + "\n")


# ----------------------------------------------------------------------------- Canvas
def canvas_sortable_name(name):
    """Canvas's default ``sortable_name``: the last word is the surname ("Silva, Maria da")."""
    words = name.split()
    return f"{words[-1]}, {' '.join(words[:-1])}" if len(words) > 1 else name


def canvas_prefix(name, user_id, late=False, legacy=False):
    """``ContentZipper#get_filename``: [sortable name lower-cased, LATE, user id] joined, non-word removed."""
    users_name = canvas_sortable_name(unicodedata.normalize("NFC", name))
    users_name = re.sub(r"_(\d+)_", r"\1", users_name).lower()
    filename = "_".join([users_name] + (["LATE"] if late else []) + [str(user_id)])
    filename = re.sub(r"[^\w]", "", filename)
    return filename.lower() if legacy else filename


def canvas_entry(name, filename, user_id, attachment_id, late=False, legacy=False):
    safe = re.sub(r'[\x00/\\:*?"<>|]+', "_", filename)
    return f"{canvas_prefix(name, user_id, late, legacy)}_{attachment_id}_{safe}"


def canvas_reupload_name(filename, times=1):
    """The display name Canvas gives a file handed in again under the same name."""
    stem, dot, ext = filename.rpartition(".")
    return f"{stem}-{times}.{ext}" if dot else f"{filename}-{times}"


# ----------------------------------------------------------------------------- Moodle
def moodle_prefix(name, participant):
    return f"{name.replace('_', ' ')}_{participant}"


def moodle_entry(name, filename, participant, folders=True, trailing=True):
    prefix = f"{moodle_prefix(name, participant)}_assignsubmission_file"
    if not folders:
        return f"{prefix}_{filename}"
    return f"{prefix}{'_' if trailing else ''}/{filename}"


# ----------------------------------------------------------------------------- Teams, Classroom
def teams_entry(name, filename, title="Lista 1 - Otimizadores"):
    return f"Student Work/Submitted files/{name}/{title}/{filename}"


def classroom_entry(name, filename, top=None):
    entry = f"{name} - {filename}"
    return f"{top}/{entry}" if top else entry


def ids_for(n):
    """Stand-ins for the LMS's own ids of the n-th student (1-based)."""
    return {"user_id": 48210 + n, "attachment_id": 7730400 + 13 * n, "participant": 1190360 + n}


def entry_name(lms, name, filename, n=1, late=False, legacy=False, folders=True, trailing=True,
               title="Lista 1 - Otimizadores", top=None):
    ids = ids_for(n)
    if lms == "teams":
        return teams_entry(name, filename, title)
    if lms == "moodle":
        return moodle_entry(name, filename, ids["participant"], folders, trailing)
    if lms == "canvas":
        return canvas_entry(name, filename, ids["user_id"], ids["attachment_id"], late, legacy)
    if lms == "classroom":
        return classroom_entry(name, filename, top)
    raise ValueError(lms)


def build_zip(path, lms, files, **kw):
    """Write ``path``: ``files`` is a list of (student name, file name, bytes) or
    (student name, file name, bytes, {entry_name options for this file})."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, item in enumerate(files, start=1):
            name, filename, data = item[:3]
            opts = {**kw, **(item[3] if len(item) > 3 else {})}
            opts.setdefault("n", n)
            zf.writestr(entry_name(lms, name, filename, **opts), data)
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
