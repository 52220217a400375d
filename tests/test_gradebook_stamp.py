"""A new gradebook is stamped with nbgrader's schema revision without a subprocess
(``course.prepare_nbgrader``): nbgrader's own way runs ``alembic heads`` in a new
interpreter, 2.5 s of CPU for every new course."""

import os
import sqlite3
import subprocess
import sys

from course import alembic_head, prepare_nbgrader

NBGRADERS_OWN = "from nbgrader.api import get_alembic_version; print(get_alembic_version())"


def test_the_revision_read_in_process_is_the_one_alembic_prints():
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    own = subprocess.run([sys.executable, "-c", NBGRADERS_OWN], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    assert own and alembic_head() == own


def test_a_new_gradebook_is_stamped_without_a_subprocess(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    prepare_nbgrader()

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_subprocess)
    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}", "t320"):
        pass
    stamped = sqlite3.connect(db).execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(alembic_head(),)]
