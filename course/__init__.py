"""The course pipeline, one folder (wing) per stage (README, "What lives where"):

- ``release/``: student versions out (``make release``);
- ``lms/``: submissions in (``make collect``), grades and feedback out (``make export``);
- ``grading/``: ``make grade``, sandboxed;
- ``browser/``: what the instructor's browser shows (``make lab``, the formgrader).

Here: what every wing shares. The course's folders and ids, and nbgrader's configuration
(:func:`load_nbgrader_config` reads ``nbgrader_config.py``; :func:`traitlets_config` builds a
traitlets ``Config`` from ``{"Class.trait": value}``). ``course.toml``, the semester's settings,
is read by ``course/course_toml.py``. The grading sandbox mounts this file: it imports nothing
from the wings.
"""

import os
import sys

# jsonschema (imported by nbformat and nbgrader) loads rfc3987_syntax when it is installed,
# and that module compiles about 35 Lark parsers at import: 1.5-2.5 s of CPU in every course
# process (make grade and each of its workers, make collect, make export). It only checks the
# "iri" formats, which no schema of nbformat, Jupyter or nbgrader uses (jsonschema issue #1428,
# jupyter_server issue #1559); marked absent here, before any of them is imported (``python -m
# course.<wing>`` imports this package first), jsonschema skips those two checks.
sys.modules.setdefault("rfc3987_syntax", None)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"aula": "lectures", "lista": "assignments"}


def prepare_nbgrader():
    """What nbgrader needs in this process, called before it is used.

    - The venv's bin on PATH: nbgrader runs the venv's ``alembic`` (``nbgrader db upgrade``)
      and Jupyter finds its kernels there.
    - A new gradebook stamped without a subprocess: nbgrader's ``Gradebook`` asks a fresh
      ``alembic heads`` process for the revision to write into a new ``gradebook.db``
      (``nbgrader.api.get_alembic_version``): 2.5 s of CPU for each new course, each test's
      scratch course included. The same revision is read here, in this process, from the
      same migration scripts (tests/test_gradebook_stamp.py compares the two).
    """
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head


def alembic_head():
    """The revision of nbgrader's newest gradebook schema (its alembic head)."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def notebook_ids(root=ROOT):
    """Sorted ids ``<id>`` with a source ``solutions/<id>/<id>.ipynb``."""
    src = os.path.join(root, "solutions")
    if not os.path.isdir(src):
        return []
    return sorted(d for d in os.listdir(src)
                  if os.path.isfile(os.path.join(src, d, d + ".ipynb")))


def release_dir_for(nb_id):
    """``lectures`` for ids starting with ``aula``, ``assignments`` for ``lista``."""
    for prefix, folder in TARGETS.items():
        if nb_id.startswith(prefix):
            return folder
    raise ValueError(f"notebook id must start with one of {sorted(TARGETS)}, got {nb_id!r}")


def load_nbgrader_config(root=ROOT, **overrides):
    """The course's ``nbgrader_config.py`` with ``root`` and extra ``Class.trait`` overrides.

    ``overrides`` maps "Class.trait" strings to values, e.g.
    ``{"Execute.timeout": 5}`` (pass as ``**{"Execute.timeout": 5}``).
    """
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=ROOT).load_config()
    cfg.CourseDirectory.root = os.path.abspath(root)
    cfg.merge(traitlets_config(overrides))
    return cfg


def traitlets_config(overrides):
    """A traitlets ``Config`` from ``{"Class.trait": value}``."""
    from traitlets.config import Config

    cfg = Config()
    for key, value in overrides.items():
        cls, trait = key.split(".")
        cfg[cls][trait] = value
    return cfg


def make_api(root=ROOT, **overrides):
    """An ``NbGraderAPI`` for the course at ``root``."""
    prepare_nbgrader()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = load_nbgrader_config(root, **overrides)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
