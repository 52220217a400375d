"""The formgrader's Autograde button does not run a submission's code as the instructor.

``make grade`` runs each submission in the sandbox kernel (``course/grading/sandbox.py``). The
formgrader in ``make lab`` has its own **Autograde** button, which asks the Jupyter server
(``POST /formgrader/api/submission/<id>/<student>/autograde``) to run nbgrader's autograde
in the server's own process, with the notebook's ordinary kernel: the student's code ran
there as the instructor, with every file of the course and the network. Now
``TrustedExecute`` puts a submission that arrives without ``make grade``'s sandbox settings
into the sandbox itself (a grader uid of its own, the sandbox kernel, its processes killed
afterwards); only ``course.grading --unsafe`` turns that off
(``TrustedExecute.allow_outside_sandbox``).

The submission's answer writes a file into the course folder, which only the instructor's
own process can do. The test starts JupyterLab in a scratch course as ``make lab`` does and
presses the button through the request the page sends: the grade is recorded, the write
failed inside the sandbox. The control runs the same autograde with the sandbox turned off
and sees the file appear, so the check can fail. Root only (the sandbox is used only then;
CI runs as root).
"""

import json
import os
import shutil
import tempfile
import urllib.request

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import labserver  # noqa: E402
from tests.hostile.test_isolation import NB_ID, SOURCE, _submission, _submit  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox is used only as root")

STUDENT = "invasor"
WROTE = "ESCRITO_NO_CURSO"
TROPHY = "instrutor-comprometido.txt"  # written into the course folder by the submission

_WRITER = '''import os
with open({path!r}, "w") as fh:
    fh.write("escrito pelo envio, com os direitos de quem o executou: uid %d" % os.getuid())
print("ESCRITO" + "_NO_CURSO")'''  # the joined marker appears only if the print ran


def _course():
    """A scratch course as an instructor has it: sources, a submission, the config, course/."""
    from course.grading.driver import prepare

    base = tempfile.mkdtemp(prefix="t320-fg-autograde-")
    os.chmod(base, 0o711)
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    _submit(base, STUDENT, _submission(_WRITER.format(path=os.path.join(base, TROPHY))))
    labserver.scratch_course(base, folders=())
    shutil.copytree(os.path.join(labserver.REPO, "course"), os.path.join(base, "course"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    prepare(base, [NB_ID], {})  # the assignment in the gradebook, as after make release
    return base


@pytest.fixture
def course():
    base = _course()
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _press_autograde(lab):
    """The request the formgrader's Autograde button sends; its JSON answer."""
    url = f"{lab.base}formgrader/api/submission/{NB_ID}/{STUDENT}/autograde?token={lab.token}"
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=180) as resp:
        return json.loads(resp.read())


def _graded_text(course):
    with open(os.path.join(course, "autograded", STUDENT, NB_ID, NB_ID + ".ipynb"),
              encoding="utf-8") as fh:
        return fh.read()


def _score(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course}/gradebook.db", "t320") as gb:
        return gb.find_submission(NB_ID, STUDENT).score


def test_autograde_button_grades_in_the_sandbox(course):
    log = os.path.join(labserver.artifacts_dir(), "fg-autograde-server.log")
    with labserver.LabServer(course, log) as lab:
        answer = _press_autograde(lab)
    assert not os.path.exists(os.path.join(course, TROPHY)), \
        "the formgrader's Autograde ran the submission's code as the instructor"
    assert answer["success"] is True, answer.get("log", "")[-3000:]
    text = _graded_text(course)
    assert WROTE not in text and ("PermissionError" in text or "FileNotFoundError" in text), \
        "the write should have run, and failed, inside the sandbox"
    assert _score(course) > 0, "the submission's other answer was not graded"


def test_hand_run_autograde_grades_in_the_sandbox_too(course):
    from course import make_api

    res = make_api(course).autograde(NB_ID, STUDENT, force=True, create=True)
    assert res["success"], res.get("log", "")[-3000:]
    assert not os.path.exists(os.path.join(course, TROPHY))
    assert WROTE not in _graded_text(course)


def test_control_outside_the_sandbox_the_code_runs_as_the_instructor(course):
    from course import make_api

    api = make_api(course, **{"TrustedExecute.allow_outside_sandbox": True})
    res = api.autograde(NB_ID, STUDENT, force=True, create=True)
    assert res["success"], res.get("log", "")[-2000:]
    assert os.path.exists(os.path.join(course, TROPHY)), \
        "the submission's write did not happen: the tests above prove nothing"
    assert WROTE in _graded_text(course)
