"""What every generated student version gets, whoever generates it.

There are three ways to generate a student version: ``make release`` (``course.release.generate``),
``nbgrader generate_assignment`` and the formgrader's **Generate** button. All three run
nbgrader's ``GenerateAssignment`` with the course's ``nbgrader_config.py``, so that file
(block "semester") wires in what is here:

- :class:`ShowDueDate` (first preprocessor): the placeholder of the header cell,
  ``[DATA E HORA A DEFINIR PELO PROFESSOR]``, becomes the due date of ``course.toml``
  (``course.course_toml.due_text``). It runs before nbgrader locks the cells and computes their
  checksums, so the released header is the checked one. No date set: the placeholder stays.
- :class:`ColabCells` (last preprocessor): the "Abrir no Colab" badge and the install cell
  (``course/release/colab.py``).
- :func:`route_student_versions`: nbgrader has one release folder; this sends ``aula*`` ids
  to ``lectures/`` and ``lista*`` ids to ``assignments/`` (``course.release_dir_for``) by
  mapping the release step of ``CourseDirectory.format_path``, the one function every
  nbgrader app and the formgrader use to find a student version. Only a release folder
  named ``assignments`` or ``lectures`` is mapped, so a scratch release folder (``make
  release --out``, ``make grade``) is left alone.
"""

import os
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from course import ROOT, release_dir_for
from course import course_toml

PLACEHOLDER = "`[DATA E HORA A DEFINIR PELO PROFESSOR]`"


def _course_root(preprocessor):
    root = preprocessor.config.get("CourseDirectory", {}).get("root")
    return root if isinstance(root, str) and root else ROOT


class ShowDueDate(Preprocessor):
    """Replace the due-date placeholder of markdown cells by the date in ``course.toml``."""

    enabled = Bool(True)  # nbconvert preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        nb_id = resources.get("nbgrader", {}).get("assignment")
        if nb_id:
            when = course_toml.due_text(nb_id, _course_root(self))
            if when:
                for cell in nb.cells:
                    if cell.cell_type == "markdown" and PLACEHOLDER in cell.source:
                        cell.source = cell.source.replace(PLACEHOLDER, f"**{when}**")
        return nb, resources


class ColabCells(Preprocessor):
    """Put the Colab badge and install cell at the top of a student version."""

    enabled = Bool(True)

    def preprocess(self, nb, resources):
        from course.release.colab import add_colab_cells

        info = resources.get("nbgrader", {})
        nb_id, name = info.get("assignment"), info.get("notebook")
        if nb_id and name:
            try:
                folder = release_dir_for(nb_id)
            except ValueError:
                return nb, resources  # not course material (a fixture, a scratch id)
            add_colab_cells(nb, f"{folder}/{nb_id}/{name}.ipynb")
        return nb, resources


def route_student_versions():
    """Make ``CourseDirectory.format_path`` put ``aula*`` releases in ``lectures/`` (idempotent)."""
    from nbgrader.coursedir import CourseDirectory

    if getattr(CourseDirectory.format_path, "_t320_routed", False):
        return
    original = CourseDirectory.format_path

    def format_path(self, nbgrader_step, student_id, assignment_id, escape=False):
        if (nbgrader_step == self.release_directory and not os.path.isabs(nbgrader_step)
                and nbgrader_step in ("assignments", "lectures")
                and re.match(r"^(aula|lista)", assignment_id or "")):
            nbgrader_step = release_dir_for(assignment_id)
        return original(self, nbgrader_step, student_id, assignment_id, escape)

    format_path._t320_routed = True
    CourseDirectory.format_path = format_path
