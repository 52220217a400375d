"""Exercises that measure learning: three rules a program can check in every source notebook.

Each rule reads the instructor sources ``solutions/<id>/<id>.ipynb`` statically (``ast``,
``tokenize`` and the cells' text and stored outputs); nothing is executed.

1. **One contract per function name.** A function (or class) defined at the top level of a
   solution cell (the answer stub the student fills in) has a contract: its signature (parameter
   names, kinds, order and defaults), its errors (the exception classes its body raises,
   ``NotImplementedError`` left out, and the ones its docstring names) and its return kind
   (``generator`` when the body yields; otherwise the types of its ``return`` expressions
   when they are plain: a literal, a list/tuple/dict display or comprehension, or a call of
   ``float``/``int``/``bool``/``list``/``tuple``/``dict``/``str``). Two definitions of the
   same name, in two notebooks or in one, must have the same signature and errors, and must
   not have two different known return kinds. A class's contract is the signatures of its
   ``__init__`` and public methods and the errors they raise. Otherwise code a student reuses from an aula
   loses points in a lista without warning: rename one of them.

2. **Visible tests do not reveal the values of the hidden tests.** In a test cell (grade,
   not solution) the *visible part* is the source before ``### BEGIN HIDDEN TESTS`` and the
   *hidden part* the source after it. The *expected values* of the hidden part are the
   literal numbers and literal number arrays (a list/tuple display of number literals, or
   ``np.array`` of one) given as the expected argument of a ``checks`` comparison
   (``check_close``, ``check_scalar``, ``check_agrees``: second argument
   or ``expected=``) or compared with ``==``/``!=``/``<``/... or ``abs(x - L)``. The rule
   fails when

   a. a hidden expected number whose value is not trivial (see ``TRIVIAL``) appears in the
      visible part, as a code literal or written in a comment or a string (``0,25`` or
      ``0.25``), or a hidden expected array appears there as a whole (same numbers, same
      order; constant arrays excepted, as in b); the visible part may use the same *inputs* as the hidden one, only not its
      answers;
   b. a visible ``checks.check_close`` or ``checks.check_scalar`` compares against a literal
      number that is not trivial, or against a literal array that is not constant (``[0.0,
      0.0]``, "the difference is zero", states a property): on failure they print
      "recebi ..., esperava <the literal>" (``check_agrees``/``check_true``
      print only their message, and ``check_close`` against a value the cell
      computes, e.g. ``sorted(indices)`` against ``range(N)``, is a property check);
   c. a visible message (an f-string) interpolates a value right after "esperava",
      "esperado", "deveria ser", "deveria dar" or "deve ser/dar ≈/igual a" (the words that
      announce an expected value).

3. **No numeric answer of a hand-graded question appears above it.** For each hand-graded
   question (a markdown cell with nbgrader ``solution`` and ``grade``, or a ``task`` cell),
   the *answer numbers* are the numbers of its model answer (the cell's text, nbgrader
   answer markers removed) that are not trivial and not data of the question. A number is
   *trivial* when it is an integer from 0 to 12, or a power of ten (10, 100, 1000, 0.1,
   0.01, ...), or 0.5; it is *data* when it is a literal in the code of a cell above the
   question (the parameters the student sees and could change: ``alpha = 0.3``, ``m = 20``,
   ``seeds = (10, 11, 12)``) or is written in the question's own statement as the value of a
   symbol (``$\\alpha = 0{,}3$``, ``m = 20``) — a statement that says "o passo cai 16 vezes"
   is not data, it is the answer. The rule fails when an answer number appears in a
   markdown cell or in a stored output (stream or ``text/plain``) of a cell above the
   question. Numbers match by value at the precision the answer writes them: ``≈ 0,744`` in
   the answer is revealed by ``0.7441`` printed above (both round to 0.744), not by
   ``0.75``; an integer answer (``98`` iterations) only by the same integer.

4. **A visible failure message does not answer a written question.** The *messages* of a test
   cell's visible part are its string literals (f-strings with their fields left out). The rule
   fails when a message shares a run of ``QUOTED_WORDS`` consecutive words with the model answer
   of a hand-graded question of the same notebook (a sentence of it, in other words), or writes
   one of its answer numbers (rule 3's numbers: not trivial, not data of the question).

5. **Stub docstrings are Portuguese.** Every docstring of a ``def`` or ``class`` (methods
   included) in a solution cell is student-facing: it is in the stub the student fills in. The
   rule fails when a docstring reads as English (more English function words than Portuguese
   ones, see ``looks_english``).

6. **Every autograded exercise has named wrong answers its visible test rejects.** Each
   notebook's test module (``tests/lectures/test_<id>.py``) defines ``WRONG_ANSWERS =
   {grade_id: {name: source}}``: for each test cell, the misconceptions the exercise is about,
   each as code that redefines the answer (it may call ``right_<name>``, the model solution
   kept under another name). A module may also define ``WRONG_ANSWERS_SETUP`` (code run once in
   the kernel before the cases, e.g. mutant functions) and ``ANSWER_OF = {grade_id: answer name}``;
   then a wrong answer may be an expression, bound to the answer's name (``"m_fv_fan_out"``). The rule runs the source notebook as the grader does, and for each
   entry runs the wrong answer, then the *visible* part of the test cell: it must raise
   ``AssertionError`` from a check of ``nnlib.checks`` itself, not a ``NameError``/``TypeError``
   crash, nor a ``raise AssertionError`` written in the test cell (a test cell fails only through
   ``nnlib.checks``), nor an error raised by the answer's own code. Every autograded ``grade_id``
   needs at least one entry.

7. **A test cell fails only through ``nnlib.checks``.** No ``assert`` statement and no ``raise
   AssertionError`` in a test cell (visible or hidden part): a failure a student sees is a
   check's, in the check vocabulary, and a test of the test cell can tell it from a crash (rule
   6). The one exception is a guard of the hidden tests against their own calibration (its
   message says "mal calibrado"): if it fails, the test is broken, not the answer.
"""

import ast
import importlib.util
import io
import math
import os
import re
import tokenize

import nbformat
import pytest


from course import notebook_ids
from course.grading.notebook import without_magics
from notebook_session import NotebookSession, Verdict, notebook_path
from paths import TESTS

IDS = notebook_ids()
HIDDEN = "### BEGIN HIDDEN TESTS"
COMPARISONS = {"check_close", "check_scalar", "check_agrees"}
PRINTS_EXPECTED = {"check_close", "check_scalar"}
RETURN_CALLS = {"float", "int", "bool", "list", "tuple", "dict", "str"}


def src_path(nb_id):
    return notebook_path("solutions", nb_id)


def read(nb_id):
    return nbformat.read(src_path(nb_id), as_version=4)


def nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell):
    return cell.cell_type == "code" and nbg(cell).get("grade") and not nbg(cell).get("solution")


def is_question(cell):
    meta = nbg(cell)
    return cell.cell_type == "markdown" and ((meta.get("solution") and meta.get("grade")) or meta.get("task"))


def parse(source):
    return ast.parse(without_magics(source))


# ---------------------------------------------------------------------------------------
# numbers


def is_trivial(value):
    """0..12, 0.5 and the powers of ten: numbers any text uses, that reveal nothing."""
    value = abs(value)
    if value == int(value) and value <= 12:
        return True
    if value == 0.5:
        return True
    exponent = math.log10(value) if value > 0 else 0.0
    return abs(exponent - round(exponent)) < 1e-12


def _plain_number(node):
    """The value of a number literal node (``-0.3`` included), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _plain_number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def literal_array(node):
    """The numbers of a literal array (list/tuple display of numbers, or np.array of one)."""
    if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("array", "asarray") and node.args:
        node = node.args[0]
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        out = []
        for elt in node.elts:
            value = _plain_number(elt)
            if value is None:
                inner = literal_array(elt)
                if inner is None:
                    return None
                out.extend(inner)
            else:
                out.append(value)
        return tuple(out)
    return None


# A number as people write it: 0,744  0{,}744  0.744  20 000  10_000  1e-3  (the sign apart)
NUMBER = re.compile(r"(?:(?<![\w)}\]])([-−]))?(?<![\w.,{}])(\d{1,3}(?:[  ]\d{3})+(?![\d,.])|\d[\d_]*(?:(?:\{,\}|,|\.)\d+)?(?:[eE][-+]?\d+)?)")


APPROXIMATE = re.compile(r"(≈|~|\\approx|\\sim|cerca de|aproximadamente|quase|umas?|uns)\s*\$?\s*$")


def written_numbers_with_context(text):
    """(value, decimals, approximate) of each number written in ``text`` (Portuguese or Python style).

    ``decimals`` is None for scientific notation; ``approximate`` says the text writes it as a
    rounded result ("≈ 16", "cerca de 10", "\\approx 0{,}84").
    """
    found = []
    for match in NUMBER.finditer(text):
        raw = match.group(2)
        raw = raw.replace("{,}", ".").replace(" ", "").replace("\u202f", "").replace("_", "")
        if re.fullmatch(r"\d+,\d+", raw):
            raw = raw.replace(",", ".")
        try:
            value = -float(raw) if match.group(1) else float(raw)
        except ValueError:
            continue
        mantissa = re.split(r"[eE]", raw)[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        if re.search(r"[eE]", raw):
            decimals = None  # scientific notation: compare by value
        approximate = bool(APPROXIMATE.search(text[max(0, match.start() - 20):match.start()]))
        found.append((value, decimals, approximate))
    return found


def numbers_in_text(text):
    """(value, decimals) of each number written in ``text``."""
    return [(value, decimals) for value, decimals, _ in written_numbers_with_context(text)]


def reveals(shown, answer, decimals, approximate=False):
    """True when a number ``shown`` above gives away ``answer`` written with ``decimals`` decimals.

    A number written with d decimals is given away by any number that rounds to it at d
    decimals; an integer only by itself, unless the answer writes it as approximate ("≈ 16"),
    then by any number that rounds to it (16.2).
    """
    if decimals is None:
        return math.isclose(shown, answer, rel_tol=1e-9)
    if decimals == 0 and not approximate:
        return shown == answer
    return round(shown, decimals) == round(answer, decimals) and shown != 0


# ---------------------------------------------------------------------------------------
# rule 1: one contract per function name


def _return_kind(node):
    if isinstance(node, (ast.List, ast.ListComp)):
        return "list"
    if isinstance(node, ast.Tuple):
        return "tuple"
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return "dict"
    if isinstance(node, ast.Constant) and node.value is not None:
        return type(node.value).__name__
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in RETURN_CALLS:
        return node.func.id
    return None


def _own_nodes(function):
    """Nodes of ``function``'s body, nested functions, lambdas and classes left out."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append(child)


def _exception_name(node):
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def contract(function):
    """The contract of a ``def`` node: signature, errors, return kind (see the module docstring)."""
    raises, returns, generator = set(), set(), False
    for node in _own_nodes(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            name = _exception_name(node.exc)
            if name and name != "NotImplementedError":
                raises.add(name)
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            generator = True
        elif isinstance(node, ast.Return) and node.value is not None:
            returns.add(_return_kind(node.value))
    doc = ast.get_docstring(function) or ""
    raises |= set(re.findall(r"\b([A-Z]\w*(?:Error|Exception))\b", doc)) - {"NotImplementedError"}
    if generator:
        kind = "generator"
    elif returns and None not in returns and len(returns) == 1:
        kind = returns.pop()
    else:
        kind = None  # a program cannot tell
    return {"signature": ast.unparse(function.args), "errors": tuple(sorted(raises)), "returns": kind}


def class_contract(node):
    """The contract of a ``class`` node: its ``__init__`` and public methods' signatures, their errors."""
    methods = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
               and (m.name == "__init__" or not m.name.startswith("_"))]
    terms = {m.name: contract(m) for m in methods}
    return {"signature": "; ".join(f"{name}({terms[name]['signature']})" for name in sorted(terms)),
            "errors": tuple(sorted({e for t in terms.values() for e in t["errors"]})),
            "returns": "class"}


def definition_contract(node):
    """The contract of a top-level ``def`` or ``class`` node."""
    return class_contract(node) if isinstance(node, ast.ClassDef) else contract(node)


def answer_functions(nb_id, nb):
    """(name, where, contract) of every top-level def and class in the solution cells of ``nb``."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and nbg(cell).get("solution"):
            for node in parse(cell.source).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    yield node.name, f"{nb_id} célula {index}", definition_contract(node)


def contract_conflicts(definitions):
    """Messages for the names of ``definitions`` [(name, where, contract)] with two contracts."""
    by_name = {}
    for name, where, terms in definitions:
        by_name.setdefault(name, []).append((where, terms))
    problems = []
    for name, places in sorted(by_name.items()):
        first_where, first = places[0]
        for where, terms in places[1:]:
            differences = [f"{key}: {first[key]!r} em {first_where}, {terms[key]!r} em {where}"
                           for key in ("signature", "errors")
                           if first[key] != terms[key]]
            if first["returns"] and terms["returns"] and first["returns"] != terms["returns"]:
                differences.append(f"returns: {first['returns']!r} em {first_where}, "
                                   f"{terms['returns']!r} em {where}")
            if differences:
                problems.append(f"{name} tem dois contratos ({'; '.join(differences)}): "
                                "dê o mesmo contrato ou outro nome")
    return problems


# ---------------------------------------------------------------------------------------
# rule 2: visible tests do not reveal the hidden values


def _call_name(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _expected_argument(call):
    for keyword in call.keywords:
        if keyword.arg == "expected":
            return keyword.value
    return call.args[1] if len(call.args) > 1 else None


def compared_literals(tree):
    """The literal numbers and arrays ``tree`` compares against (its expected values)."""
    numbers, arrays = set(), set()

    def add(node):
        if node is None:
            return
        value = _plain_number(node)
        if value is not None:
            numbers.add(value)
            return
        array = literal_array(node)
        if array is not None:
            arrays.add(array)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in COMPARISONS:
            add(_expected_argument(node))
        elif isinstance(node, ast.Compare) and all(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            for operand in [node.left, *node.comparators]:
                add(operand)
        elif isinstance(node, ast.Call) and _call_name(node) == "abs" and node.args \
                and isinstance(node.args[0], ast.BinOp) and isinstance(node.args[0].op, ast.Sub):
            add(node.args[0].right)
    return numbers, arrays


def split_test_cell(source):
    if HIDDEN not in source:
        return source, ""
    visible, hidden = source.split(HIDDEN, 1)
    return visible, hidden


def written_numbers(source):
    """Every number of ``source``: code literals, and numbers written in comments and strings."""
    values = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    try:
        for token in tokens:
            if token.type == tokenize.NUMBER:
                try:
                    values.append(float(ast.literal_eval(token.string.replace("_", ""))))
                except (ValueError, SyntaxError):
                    pass
            elif token.type in (tokenize.COMMENT, tokenize.STRING) or \
                    token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                values.extend(value for value, _ in numbers_in_text(token.string))
    except (tokenize.TokenError, IndentationError):
        pass
    return values


EXPECTED_WORDS = re.compile(
    r"(esperava|esperado|deveria ser|deveria dar|deve (?:ser|dar) (?:≈|igual a|cerca de))\s*[:=]?\s*\{",
    re.IGNORECASE)


def visible_leaks(label, visible, hidden):
    """Messages for what the visible part of a test cell reveals (rule 2, a-c)."""
    problems = []
    hidden_numbers, hidden_arrays = compared_literals(parse(hidden)) if hidden.strip() else (set(), set())
    visible_numbers = written_numbers(visible)
    for value in sorted(hidden_numbers):
        if not is_trivial(value) and any(math.isclose(abs(value), abs(v), rel_tol=1e-12) for v in visible_numbers):
            problems.append(f"{label}: a parte visível mostra {value!r}, um valor esperado dos testes ocultos")
    try:
        visible_tree = parse(visible)
    except SyntaxError:
        return problems + [f"{label}: a parte visível não é Python válido"]
    visible_arrays = {literal_array(node) for node in ast.walk(visible_tree)} - {None}
    for array in sorted(hidden_arrays):
        if len(set(array)) > 1 and array in visible_arrays:
            problems.append(f"{label}: a parte visível mostra o array {list(array)}, esperado nos testes ocultos")
    for node in ast.walk(visible_tree):
        if isinstance(node, ast.Call) and _call_name(node) in PRINTS_EXPECTED:
            expected = _expected_argument(node)
            value = _plain_number(expected) if expected is not None else None
            array = literal_array(expected) if expected is not None else None
            if (value is not None and not is_trivial(value)) or (array is not None and len(set(array)) > 1):
                problems.append(f"{label}, linha {node.lineno}: checks.{_call_name(node)} visível contra o "
                                f"literal {ast.unparse(expected)} imprime 'esperava {ast.unparse(expected)}'")
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "{" for part in node.values)
            if EXPECTED_WORDS.search(text):
                problems.append(f"{label}, linha {node.lineno}: mensagem visível imprime o valor esperado "
                                f"({ast.unparse(node)[:80]})")
    return problems


def visible_test_problems(nb_id, nb):
    problems = []
    for index, cell in enumerate(nb.cells):
        if is_test_cell(cell):
            visible, hidden = split_test_cell(cell.source)
            problems += visible_leaks(f"{nb_id} célula {index} ({nbg(cell).get('grade_id')})", visible, hidden)
    return problems


# ---------------------------------------------------------------------------------------
# rule 3: no numeric answer above its question


ANSWER_MARKERS = re.compile(r"^\s*(###|===) (BEGIN|END) SOLUTION.*$", re.M)


def data_numbers(statement, code_above):
    """Values that are data of a question: literals of the code above it, exact numbers of its statement."""
    values = set()
    for source in code_above:
        values |= set(written_numbers_code_only(source))
    for match in NUMBER.finditer(statement):
        if not APPROXIMATE.search(statement[max(0, match.start() - 20):match.start()]):
            values |= {value for value, _ in numbers_in_text(match.group(0))}
    return values


def written_numbers_code_only(source):
    values = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(without_magics(source)).readline):
            if token.type == tokenize.NUMBER:
                try:
                    values.append(float(ast.literal_eval(token.string.replace("_", ""))))
                except (ValueError, SyntaxError):
                    pass
    except (tokenize.TokenError, IndentationError):
        pass
    return values


def cell_outputs_text(cell):
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        elif "data" in output:
            texts += [output["data"][kind] for kind in ("text/plain", "text/markdown") if kind in output["data"]]
    return "\n".join(texts)


def is_answer_cell(cell):
    """A cell the student writes (its text, code and outputs are the student's, not the notebook's)."""
    return bool(nbg(cell).get("solution"))


def answer_numbers(nb, index):
    """(value, decimals, approximate) of the numbers of question ``index``'s model answer, not trivial nor data."""
    above = nb.cells[:index]
    statement_start = max((i for i, c in enumerate(above) if nbg(c).get("grade")), default=-1) + 1
    statement = "\n".join(c.source for c in above[statement_start:] if c.cell_type == "markdown")
    code_above = [c.source for c in above if c.cell_type == "code" and not is_answer_cell(c)]
    data = data_numbers(statement, code_above)
    answer = ANSWER_MARKERS.sub("", nb.cells[index].source)
    return {(v, d, approximate) for v, d, approximate in written_numbers_with_context(answer)
            if not is_trivial(v) and not any(math.isclose(abs(v), abs(x), rel_tol=1e-12) for x in data)}


def shown_above(nb, index):
    """(where, text) of what the student reads above cell ``index``: markdown and outputs.

    The outputs are those of ``nb`` as given: the tests pass the notebook executed as a
    student runs it (the sources are stored without outputs).
    """
    for i, cell in enumerate(nb.cells[:index]):
        if is_answer_cell(cell):
            continue
        if cell.cell_type == "markdown":
            yield f"markdown da célula {i}", cell.source
        elif cell.cell_type == "code":
            yield f"saída da célula {i}", cell_outputs_text(cell)


def question_problems(nb_id, nb):
    problems = []
    for index, cell in enumerate(nb.cells):
        if not is_question(cell):
            continue
        numbers = sorted(answer_numbers(nb, index), key=lambda vd: vd[0])
        for where, text in shown_above(nb, index):
            shown = [value for value, _ in numbers_in_text(text)]
            for value, decimals, approximate in numbers:
                if any(reveals(s, value, decimals, approximate) for s in shown):
                    problems.append(f"{nb_id} célula {index} ({nbg(cell).get('grade_id')}): a resposta usa "
                                    f"{value:g}, que aparece antes, na {where}")
    return problems


# ---------------------------------------------------------------------------------------
# rule 4: no model answer in a visible failure message

QUOTED_WORDS = 6
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def words(text):
    """The lower-case words of ``text``, math and markdown marks left out."""
    text = re.sub(r"\$[^$]*\$", " ", text)
    return [w.lower() for w in WORD.findall(text)]


def message_strings(source):
    """The string literals of ``source`` (f-strings without their fields): its messages."""
    try:
        tree = parse(source)
    except SyntaxError:
        return []
    inside_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                       for part in node.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append(" ".join(p.value for p in node.values if isinstance(p, ast.Constant)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside_fstrings:
            out.append(node.value)
    return [m for m in out if m.strip()]


def shared_run(message, answer, n=QUOTED_WORDS):
    """The first run of ``n`` consecutive words ``message`` shares with ``answer``, or None."""
    answer_runs = {tuple(answer[i:i + n]) for i in range(len(answer) - n + 1)}
    for i in range(len(message) - n + 1):
        if tuple(message[i:i + n]) in answer_runs:
            return " ".join(message[i:i + n])
    return None


def message_problems(nb_id, nb):
    """Messages of visible tests that quote a model answer or write one of its numbers (rule 4)."""
    answers = [(index, nbg(cell).get("grade_id"), words(ANSWER_MARKERS.sub("", cell.source)), answer_numbers(nb, index))
               for index, cell in enumerate(nb.cells) if is_question(cell)]
    problems = []
    for index, cell in enumerate(nb.cells):
        if not is_test_cell(cell):
            continue
        visible, _ = split_test_cell(cell.source)
        label = f"{nb_id} célula {index} ({nbg(cell).get('grade_id')})"
        for message in message_strings(visible):
            for q_index, q_id, answer_words, numbers in answers:
                run = shared_run(words(message), answer_words)
                if run:
                    problems.append(f"{label}: a mensagem {message[:60]!r} cita a resposta modelo de "
                                    f"{q_id} (célula {q_index}): '{run}'")
                shown = [value for value, _ in numbers_in_text(message)]
                for value, decimals, approximate in sorted(numbers):
                    if any(reveals(v, value, decimals, approximate) for v in shown):
                        problems.append(f"{label}: a mensagem {message[:60]!r} escreve {value:g}, um número da "
                                        f"resposta modelo de {q_id} (célula {q_index})")
    return problems


# ---------------------------------------------------------------------------------------
# rule 5: stub docstrings in Portuguese

ENGLISH_WORDS = {"the", "of", "and", "is", "are", "to", "for", "with", "returns", "return", "given", "each",
                 "from", "by", "an", "in", "on", "this", "that", "its", "be", "updated", "place", "over",
                 "mean", "one", "which", "when", "if", "or", "as", "into", "it", "at", "new", "same", "raises"}
PORTUGUESE_WORDS = {"o", "os", "as", "de", "do", "da", "dos", "das", "que", "e", "é", "com", "para", "um",
                    "uma", "em", "no", "na", "nos", "nas", "pelo", "pela", "se", "não", "cada", "ao", "à",
                    "devolve", "recebe", "sobre", "após", "entre", "quando", "mesmo", "seu", "sua"}


def looks_english(text):
    """True when ``text`` has more English function words than Portuguese ones (and at least 2)."""
    tokens = words(text)
    english = sum(t in ENGLISH_WORDS for t in tokens)
    portuguese = sum(t in PORTUGUESE_WORDS for t in tokens)
    return english >= 2 and english > portuguese


def stub_docstrings(nb):
    """(cell index, qualified name, docstring) of every def/class docstring in the solution cells."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not nbg(cell).get("solution"):
            continue
        try:
            tree = parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                doc = ast.get_docstring(node)
                if doc:
                    yield index, node.name, doc


def docstring_problems(nb_id, nb):
    return [f"{nb_id} célula {index}: a docstring de {name} está em inglês ({doc[:60]!r}): "
            "escreva-a em português (o aluno a lê no esqueleto)"
            for index, name, doc in stub_docstrings(nb) if looks_english(doc)]


# ---------------------------------------------------------------------------------------
# rule 6: named wrong answers that the visible tests reject


def notebook_test_module(nb_id):
    return os.path.join(TESTS, "lectures", f"test_{nb_id}.py")


def wrong_answers_module(nb_id):
    spec = importlib.util.spec_from_file_location(f"_rules_{nb_id}", notebook_test_module(nb_id))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wrong_answers_of(nb_id):
    """``WRONG_ANSWERS`` of the notebook's test module, or None when it defines none."""
    return getattr(wrong_answers_module(nb_id), "WRONG_ANSWERS", None)


def is_expression(source):
    try:
        ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return False
    return True


def wrong_answer_source(grade_id, source, answer_of):
    """``source`` as code that defines the answer: an expression is bound to ``answer_of[grade_id]``."""
    if not is_expression(source):
        return source
    if grade_id not in answer_of:
        raise ValueError(f"{grade_id}: a resposta errada {source[:40]!r} é uma expressão, e ANSWER_OF não "
                         "diz a que nome ela se liga")
    return f"{answer_of[grade_id]} = ({source.strip()})"


def autograded_ids(nb):
    return [nbg(cell)["grade_id"] for cell in nb.cells if is_test_cell(cell)]


def missing_wrong_answers(nb, wrong):
    """Messages for autograded grade_ids without a named wrong answer, and entries of no test cell."""
    ids = autograded_ids(nb)
    problems = [f"{grade_id}: nenhuma resposta errada nomeada em WRONG_ANSWERS"
                for grade_id in ids if not (wrong or {}).get(grade_id)]
    problems += [f"{grade_id}: em WRONG_ANSWERS, mas não é uma célula de teste do caderno"
                 for grade_id in (wrong or {}) if grade_id not in ids]
    return problems


WRONG_ANSWER = "<resposta errada>"


def not_defined(message, traceback=""):
    """The verdict of a wrong answer that could not even be defined (the rule's setup is wrong)."""
    return Verdict(outcome="broken", error="definição", message=message, raised_in=WRONG_ANSWER,
                   traceback=traceback)


def wrong_answer_verdict(session, source, test_source, label):
    """The ``Verdict`` (tests/notebook_session.py) of the visible test ``test_source`` run as
    ``label`` after the wrong answer ``source``: rejected only by the AssertionError of a check of
    ``nnlib.checks``; broken by a crash, by the cell's own ``raise`` or by the answer's own error."""
    defined = session.verdict(source, filename=WRONG_ANSWER)
    if not defined.passed:
        return not_defined(f"{defined.error}: {defined.message}", defined.traceback)
    return session.verdict(test_source, filename=label)


def solution_cells_defining(nb, names):
    """Sources of the solution cells that define any of ``names`` at top level."""
    out = []
    for cell in nb.cells:
        if cell.cell_type == "code" and nbg(cell).get("solution"):
            defined = top_level_names(cell.source)
            if defined & names:
                out.append(cell.source)
    return out


def top_level_names(source):
    names = set()
    for node in parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def wrong_answer_verdicts(nb_id, wrong, setup="", answer_of=None):
    """{(grade_id, name): verdict} of every named wrong answer against its visible test."""
    answer_of = answer_of or {}
    nb = read(nb_id)
    tests = {nbg(cell)["grade_id"]: split_test_cell(cell.source)[0] for cell in nb.cells if is_test_cell(cell)}
    answer_names = {name for cell in nb.cells if cell.cell_type == "code" and nbg(cell).get("solution")
                    for name in top_level_names(cell.source)}
    verdicts = {}
    with NotebookSession(src_path(nb_id), timeout=180, env={"NBGRADER_EXECUTION": "autograde"}) as session:
        session.run("\n".join(f"right_{name} = {name}" for name in sorted(answer_names)))
        if setup:
            session.run(setup)
        for grade_id, cases in wrong.items():
            if grade_id not in tests:
                continue
            label = f"<teste visível {grade_id}>"
            for name, source in cases.items():
                try:
                    source = wrong_answer_source(grade_id, source, answer_of)
                except ValueError as error:
                    verdicts[grade_id, name] = not_defined(str(error))
                    continue
                verdicts[grade_id, name] = wrong_answer_verdict(session, source, without_magics(tests[grade_id]),
                                                                label)
                for restore in solution_cells_defining(nb, top_level_names(source)):
                    session.run(restore)
    return verdicts


# ---------------------------------------------------------------------------------------
# the tests


def test_one_contract_per_function_name():
    definitions = [d for nb_id in IDS for d in answer_functions(nb_id, read(nb_id))]
    assert len(definitions) >= 10  # the rule reads the answer functions of every notebook
    problems = contract_conflicts(definitions)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("nb_id", IDS)
def test_visible_tests_do_not_reveal_hidden_values(nb_id):
    problems = visible_test_problems(nb_id, read(nb_id))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("nb_id", IDS)
def test_no_numeric_answer_above_its_question(nb_id, executed_source):
    nb = read(nb_id)
    if any(is_question(cell) and answer_numbers(nb, i) for i, cell in enumerate(nb.cells)):
        # the outputs are what the student reads above the question: the source run as a
        # student runs it (demos and widgets included), tests/conftest.py's shared run
        nb = executed_source(nb_id).nb
    problems = question_problems(nb_id, nb)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("nb_id", IDS)
def test_visible_messages_do_not_quote_a_model_answer(nb_id):
    problems = message_problems(nb_id, read(nb_id))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("nb_id", IDS)
def test_stub_docstrings_are_portuguese(nb_id):
    problems = docstring_problems(nb_id, read(nb_id))
    assert not problems, "\n".join(problems)


CALIBRATION_GUARD = "mal calibrado"


def own_failures(source):
    """Lines of ``source`` that fail the cell by themselves: ``assert`` statements and ``raise
    AssertionError``, except a calibration guard (rule 7)."""
    lines = []
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.Assert):
            lines.append(node.lineno)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "AssertionError" \
                    and CALIBRATION_GUARD not in ast.unparse(node.exc):
                lines.append(node.lineno)
    return sorted(lines)


def own_failure_problems(nb_id, nb):
    return [f"{nb_id} {nbg(cell).get('grade_id')}: line {line} fails the cell by itself; "
            "use a check of nnlib.checks (check_true, check_raises, ...)"
            for cell in nb.cells if is_test_cell(cell) for line in own_failures(cell.source)]


def test_own_failure_rule_finds_asserts_and_raises_but_not_calibration_guards():
    assert own_failures("x = 1\nassert x == 1\nif x:\n    raise AssertionError('não')\n") == [2, 4]
    assert own_failures("raise AssertionError\n") == [1]
    assert own_failures("raise AssertionError('teste oculto mal calibrado: erro x')\n") == []
    assert own_failures("checks.check_true(x == 1, 'não')\nraise ValueError('x')\n") == []


@pytest.mark.parametrize("nb_id", IDS)
def test_test_cells_fail_only_through_checks(nb_id):
    problems = own_failure_problems(nb_id, read(nb_id))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("nb_id", IDS)
def test_visible_tests_reject_the_named_wrong_answers(nb_id):
    """Each autograded exercise lists wrong answers (WRONG_ANSWERS in its test module); the
    visible test rejects each one with its own check's AssertionError."""
    nb = read(nb_id)
    module = wrong_answers_module(nb_id)
    wrong = getattr(module, "WRONG_ANSWERS", None)
    problems = missing_wrong_answers(nb, wrong)
    if wrong:
        verdicts = wrong_answer_verdicts(nb_id, wrong, getattr(module, "WRONG_ANSWERS_SETUP", ""),
                                         getattr(module, "ANSWER_OF", {}))
        for (grade_id, name), verdict in verdicts.items():
            if not verdict.rejected:
                problems.append(f"{grade_id}, resposta errada {name!r}: "
                                + ("o teste visível a aceita" if verdict.passed else
                                   f"ela não pôde ser definida ({verdict.message[:120]}): falta "
                                   "WRONG_ANSWERS_SETUP ou ANSWER_OF no módulo de testes?"
                                   if verdict.error == "definição" else
                                   f"o teste visível quebrou com {verdict.error} em {verdict.raised_in} "
                                   f"({verdict.message.splitlines()[0][:80] if verdict.message else ''}), "
                                   "não com a falha de uma verificação"))
    assert not problems, f"{nb_id}:\n" + "\n".join(problems)


# --- the rules can fail: the contradictions and leaks issue #13 found, rebuilt small ------


def _defs(where, source):
    return [(node.name, where, definition_contract(node)) for node in ast.parse(source).body]


def test_contract_rule_catches_a_generator_and_a_list_of_the_same_name():
    aula = _defs("aula01", "def minibatch_indices(N, m, rng):\n    yield from range(N)\n")
    lista = _defs("lista02", "def minibatch_indices(N, m, rng):\n    return [i for i in range(N)]\n")
    (problem,) = contract_conflicts(aula + lista)
    assert "minibatch_indices" in problem and "generator" in problem and "aula01" in problem


def test_contract_rule_catches_other_errors_and_other_parameters():
    aula = _defs("aula02", "def linear_decay(j, alpha0, alpha_tau, tau):\n"
                           "    if tau <= 0:\n        raise ValueError('tau')\n    return 0.0\n")
    lista = _defs("lista01", "def linear_decay(j, alpha0, alpha_tau, tau):\n"
                             "    if j < 0:\n        raise IndexError('j')\n    return 0.0\n")
    other = _defs("lista01", "def linear_decay(j, alpha0, alpha_tau, tau=100):\n"
                             "    '''ValueError se tau <= 0.'''\n    return 0.0\n")
    assert len(contract_conflicts(aula + lista)) == 1
    assert "signature" in contract_conflicts(aula + other)[0]
    same = _defs("lista01", "def linear_decay(j, alpha0, alpha_tau, tau):\n"
                            "    '''ValueError se tau <= 0.'''\n    raise NotImplementedError()\n")
    assert contract_conflicts(aula + same) == []  # the stub of the same contract


def test_visible_rule_catches_a_literal_expected_and_an_esperava_message():
    visible = ("checks.check_close(adagrad_step(w, g)[0], [0.25, 4.0, 4.0])\n"
               "if x != 0.744:\n    raise AssertionError(f'recebi {x}, esperava {0.744}')\n")
    hidden = "checks.check_scalar(f(3), 0.744)\n"
    problems = visible_leaks("c", visible, hidden)
    assert any("0.744" in p and "ocultos" in p for p in problems)
    assert any("[0.25, 4.0, 4.0]" in p for p in problems)
    assert any("mensagem" in p for p in problems)


def test_visible_rule_spares_properties_targets_and_shared_inputs():
    visible = ("x = f(np.array([0.3, 0.7]))\n"
               "checks.check_close(sorted(lotes), list(range(10)))\n"
               "checks.check_close(diferenca, [0.0, 0.0])\n"
               "if not J <= 0.24:\n    raise AssertionError(f'J = {J:.3f} > 0.24')\n")
    hidden = "x = f(np.array([0.3, 0.7]))\nif not J <= 0.24:\n    raise AssertionError('x')\n" \
             "checks.check_scalar(f(0.3), 1.5)\n"
    assert visible_leaks("c", visible, hidden) == []


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_question_rule_catches_a_printed_answer_and_spares_the_data():
    demo = nbformat.v4.new_code_cell("alpha, m = 0.3, 20\nprint(razao)")
    demo.outputs = [nbformat.v4.new_output("stream", text="razão = 16\n")]
    statement = nbformat.v4.new_markdown_cell("Com $\\alpha = 0{,}3$ e $m = 20$, o patamar cai ≈ 4,7 vezes. Explique.")
    answer = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nCom α = 0,3 e m = 20 ele cai 16 vezes "
                                           "(previsão 4,7) e 0,16 no fim.\n### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "p", "points": 2}
    problems = question_problems("nb", _notebook(demo, statement, answer))
    assert any("16" in p and "saída da célula 0" in p for p in problems)      # printed above
    assert any("4.7" in p and "markdown da célula 1" in p for p in problems)  # a ≈ result, not data
    assert not any(" 0.3" in p or " 20," in p or "0.16" in p for p in problems)  # data; not shown


def test_contract_rule_reads_classes():
    aula = _defs("aula03", "class MyMomentum:\n    def __init__(self, alpha, mu=0.9):\n        pass\n"
                           "    def step(self, params, grad_fn):\n        pass\n")
    lista = _defs("lista01", "class MyMomentum:\n    def __init__(self, alpha, mu):\n        pass\n"
                             "    def step(self, params, grad_fn):\n        pass\n")
    (problem,) = contract_conflicts(aula + lista)
    assert "MyMomentum" in problem and "mu=0.9" in problem


def _test_cell(source, grade_id="teste_f"):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id, "points": 2}
    return cell


def _question(text, grade_id="pergunta"):
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": grade_id, "points": 2}
    return cell


def test_message_rule_catches_a_quoted_model_answer_and_its_numbers():
    question = _question("### BEGIN SOLUTION\nCom ReLU e He a variância de z fica a mesma em todas as "
                         "camadas; com Xavier ela cai pela metade a cada camada, até 0,031 na quinta.\n"
                         "### END SOLUTION")
    quoting = _test_cell("checks.check_true(ok, 'com ReLU e He a variância de z fica a mesma em todas as camadas')")
    number = _test_cell("checks.check_true(ok, f'a variância na quinta camada deveria ser perto de 0,031: {v}')")
    problems = message_problems("nb", _notebook(question, quoting, number))
    assert len(problems) == 2
    assert "cita a resposta modelo" in problems[0] and "variância de z fica a mesma" in problems[0]
    assert "0.031" in problems[1]


def test_message_rule_spares_contract_messages_and_hidden_parts():
    question = _question("### BEGIN SOLUTION\nA variância dobra quando m cai pela metade.\n### END SOLUTION")
    contract = _test_cell("checks.check_true(ok, 'a variância deveria mudar com m: confira o fator 2/m')\n"
                          "### BEGIN HIDDEN TESTS\n"
                          "checks.check_true(ok, 'A variância dobra quando m cai pela metade.')\n")
    assert message_problems("nb", _notebook(question, contract)) == []


def test_docstring_rule_catches_english_and_spares_portuguese():
    stub = nbformat.v4.new_code_cell(
        "def local_gradient(x, d, w):\n"
        "    \"\"\"Gradient of J_n(w) = (d - w^T x)^2 for one example (x, d) of the linear model.\"\"\"\n"
        "    raise NotImplementedError()\n\n\n"
        "class MyMomentum:\n"
        "    \"\"\"Momentum: v <- mu * v - alpha * g;  w <- w + v (params updated in place).\"\"\"\n\n"
        "    def step(self, params, grad_fn):\n"
        "        \"\"\"Um passo: atualiza cada array de params no próprio lugar e devolve os gradientes.\"\"\"\n")
    stub.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "f"}
    problems = docstring_problems("nb", _notebook(stub))
    assert len(problems) == 2
    assert "local_gradient" in problems[0] and "MyMomentum" in problems[1]
    assert not looks_english("Média dos N gradientes locais grad_fn_single(X[n], y[n], w).")
    assert looks_english("Mean over the N examples of the local gradients grad_fn_single(X[n], y[n], w).")


def test_wrong_answer_rule_needs_an_entry_per_exercise_and_a_check_failure():
    nb = _notebook(_test_cell("checks.check_true(True, 'x')", "teste_a"), _test_cell("pass", "teste_b"))
    problems = missing_wrong_answers(nb, {"teste_a": {"sinal": "def a(): pass"}, "teste_c": {"x": ""}})
    assert problems == ["teste_b: nenhuma resposta errada nomeada em WRONG_ANSWERS",
                        "teste_c: em WRONG_ANSWERS, mas não é uma célula de teste do caderno"]
    assert missing_wrong_answers(nb, None)[0].startswith("teste_a: nenhuma")
    assert wrong_answer_source("teste_a", "m_fan_out", {"teste_a": "a"}) == "a = (m_fan_out)"
    assert wrong_answer_source("teste_a", "def a():\n    return 1", {}) == "def a():\n    return 1"
    with pytest.raises(ValueError, match="ANSWER_OF"):
        wrong_answer_source("teste_a", "m_fan_out", {})


def test_wrong_answer_rule_runs_the_visible_part_in_a_kernel(tmp_path):
    """A notebook small enough to run: one right answer, one visible check, a hidden one."""
    nb = _notebook(nbformat.v4.new_code_cell("from nnlib import checks"))
    answer = nbformat.v4.new_code_cell("def dobro(x):\n    return 2 * x")
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "dobro"}
    nb.cells += [answer, _test_cell("checks.check_true(dobro(3) == 6, 'dobro(3) deveria ser o dobro de 3')\n"
                                    "### BEGIN HIDDEN TESTS\nchecks.check_true(dobro(-1) == -2, 'oculto')\n",
                                    "teste_dobro")]
    path = tmp_path / "mini.ipynb"
    nbformat.write(nb, str(path))
    label = "<teste visível teste_dobro>"
    visible = split_test_cell(nb.cells[2].source)[0]
    with NotebookSession(str(path)) as session:
        session.run("right_dobro = dobro")

        def verdict(source, test=visible):
            return wrong_answer_verdict(session, source, test, label)

        by_check = verdict("def dobro(x):\n    return 3 * x")
        assert by_check.rejected and by_check.raised_in == "nnlib.checks", by_check
        own_raise = verdict("def dobro(x):\n    return 3 * x",
                            "if dobro(3) != 6:\n    raise AssertionError('mensagem da célula')")
        assert own_raise.broken and not own_raise.rejected and own_raise.raised_in == "test cell", own_raise
        assert verdict("def dobro(x):\n    return right_dobro(x) if x > 0 else 0").passed  # only hidden catches it
        crashes = {
            "the answer crashes": verdict("def dobro(x):\n    return x.y"),
            "the answer's own AssertionError": verdict("def dobro(x):\n    assert x < 0, 'da resposta'\n    return 2 * x"),
            "a NameError in the test cell": verdict("def dobro(x):\n    return 3 * x",
                                                    "checks.check_true(dobrro(3) == 6, 'x')"),
            "a crash inside nnlib.checks": verdict("def dobro(x):\n    return 3 * x",
                                                   "checks.check_raises(lambda: dobro(3), 3)"),
        }
        for what, crash in crashes.items():
            assert crash.broken and not crash.rejected, (what, crash)
        assert crashes["a NameError in the test cell"].error == "NameError"
        undefined = verdict("dobro = m_x")
        assert undefined.error == "definição" and "NameError: name 'm_x'" in undefined.message, undefined
