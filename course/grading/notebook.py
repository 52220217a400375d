"""What grading reads from a notebook: its test cells, setup cells and answer names.

Runs in the grading process. The trusted test process receives what it needs of the
instructor's source notebook (the ``grader-setup`` cells, the test cells, the answer
names) over its pipe; it never reads a course file.
"""

import ast
import contextlib
import re

TAG = "grader-setup"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    """An autograded test cell: a code cell with ``grade`` and without ``solution``."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def without_magics(source):
    """``source`` with IPython magic and shell lines (``%``, ``!``) blanked, same line numbers."""
    return re.sub(r"^\s*[%!].*$", "", source, flags=re.M)


def _target_names(node, out):
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)


def top_level_names(tree, imports=True):
    """Names a cell binds in the module namespace (not inside functions, classes, lambdas).

    With ``imports=False`` the names bound by ``import`` statements are left out.
    """
    names = set()

    def visit(stmts):
        for s in stmts:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(s.name)
            elif isinstance(s, (ast.Import, ast.ImportFrom)) and imports:
                for a in s.names:
                    names.add((a.asname or a.name).split(".")[0])
            elif isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for t in (s.targets if isinstance(s, ast.Assign) else [s.target]):
                    _target_names(t, names)
            elif isinstance(s, (ast.For, ast.AsyncFor)):
                _target_names(s.target, names)
            elif isinstance(s, (ast.With, ast.AsyncWith)):
                for item in s.items:
                    if item.optional_vars is not None:
                        _target_names(item.optional_vars, names)
            elif isinstance(s, ast.Try):
                for h in s.handlers:
                    if h.name:
                        names.add(h.name)
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(s, field, None)
                if inner and not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit([x for x in inner if isinstance(x, ast.stmt)] if field != "handlers"
                          else [y for h in inner for y in h.body])
            for n in ast.walk(s) if not isinstance(s, (ast.FunctionDef, ast.ClassDef)) else ():
                if isinstance(n, ast.NamedExpr):
                    names.add(n.target.id)

    visit(tree.body)
    return names


def setup_sources(source_nb):
    """Sources of the cells tagged ``grader-setup``, in order, magics blanked."""
    return [without_magics(c["source"]) for c in source_nb["cells"]
            if c.get("cell_type") == "code" and TAG in c.get("metadata", {}).get("tags", [])]


def answer_names(source_nb):
    """The student's answer names: what the solution cells bind, minus imports and setup."""
    names = set()
    for c in source_nb["cells"]:
        if c.get("cell_type") == "code" and nbgrader_meta(c).get("solution"):
            try:
                names |= top_level_names(ast.parse(without_magics(c["source"])), imports=False)
            except SyntaxError:
                continue
    for src in setup_sources(source_nb):
        with contextlib.suppress(SyntaxError):
            names -= top_level_names(ast.parse(src))
    return sorted(names)


def test_sources(source_nb):
    """{grade_id: source} of the source notebook's autograded test cells."""
    return {nbgrader_meta(c)["grade_id"]: c["source"] for c in source_nb["cells"]
            if is_test_cell(c) and nbgrader_meta(c).get("grade_id")}
