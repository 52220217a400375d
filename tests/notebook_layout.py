"""How much of a notebook's demo code only draws: the counting rule of the layout targets.

A lecture is read for its idea; code that only builds figures or widgets belongs in
``nnlib/figures/`` and is reached by one call. This module measures a student version
(``lectures/`` or ``assignments/``) by a rule simple enough to state:

- **demo code**: the code cells that are neither nbgrader answer or test cells (``solution``
  or ``grade``) nor the Colab install cell (tag ``colab-install``); lines that are blank or only a
  comment are not counted; a line with a ``%`` magic is not counted.
- **figure line**: a line of a statement that draws. A simple statement draws when its
  text mentions one of the drawing APIs in ``DRAWING`` (``plt.``, ``ax.``, ``fig.``,
  ``widgets.``, ``interact``, ``display(``, ``LiveFigure``, ``figures.``, matplotlib,
  ipywidgets, IPython.display). A function or class draws, with all its lines, when any
  statement in it draws (the numbers a figure needs belong in the library, not in a
  plotting function). Any other compound statement (``for``, ``with``, ``if``, ...) draws,
  header and all, when every statement in its body draws; otherwise its header is demo
  code and each body statement is counted by this rule.
- **widget cell**: a demo cell that mentions ``widgets.``, ``interact`` or a
  ``figures.interativo_`` call; its size is its number of counted lines.

Targets (issue #14): in every notebook at most 25% of the demo lines are figure lines, and
no widget cell has more than 15 lines.
"""

import ast
import json
import re

DRAWING = re.compile(
    r"\bplt\.|\bax\w*\.|\bfig\w*\.|\bwidgets\.|\binteract\w*\(|\bdisplay\(|\bLiveFigure\b"
    r"|\bfigures\.|\bmatplotlib\b|\bipywidgets\b|\bIPython\.display\b")
WIDGET = re.compile(r"\bwidgets\.|\binteract\w*\(|\bfigures\.interativo_")
MAX_FIGURE_SHARE = 0.25
MAX_WIDGET_LINES = 15


def demo_cells(nb):
    """Sources of the demo code cells of a notebook dict (see the module docstring)."""
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = cell.get("metadata", {})
        nbg = meta.get("nbgrader", {})
        if nbg.get("solution") or nbg.get("grade"):
            continue
        if "colab-install" in meta.get("tags", []):
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        out.append(src)
    return out


def _counted(line):
    text = line.strip()
    return bool(text) and not text.startswith("#") and not text.startswith("%")


def _python(src):
    """The cell source with magics blanked (same line numbers), parsable by ``ast``."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.split("\n"))


def _draws(node, lines):
    """(draws?, figure line numbers) for one statement node."""
    body = [child for field in ("body", "orelse", "finalbody", "handlers")
            for child in getattr(node, field, []) or []]
    if isinstance(node, ast.ExceptHandler) or body:
        results = [_draws(child, lines) for child in body]
        definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if (any if definition else all)(d for d, _ in results):
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            return True, set(range(start, node.end_lineno + 1))
        return False, set().union(*(nums for _, nums in results))
    text = "\n".join(lines[node.lineno - 1:node.end_lineno])
    if DRAWING.search(text):
        return True, set(range(node.lineno, node.end_lineno + 1))
    return False, set()


def cell_counts(src):
    """(counted lines, figure lines) of one demo cell."""
    lines = src.split("\n")
    counted = {i + 1 for i, ln in enumerate(lines) if _counted(ln)}
    tree = ast.parse(_python(src))
    figure = set()
    for node in tree.body:
        figure |= _draws(node, lines)[1]
    return len(counted), len(figure & counted)


def measure(path):
    """{'demo_lines', 'figure_lines', 'figure_share', 'widget_cells': [line counts]}."""
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    demo = figure = 0
    widget_cells = []
    for src in demo_cells(nb):
        n, f = cell_counts(src)
        demo += n
        figure += f
        if WIDGET.search(src):
            widget_cells.append(n)
    share = figure / demo if demo else 0.0
    return {"demo_lines": demo, "figure_lines": figure, "figure_share": share,
            "widget_cells": widget_cells}


def layout_problems(path):
    """Messages for each target ``path`` misses (empty list: both targets met)."""
    m = measure(path)
    problems = []
    if m["figure_share"] > MAX_FIGURE_SHARE:
        problems.append(f"{m['figure_lines']} of {m['demo_lines']} demo lines only draw "
                        f"({m['figure_share']:.0%} > {MAX_FIGURE_SHARE:.0%})")
    big = [n for n in m["widget_cells"] if n > MAX_WIDGET_LINES]
    if big:
        problems.append(f"widget cells of {big} lines (at most {MAX_WIDGET_LINES})")
    return problems


if __name__ == "__main__":
    import glob

    for p in sorted(glob.glob("lectures/*/*.ipynb") + glob.glob("assignments/*/*.ipynb")):
        m = measure(p)
        print(f"{p.split('/')[1]:40s} demo {m['demo_lines']:4d} figure {m['figure_share']:4.0%}"
              f" widget cells {m['widget_cells']}")
