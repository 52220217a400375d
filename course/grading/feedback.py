"""Feedback without hidden tests, in the source AND in the outputs.

nbgrader's ``ClearHiddenTests`` removes the hidden block from a test cell's source, but a
failing test cell's traceback quotes the source around the failing line: when a visible
check fails, IPython prints the lines after it, which are the first hidden tests. This
preprocessor runs before ``ClearHiddenTests`` (while the hidden block is still in the
source) and replaces every output line that quotes a hidden line.

``FeedbackExporter`` is the exporter nbgrader writes the feedback HTML with
(``nbgrader_config.py``): nbconvert's own, compiling its templates once per process.
"""

import re

import jinja2
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
REDACTED = "[linha de teste oculto removida]"


def hidden_lines(source):
    """The stripped, non-empty lines between the hidden-test markers of a cell's source."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip().startswith(BEGIN):
            inside = True
        elif line.strip().startswith(END):
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def scrub(text, secrets):
    """``text`` with every line that quotes one of ``secrets`` replaced by REDACTED."""
    out = []
    for line in text.split("\n"):
        plain = ANSI.sub("", line)
        out.append(REDACTED if any(s in plain for s in secrets) else line)
    return "\n".join(out)


class ScrubHiddenTestOutputs(Preprocessor):
    """Remove quotes of hidden tests from error tracebacks and printed text."""

    def preprocess_cell(self, cell, resources, index):
        secrets = hidden_lines(cell.source) if cell.cell_type == "code" else []
        if not secrets:
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [scrub(t, secrets) for t in output.get("traceback", [])]
                output["evalue"] = scrub(output.get("evalue", ""), secrets)
            elif output.get("output_type") == "stream":
                output["text"] = scrub(output.get("text", ""), secrets)
            for key in ("text/plain", "text/html"):
                if key in output.get("data", {}):
                    output["data"][key] = scrub(output["data"][key], secrets)
        return cell, resources


UNSAFE_FOOTER = ("**Corrigido sem sandbox** (`make grade UNSAFE=1`): o código desta entrega "
                 "rodou com as permissões do professor, sem o isolamento de costume.")


class UnsafeGradingFooter(Preprocessor):
    """A last cell on the feedback page of a notebook graded without a sandbox.

    ``TrustedExecute`` marks such a notebook (``metadata.t320_grading.sandbox`` false) when
    ``make grade UNSAFE=1`` ran it; the instructor and the student both see it.
    """

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_markdown_cell

        if nb.metadata.get("t320_grading", {}).get("sandbox") is False:
            nb.cells.append(new_markdown_cell(UNSAFE_FOOTER))
        return nb, resources


class _TemplatesInMemory(jinja2.BytecodeCache):
    """Compiled jinja templates kept for the life of the process, checked against the
    template's source (jinja stores a checksum in each bucket and recompiles on a change)."""

    def __init__(self):
        self._code = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter (the same templates, filters and sanitizing) that compiles
    its templates once per grading process: nbgrader makes a new exporter for every
    feedback file, and compiling the feedback templates took 0.15 s each time."""

    _compiled = _TemplatesInMemory()

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = self._compiled
        return environment
