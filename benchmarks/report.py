"""Where the benchmarks write: their own sections of docs/performance.md, between markers."""

from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def replace_between(text, markers, body):
    """``text`` with what stands between the two marker lines replaced by ``body``."""
    start, end = text.index(markers[0]) + len(markers[0]), text.index(markers[1])
    return text[:start] + "\n" + body + "\n" + text[end:]


def write_section(markers, body, path=PERFORMANCE_MD):
    """Rewrite one generated section of docs/performance.md."""
    path.write_text(replace_between(path.read_text(), markers, body))


def publish(markers, body, write):
    """Print a benchmark's report; with ``write``, also into its section of docs/performance.md."""
    print(body)
    if write:
        write_section(markers, body)
