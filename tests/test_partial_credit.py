"""Fair partial credit: a bug in one exercise costs points in that exercise's test cell only.

Where a later exercise builds on an earlier one, its test cell uses a reference
implementation of the earlier piece (nnlib's own, or one written in the test cell):

- lista01: ``teste_measure_sgd_spread`` and ``teste_momentum_stationary_variance`` compare
  with a reference variance written in the test cell, not with the student's
  ``sgd_stationary_variance``; ``teste_my_schedule`` trains with ``nnlib.optim`` /
  ``nnlib.schedules``, not with the student's formulas or simulation;
- lista02: ``teste_softmax_focal_grad`` checks the gradient against finite differences of a
  focal loss written in the test cell, not the student's ``softmax_focal_loss``;
  ``teste_escolha_focal`` trains with ``nnlib.losses``' focal loss, not the student's;
- aula05: ``teste_init_weights`` passes a reference table in ``limits``, so ``init_weights``
  does not run the student's ``init_limits``.

For each dependent pair a submission is built from the source with a plausible bug only in
the earlier exercise (its answer cell replaced), all of them are graded in one
``course.grading.driver.grade`` call in a scratch copy of the course, and the per-cell scores read
from the gradebook must show that only the earlier exercise's test cell lost points.
"""

import os
import shutil
import tempfile

import nbformat
import pytest


from course import ROOT  # noqa: E402

ROOT_USER = os.geteuid() == 0


def src_path(nb_id):
    return os.path.join(ROOT, "solutions", nb_id, nb_id + ".ipynb")


def nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cell(nb, grade_id):
    return next(c for c in nb.cells if nbg(c).get("grade_id") == grade_id and nbg(c).get("solution"))


def swap(old, new):
    """An edit of an answer cell: ``old`` (which must occur exactly once) becomes ``new``."""
    def edit(source):
        assert source.count(old) == 1, f"the bug's anchor is not in the answer cell: {old!r}"
        return source.replace(old, new)
    return edit


def replace_with(code):
    return lambda source: code


# name: (notebook, answer cell, edit of that cell, the test cell that must lose points,
#        the later test cells that build on it and must keep full marks)
CASES = {
    "lista01_stationary_variance_small_alpha": (
        "lista01_otimizadores", "sgd_stationary_variance",
        swap("    return float(a * s ** 2 / (m * (2 - a)))\n",
             "    return float(a * s ** 2 / (2 * m))   # só vale para alpha h pequeno\n"),
        "teste_sgd_stationary_variance",
        ["teste_measure_sgd_spread", "teste_momentum_stationary_variance", "teste_my_schedule"]),
    "lista01_spread_one_example": (
        "lista01_otimizadores", "measure_sgd_spread",
        swap("        c = rng.normal(0.0, s, size=m)         # alvos dos m exemplos novos do mini-batch\n",
             "        c = rng.normal(0.0, s, size=1)         # um exemplo só: esqueceu o m\n"),
        "teste_measure_sgd_spread", ["teste_my_schedule"]),
    "lista02_softmax_focal_loss_without_alpha": (
        "lista02_inicializacao_treinamento", "softmax_focal_loss",
        swap("    return float(np.mean(-alpha_t * one_minus_pt ** gamma * log_pt))\n",
             "    return float(np.mean(-one_minus_pt ** gamma * log_pt))   # esqueceu o α_t\n"),
        "teste_softmax_focal_loss", ["teste_softmax_focal_grad", "teste_config_digitos"]),
    "lista02_softmax_focal_grad_sign": (
        "lista02_inicializacao_treinamento", "softmax_focal_grad",
        swap("    return d_target[:, None] * share / Z.shape[0]\n",
             "    return -d_target[:, None] * share / Z.shape[0]   # sinal trocado\n"),
        "teste_softmax_focal_grad", ["teste_config_digitos"]),
    "aula05_init_limits_swapped_fans": (
        "aula05_inicializacao", "inicializacoes",
        swap("    m, n = fan_in, fan_out\n", "    m, n = fan_out, fan_in   # m e n trocados\n"),
        "teste_init_limits", ["teste_init_weights"]),
}


def buggy_submission(nb_id, answer_id, edit):
    nb = nbformat.read(src_path(nb_id), as_version=4)
    cell = answer_cell(nb, answer_id)
    cell.source = edit(cell.source)
    return nbformat.writes(nb).encode("utf-8")


def cell_scores(base, student, nb_id):
    """{grade_id: (score, max_score)} of the autograded (code) test cells of a submission."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{base}/gradebook.db", "t320") as gb:
        sub = gb.find_submission(nb_id, student)
        return {g.name: (g.score, g.max_score) for nb in sub.notebooks for g in nb.grades
                if g.cell.cell_type == "code"}


@pytest.fixture(scope="module")
def graded():
    """All buggy submissions graded in one run in a scratch copy of the course."""
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-credit-")
    os.chmod(base, 0o711)  # the sandbox user must reach autograded/
    try:
        shutil.copytree(os.path.join(ROOT, "solutions"), os.path.join(base, "solutions"))
        pairs = []
        for name, (nb_id, answer_id, edit, _, _) in CASES.items():
            folder = os.path.join(base, "submitted", name, nb_id)
            os.makedirs(folder)
            with open(os.path.join(folder, nb_id + ".ipynb"), "wb") as fh:
                fh.write(buggy_submission(nb_id, answer_id, edit))
            pairs.append((name, nb_id))
        results = grade(base, pairs=pairs, use_sandbox=ROOT_USER, feedback=False, csv=False)
        yield {name: (results[(name, nb_id)], cell_scores(base, name, nb_id))
               for name, nb_id in pairs}
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bug_costs_points_only_in_its_own_exercise(graded, name):
    nb_id, _, _, own_test, later_tests = CASES[name]
    result, scores = graded[name]
    assert result["success"], result.get("log", "")[-3000:]
    for grade_id in [own_test] + later_tests:
        assert grade_id in scores, f"{grade_id} is not a graded cell of {nb_id}"
    score, max_score = scores[own_test]
    assert max_score > 0 and score == 0, f"{name}: {own_test} got {score}/{max_score} with the bug"
    lost = {g: s for g, s in scores.items() if g != own_test and s[0] != s[1]}
    assert not lost, f"{name}: the bug in {own_test}'s exercise also cost points in {lost}"


def test_cases_change_only_one_answer_cell():
    """Each buggy submission differs from its source in exactly the one answer cell."""
    for name, (nb_id, answer_id, edit, _, _) in CASES.items():
        src = nbformat.read(src_path(nb_id), as_version=4)
        bug = nbformat.reads(buggy_submission(nb_id, answer_id, edit).decode("utf-8"), as_version=4)
        changed = [nbg(a).get("grade_id", i) for i, (a, b) in enumerate(zip(src.cells, bug.cells))
                   if a.source != b.source]
        assert len(src.cells) == len(bug.cells) and changed == [answer_id], (name, changed)
