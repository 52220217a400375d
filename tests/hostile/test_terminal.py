"""A submission cannot write to the instructor's terminal while it is graded.

The notebook client receives a kernel's outputs over its sockets; the kernel's own file
descriptors 1 and 2 are inherited from whoever launched it, i.e. the terminal running
``make grade``. A submission that writes terminal escape sequences there with
``os.write(1, ...)`` could rewrite the lines the instructor reads (scores, "AUTOGRADE
FAILED"), set the window title, or fill the screen. In the sandbox (``course/grading/sandbox.py``)
the kernel's standard streams are /dev/null.

Graded in-process through ``course.grading.driver.grade``; pytest's ``capfd`` holds file descriptors
1 and 2 of this process, which the kernels inherit. The control grades the same submission
in a plain kernel (``use_sandbox=False``), where the text does reach them: so the check can
fail. Runs only as root (the sandbox is used only then; CI runs as root).
"""

import os
import shutil
import tempfile

import pytest


from tests.hostile.test_isolation import NB_ID, SOURCE, _probe_result, _submission, _submit  # noqa: E402

MARKER = "t320-terminal-%d" % os.getpid()

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox is used only as root")

_WRITER = '''import json, os
res = {{"stdout": os.write(1, b"\\x1b[2J\\x1b]0;{marker}\\x07{marker} stdout\\n"),
       "stderr": os.write(2, b"\\x1b[1A\\x1b[2K{marker} stderr\\n")}}
print("SONDA" + json.dumps(res))'''


def _course_with_writer():
    base = tempfile.mkdtemp(prefix="t320-term-")
    os.chmod(base, 0o711)
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    _submit(base, "escritor", _submission(_WRITER.format(marker=MARKER)))
    return base


def _grade_and_capture(capfd, use_sandbox):
    from course.grading.driver import grade

    base = _course_with_writer()
    try:
        capfd.readouterr()
        results = grade(base, pairs=[("escritor", NB_ID)], use_sandbox=use_sandbox,
                        feedback=False, csv=False)
        captured = capfd.readouterr()
        assert results[("escritor", NB_ID)]["success"], results[("escritor", NB_ID)]["log"][-2000:]
        return _probe_result(base, "escritor"), captured.out + captured.err
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_sandboxed_kernel_writes_nothing_to_the_graders_terminal(capfd):
    written, terminal = _grade_and_capture(capfd, use_sandbox=True)
    assert written["stdout"] > 0 and written["stderr"] > 0, written  # the writes happened
    assert MARKER not in terminal, "a submission wrote to the terminal running make grade"
    assert "Ctrl-C will not work" not in terminal  # nor does ipykernel's start-up banner


def test_control_a_plain_kernel_does_write_to_it(capfd):
    from course.grading import sandbox

    assert sandbox.UNSAFE not in os.environ
    written, terminal = _grade_and_capture(capfd, use_sandbox=False)
    assert written["stdout"] > 0
    assert MARKER in terminal, "the capture sees nothing: the sandboxed test proves nothing"
    # the unsandboxed run does not leave this process unsandboxed (a later grade or a hand-run
    # autograde in it would run its kernel without the sandbox)
    assert sandbox.UNSAFE not in os.environ, "grade(use_sandbox=False) left T320_UNSAFE set"
