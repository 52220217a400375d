"""A submission whose outputs and markdown try to run script in the instructor's browser.

Built from the small fixture ``lista00_exemplo.ipynb``:

- :func:`source` adds a manually graded markdown answer cell to the fixture (so the
  formgrader shows a markdown answer, and the submission waits for manual grading);
- :func:`submission` answers it: correct code answers, plus one attack per entry of
  :data:`ATTACKS` in the first answer cell, raw HTML and script in the markdown answer and
  in a raw cell it adds (marked ``text/html``), a matplotlib figure (PNG) and a line of text
  the instructor must still see;
- :func:`handed_in_files` are the ``.html`` and ``.svg`` files handed in beside it, with
  script; the markdown answer links to the ``.html`` one.

Every attack runs :func:`signal_js` for its name: it loads ``<beacon><name>`` as an image (a
request to the test's recording server), fetches ``/api/contents/t320-ataque-<name>`` from the
Jupyter server (a 404 in its log), sets ``top.document.title`` to ``ATAQUE <name>`` and appends
the name to ``top.t320_ataques``. Any of these shows the script ran.
"""

import copy
import json

#: Printed by the submission; the instructor's page must show it.
VISIBLE_TEXT = "TEXTO DO ALUNO: resposta visível"
#: Title of the submission's matplotlib figure (its PNG must show).
FIGURE_TITLE = "figura do aluno"
#: Bold text inside the markdown answer (formatting that must survive as formatting).
MARKDOWN_TEXT = "resposta em negrito"
MARKDOWN_ID = "explicacao"
TITLE_PREFIX = "ATAQUE "


def signal_js(name, beacon):
    """JavaScript without double quotes that makes it observable that attack ``name`` ran.

    The beacon request comes first: in a sandboxed frame the access to ``top`` throws.
    """
    return ("(function(){var n='%s';new Image().src='%s'+n;"
            "try{fetch('/api/contents/t320-ataque-'+n).catch(function(){});}catch(e){}"
            "try{top.document.title='%s'+n;top.t320_ataques=(top.t320_ataques||[]).concat([n]);}"
            "catch(e){document.title='%s'+n;}})()" % (name, beacon, TITLE_PREFIX, TITLE_PREFIX))


#: name -> Python code (in the answer cell) that displays the attack; ``JS`` stands for the
#: attack's :func:`signal_js` as a Python string literal.
ATTACKS = {
    "html_script": "display(HTML('<script>' + JS + '</script>'))",
    "javascript": "display(Javascript(JS))",
    "img_onerror": "display(HTML('<img src=x onerror=\"' + JS + '\">'))",
    "svg_onload": "display(HTML('<svg onload=\"' + JS + '\"><circle r=\"5\"/></svg>'))",
    "svg_image": ("display({'image/svg+xml': '<svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "onload=\"' + JS + '\"><script>' + JS + '</script></svg>', "
                  "'text/plain': 'svg'}, raw=True)"),
    "iframe_srcdoc": ("display(HTML('<iframe srcdoc=\"<script>' + JS + '</script>\">"
                      "</iframe>'))"),
    "html_isolated": ("display(HTML('<script>' + JS + '</script>'), "
                      "metadata={'text/html': {'isolated': True}})"),
    "markdown_output": "display(Markdown('<img src=x onerror=\"' + JS + '\">'))",
    "bundle_html": ("display({'text/html': '<b>html do pacote</b><script>' + JS + "
                    "'</script>', 'application/javascript': JS2, "
                    "'text/plain': 'pacote'}, raw=True)"),
}
#: Attacks placed in the markdown answer cell (raw HTML in markdown).
MARKDOWN_ATTACKS = ("md_script", "md_img", "md_iframe")
#: Attacks in a raw cell the student adds, marked as HTML (nbconvert copies such cells into
#: the page as they are, unless cleaned).
RAW_ATTACKS = ("raw_script", "raw_img")
#: Text of the files handed in beside the notebook, and of the answer's link to one of them.
HANDED_IN_TEXT = "ANEXO DO ALUNO"
LINK_TEXT = "veja a minha figura interativa"


def handed_in_files(beacon):
    """{file name: text} of the files the student hands in beside the notebook (an LMS zip
    or a folder copied by hand can hold them); each runs :func:`signal_js` if its script runs."""
    return {
        "anexo.html": (f"<!doctype html><title>anexo</title><p>{HANDED_IN_TEXT}</p>"
                       f"<script>{signal_js('file_html', beacon)}</script>"),
        "anexo.svg": (f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" '
                      f'onload="{signal_js("file_svg", beacon)}"><text y="20">{HANDED_IN_TEXT}</text>'
                      f"<script>{signal_js('file_svg_script', beacon)}</script></svg>"),
    }


def all_names():
    """Every attack name a page could report (code outputs, markdown and raw cells)."""
    return sorted(ATTACKS) + ["bundle_js"] + list(MARKDOWN_ATTACKS) + list(RAW_ATTACKS)


def _nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def source(fixture_path):
    """The fixture notebook plus a manually graded markdown answer (a dict, nbformat 4)."""
    with open(fixture_path, encoding="utf-8") as fh:
        nb = json.load(fh)
    cell = {"cell_type": "markdown", "id": "explicacao-md",
            "metadata": {"nbgrader": {"grade": True, "grade_id": MARKDOWN_ID, "locked": False,
                                      "points": 1, "schema_version": 3, "solution": True,
                                      "task": False}},
            "source": "A ReLU zera as entradas negativas."}
    intro = {"cell_type": "markdown", "id": "explicacao-enunciado", "metadata": {},
             "source": "## Exercício 3 (1 ponto)\n\nExplique em uma frase o que a ReLU faz."}
    nb["cells"] += [intro, cell]
    return nb


def _code_answer(beacon):
    lines = ["from IPython.display import HTML, Javascript, Markdown, display",
             "import matplotlib.pyplot as plt", ""]
    for name, code in ATTACKS.items():
        lines.append(f"JS = {signal_js(name, beacon)!r}")
        if name == "bundle_html":
            lines.append(f"JS2 = {signal_js('bundle_js', beacon)!r}")
        lines.append(code)
    lines += [f"print({VISIBLE_TEXT!r})",
              "plt.figure(figsize=(3, 2))", "plt.plot([0, 1, 2], [0, 1, 4])",
              f"plt.title({FIGURE_TITLE!r})", "plt.show()", "",
              "def relu(z):", "    return np.where(z > 0.0, z, 0.0)"]
    return "\n".join(lines)


def _markdown_answer(beacon):
    return "\n\n".join([
        f"A ReLU zera as entradas negativas: **{MARKDOWN_TEXT}**.",
        f"<script>{signal_js('md_script', beacon)}</script>",
        f'<img src="x" onerror="{signal_js("md_img", beacon)}">',
        f'<iframe srcdoc="<script>{signal_js("md_iframe", beacon)}</script>"></iframe>',
        f'<a href="anexo.html">{LINK_TEXT}</a>',
    ])


def submission(source_nb, beacon):
    """The hostile submission (bytes of an .ipynb) for ``source_nb`` from :func:`source`.

    ``beacon`` is the URL prefix of the test's recording server (ends with ``/``).
    """
    nb = copy.deepcopy(source_nb)
    code_answers = [c for c in nb["cells"]
                    if _nbg(c).get("solution") and c["cell_type"] == "code"]
    code_answers[0]["source"] = _code_answer(beacon)
    code_answers[1]["source"] = ("def norma_gradiente(g):\n"
                                 "    return float(np.sqrt(np.sum(g * g)))")
    for cell in nb["cells"]:
        if _nbg(cell).get("grade_id") == MARKDOWN_ID:
            cell["source"] = _markdown_answer(beacon)
    nb["cells"].append({"cell_type": "raw", "id": "anexo-cru", "metadata": {"raw_mimetype": "text/html"},
                        "source": f"<script>{signal_js('raw_script', beacon)}</script>"
                                  f'<img src="x" onerror="{signal_js("raw_img", beacon)}">'})
    return json.dumps(nb, indent=1, ensure_ascii=False).encode()
