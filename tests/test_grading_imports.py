"""The course's processes (make grade and its workers, make collect, make export) do not build
rfc3987_syntax's ~35 Lark parsers (1.5-2.5 s of CPU per process) that jsonschema would import
for the "iri" formats no notebook or Jupyter schema uses (course/__init__.py)."""

import subprocess
import sys

CODE = ("import sys, course.grading.driver, course.lms.collect, course.lms.export, nbformat\n"
        "print(sys.modules.get('rfc3987_syntax', 'never imported'))\n"
        "nb = nbformat.v4.new_notebook(); nbformat.validate(nb); print('valid')\n")


def test_the_driver_keeps_rfc3987_syntax_out_and_notebooks_still_validate():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "valid"], out
