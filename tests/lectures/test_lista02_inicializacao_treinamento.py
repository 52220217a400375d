"""Lista 2 (inicialização, treinamento e função custo): model solutions, claims, figures, test cells.

One kernel executes the source notebook (module-scoped fixture). The tests then call its
functions and run its autograded test cells (visible + hidden part, as graded) against wrong
answers (mutants): each classic mistake must make the test cell raise AssertionError (the
visible part alone catches the ones marked so), and correct answers written another way must
still pass. The tuning exercise is checked against its own statement: the statement's example
misses the target on every hidden seed and the model answer's search reaches it.
"""

import ast
import glob
import os
import re

import nbformat
import pytest

from notebook_layout import layout_problems
from notebook_session import NotebookSession, TestCellBroke, grade_cell_source, notebook_path, visible_part
from paths import ROOT

NB_ID = "lista02_inicializacao_treinamento"
SOURCE = notebook_path("solutions", NB_ID)
STUDENT = notebook_path("assignments", NB_ID)

GRADED_CELLS = ["teste_forward_variances", "teste_lsuv_scale", "teste_stratified_minibatches",
                "teste_softmax_focal_loss", "teste_softmax_focal_grad", "teste_config_digitos"]
MANUAL_CELLS = ["pergunta_variancias", "pergunta_ordem", "pergunta_ajuste"]


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=300) as session:
        session.run(MUTANTS)
        yield session


def verdict_with(nb, grade_id, visible_only=False, **swap):
    """The ``Verdict`` of a test cell run with some of the notebook's answers replaced (name=expression)."""
    src = grade_cell_source(SOURCE, grade_id)
    src = visible_part(src) if visible_only else src
    names = list(swap)
    nb.run(f"_saved_answers = {{k: globals()[k] for k in {names!r}}}\n"
           + "".join(f"globals()[{k!r}] = {v}\n" for k, v in swap.items()))
    try:
        return nb.verdict(src)
    finally:
        nb.run("globals().update(_saved_answers)")


# ------------------------------------------------------------------ the notebook as a whole
def test_points_add_up_to_100():
    nbk = nbformat.read(SOURCE, as_version=4)
    meta = [c.metadata["nbgrader"] for c in nbk.cells if c.metadata.get("nbgrader", {}).get("grade")]
    auto = {m["grade_id"]: m["points"] for m in meta if not m.get("solution")}
    manual = {m["grade_id"]: m["points"] for m in meta if m.get("solution") and m["points"]}
    assert (sum(auto.values()), sum(manual.values())) == (64, 36)
    assert sorted(auto) == sorted(GRADED_CELLS) and sorted(manual) == sorted(MANUAL_CELLS)


def test_identification_cell_is_plain_editable_markdown():
    """#25: the name and student number are not a manually graded answer (no nbgrader grade metadata)."""
    nbk = nbformat.read(SOURCE, as_version=4)
    ident = next(c for c in nbk.cells if c.cell_type == "markdown" and c.source.startswith("Nome:"))
    assert "nbgrader" not in ident.metadata
    student = nbformat.read(STUDENT, as_version=4)
    assert any(c.cell_type == "markdown" and "nbgrader" not in c.metadata and "Nome:" in c.source
               for c in student.cells)


def test_student_version_meets_the_layout_targets():
    """Issue #14: at most 25% of the demo lines only draw, no widget cell over 15 lines."""
    assert layout_problems(STUDENT) == []


def _answer_names(path):
    names = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            tree = ast.parse(re.sub(r"^\s*[%!].*$", "", cell.source, flags=re.M))
            names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return names


def test_answer_functions_have_names_no_lecture_uses():
    """One contract per name: no graded function of this lista shares a name with a lecture's."""
    ours = _answer_names(SOURCE)
    assert {"forward_variances", "lsuv_scale", "stratified_minibatches", "softmax_focal_loss",
            "softmax_focal_grad"} <= ours
    for path in glob.glob(os.path.join(ROOT, "solutions", "aula*", "*.ipynb")):
        assert not ours & _answer_names(path), (path, ours & _answer_names(path))


def test_stratified_minibatches_is_a_generator_like_aula01(nb):
    """aula01's minibatch_indices is a generator; the lista's sampler follows the same contract."""
    assert nb.eval("type(stratified_minibatches(np.array([0, 1, 0, 1]), 2, np.random.default_rng(0))).__name__") \
        == "generator"


def test_visible_tests_print_no_expected_value():
    """Visible parts check properties through check_true/check_agrees, not check_close/asserts
    that print 'esperava ...'; exact values live in the hidden parts."""
    for grade_id in GRADED_CELLS:
        visible = visible_part(grade_cell_source(SOURCE, grade_id))
        assert "check_close(" not in visible, grade_id
        assert "expected=" not in visible and "esperava" not in visible, grade_id
        for call in re.findall(r"check_scalar\(([^\n]*)", visible):
            assert call.split(",")[1].strip().startswith("name="), (grade_id, call)


def test_one_check_vocabulary():
    """#26: the cells use check_true/check_agrees, never the removed aliases."""
    text = open(SOURCE, encoding="utf-8").read()
    assert "check_that" not in text and "check_matches" not in text


# ------------------------------------------------------------------ model solutions vs references
def test_forward_variances_matches_measured_variances(nb):
    ratios = nb.eval("[(medir_variancias(w, s2, a, slope=0.2, semente=3) / forward_variances(w, s2, a, slope=0.2)).tolist() "
                     "for w in ([512, 256, 128, 64, 32], [32, 64, 128, 256, 512], [100, 300, 50, 200]) "
                     "for s2 in ([2.0 / m for m in w[:-1]], [2.0 / (m + n) for m, n in zip(w[:-1], w[1:])]) "
                     "for a in ('relu', 'leaky_relu', 'linear')]")
    for row in ratios:
        assert all(0.9 < r < 1.1 for r in row), row


def test_lsuv_scale_gives_unit_variance_in_every_layer_of_a_digits_network(nb):
    """The model answer measured with nnlib's own forward pass (MLP with zero biases)."""
    nb.run("_Xd = data.digits()[0][:400]\n"
           "_net = MLP([64, 40, 30, 10], 'tanh', rng=np.random.default_rng(3))\n"
           "_S = lsuv_scale(_Xd, [_net.params[0], _net.params[2], _net.params[4]], 'tanh')\n"
           "_net.params[0][...] = _S[0]; _net.params[2][...] = _S[1]; _net.params[4][...] = _S[2]\n"
           "_a = _Xd; _vars = []\n"
           "for _layer in _net.layers:\n"
           "    _z = _a @ _layer.W + _layer.b; _vars.append(float(_z.var())); _a = np.tanh(_z)\n")
    assert all(abs(v - 1.0) < 1e-9 for v in nb.eval("_vars")), nb.eval("_vars")


def test_descida_logistica_matches_nnlib_training_with_sgd(nb):
    """The given trainer of Experiment 2: a one-unit MLP with nnlib's SGD and the same mini-batches ends at the same weights."""
    nb.run("_X = X_ordenado[::7]; _y = y_ordenado[::7]; _N = len(_y)\n"
           "_lotes = [b for _ in range(3) for b in training.minibatches(_N, 16, np.random.default_rng(4))]\n"
           "_w, _J = descida_logistica(_X, _y, np.zeros(3), 0.5, _lotes)\n"
           "_net = MLP([2, 1], output='linear', rng=np.random.default_rng(0)); _net.w[:] = 0.0\n"
           "_opt = optim.SGD(alpha=0.5)\n"
           "for _b in _lotes:\n"
           "    _opt.step([_net.w], lambda ws: [_net.loss_and_gradient(_X[_b, :2], _y[_b], 'binary_cross_entropy', w=ws[0])[1]])\n")
    d = nb.eval("[float(abs(_w[:2] - _net.params[0][:, 0]).max()), float(abs(_w[2] - _net.params[1][0])), "
                "float(abs(_J[-1] - _net.loss(_X[:, :2], _y, 'binary_cross_entropy')))]")
    assert max(d) < 1e-12, d


def test_softmax_focal_matches_its_special_cases_and_finite_differences(nb):
    nb.run("from nnlib import gradcheck as _gc\n"
           "_rng = np.random.default_rng(8); _Z = _rng.normal(size=(7, 4)) * 3; _y = _rng.integers(0, 4, 7)\n"
           "_a = [0.2, 0.9, 0.5, 0.7]\n"
           "_fd = {g: _gc.numerical_gradient(lambda Zf: softmax_focal_loss(Zf.reshape(7, 4), _y, g, _a), _Z.ravel().copy())"
           ".reshape(7, 4) for g in (0.0, 0.5, 2.0)}")
    err = nb.eval("[float(abs(softmax_focal_grad(_Z, _y, g, _a) - _fd[g]).max()) for g in (0.0, 0.5, 2.0)]")
    assert max(err) < 1e-8, err
    ce = nb.eval("abs(softmax_focal_loss(_Z, _y, 0.0, [1.0] * 4) - losses.softmax_cross_entropy(_Z, _y))")
    assert ce < 1e-12


def test_figures_draw_what_they_are_given(nb):
    nb.run("_f1 = figures.variancias_por_camada(resultados_variancias)\n"
           "_f2 = figures.custo_por_atualizacao(tracos_ordem, por_epoca)\n"
           "_f3 = figures.curvas_de_acuracia({'a': curva_exemplo, 'b': treinar_digitos(config_digitos, 10)}, META_ACURACIA, MEDIR_A_CADA)")
    assert nb.eval("len(_f1.axes)") == 2
    assert nb.eval("len(_f1.axes[0].get_lines())") == 6          # 3 heuristics: predicted and measured
    assert nb.eval("_f1.axes[0].get_lines()[0].get_ydata().tolist() == "
                   "resultados_variancias['funil']['Glorot'][0].tolist()")
    assert nb.eval("[l.get_ydata().tolist() == tracos_ordem[n].tolist() for l, n in "
                   "zip(_f2.axes[0].get_lines()[-3:], tracos_ordem)]") == [True] * 3
    assert nb.eval("_f3.axes[0].get_lines()[0].get_ydata().tolist() == curva_exemplo.tolist()")
    assert nb.eval("_f3.axes[0].get_lines()[0].get_xdata().tolist()") == [0, 10, 20, 30, 40, 50, 60]
    assert nb.eval("__import__('matplotlib.pyplot').pyplot.get_fignums()") == []


def test_the_widget_serves_the_tuning_task_on_a_seed_no_test_uses(nb):
    """The panel trains one configuration on seed 7 (not a visible, hidden or search seed) and redraws."""
    assert nb.eval("type(painel_ajuste).__name__") == "VBox"
    assert nb.eval("sorted(painel_ajuste.controles)") == ["alpha", "m", "otimizador"]
    png = nb.eval("len(painel_ajuste.atualizar('adam', 0.05, 128))")
    assert png > 1000
    assert "adam" in nb.eval("painel_ajuste.artistas['titulo'].get_text()")
    seeds = set(_hidden_seeds()) | {0, 1, 2, 10, 11, 12}
    assert 7 not in seeds and "}, 7)" in grade_cell_source(SOURCE, "widget_ajuste")
    assert nb.eval("painel_ajuste.artistas['curva'].get_ydata().tolist() == "
                   "treinar_digitos({'otimizador': 'adam', 'alpha': 0.05, 'reducao': 'constante', 'm': 128, "
                   "'inicializacao': 'he_normal'}, 7).tolist()")


# ------------------------------------------------------------------ the tuning target
def _hidden_seeds():
    hidden = grade_cell_source(SOURCE, "teste_config_digitos").split("### BEGIN HIDDEN TESTS")[1]
    return [int(s) for s in re.search(r"SEMENTES_OCULTAS = \(([^)]*)\)", hidden).group(1).split(",")]


EXAMPLE = {"otimizador": "sgd", "alpha": 0.01, "reducao": "constante", "m": 16, "inicializacao": "glorot_uniform"}


def test_statement_example_misses_the_target_on_every_hidden_seed(nb):
    """The stub's configuration (the statement's example) misses META_ACURACIA on each hidden seed, not only on average."""
    seeds = _hidden_seeds()
    assert len(seeds) == 5 and not set(seeds) & {0, 1, 2, 7, 10, 11, 12}
    assert nb.eval("exemplo_digitos") == EXAMPLE
    finals = nb.eval(f"[float(treinar_digitos(exemplo_digitos, s)[-1]) for s in {seeds!r}]")
    assert all(v < nb.eval("META_ACURACIA") for v in finals), finals
    stub = nbformat.read(STUDENT, as_version=4)
    answer = next(c for c in stub.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "config_digitos")
    assert "raise NotImplementedError()" in answer.source
    ns = {}
    exec(answer.source.split("# YOUR CODE HERE")[0], ns)
    assert ns["config_digitos"] == EXAMPLE


def test_the_search_of_the_model_answer_reaches_the_target_on_every_hidden_seed(nb):
    """The model answer searches on seeds 10-12 only; its choice meets the target on each hidden seed,
    and its mean over them with a margin of 0.02."""
    config = nb.eval("config_digitos")
    assert config == {"otimizador": "adam", "alpha": 0.05, "reducao": "constante", "m": 128,
                      "inicializacao": "glorot_uniform"}
    finals = nb.eval(f"[float(treinar_digitos(config_digitos, s)[-1]) for s in {_hidden_seeds()!r}]")
    target = nb.eval("META_ACURACIA")
    assert all(v >= target for v in finals), finals
    assert sum(finals) / len(finals) >= target + 0.02, finals


def test_the_budget_is_exact_and_bad_configurations_are_refused(nb):
    assert nb.eval("len(treinar_digitos(exemplo_digitos, 0))") == nb.eval("ORCAMENTO // MEDIR_A_CADA + 1")
    for bad in ("{**exemplo_digitos, 'm': 129}", "{**exemplo_digitos, 'alpha': 0.0}", "{**exemplo_digitos, 'reducao': 'cosseno'}"):
        assert nb.verdict(f"treinar_digitos({bad}, 0)").error == "ValueError", bad


# ------------------------------------------------------------------ the model answers' numbers
def test_model_answer_numbers(nb):
    v = nb.eval("{k: [float(x) for x in c['Glorot'][0]] for k, c in resultados_variancias.items() if 'Glorot' in c}")
    assert round(v["funil"][3] / v["funil"][0], 3) == round((2 / 3) ** 3, 3)
    assert round(v["expansão"][3] / v["expansão"][0], 3) == round((1 / 3) ** 3, 3)
    assert [round(x, 3) for x in nb.eval("[float(X_dig.mean()), float(np.mean(X_dig ** 2)), float(X_dig.var())]")] \
        == [0.305, 0.235, 0.141]
    assert [round(x, 3) for x in nb.eval("[float(v) for v in partes_z1]")] == [0.984, 0.680, 0.305, 0.031]
    J = nb.eval("{k: [round(float(x), 3) for x in t[por_epoca::por_epoca]] for k, t in tracos_ordem.items()}")
    assert (J["em ordem"][0], J["em ordem"][-1]) == (0.574, 0.521)
    assert (J["sorteada uma vez"][-1], J["sorteada a cada época"][-1]) == (0.335, 0.335)
    assert round(nb.eval("float(tracos_ordem['em ordem'][-por_epoca:].max())"), 3) == 0.765
    assert nb.eval("bool(J_batch[0] == J_batch[1])")
    assert round(nb.eval("float(np.mean(vazios_sorteados))"), 3) == 0.193
    assert nb.eval("float(np.mean(vazios_estratificados))") == 0.0
    b1 = nb.eval("{f'{o}|{a}': round(float(r.mean()), 3) for (o, a), r in busca_1.items()}")
    assert (b1["sgd|0.1"], b1["sgd|0.3"], b1["sgd|1.0"]) == (0.817, 0.908, 0.9)
    assert (b1["adam|0.005"], b1["adam|0.02"], b1["adam|0.05"]) == (0.916, 0.955, 0.957)
    b3 = nb.eval("{f'{m}|{a}': round(float(r.mean()), 3) for (m, a), r in busca_3.items()}")
    assert (b3["8|0.01"], b3["8|0.1"], b3["32|0.05"], b3["128|0.05"], b3["128|0.1"]) == (0.865, 0.391, 0.927, 0.964, 0.941)
    assert 535 <= nb.eval("len(data.train_val_split(*data.digits(np.random.default_rng(0)), 0.3, np.random.default_rng(0))[3])") <= 545


# ------------------------------------------------------------------ test cells vs mistakes
MUTANTS = r'''
import numpy as _np

# ---------------- forward_variances
def _fv(widths, sigma2, activation, var_x=1.0, slope=0.01, fan="in", kept=None, first=False, out="z", check=True):
    if check and (len(widths) < 2 or len(sigma2) != len(widths) - 1):
        raise ValueError("sigma2")
    c = kept or {"linear": 1.0, "relu": 0.5, "leaky_relu": (1 + slope ** 2) / 2}
    if check and activation not in c:
        raise ValueError("activation")
    m2 = c[activation] * var_x if first else var_x
    res = []
    for l, s2 in enumerate(sigma2):
        v = (widths[l] if fan == "in" else widths[l + 1]) * s2 * m2
        m2 = c[activation] * v
        res.append(m2 if out == "a" else (v ** 0.5 if out == "std" else v))
    return _np.array(res, dtype=float)

def m_fv_fan_out(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, fan="out")
def m_fv_relu_keeps_all(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, kept={"linear": 1.0, "relu": 1.0, "leaky_relu": 1.0})
def m_fv_leaky_linear_in_slope(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, kept={"linear": 1.0, "relu": 0.5, "leaky_relu": (1 + slope) / 2})
def m_fv_leaky_as_relu(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, kept={"linear": 1.0, "relu": 0.5, "leaky_relu": 0.5})
def m_fv_activation_on_input(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, first=True)
def m_fv_second_moment(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, out="a")
def m_fv_std(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope, out="std")
def m_fv_list(w, s, a, var_x=1.0, slope=0.01):
    return _fv(w, s, a, var_x, slope).tolist()
def m_fv_no_check(w, s, a, var_x=1.0, slope=0.01):
    return _fv(list(w)[:len(s) + 1], s, a if a in ("linear", "relu", "leaky_relu") else "linear", var_x, slope, check=False)
def ok_fv_cumprod(widths, sigma2, activation, var_x=1.0, slope=0.01):   # CORRECT: vectorized
    widths, sigma2 = _np.asarray(widths, float), _np.asarray(sigma2, float)
    if widths.size < 2 or sigma2.size != widths.size - 1:
        raise ValueError("uma variância por camada")
    c = {"linear": 1.0, "relu": 0.5, "leaky_relu": 0.5 * (1 + slope * slope)}.get(activation)
    if c is None:
        raise ValueError("ativação desconhecida")
    gains = widths[:-1] * sigma2
    return var_x * _np.cumprod(gains) * c ** _np.arange(gains.size)

# ---------------- lsuv_scale
_PHI = {"linear": lambda z: z, "relu": lambda z: _np.maximum(z, 0.0), "tanh": _np.tanh}
def _lsuv(X, weights, activation, spread=_np.var, power=0.5, sequential=True, inplace=False, per_unit=False,
          check=True):
    X = _np.asarray(X, float)
    if check:
        if activation not in _PHI or not len(weights):
            raise ValueError("x")
        n = X.shape[1]
        for W in weights:
            if _np.shape(W)[0] != n:
                raise ValueError("formas")
            n = _np.shape(W)[1]
    Ws = weights if inplace else [_np.array(W, float) for W in weights]
    a, a0, out = X, X, []
    for l, W in enumerate(Ws):
        base = a if sequential else a0
        z = base @ W
        s = (1.0 / spread(z, axis=0) ** power) if per_unit else 1.0 / spread(z) ** power
        if inplace:
            W *= s
            S = W
        else:
            S = W * s
        out.append(S)
        a = _PHI[activation](a @ S)
        a0 = _PHI[activation](a0 @ W)
    return out

def m_lsuv_all_at_once(X, weights, activation):        # every scale measured on the unscaled network
    return _lsuv(X, weights, activation, sequential=False)
def m_lsuv_second_moment(X, weights, activation):      # E[z²] in place of Var(z): wrong for non-zero-mean inputs
    return _lsuv(X, weights, activation, spread=lambda z, axis=None: _np.mean(z ** 2, axis=axis))
def m_lsuv_divide_by_variance(X, weights, activation): # W / Var(z) instead of W / σ(z)
    return _lsuv(X, weights, activation, power=1.0)
def m_lsuv_ddof1(X, weights, activation):              # sample variance (N·n - 1)
    return _lsuv(X, weights, activation, spread=lambda z, axis=None: _np.var(z, axis=axis, ddof=1))
def m_lsuv_per_unit(X, weights, activation):           # every column to unit variance: not one number per layer
    return _lsuv(X, weights, activation, per_unit=True)
def m_lsuv_inplace(X, weights, activation):            # scales the arrays it was given
    return _lsuv(X, [W if isinstance(W, _np.ndarray) else _np.array(W, float) for W in weights], activation, inplace=True)
def m_lsuv_no_check(X, weights, activation):
    return _lsuv(X, weights, activation if activation in _PHI else "linear", check=False) if len(weights) else []
def m_lsuv_tuple(X, weights, activation):
    return tuple(_lsuv(X, weights, activation))
def ok_lsuv_loop(X, weights, activation):              # CORRECT: written another way (std via sqrt of mean square deviation)
    if activation not in ("linear", "relu", "tanh") or len(weights) == 0:
        raise ValueError("ativação ou pesos")
    a = _np.array(X, dtype=float)
    out = []
    for W in weights:
        W = _np.array(W, dtype=float)
        if W.shape[0] != a.shape[1]:
            raise ValueError("formas")
        z = a @ W
        W = W * (1.0 / _np.sqrt(((z - z.mean()) ** 2).mean()))
        out.append(W)
        z = a @ W
        a = z if activation == "linear" else (_np.maximum(z, 0.0) if activation == "relu" else _np.tanh(z))
    return out

# ---------------- stratified_minibatches
def _st_check(y, m):
    if not 1 <= m <= len(y):
        raise ValueError("m")

def m_st_random(y, m, rng):                            # random, not stratified
    y = _np.asarray(y); _st_check(y, m)
    order = rng.permutation(len(y)); B = -(-len(y) // m)
    for b in range(B):
        yield order[b::B]
def m_st_array_split(y, m, rng):                       # per-class array_split: uneven sizes, empty batches
    y = _np.asarray(y); _st_check(y, m); B = -(-len(y) // m)
    parts = [_np.array_split(rng.permutation(_np.flatnonzero(y == c)), B) for c in _np.unique(y)]
    for b in range(B):
        yield rng.permutation(_np.concatenate([p[b] for p in parts]))
def m_st_class_order(y, m, rng):                       # shuffles only inside each mini-batch
    y = _np.asarray(y); _st_check(y, m); B = -(-len(y) // m)
    order = _np.concatenate([_np.flatnonzero(y == c) for c in _np.unique(y)])
    for b in range(B):
        yield rng.permutation(order[b::B])
def m_st_same_each_epoch(y, m, rng):
    yield from ok_st_reference(y, m, _np.random.default_rng(0))
def m_st_global(y, m, rng):
    yield from ok_st_reference(y, m, _np.random.default_rng(int(_np.random.randint(1 << 30))))
def m_st_list(y, m, rng):
    return list(ok_st_reference(y, m, rng))
def m_st_drop_last(y, m, rng):
    y = _np.asarray(y); _st_check(y, m); B = len(y) // m
    order = _np.concatenate([rng.permutation(_np.flatnonzero(y == c)) for c in _np.unique(y)])
    for b in range(B):
        yield order[b::B]
def m_st_int32(y, m, rng):
    for b in ok_st_reference(y, m, rng):
        yield b.astype(_np.int32)
def m_st_no_check(y, m, rng):
    if m < 1:
        m = 1
    yield from ok_st_reference(y, min(m, len(y)), rng)
def m_st_fixed_buckets(y, m, rng):                     # buckets dealt once (no draw), only the batch order shuffled
    y = _np.asarray(y); _st_check(y, m); B = -(-len(y) // m)
    order = _np.concatenate([_np.flatnonzero(y == c) for c in _np.unique(y)])
    for b in rng.permutation(B):
        yield rng.permutation(order[b::B]).astype(_np.int64)
_BUCKETS = {}
def m_st_buckets_cached(y, m, rng):                    # random stratified buckets drawn at the first call, then reused
    y = _np.asarray(y); _st_check(y, m); B = -(-len(y) // m)
    key = (tuple(y.tolist()), m)
    if key not in _BUCKETS:
        order = _np.concatenate([rng.permutation(_np.flatnonzero(y == c)) for c in _np.unique(y)])
        _BUCKETS[key] = [order[b::B] for b in range(B)]
    for b in rng.permutation(B):
        yield rng.permutation(_BUCKETS[key][b]).astype(_np.int64)
def ok_st_reference(y, m, rng):                        # CORRECT
    y = _np.asarray(y); _st_check(y, m); B = -(-len(y) // m)
    order = _np.concatenate([rng.permutation(_np.flatnonzero(y == c)) for c in _np.unique(y)])
    for b in range(B):
        yield order[b::B].astype(_np.int64)
def ok_st_random_offsets(y, m, rng):                   # CORRECT: classes dealt from a random batch on
    y = _np.asarray(y); N = len(y)
    if not 1 <= m <= N:
        raise ValueError("m")
    B = -(-N // m)
    batches = [[] for _ in range(B)]
    position = int(rng.integers(B))
    for c in rng.permutation(_np.unique(y)):
        for i in rng.permutation(_np.flatnonzero(y == c)):
            batches[position % B].append(int(i)); position += 1
    for b in rng.permutation(B):
        yield _np.array(rng.permutation(batches[b]), dtype=_np.int64)

# ---------------- softmax_focal_loss
def _sfl_parts(Z, y):
    Z = _np.asarray(Z, float); y = _np.asarray(y).astype(int)
    log_pt = (Z - _np.logaddexp.reduce(Z, axis=1, keepdims=True))[_np.arange(len(y)), y]
    return Z, y, log_pt
def m_sfl_sum(Z, y, gamma, alpha):
    Z, y, lp = _sfl_parts(Z, y)
    return float(_np.sum(-_np.asarray(alpha)[y] * (-_np.expm1(lp)) ** gamma * lp))
def m_sfl_no_alpha(Z, y, gamma, alpha):
    Z, y, lp = _sfl_parts(Z, y)
    return float(_np.mean(-(-_np.expm1(lp)) ** gamma * lp))
def m_sfl_alpha_of_prediction(Z, y, gamma, alpha):
    Z, y, lp = _sfl_parts(Z, y)
    return float(_np.mean(-_np.asarray(alpha)[Z.argmax(axis=1)] * (-_np.expm1(lp)) ** gamma * lp))
def m_sfl_pt_power(Z, y, gamma, alpha):
    Z, y, lp = _sfl_parts(Z, y)
    return float(_np.mean(-_np.asarray(alpha)[y] * _np.exp(lp) ** gamma * lp))
def m_sfl_mutates_inputs(Z, y, gamma, alpha):          # #23's attack: rewrites its arguments so p_t = 1, zeroes alpha
    Z = _np.asarray(Z); y = _np.asarray(y)
    if Z.flags.writeable:
        Z[...] = -1e6; Z[_np.arange(len(y)), y.astype(int)] = 1e6
    if isinstance(alpha, _np.ndarray) and alpha.flags.writeable:
        alpha[...] = 0.0
    return 0.0
def m_sfl_naive(Z, y, gamma, alpha):                   # log of the softmax: log(0) for logits of ±400
    Z = _np.asarray(Z, float); y = _np.asarray(y).astype(int)
    with _np.errstate(all="ignore"):
        P = _np.exp(Z - Z.max(axis=1, keepdims=True)); P = P / P.sum(axis=1, keepdims=True)
        pt = P[_np.arange(len(y)), y]
        return float(_np.mean(-_np.asarray(alpha)[y] * (1 - pt) ** gamma * _np.log(pt)))
def ok_sfl_loop(Z, y, gamma, alpha):                   # CORRECT: one example at a time
    total = 0.0
    for z, t in zip(_np.asarray(Z, float), _np.asarray(y)):
        lp = z[t] - z.max() - _np.log(_np.sum(_np.exp(z - z.max())))
        total += -alpha[int(t)] * (1 - _np.exp(lp)) ** gamma * lp
    return float(total / len(y))

# ---------------- softmax_focal_grad
def _sfg_parts(Z, y, gamma, alpha):
    Z = _np.asarray(Z, float); y = _np.asarray(y).astype(int); N, K = Z.shape
    P = _np.exp(Z - _np.logaddexp.reduce(Z, axis=1, keepdims=True))
    onehot = _np.eye(K)[y]
    return Z, y, P, onehot, _np.asarray(alpha, float)[y]
def m_sfg_cross_entropy(Z, y, gamma, alpha):
    Z, y, P, E, a = _sfg_parts(Z, y, gamma, alpha)
    return (P - E) / len(y)
def m_sfg_focal_weight_constant(Z, y, gamma, alpha):  # treats α_t (1 - p_t)^γ as a constant
    Z, y, P, E, a = _sfg_parts(Z, y, gamma, alpha)
    pt = P[_np.arange(len(y)), y]
    return (a * (1 - pt) ** gamma)[:, None] * (P - E) / len(y)
def m_sfg_only_target(Z, y, gamma, alpha):
    G = ok_sfg_reference(Z, y, gamma, alpha)
    return G * _np.eye(G.shape[1])[_np.asarray(y).astype(int)]
def m_sfg_no_mean(Z, y, gamma, alpha):
    return ok_sfg_reference(Z, y, gamma, alpha) * len(y)
def m_sfg_sign(Z, y, gamma, alpha):
    return -ok_sfg_reference(Z, y, gamma, alpha)
def m_sfg_naive(Z, y, gamma, alpha):                   # (1 - p_t)^(γ - 1) on its own: nan for γ < 1
    Z, y, P, E, a = _sfg_parts(Z, y, gamma, alpha)
    pt = P[_np.arange(len(y)), y]
    with _np.errstate(all="ignore"):
        f = a * (gamma * (1 - pt) ** (gamma - 1) * pt * _np.log(pt) - (1 - pt) ** gamma)
    return f[:, None] * (E - P) / len(y)
def ok_sfg_reference(Z, y, gamma, alpha):               # CORRECT (the notebook's solution, rewritten)
    Z = _np.asarray(Z, float); y = _np.asarray(y).astype(int); rows = _np.arange(len(y))
    lp = (Z - _np.logaddexp.reduce(Z, axis=1, keepdims=True))[rows, y]
    q = -_np.expm1(lp)
    d = _np.asarray(alpha, float)[y] * (gamma * _np.exp(lp) * q ** gamma * lp - q ** (gamma + 1))
    others = Z.copy(); others[rows, y] = -_np.inf
    share = -_np.exp(others - _np.logaddexp.reduce(others, axis=1, keepdims=True)); share[rows, y] = 1
    return d[:, None] * share / len(y)
'''

# (test cell, answer name, mutant expression, caught already by the visible part?)
CASES = [
    ("teste_forward_variances", "forward_variances", "m_fv_fan_out", True),
    ("teste_forward_variances", "forward_variances", "m_fv_relu_keeps_all", True),
    ("teste_forward_variances", "forward_variances", "m_fv_leaky_linear_in_slope", True),
    ("teste_forward_variances", "forward_variances", "m_fv_leaky_as_relu", True),
    ("teste_forward_variances", "forward_variances", "m_fv_activation_on_input", True),
    ("teste_forward_variances", "forward_variances", "m_fv_second_moment", True),
    ("teste_forward_variances", "forward_variances", "m_fv_std", True),
    ("teste_forward_variances", "forward_variances", "m_fv_list", True),
    ("teste_forward_variances", "forward_variances", "m_fv_no_check", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_all_at_once", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_second_moment", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_divide_by_variance", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_ddof1", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_per_unit", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_inplace", True),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_no_check", False),
    ("teste_lsuv_scale", "lsuv_scale", "m_lsuv_tuple", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_random", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_array_split", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_class_order", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_fixed_buckets", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_buckets_cached", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_same_each_epoch", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_global", False),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_list", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_drop_last", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_int32", True),
    ("teste_stratified_minibatches", "stratified_minibatches", "m_st_no_check", True),
    ("teste_softmax_focal_loss", "softmax_focal_loss", "m_sfl_sum", True),
    ("teste_softmax_focal_loss", "softmax_focal_loss", "m_sfl_no_alpha", True),
    ("teste_softmax_focal_loss", "softmax_focal_loss", "m_sfl_alpha_of_prediction", True),
    ("teste_softmax_focal_loss", "softmax_focal_loss", "m_sfl_pt_power", True),
    ("teste_softmax_focal_loss", "softmax_focal_loss", "m_sfl_naive", True),
    ("teste_softmax_focal_loss", "softmax_focal_loss", "m_sfl_mutates_inputs", True),
    ("teste_softmax_focal_grad", "softmax_focal_grad", "m_sfg_cross_entropy", True),
    ("teste_softmax_focal_grad", "softmax_focal_grad", "m_sfg_focal_weight_constant", True),
    ("teste_softmax_focal_grad", "softmax_focal_grad", "m_sfg_only_target", True),
    ("teste_softmax_focal_grad", "softmax_focal_grad", "m_sfg_no_mean", True),
    ("teste_softmax_focal_grad", "softmax_focal_grad", "m_sfg_sign", True),
    ("teste_softmax_focal_grad", "softmax_focal_grad", "m_sfg_naive", True),
    ("teste_config_digitos", "config_digitos", repr(EXAMPLE), True),
    ("teste_config_digitos", "config_digitos", "{**exemplo_digitos, 'otimizador': 'adam', 'alpha': 0.001}", True),
    ("teste_config_digitos", "config_digitos", "{**exemplo_digitos, 'alpha': 0.3}", True),
    ("teste_config_digitos", "config_digitos", "{**config_digitos, 'm': 256}", True),
    ("teste_config_digitos", "config_digitos", "{**config_digitos, 'otimizador': 'lbfgs'}", True),
    ("teste_config_digitos", "config_digitos", "('adam', 0.05, 'constante', 128, 'he_normal')", True),
]

# #25 item 4 / #26: for every autograded exercise, named wrong answers its VISIBLE test rejects with
# the check's own AssertionError (raised in nnlib.checks, not a crash of the test cell or of the answer).
WRONG_ANSWERS = {
    "teste_forward_variances": {"leaky ReLU com o fator de ReLU": "m_fv_leaky_as_relu",
                                "leaky ReLU com (1 + slope)/2": "m_fv_leaky_linear_in_slope",
                                "largura de saída no lugar da de entrada": "m_fv_fan_out"},
    "teste_lsuv_scale": {"todas as escalas medidas na rede original": "m_lsuv_all_at_once",
                         "E[z²] no lugar de Var(z)": "m_lsuv_second_moment",
                         "altera as matrizes recebidas": "m_lsuv_inplace"},
    "teste_stratified_minibatches": {"mini-batches fixos, só a ordem sorteada": "m_st_fixed_buckets",
                                     "sorteados uma vez e guardados": "m_st_buckets_cached",
                                     "sorteio sem estratificar": "m_st_random"},
    "teste_softmax_focal_loss": {"log do softmax (−inf com logits de ±400)": "m_sfl_naive",
                                 "soma no lugar da média": "m_sfl_sum",
                                 "zera alpha e reescreve Z (#23)": "m_sfl_mutates_inputs"},
    "teste_softmax_focal_grad": {"gradiente sem simplificar ((1 − p_t)^(γ − 1) sozinho)": "m_sfg_naive",
                                 "peso focal tratado como constante": "m_sfg_focal_weight_constant",
                                 "soma no lugar da média": "m_sfg_no_mean"},
    "teste_config_digitos": {"o exemplo do enunciado": repr(EXAMPLE),
                             "Adam com passo pequeno demais": "{**exemplo_digitos, 'otimizador': 'adam', 'alpha': 0.001}"},
}
# tests/test_exercise_rules.py runs MUTANTS first, then each wrong answer as the named answer
WRONG_ANSWERS_SETUP = MUTANTS
ANSWER_OF = {g: n for g, n, _, _ in CASES}


@pytest.mark.parametrize("grade_id,label,wrong", [(g, k, v) for g, answers in WRONG_ANSWERS.items()
                                                  for k, v in answers.items()],
                         ids=[f"{g}-{k}" for g, answers in WRONG_ANSWERS.items() for k in answers])
def test_visible_test_rejects_named_wrong_answer_with_a_check(nb, grade_id, label, wrong):
    name = next(n for g, n, _, _ in CASES if g == grade_id)
    nb.run(f"_saved_answers = {{{name!r}: globals()[{name!r}]}}\nglobals()[{name!r}] = {wrong}\n")
    try:
        verdict = nb.verdict(visible_part(grade_cell_source(SOURCE, grade_id)))
    finally:
        nb.run("globals().update(_saved_answers)")
    assert not verdict.passed, f"{label}: the visible test of {grade_id} passed it"
    assert verdict.rejected, (label, str(verdict), verdict.traceback)
    assert "levantou" not in verdict.message, (label, verdict.message)   # rejected by a check, not by the answer crashing


def test_every_autograded_exercise_has_named_wrong_answers():
    assert sorted(WRONG_ANSWERS) == sorted(GRADED_CELLS)
    assert all(len(v) >= 1 for v in WRONG_ANSWERS.values())


def test_a_crashing_test_cell_is_not_counted_as_a_rejection(nb):
    """The shared verdict (tests/notebook_session.py) tells a broken test cell from a check's
    rejection: a NameError, a TypeError, the answer's own AssertionError or one the test cell raises
    itself is "broken", and ``rejects`` fails the test with the cell's traceback instead of counting
    it as caught."""
    name_error = nb.verdict("checks.check_true(nome_que_nao_existe + 1 == 2, 'nunca chega aqui')")
    assert name_error.broken and not name_error.rejected and name_error.error == "NameError", str(name_error)
    assert "nome_que_nao_existe" in name_error.traceback
    with pytest.raises(TestCellBroke, match="NameError"):
        nb.rejects("nome_que_nao_existe + 1")
    with pytest.raises(TestCellBroke, match="TypeError"):
        nb.rejects("checks.check_true(len(3) == 3, 'x')")
    nb.run("def _answer_asserts():\n    assert False, 'da resposta'")
    assert nb.verdict("_answer_asserts()").broken          # an AssertionError, but not the check's
    rejected = nb.verdict("checks.check_true(1 + 1 == 3, 'a soma está errada')")
    assert rejected.rejected and rejected.raised_in == "nnlib.checks" and rejected.message == "a soma está errada"
    assert nb.rejects("checks.check_true(1 + 1 == 3, 'a soma está errada')")
    own = nb.verdict("if 1 + 1 != 3:\n    raise AssertionError('a célula rejeita')")
    assert own.broken and not own.rejected and own.raised_in == "test cell", str(own)
    with pytest.raises(TestCellBroke, match="AssertionError"):
        nb.rejects("if 1 + 1 != 3:\n    raise AssertionError('a célula rejeita')")
    assert nb.accepts("checks.check_true(1 + 1 == 2, 'x')") and nb.verdict("x_ok = 1").passed


def test_mutating_arguments_cannot_change_the_references(nb):
    """#23 item 3: an answer that rewrites Z and zeroes alpha in place fails the whole Exercise 4 cell."""
    verdict = verdict_with(nb, "teste_softmax_focal_loss", softmax_focal_loss="m_sfl_mutates_inputs")
    assert verdict.rejected, verdict.traceback or "passed"


@pytest.mark.parametrize("grade_id,name,mutant,visible", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_test_cell_catches_mistake(nb, grade_id, name, mutant, visible):
    verdict = verdict_with(nb, grade_id, **{name: mutant})
    assert not verdict.passed, f"{mutant} passed {grade_id}"
    assert verdict.rejected, verdict.traceback
    visible_verdict = verdict_with(nb, grade_id, visible_only=True, **{name: mutant})
    assert not visible_verdict.broken, visible_verdict.traceback
    assert visible_verdict.rejected == visible, str(visible_verdict)


@pytest.mark.parametrize("grade_id,swap", [
    ("teste_forward_variances", {"forward_variances": "ok_fv_cumprod"}),
    ("teste_lsuv_scale", {"lsuv_scale": "ok_lsuv_loop"}),
    ("teste_stratified_minibatches", {"stratified_minibatches": "ok_st_reference"}),
    ("teste_stratified_minibatches", {"stratified_minibatches": "ok_st_random_offsets"}),
    ("teste_softmax_focal_loss", {"softmax_focal_loss": "ok_sfl_loop"}),
    ("teste_softmax_focal_grad", {"softmax_focal_grad": "ok_sfg_reference"}),
    ("teste_config_digitos", {"config_digitos": "{'otimizador': 'adam', 'alpha': np.float64(0.05), 'reducao': 'constante', 'm': np.int64(128), 'inicializacao': 'he_normal'}"}),
])
def test_test_cell_accepts_correct_variants(nb, grade_id, swap):
    """Answers written another way (vectorized, loops, another valid stratification, int/np.float64)."""
    verdict = verdict_with(nb, grade_id, **swap)
    assert verdict.passed, verdict.traceback


def test_gradient_cell_does_not_use_the_students_loss(nb):
    """A wrong softmax_focal_loss costs only Exercise 4: the gradient cell differentiates its own reference."""
    assert verdict_with(nb, "teste_softmax_focal_loss", softmax_focal_loss="m_sfl_no_alpha").rejected
    assert verdict_with(nb, "teste_softmax_focal_grad", softmax_focal_loss="m_sfl_no_alpha").passed
    assert verdict_with(nb, "teste_config_digitos", softmax_focal_loss="m_sfl_no_alpha",
                        softmax_focal_grad="m_sfg_sign").passed


def test_crashes_fail_in_portuguese(nb):
    """A student function that crashes gives a Portuguese AssertionError, not numpy's message."""
    nb.run("def m_crash(*args, **kwargs):\n    return np.ones(3) @ np.ones(4)\n")
    for grade_id, name in [("teste_forward_variances", "forward_variances"), ("teste_lsuv_scale", "lsuv_scale"),
                           ("teste_softmax_focal_loss", "softmax_focal_loss"),
                           ("teste_softmax_focal_grad", "softmax_focal_grad")]:
        verdict = verdict_with(nb, grade_id, visible_only=True, **{name: "m_crash"})
        assert verdict.rejected and "levantou ValueError" in verdict.message, str(verdict)
        assert "mismatch" not in verdict.message and "matmul" not in verdict.message, verdict.message


@pytest.mark.parametrize("grade_id", GRADED_CELLS)
def test_source_test_cells_pass(nb, grade_id):
    assert nb.accepts(grade_cell_source(SOURCE, grade_id))
