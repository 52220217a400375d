"""Student-facing markdown uses the slides' vocabulary (docs/glossary.md).

The prose checked is every markdown cell of every source notebook except the model answers
(nbgrader solution cells, which students do not see). Code spans (`...`), math ($...$), links
and URLs, and titles quoted in double quotes ("...", the references' English titles) are
removed first: code identifiers stay English (`seed`, `epochs`). The forbidden forms are the
"not" column of the glossary rows marked ✔; ``WRONG_FORMS`` is that column as patterns, and a
test checks the two agree.
"""

import os
import re

import nbformat
import pytest

from course import notebook_ids
from notebook_session import notebook_path
from paths import ROOT

GLOSSARY = os.path.join(ROOT, "docs", "glossary.md")

# wrong form -> the slides' form
WRONG_FORMS = {
    r"taxa de aprendiza(gem|do)": "passo de aprendizagem",
    r"learning rate": "passo de aprendizagem",
    r"agendamento do passo": "redução programada do passo",
    r"scheduler": "redução programada do passo",
    r"learning rate schedule": "redução programada do passo",
    r"epochs?|epoca": "época",
    r"mini ?batch(es)?|mini-?lotes?": "mini-batch",
    r"batch size": "tamanho m do mini-batch",
    r"descida (estocástica )?do gradiente": "gradiente descendente (estocástico), GDE",
    r"termo d[eo] momento": "termo momento",
    r"zigue-zague\w*|zig-?zag\w*": "ziguezague",
    r"seeds?": "semente",
    r"desvios? padrão": "desvio-padrão",
    r"recall|sensibilidade": "revocação",
    r"[dn]?a nnlib": "o nnlib",
    # SGD is the English name (and `optim.SGD` in code); in prose the method is the GDE
    r"(?:[dn]?o|ao|pelo) SGD": "o GDE",
    r"GD": "gradiente descendente (ou GDE, se estocástico)",
    # "o momento" for the method clashes with Adam's "primeiro momento": the slides' forms are
    # "termo momento", "método/algoritmo do momento", "momento de Nesterov" and momentum
    r"(?<!termo )(?<!método )(?<!algoritmo )(?<!próprio )(?:[dn]?o|ao|pelo) momento(?! de Nesterov)(?! da partícula)":
        "momentum, método do momento ou termo momento",
}


def prose(markdown):
    """``markdown`` without code, math, links, URLs and double-quoted titles."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"\"[^\"]*\"|“[^”]*”", " ", text)
    return text


def wrong_forms(nb_id):
    nb = nbformat.read(notebook_path("solutions", nb_id), as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            continue
        text = prose(cell.source)
        for pattern, right in WRONG_FORMS.items():
            for match in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, re.IGNORECASE):
                problems.append(f"{nb_id} célula {index}: {match.group(0)!r} (escreva {right!r})")
    return problems


@pytest.mark.parametrize("nb_id", notebook_ids())
def test_markdown_uses_the_glossary_forms(nb_id):
    problems = wrong_forms(nb_id)
    assert not problems, "formas fora do glossário (docs/glossary.md):\n" + "\n".join(problems)


def test_the_check_finds_wrong_forms_and_spares_code_and_titles():
    assert re.search(r"seeds?", prose("treine com três seeds"))
    assert not re.search(r"seed", prose("use `seed` 0, 1, 2 e $\\alpha$"))
    assert not re.search(r"learning", prose('Smith, "Don\'t decay the learning rate", 2018'))


def forms_in(text):
    return [match.group(0) for pattern in WRONG_FORMS
            for match in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", prose(text), re.IGNORECASE)]


def test_the_check_finds_o_sgd_o_momento_and_gd_and_spares_the_slides_forms():
    assert forms_in("o SGD converge; ajuda o SGD; no SGD ruidoso; do SGD") == ["o SGD", "o SGD", "no SGD", "do SGD"]
    assert forms_in("o GD com passo fixo e o GDE") == ["GD"]
    assert forms_in("o momento acelera; como o momento; cuidados do momento") == \
        ["o momento", "o momento", "do momento"]
    spared = ("o termo momento, o método do momento, no algoritmo do momento, o momento de Nesterov, "
              "o próprio momento da partícula, o primeiro momento do Adam, o GDE, `optim.SGD`, SGD com passo")
    assert forms_in(spared) == []


def test_every_checked_glossary_row_has_its_wrong_forms_in_the_test():
    """Each ✔ row's "not" forms are matched by a pattern of WRONG_FORMS (the doc and the test agree)."""
    with open(GLOSSARY, encoding="utf-8") as f:
        rows = [line for line in f if line.startswith("|") and line.rstrip().endswith("✔ |")]
    assert len(rows) >= 10
    for row in rows:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        not_column = re.sub(r"\(.*?\)", "", cells[2])
        for form in (f.strip() for f in not_column.split(",") if f.strip()):
            assert any(re.fullmatch(p, form, re.IGNORECASE) for p in WRONG_FORMS), \
                f"docs/glossary.md lists {form!r} as wrong, but tests/test_glossary.py does not check it"
