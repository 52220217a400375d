"""nbgrader configuration: the repository root is the course.

Sources live in ``solutions/<id>/<id>.ipynb``. nbgrader has a single release folder, so
``course/release/generate.py`` sets ``release_directory`` per notebook: ids starting with ``aula``
go to ``lectures/``, ids starting with ``lista`` to ``assignments/``. ``make grade``
(``course/grading/driver.py``) runs student code in the sandboxed ``t320-grader`` kernel.
"""

import os
import sys

c = get_config()  # noqa: F821 - injected by traitlets

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "t320"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            ".*", "*.bak", "*.orig"]

# The course root on sys.path, set here once: every course.* module below, imported or named
# by a string that nbgrader and nbconvert import, is found from it (`jupyter lab`, the
# formgrader, does not have the course root on sys.path otherwise).
if c.CourseDirectory.root not in sys.path:
    sys.path.insert(0, c.CourseDirectory.root)

# per-cell wall-clock limit while grading (seconds); every bound of grading is in
# course/grading/limits.py
from course.grading import limits as _limits  # noqa: E402

c.Execute.timeout = _limits.CELL_TIMEOUT_S

# After the last cell the kernel is asked to shut down. Now and then ipykernel hangs on its
# way out (its control thread waits on a stdout flush while the main thread joins it), and
# jupyter_client waits half of shutdown_wait_time (default 5 s) before SIGTERM: 2.5 s lost
# per submission, seen on 1 kernel in 2 in the sandbox. Every output has been received by
# then, so terminate after 0.5 s (healthy kernels exit within 0.1-0.35 s).
c.KernelManager.shutdown_wait_time = _limits.KERNEL_SHUTDOWN_WAIT_S

# feedback must not show hidden tests: neither in the source nor quoted by a traceback
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "course.grading.feedback.ScrubHiddenTestOutputs",
    "nbgrader.preprocessors.ClearHiddenTests",
    "course.grading.feedback.UnsafeGradingFooter",
]
# nbgrader's HTMLExporter with its templates compiled once per grading process, not per file
c.GenerateFeedback.exporter_class = "course.grading.feedback.FeedbackExporter"

# ---- BEGIN student markup is inert (course/browser/safe_html.py) ----
# The formgrader's manual-grading page and the feedback HTML are HTMLExporter pages of the
# student's notebook: without this, a submission's <script>, Javascript(...) output,
# <img onerror=...> or raw HTML in a markdown answer runs in the instructor's browser with
# the instructor's Jupyter session. sanitize_html makes nbconvert's templates clean HTML and
# markdown outputs and leave out JavaScript and widget outputs; the two filters make that
# cleaning keep ordinary formatting and extend it to markdown cells, which nbgrader's own
# templates render without cleaning. PNG figures are untouched.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {
    "clean_html": "course.browser.safe_html.clean_html",
    "markdown2html": "course.browser.safe_html.SafeMarkdown2HTML",
}
# ---- END student markup is inert ----

# ---- BEGIN trusted tests (course/grading/execute.py) ----
# Autograded test cells run in a trusted process, not in the student's kernel: the student's
# code cannot rewrite, read or fake them. TrustedExecute takes the place of nbgrader's Execute
# (same Execute.* settings); the rest of nbgrader's autograde pipeline is unchanged.
from nbgrader.converters import Autograde as _Autograde  # noqa: E402
from nbgrader.preprocessors import Execute as _Execute  # noqa: E402

c.Autograde.autograde_preprocessors = [
    "course.grading.execute.TrustedExecute" if step is _Execute else step
    for step in _Autograde.class_traits()["autograde_preprocessors"].default()]
# ---- END trusted tests ----

# ---- BEGIN semester (course/release/student_version.py, course/lms/late.py, course.toml) ----
# Every way of generating a student version (make release, `nbgrader generate_assignment`,
# the formgrader's Generate button) writes aula* to lectures/ and lista* to assignments/,
# shows the due date of course.toml in the header and adds the Colab cells.
from course import course_toml as _course_toml  # noqa: E402
from course.release.student_version import route_student_versions  # noqa: E402
from nbgrader.converters import GenerateAssignment as _GenerateAssignment  # noqa: E402

route_student_versions()
c.GenerateAssignment.preprocessors = (
    ["course.release.student_version.ShowDueDate"]
    + list(_GenerateAssignment.class_traits()["preprocessors"].default())
    + ["course.release.student_version.ColabCells"])
# nbgrader's late-submission penalty, applied when a submission has a timestamp.txt (make
# collect writes it when the LMS gives a time). The plugin reads course.toml's [late]
# penalty_per_day of the course it grades: the one place the penalty is set.
c.AssignLatePenalties.plugin_class = "course.lms.late.PerDayPenalty"
# The formgrader tells the truth (course/browser/formgrader_view.py): every time in course.toml's time
# zone (a 23:59 local deadline reads 23:59, not 02:59 UTC), and a late submission's score
# after the penalty of the rule on its current total (manual grades included), with the
# penalty next to its submission time.
c.NbGraderAPI.timezone = _course_toml.load(c.CourseDirectory.root)["timezone"]
c.NbGraderAPI.timestamp_format = "%d/%m/%Y %H:%M %Z"
from course.browser import formgrader_view as _formgrader_view  # noqa: E402

_formgrader_view.install()
# A single-machine course: the exchange (nbgrader's release/fetch/submit between Unix
# accounts) lives in the course, so the formgrader finds it and shows no "exchange
# directory does not exist" warning. Students get their notebooks through the LMS.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
os.makedirs(c.Exchange.root, exist_ok=True)
# ---- END semester ----
