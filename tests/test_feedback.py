"""Feedback hides hidden tests also where a traceback quotes them.

A visible check that fails makes IPython print the lines after it, which are the first
hidden tests; ``course.grading.feedback.ScrubHiddenTestOutputs`` must remove them from the outputs
before nbgrader's ``ClearHiddenTests`` removes them from the source.
"""

import re

import nbformat
from nbclient import NotebookClient


from course.grading.feedback import REDACTED, ScrubHiddenTestOutputs, hidden_lines  # noqa: E402

TEST_CELL = """# Testa f
x = f()
assert x == 2, "f() deve devolver 2"
### BEGIN HIDDEN TESTS
assert f() + 1 == 3, "segredo_um"
segredo_dois = [f() for _ in range(3)]
### END HIDDEN TESTS
"""


def executed_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def f():\n    return 1"), nbformat.v4.new_code_cell(TEST_CELL)]
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    return nb


def all_output_text(nb):
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts += out.get("traceback", []) + [out.get("text", ""), out.get("evalue", "")]
    return "\n".join(parts)


def test_hidden_lines_are_the_lines_between_the_markers():
    assert hidden_lines(TEST_CELL) == ['assert f() + 1 == 3, "segredo_um"', "segredo_dois = [f() for _ in range(3)]"]


def test_a_real_traceback_quotes_hidden_lines_and_the_preprocessor_removes_them():
    nb = executed_notebook()
    before = all_output_text(nb)
    assert "segredo_um" in before  # IPython really quotes the lines after the failing one
    nb, _ = ScrubHiddenTestOutputs().preprocess(nb, {})
    after = all_output_text(nb)
    assert "segredo_um" not in after and "segredo_dois" not in after
    assert REDACTED in after
    assert "f() deve devolver 2" in after  # the visible failure message stays


def test_configured_before_clear_hidden_tests():
    from course import load_nbgrader_config

    order = list(load_nbgrader_config().GenerateFeedback.preprocessors)
    assert order.index("course.grading.feedback.ScrubHiddenTestOutputs") < order.index("nbgrader.preprocessors.ClearHiddenTests")


def test_feedback_exporter_writes_what_nbconverts_html_exporter_writes_and_compiles_once():
    """The feedback HTML is nbconvert's HTMLExporter page (same templates, sanitizing filters);
    only the compiled templates are kept between files."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    from course import load_nbgrader_config
    from course.grading.feedback import FeedbackExporter

    config = load_nbgrader_config()
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    assert converter.exporter_class is FeedbackExporter
    nb = executed_notebook()
    resources = {"nbgrader": {"notebook": "lista", "score": 1.0, "max_score": 2.0, "late_penalty": 0}}

    def export(exporter_class):
        return exporter_class(config=converter.config).from_notebook_node(nb, resources=dict(resources))[0]

    plain, first = export(HTMLExporter), export(FeedbackExporter)
    compiled = dict(FeedbackExporter._compiled._code)
    assert compiled  # the templates were compiled into the shared cache
    second = export(FeedbackExporter)
    strip_ids = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert strip_ids.sub("", first) == strip_ids.sub("", plain) == strip_ids.sub("", second)
    assert FeedbackExporter._compiled._code == compiled  # the second file compiled nothing new
    assert "lista (Score: 1.0 / 2.0)" in first  # nbgrader's feedback template
