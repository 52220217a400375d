"""Aula 6 (funções de custo e além do numpy): widget callback, the notebook's claims, test
cells that reject wrong answers, and the paths without PyTorch/skorch/Keras and while grading.

The source notebook is executed once per kernel session (module-scoped fixtures); the widget
callback and the exercise test cells are then called directly in that kernel. The figure and the
widget live in nnlib/figures/aula06.py: in the kernel, ``plot_framework_curves(f, o)`` is
``figures.framework_curves_figure(CURVES, NOTES, f, o)`` and ``show_framework_curves`` / ``live``
are the displayed widget's ``painel.atualizar`` / ``painel.live`` (aliases the fixtures define).

With the torch extra installed (CI runs ``.[test,torch]``), ``test_comparisons_really_run_with_the_extra``
fails unless PyTorch, skorch and Keras were imported and every comparison produced a curve.
"""

import importlib.util
import ast
import os

import pytest

from notebook_layout import layout_problems
from notebook_session import PIXELS, NotebookSession, grade_cell_source, notebook_path, visible_part

NB_ID = "aula06_custo_frameworks"
SOURCE = notebook_path("solutions", NB_ID)
STUDENT = notebook_path("lectures", NB_ID)
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_SKORCH = HAS_TORCH and importlib.util.find_spec("skorch") is not None
HAS_KERAS = HAS_TORCH and importlib.util.find_spec("keras") is not None

# Summary of a matplotlib figure, defined in the notebook's kernel for the tests. The figure
# keeps its artists and hides those a case does not use: only visible ones count.
SUMMARY = r'''
def _summary(fig):
    axes = []
    for ax in fig.axes:
        axes.append({"title": ax.get_title(), "visible": ax.axison,
                     "lines": [[float(v) for v in line.get_ydata()] for line in ax.lines
                               if line.get_visible()],
                     "texts": [t.get_text() for t in ax.texts if t.get_visible()]})
    return {"suptitle": fig._suptitle.get_text() if fig._suptitle else "", "axes": axes}


def plot_framework_curves(framework="PyTorch", optimizer="Momentum"):
    return figures.framework_curves_figure(CURVES, NOTES, framework, optimizer)


show_framework_curves, live = painel.atualizar, painel.live
'''


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=600) as session:
        session.run(SUMMARY)
        yield session


def summary(nb, framework, optimizer):
    return nb.eval(f"_summary(plot_framework_curves({framework!r}, {optimizer!r}))")


def max_diff(fig_summary):
    ours, theirs = fig_summary["axes"][0]["lines"][:2]
    return max(abs(a - b) for a, b in zip(ours, theirs))


# ------------------------------------------------------------------ widget callback
def test_widget_callback_redraws(nb):
    momentum = summary(nb, "scikit-learn", "Momentum")
    adam = summary(nb, "scikit-learn", "Adam")
    adagrad = summary(nb, "scikit-learn", "AdaGrad")
    # two panels; the library's curve overlays nnlib's
    assert len(momentum["axes"]) == 2 and len(momentum["axes"][0]["lines"]) == 2
    assert momentum["axes"][0]["lines"] != adam["axes"][0]["lines"]
    assert momentum["suptitle"] != adam["suptitle"] and "Adam" in adam["suptitle"]
    assert max_diff(momentum) < 1e-12 < max_diff(adam)
    # what scikit-learn lacks: nnlib's curve alone, the reason in the right panel
    assert len(adagrad["axes"][0]["lines"]) == 1 and not adagrad["axes"][1]["visible"]
    assert any("não tem AdaGrad" in t for t in adagrad["axes"][1]["texts"])
    if HAS_TORCH:
        rms = summary(nb, "PyTorch", "RMSProp")
        assert max_diff(rms) < 1e-12 and rms["suptitle"] != momentum["suptitle"]
    if HAS_KERAS:
        keras_adagrad = summary(nb, "Keras", "AdaGrad")
        assert "dentro da raiz" in keras_adagrad["suptitle"]
        assert max_diff(keras_adagrad) > 1e-6



def test_widget_callback_returns_png_equal_to_a_full_draw(nb):
    """show_framework_curves redraws one LiveFigure in place: its PNG must be, pixel for pixel,
    what a full draw of a fresh plot_framework_curves figure shows, after other choices in
    between (with and without the right panel, which switches the static part)."""
    nb.run(PIXELS)
    moves = [("scikit-learn", "AdaGrad"), ("scikit-learn", "Adam"), ("PyTorch", "RMSProp"),
             ("scikit-learn", "RMSProp"), ("Keras", "SGD")]
    for target in [("scikit-learn", "Momentum"), ("scikit-learn", "AdaGrad")]:
        for framework, optimizer in moves + [target]:
            nb.run(f"_png = show_framework_curves({framework!r}, {optimizer!r})")
        assert nb.eval("type(_png).__name__") == "bytes"
        assert nb.eval("_png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")
        assert nb.eval("live.image.value == _png")   # what the widget shows
        assert nb.eval(f"_differing_pixels(_png, plot_framework_curves(*{target!r}))") == 0
    # another choice gives another picture
    nb.run("_a = show_framework_curves('scikit-learn', 'SGD')\n"
           "_b = show_framework_curves('scikit-learn', 'Nesterov')")
    assert nb.eval("_png_pixels(_a).shape == _png_pixels(_b).shape and bool((_png_pixels(_a) != _png_pixels(_b)).any())")



# ------------------------------------------------------------------ the notebook's claims
def test_mse_saturates_cross_entropy_does_not(nb):
    assert nb.eval("abs(float(grad_mse[0]))") < 1e-3   # z = -8, d = 1: confidently wrong
    assert nb.eval("abs(float(grad_ce[0]))") > 0.99
    a = nb.eval("a_by_epoch")
    assert a["MSE"][10] < 0.05 and a["entropia cruzada"][10] > 0.9


def test_question_a_cross_entropy_is_faster_from_any_start(nb):
    """The model answer: |dJ/dz| of MSE / of cross-entropy = 2a(1 - a) <= 1/2, so from any z(0)
    the cross-entropy node is ahead at every epoch (checked on several starts, the student's too)."""
    for z0 in (-8.0, -5.0, -1.0, 0.0, 0.5, 2.0, 4.0):
        a = nb.eval(f"train_single_node({z0}, epochs=30)")
        assert all(ce >= mse for ce, mse in zip(a["entropia cruzada"], a["MSE"])), z0
        assert a["entropia cruzada"][5] > a["MSE"][5]
    mine = nb.eval("a_by_epoch_meu")
    assert mine["entropia cruzada"][-1] > mine["MSE"][-1]
    ratio = nb.eval("float(np.max(np.abs(grad_mse) / np.abs(grad_ce)))")
    assert 0.49 < ratio <= 0.5


def test_the_student_focal_choice_is_trained_and_drawn(nb):
    res = nb.eval("list(FOCAL_RESULTS)")
    assert len(res) == 5 and res[-1].startswith("sua escolha γ=1, α_f=0,5")
    assert nb.eval("len(FOCAL_NETS)") == 5


def test_no_answer_of_the_question_in_the_question_itself_and_no_expected_value_in_visible_tests():
    import nbformat

    cells = nbformat.read(SOURCE, as_version=4).cells
    q = next(c.source for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "pergunta_custo")
    question = cells[[c.source for c in cells].index(q) - 1].source
    assert "Z0_MEU" in question and "FOCAL_MEU" in question and "Antes de" in question
    above = " ".join(c.source for c in cells[:[c.source for c in cells].index(q)] if c.cell_type == "markdown")
    assert "2a(1 - a)" not in above and "1/2" not in above
    for cell in cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            visible = visible_part(cell.source)
            assert "check_close" not in visible and "esperava {want" not in visible
            # check_scalar only for the type, never with an expected value
            for node in ast.walk(ast.parse(visible)):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "check_scalar":
                    assert len(node.args) == 1 and all(k.arg != "expected" for k in node.keywords)


def test_student_version_meets_the_layout_targets():
    assert layout_problems(STUDENT) == []


def test_title_and_install_line():
    import nbformat

    cells = nbformat.read(SOURCE, as_version=4).cells
    assert cells[0].source.startswith("# Aula 6 — ")
    setup = next(c.source for c in cells if "### Bibliotecas opcionais" in c.source)
    assert "make lab EXTRAS=torch" in setup and "download.pytorch.org/whl/cpu" in setup


@pytest.mark.skipif(not HAS_TORCH, reason="the torch extra is not installed here (CI installs it)")
def test_comparisons_really_run_with_the_extra(nb):
    assert nb.eval("DISPONIVEIS") == {"PyTorch": True, "skorch": HAS_SKORCH, "Keras": HAS_KERAS}
    assert HAS_SKORCH and HAS_KERAS, "the torch extra installs skorch and Keras too"
    missing = nb.eval("[f'{f}|{o}' for (f, o), c in CURVES.items() "
                      "if f in ('PyTorch', 'skorch', 'Keras') and isinstance(c, str)]")
    assert missing == []
    assert nb.eval("[len(curve_t), len(curve_decay_t), len(curve_s), len(curve_k)]") == [5, 5, 5, 5]


def test_focal_loss_experiment_claims(nb):
    res = nb.eval("{k: list(v) for k, v in FOCAL_RESULTS.items()}")
    bce, f25 = res["entropia cruzada (BCE)"], res["focal γ=2, α_f=0,25"]
    f75, weighted = res["focal γ=2, α_f=0,75"], res["BCE ponderada (γ=0, α_f=0,75)"]
    assert f75[0] > bce[0] + 0.1          # recall of the minority class goes up
    assert f75[1] < bce[1]                # ... and precision goes down
    assert f25[0] < bce[0]                # the paper's α = 0.25 lowers recall here
    assert abs(weighted[0] - f75[0]) < 0.1  # α does most of the work
    assert nb.eval("gradcheck.check_network(net_check, X_tr[:8], y_tr[:8], focal)") < 1e-7


def test_question_b_target_needs_a_class_weight_the_table_does_not_show(nb):
    """Part (b) of the question asks for a revocação of class 1 of at least 0.7: no cost of the
    table (the student's default pair included) reaches it, γ alone does not, and the model
    answer's α_f = 0.9 does (with γ = 0 or 2), at the cost of precision."""
    res = nb.eval("{k: list(v) for k, v in FOCAL_RESULTS.items()}")
    assert len(res) == 5 and all(recall < 0.7 for recall, _ in res.values()), res
    bce_precision = res["entropia cruzada (BCE)"][1]
    pairs = [(0.0, 0.9), (2.0, 0.9), (5.0, 0.5)]
    scores = dict(zip(pairs, nb.eval(f"[list(focal_scores(losses.get('focal_loss', gamma=g, alpha=a))[0]) "
                                     f"for g, a in {pairs!r}]")))
    for gamma in (0.0, 2.0):
        recall, precision = scores[gamma, 0.9]
        assert 0.72 < recall < 0.8 and 0.28 < precision < 0.38 and precision < bce_precision / 2
    assert scores[5.0, 0.5][0] < 0.45   # (1 - p_t)^γ alone barely moves the boundary here


def test_sklearn_initialization_uses_factor_2_for_logistic():
    """Section 3.1's claim, checked on scikit-learn itself: MLPClassifier draws W and b from
    U(±r), r = sqrt(6/(fan_in + fan_out)), but sqrt(2/(fan_in + fan_out)) with "logistic"."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X = np.random.default_rng(0).normal(size=(300, 60))
    y = np.arange(300) % 3
    for activation, factor in (("tanh", 6.0), ("relu", 6.0), ("logistic", 2.0)):
        clf = MLPClassifier((200,), activation=activation, solver="sgd", learning_rate_init=1e-12,
                            momentum=0.0, max_iter=1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)  # one epoch with α = 1e-12: the weights are the initial ones
        for W, b in zip(clf.coefs_, clf.intercepts_):
            r = np.sqrt(factor / sum(W.shape))
            assert 0.97 * r < np.max(np.abs(W)) <= r * (1 + 1e-9), (activation, W.shape)
            assert np.max(np.abs(b)) <= r * (1 + 1e-9), (activation, b.shape)
        hidden_b, r_hidden = clf.intercepts_[0], np.sqrt(factor / sum(clf.coefs_[0].shape))
        assert np.max(np.abs(hidden_b)) > 0.9 * r_hidden  # 200 biases drawn from U(±r), not zeros


def test_relative_links_point_into_the_repository():
    """The convention table and every other relative link of the markdown exist in the repo."""
    import re

    import nbformat

    cells = nbformat.read(SOURCE, as_version=4).cells
    links = [m for c in cells if c.cell_type == "markdown"
             for m in re.findall(r"\]\(((?!https?:)[^)#]+)\)", c.source)]
    assert "../../docs/conventions.md" in links
    for link in links:
        assert os.path.exists(os.path.normpath(os.path.join(os.path.dirname(SOURCE), link))), link


def test_final_summary_reruns_the_visible_tests(nb):
    """The last code cell (for Colab, which has no Validate button) re-runs the executed test
    cells and reports each exercise with its points; a wrong answer shows as failed."""
    import nbformat

    cells = nbformat.read(SOURCE, as_version=4).cells
    meta = [c.metadata.get("nbgrader", {}) for c in cells]
    points = {m["grade_id"].removeprefix("teste_"): m["points"]
              for m, c in zip(meta, cells) if m.get("grade") and c.cell_type == "code"}
    assert nb.eval("{name: p for _, name, p in EXERCISES}") == points
    for m, c in zip(meta, cells):   # the marker visible_tests_summary looks for
        if m.get("grade") and c.cell_type == "code":
            assert c.source.startswith(f"# Testa {m['grade_id'].removeprefix('teste_')}:")
    assert nb.eval("conferencia") == {name: "testes visíveis ok" for name in points}
    code_cells = [c for c in cells if c.cell_type == "code"]
    assert code_cells[-1].metadata["nbgrader"]["grade_id"] == "conferencia"
    summary = grade_cell_source(SOURCE, "conferencia")
    try:
        nb.run("def focal_loss_grad(z, y, gamma, alpha):\n    return np.zeros_like(z)")
        nb.run("def sklearn_config(*args):\n    raise NotImplementedError()")
        outputs = nb.run(summary)
        statuses = nb.eval("conferencia")
    finally:
        nb.run(grade_cell_source(SOURCE, "focal_loss_grad"))
        nb.run(grade_cell_source(SOURCE, "sklearn_config"))
    assert statuses["focal_loss"] == "testes visíveis ok"
    assert statuses["focal_loss_grad"].startswith("falhou: focal_loss_grad não confere")
    assert statuses["sklearn_config"].startswith("ainda sem resposta")
    text = "".join(o.get("text", "") for o in outputs)
    assert "Exercício 2 (3 pontos): falhou" in text and "ok em 2 de 9 pontos" in text


def test_libraries_match_nnlib_where_the_rules_agree(nb):
    diffs = nb.eval("{f'{f}|{o}': (None if isinstance(c, str) else "
                    "max(abs(a - b) for a, b in zip(c, CURVES[('nnlib', o)]))) "
                    "for (f, o), c in CURVES.items() if f != 'nnlib'}")
    for name in ("SGD", "Momentum", "Nesterov"):
        assert diffs[f"scikit-learn|{name}"] < 1e-12
    assert 1e-12 < diffs["scikit-learn|Adam"] < 1e-2  # epsilon hat
    assert diffs["scikit-learn|AdaGrad"] is None and diffs["scikit-learn|RMSProp"] is None
    if HAS_TORCH:
        for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"):
            assert diffs[f"PyTorch|{name}"] < 1e-12
        # PyTorch's momentum under a decaying α differs, as the notebook says
        assert nb.eval("max(abs(a - b) for a, b in zip(curve_decay, curve_decay_t))") > 1e-3
    if HAS_SKORCH:
        for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"):
            assert diffs[f"skorch|{name}"] < 1e-12
    if HAS_KERAS:
        for name in ("SGD", "Momentum", "Nesterov"):
            assert 0 < diffs[f"Keras|{name}"] < 1e-6  # α stored as float32 (μ exact)
        for name in ("AdaGrad", "RMSProp"):
            assert diffs[f"Keras|{name}"] > 1e-6  # ε inside the square root


def test_speed_measured_for_each_available_library(nb):
    names = nb.eval("sorted(SECONDS_PER_EPOCH)")
    expected = {"nnlib", "scikit-learn"} | ({"PyTorch"} if HAS_TORCH else set()) \
        | ({"skorch"} if HAS_SKORCH else set()) | ({"Keras"} if HAS_KERAS else set())
    assert set(names) == expected
    assert all(s > 0 for s in nb.eval("list(SECONDS_PER_EPOCH.values())"))


# ------------------------------------------------------------------ exercises
def test_solutions_agree_with_nnlib(nb):
    err = nb.eval(
        "(lambda r: max(max(abs(focal_loss(z, y, g, a) - losses.focal_loss(z, y, g, a)), "
        "float(np.max(np.abs(focal_loss_grad(z, y, g, a) - losses.focal_loss_grad(z, y, g, a))))) "
        "for z, y in [(r.normal(0, 5, 20), r.integers(0, 2, 20)) for _ in range(5)] "
        "for g in (0.0, 0.5, 2.0) for a in (0.1, 0.5, 0.9)))(np.random.default_rng(3))")
    assert err < 1e-12
    assert nb.eval("sklearn_config(optim.Adam(alpha=0.002), 64, 'relu', (5, 4))") == {
        "hidden_layer_sizes": [5, 4], "activation": "relu", "solver": "adam",
        "learning_rate_init": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-08,
        "batch_size": 64, "alpha": 0.0}


# Wrong answers, built on renamed copies of the solutions (_right_fl, _right_grad, _right),
# which do not call nnlib's implementation.
WRONG = {
    "teste_focal_loss": {
        "sum instead of mean": "def focal_loss(z, y, gamma, alpha):\n"
        "    return _right_fl(z, y, gamma, alpha) * z.size",
        "α_t swapped": "def focal_loss(z, y, gamma, alpha):\n"
        "    return _right_fl(z, y, gamma, 1.0 - alpha)",
        "γ ignored": "def focal_loss(z, y, gamma, alpha):\n"
        "    return _right_fl(z, y, 0.0, alpha)",
        "unstable log(1 - p)": "def focal_loss(z, y, gamma, alpha):\n"
        "    p = 1 / (1 + np.exp(-z)); pt = np.where(y == 1, p, 1 - p)\n"
        "    with np.errstate(all='ignore'):\n"
        "        return float(np.mean(-np.where(y == 1, alpha, 1 - alpha) * (1 - pt) ** gamma * np.log(pt)))",
        "calls nnlib": "def focal_loss(z, y, gamma, alpha):\n"
        "    return losses.focal_loss(z, y, gamma, alpha)",
    },
    "teste_focal_loss_grad": {
        "missing 1/N": "def focal_loss_grad(z, y, gamma, alpha):\n"
        "    return _right_grad(z, y, gamma, alpha) * z.size",
        "wrong sign": "def focal_loss_grad(z, y, gamma, alpha):\n"
        "    return -_right_grad(z, y, gamma, alpha)",
        "α_t swapped": "def focal_loss_grad(z, y, gamma, alpha):\n"
        "    return _right_grad(z, y, gamma, 1.0 - alpha)",
        "unsimplified (nan at p_t = 1)": "def focal_loss_grad(z, y, gamma, alpha):\n"
        "    s = 2.0 * y - 1.0; pt = 1 / (1 + np.exp(-s * z)); at = np.where(y == 1, alpha, 1 - alpha)\n"
        "    with np.errstate(all='ignore'):\n"
        "        d = at * (gamma * (1 - pt) ** (gamma - 1) * np.log(pt) - (1 - pt) ** gamma / pt)\n"
        "    return d * s * pt * (1 - pt) / z.size",
        "calls nnlib": "def focal_loss_grad(z, y, gamma, alpha):\n"
        "    return losses.focal_loss_grad(z, y, gamma, alpha)",
    },
    "teste_sklearn_config": {
        "sklearn's default nesterovs_momentum": "def sklearn_config(o, m, act, hidden):\n"
        "    c = _right(o, m, act, hidden)\n"
        "    if 'nesterovs_momentum' in c: c['nesterovs_momentum'] = True\n    return c",
        "sklearn's default alpha (L2)": "def sklearn_config(o, m, act, hidden):\n"
        "    return {**_right(o, m, act, hidden), 'alpha': 1e-4}",
        "isinstance: Nesterov taken for Momentum": "def sklearn_config(o, m, act, hidden):\n"
        "    c = _right(o, m, act, hidden)\n"
        "    if isinstance(o, optim.Momentum): c['nesterovs_momentum'] = False\n    return c",
        "Adam without epsilon": "def sklearn_config(o, m, act, hidden):\n"
        "    c = _right(o, m, act, hidden); c.pop('epsilon', None)\n    return c",
        "no ValueError for AdaGrad": "def sklearn_config(o, m, act, hidden):\n"
        "    if type(o) is optim.AdaGrad:\n        o = optim.SGD(alpha=o.alpha)\n"
        "    return _right(o, m, act, hidden)",
        "'linear' passed through": "def sklearn_config(o, m, act, hidden):\n"
        "    c = _right(o, m, 'tanh' if act == 'linear' else act, hidden)\n"
        "    if act == 'linear': c['activation'] = 'linear'\n    return c",
        "hidden sizes as a list": "def sklearn_config(o, m, act, hidden):\n"
        "    return {**_right(o, m, act, hidden), 'hidden_layer_sizes': list(hidden)}",
    },
}
ANSWER_OF = {"teste_focal_loss": "focal_loss", "teste_focal_loss_grad": "focal_loss_grad",
             "teste_sklearn_config": "sklearn_config"}
RENAMED = {"focal_loss": ("def focal_loss(", "def _right_fl("),
           "focal_loss_grad": ("def focal_loss_grad(", "def _right_grad("),
           "sklearn_config": ("def sklearn_config(", "def _right(")}


@pytest.mark.parametrize("grade_id,bug", [(g, b) for g in WRONG for b in WRONG[g]])
def test_test_cells_reject_wrong_answers(nb, grade_id, bug):
    for name, (old, new) in RENAMED.items():
        nb.run(grade_cell_source(SOURCE, name).replace(old, new, 1))
    answer = grade_cell_source(SOURCE, ANSWER_OF[grade_id])
    test_cell = grade_cell_source(SOURCE, grade_id)
    nb.run(answer)
    assert nb.accepts(test_cell)  # the solution passes
    try:
        nb.run(WRONG[grade_id][bug])
        assert nb.rejects(test_cell), f"{grade_id} passed {bug}"
    finally:
        nb.run(answer)


# ------------------------------------------------------------------ without the torch extra
@pytest.fixture(scope="module")
def nb_without_torch(tmp_path_factory):
    fake = tmp_path_factory.mktemp("no_torch")
    for name in ("torch", "skorch", "keras"):
        (fake / name).mkdir()
        (fake / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{name}' (simulated)\", name={name!r})\n")
    path = os.pathsep.join(p for p in (str(fake), os.environ.get("PYTHONPATH")) if p)
    with NotebookSession(SOURCE, timeout=600, env={"PYTHONPATH": path}) as session:
        session.run(SUMMARY)
        yield session


def test_runs_clean_without_torch_skorch_keras(nb_without_torch):
    nb = nb_without_torch
    assert nb.eval("[torch is None, skorch is None, keras is None]") == [True, True, True]
    text = "\n".join(o.get("text", "") for c in nb.nb.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert 'pip install -e ".[torch]"' in text and "make lab EXTRAS=torch" in text
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    for name in ("PyTorch", "skorch", "Keras"):
        assert f"{name} não está instalado" in text
    errors = [o for c in nb.nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    # the exercises are graded without the extra: every test cell passes
    for grade_id in ANSWER_OF:
        assert nb.accepts(grade_cell_source(SOURCE, grade_id)), grade_id
    # the widget still works: scikit-learn curves, and a message for the missing libraries
    assert max_diff(summary(nb, "scikit-learn", "Nesterov")) < 1e-12
    missing = summary(nb, "PyTorch", "Adam")
    assert len(missing["axes"][0]["lines"]) == 1
    assert any("não está instalado" in t for t in missing["axes"][1]["texts"])
    assert nb.eval("sorted(SECONDS_PER_EPOCH)") == ["nnlib", "scikit-learn"]


def test_grading_path_skips_slow_demos():
    with NotebookSession(SOURCE, timeout=600, env={"NBGRADER_EXECUTION": "autograde"}) as nb:
        assert nb.eval("[CORRIGINDO, torch is None, CURVES == {}, SECONDS_PER_EPOCH == {}]") == [
            True, True, True, True]
        for grade_id in ANSWER_OF:
            assert nb.accepts(grade_cell_source(SOURCE, grade_id)), grade_id


# The named wrong answers each visible test rejects (tests/test_exercise_rules.py, rule 6): the list
# above without the blank stub, written on right_<name> (the rule keeps the model solution under it).
@pytest.mark.parametrize("grade_id", sorted(ANSWER_OF))
def test_blank_stub_stops_the_cell(nb, grade_id):
    """The student version's stub: its NotImplementedError stops the test cell (no points); that is
    the stub's own error, not a check rejecting a wrong answer."""
    answer = ANSWER_OF[grade_id]
    nb.run(f"def {answer}(*args, **kwargs):\n    raise NotImplementedError()")
    try:
        verdict = nb.verdict(grade_cell_source(SOURCE, grade_id))
    finally:
        nb.run(grade_cell_source(SOURCE, answer))
    assert verdict.broken and verdict.error == "NotImplementedError", str(verdict)


def _on_right(code):
    return (code.replace("_right_fl(", "right_focal_loss(").replace("_right_grad(", "right_focal_loss_grad(")
            .replace("_right(", "right_sklearn_config("))


# Left to the hidden tests: sklearn_config's Adam epsilon, ValueError for AdaGrad and 'linear' -> 'identity'.
HIDDEN_ONLY = {"Adam without epsilon", "no ValueError for AdaGrad", "'linear' passed through"}
WRONG_ANSWERS = {grade_id: {name: _on_right(code) for name, code in cases.items() if name not in HIDDEN_ONLY}
                 for grade_id, cases in WRONG.items()}
