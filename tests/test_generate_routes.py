"""Every way of generating a student version agrees with `make release` (issue 15, item 5).

nbgrader's own generation (the API the formgrader's Generate button calls, and the
`nbgrader generate_assignment` command) must write aula* to lectures/ and lista* to
assignments/, with the Colab cells, the same cells `make release` commits; the due date of
course.toml replaces the header's placeholder; the course-local exchange exists, so the
formgrader does not warn about it.
"""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from course import make_api
from notebook_session import notebook_path
from paths import ROOT

AULA, LISTA = "aula01_online_batch_minibatch", "lista01_otimizadores"


@pytest.fixture
def course(tmp_path):
    """A scratch course: sources, the config, the course package and pyproject.toml."""
    base = tmp_path / "course"
    for nb_id in (AULA, LISTA):
        shutil.copytree(os.path.join(ROOT, "solutions", nb_id), base / "solutions" / nb_id)
    shutil.copytree(os.path.join(ROOT, "course"), base / "course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy(os.path.join(ROOT, name), base / name)
    return str(base)


def cells(path):
    return [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]


def committed(nb_id, folder):
    return notebook_path(folder, nb_id)


def test_nbgrader_api_generation_goes_where_make_release_puts_it(course):
    api = make_api(course)  # what the formgrader's Generate button calls
    for nb_id, folder, other in ((AULA, "lectures", "assignments"), (LISTA, "assignments", "lectures")):
        res = api.generate_assignment(nb_id, force=True, create=True)
        assert res["success"], res.get("log")
        out = os.path.join(course, folder, nb_id, nb_id + ".ipynb")
        assert os.path.exists(out), f"{nb_id} not in {folder}/"
        assert not os.path.exists(os.path.join(course, other, nb_id))
        first = cells(out)[:2]
        assert "colab.research.google.com" in first[0][1] and first[1][0] == "code", "no Colab cells"
        assert cells(out) == cells(committed(nb_id, folder)), (
            f"{folder}/{nb_id}/{nb_id}.ipynb differs from what the source generates: after `make "
            f"release` (a new due date in course.toml, an edited solutions/{nb_id}), commit the "
            f"regenerated version with its source: git add solutions/{nb_id} {folder}/{nb_id} course.toml")


def test_nbgrader_command_line_generation_agrees(course):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    res = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"),
                          "generate_assignment", AULA, "--force"], cwd=course, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = os.path.join(course, "lectures", AULA, AULA + ".ipynb")
    assert cells(out) == cells(committed(AULA, "lectures"))
    assert not os.path.exists(os.path.join(course, "assignments", AULA))


def test_due_date_of_course_toml_is_shown_in_the_released_header(course):
    with open(os.path.join(course, "course.toml"), "w", encoding="utf-8") as fh:
        fh.write(f'timezone = "America/Sao_Paulo"\n[assignments.{LISTA}]\ndue = "2026-09-18 23:59"\n')
    from course.release.generate import release

    release([LISTA], root=course)
    text = "\n".join(src for _, src in cells(os.path.join(course, "assignments", LISTA, LISTA + ".ipynb")))
    assert "**Prazo de entrega:** **sexta-feira, 18/09/2026, 23:59 (America/Sao_Paulo)**" in text
    assert "A DEFINIR PELO PROFESSOR" not in text
    from nbgrader.validator import Validator

    # the dated header is the checksummed one: nbgrader sees no changed locked cell
    problems = Validator().validate(os.path.join(course, "assignments", LISTA, LISTA + ".ipynb"))
    assert "changed" not in problems, problems.get("changed")


def test_without_a_due_date_the_placeholder_stays(course):
    from course.release.generate import release

    release([LISTA], root=course)
    text = open(os.path.join(course, "assignments", LISTA, LISTA + ".ipynb"), encoding="utf-8").read()
    assert "[DATA E HORA A DEFINIR PELO PROFESSOR]" in text


def test_course_local_exchange_exists_so_the_formgrader_does_not_warn(course):
    api = make_api(course)
    assert api.exchange_missing is False
    assert os.path.isdir(os.path.join(ROOT, "exchange"))
