"""Lista 1 (otimizadores): the graded test cells, the widget callback and the notebook's claims.

One kernel executes the source notebook for the whole module. The grading tests swap in
wrong implementations of an answer (the classic mistakes: sign of the velocity, look-ahead
point, t not incremented, beta^(2^t), eps inside the root, missing bias correction, state
shared between parameter arrays, w changed in place, calling nnlib's own optimizer), run the
locked test cell (visible and hidden parts) and expect an AssertionError; then they restore
the model solution. Some mistakes must pass the visible part and be caught only by the
hidden one: that is checked too, so the hidden tests are known to add something.
"""

import os
import re
import sys
import time

import nbformat
import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)

from notebook_session import NotebookSession  # noqa: E402

NB_ID = "lista01_otimizadores"
ROOT = os.path.dirname(TESTS)
SOURCE = os.path.join(ROOT, "solutions", NB_ID, NB_ID + ".ipynb")
RELEASE = os.path.join(ROOT, "assignments", NB_ID, NB_ID + ".ipynb")

RUNNER = '''
def _run_cell_source(src):
    """Execute a test cell's source in the notebook's namespace; report how it ended."""
    try:
        exec(compile(src, "<test cell>", "exec"), globals())
    except AssertionError as error:
        return "AssertionError: " + str(error)[:400]
    except Exception as error:
        return type(error).__name__ + ": " + str(error)[:400]
    return "passed"
'''


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def cell_source(nb, grade_id):
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(grade_id)


def visible_part(source):
    return source.split("### BEGIN HIDDEN TESTS")[0]


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOURCE, as_version=4)


@pytest.fixture(scope="module")
def nb():
    t0 = time.monotonic()
    with NotebookSession(SOURCE, timeout=180) as session:
        session.seconds = time.monotonic() - t0
        session.run(RUNNER)
        yield session


def run_test_cell(nb, source):
    nb.run(f"_SRC = {source!r}")
    return nb.eval("_run_cell_source(_SRC)")


# --------------------------------------------------------------------------- structure
def test_points_add_up_to_100(notebook):
    graded = [nbgrader_meta(c) for c in notebook.cells if nbgrader_meta(c).get("grade")]
    total = sum(m["points"] for m in graded)
    auto = sum(nbgrader_meta(c)["points"] for c in notebook.cells
               if nbgrader_meta(c).get("grade") and c.cell_type == "code")
    assert (total, auto) == (100, 65)
    manual = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in notebook.cells
              if nbgrader_meta(c).get("grade") and c.cell_type == "markdown"}
    assert manual == {"identificacao": 0, "pergunta1": 10, "analise": 25}
    for c in notebook.cells:
        if c.cell_type == "markdown" and nbgrader_meta(c).get("solution"):
            assert "Rubrica" in c.source or nbgrader_meta(c)["grade_id"] == "identificacao"


def test_every_test_cell_has_hidden_tests(notebook):
    tests = [c for c in notebook.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    assert len(tests) == 8
    for c in tests:
        assert "### BEGIN HIDDEN TESTS" in c.source and "### END HIDDEN TESTS" in c.source
        if nbgrader_meta(c)["grade_id"] != "teste_melhor_config":  # that one runs nnlib's rules
            assert "checks.check_not_calling" in c.source, nbgrader_meta(c)["grade_id"]
        # a failing visible check shows 3 lines after it in the traceback (IPython context):
        # those must not be hidden lines, so the visible part ends with a print and comments
        before = c.source.split("### BEGIN HIDDEN TESTS")[0].rstrip("\n").splitlines()[-4:]
        assert before[0].startswith('print("') and all(l.startswith("# ") for l in before[1:])
        # nbgrader reads a value on the last line as partial credit
        last = c.source.rstrip().splitlines()[-1]
        assert last.strip() == "### END HIDDEN TESTS"


def test_header_and_instructions(notebook):
    header = notebook.cells[0].source
    for phrase in ("Prazo de entrega", "Validate", "Não apague", "nnlib.optim", "100 pontos"):
        assert phrase in header
    ident = cell_source(notebook, "identificacao")
    assert "Matrícula" in ident and "Nome" in ident


def test_notebook_runs_within_a_minute(nb):
    assert nb.seconds < 60, f"{nb.seconds:.1f} s"


# --------------------------------------------------------------------------- grading
TEST_CELLS = ["teste_sgd", "teste_momentum", "teste_nesterov", "teste_adagrad", "teste_rmsprop",
              "teste_adam", "teste_linear_decay", "teste_melhor_config"]


@pytest.mark.parametrize("grade_id", TEST_CELLS)
def test_model_solution_passes(nb, notebook, grade_id):
    assert run_test_cell(nb, cell_source(notebook, grade_id)) == "passed"


# (answer cell, test cell, wrong code, caught only by the hidden part?)
BUGS = {
    "sgd_in_place": ("sgd", "teste_sgd", """
def sgd(w, g, state=None, alpha=0.01):
    w -= alpha * g
    return w, {}
""", False),
    "sgd_wrong_sign": ("sgd", "teste_sgd", """
def sgd(w, g, state=None, alpha=0.01):
    return w + alpha * g, {}
""", False),
    "sgd_state_none": ("sgd", "teste_sgd", """
def sgd(w, g, state=None, alpha=0.01):
    return w - alpha * g, state
""", False),
    "sgd_calls_nnlib": ("sgd", "teste_sgd", """
def sgd(w, g, state=None, alpha=0.01):
    import nnlib.optim
    w_new = w.copy()
    nnlib.optim.SGD(alpha=alpha).step([w_new], lambda ws: [g])
    return w_new, {}
""", False),
    "sgd_ignores_alpha_default": ("sgd", "teste_sgd", """
def sgd(w, g, state=None, alpha=0.1):
    return w - alpha * g, {}
""", True),
    "momentum_velocity_sign": ("momentum", "teste_momentum", """
def momentum(w, g, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    v = mu * v + alpha * g
    return w - v, {"v": v}
""", False),
    "momentum_old_velocity": ("momentum", "teste_momentum", """
def momentum(w, g, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    w_new = w + mu * v
    v = mu * v - alpha * g
    return w_new, {"v": v}
""", False),
    "momentum_global_state": ("momentum", "teste_momentum", """
_V = {}
def momentum(w, g, state=None, alpha=0.01, mu=0.9):
    if state is None or _V.get("v") is None or _V["v"].shape != w.shape:
        _V["v"] = np.zeros_like(w)
    _V["v"] = mu * _V["v"] - alpha * g
    return w + _V["v"], {"v": _V["v"]}
""", True),
    "momentum_mutable_default": ("momentum", "teste_momentum", """
def momentum(w, g, state=None, alpha=0.01, mu=0.9, _memory={}):
    key = w.shape
    if state is None:
        _memory[key] = np.zeros_like(w)
    _memory[key] = mu * _memory[key] - alpha * g
    return w + _memory[key], {"v": _memory[key]}
""", True),
    "momentum_in_place": ("momentum", "teste_momentum", """
def momentum(w, g, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    v = mu * v - alpha * g
    w += v
    return w, {"v": v}
""", False),
    "momentum_calls_nnlib": ("momentum", "teste_momentum", """
import nnlib.optim as _o
def momentum(w, g, state=None, alpha=0.01, mu=0.9):
    opt = _o.Momentum(alpha=alpha, mu=mu)
    opt.v = [np.zeros_like(w) if state is None else state["v"].copy()]
    w_new = w.copy()
    opt.step([w_new], lambda ws: [g])
    return w_new, {"v": opt.v[0]}
""", False),
    "nesterov_gradient_at_w": ("nesterov", "teste_nesterov", """
def nesterov(w, grad_fn, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    v = mu * v - alpha * grad_fn(w)
    return w + v, {"v": v}
""", False),
    "nesterov_lookahead_minus": ("nesterov", "teste_nesterov", """
def nesterov(w, grad_fn, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    v = mu * v - alpha * grad_fn(w - mu * v)
    return w + v, {"v": v}
""", False),
    "nesterov_lookahead_plus_v": ("nesterov", "teste_nesterov", """
def nesterov(w, grad_fn, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    v = mu * v - alpha * grad_fn(w + v)
    return w + v, {"v": v}
""", False),
    "nesterov_two_calls": ("nesterov", "teste_nesterov", """
def nesterov(w, grad_fn, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    grad_fn(w)
    v = mu * v - alpha * grad_fn(w + mu * v)
    return w + v, {"v": v}
""", False),
    "nesterov_returns_lookahead": ("nesterov", "teste_nesterov", """
def nesterov(w, grad_fn, state=None, alpha=0.01, mu=0.9):
    # PyTorch's form applied to w itself: returns w~ instead of w
    v = np.zeros_like(w) if state is None else state["v"]
    g = grad_fn(w + mu * v)
    v = mu * v - alpha * g
    return w + v + mu * v, {"v": v}
""", False),
    "nesterov_velocity_sign": ("nesterov", "teste_nesterov", """
def nesterov(w, grad_fn, state=None, alpha=0.01, mu=0.9):
    v = np.zeros_like(w) if state is None else state["v"]
    v = mu * v + alpha * grad_fn(w - mu * v)
    return w - v, {"v": v}
""", False),
    "adagrad_eps_inside": ("adagrad", "teste_adagrad", """
def adagrad(w, g, state=None, alpha=0.01, eps=1e-10):
    r = np.zeros_like(w) if state is None else state["r"]
    r = r + g * g
    return w - alpha * g / np.sqrt(r + eps), {"r": r}
""", False),
    "adagrad_no_accumulation": ("adagrad", "teste_adagrad", """
def adagrad(w, g, state=None, alpha=0.01, eps=1e-10):
    r = g * g
    return w - alpha * g / (np.sqrt(r) + eps), {"r": r}
""", False),
    "adagrad_old_r": ("adagrad", "teste_adagrad", """
def adagrad(w, g, state=None, alpha=0.01, eps=1e-10):
    r = np.zeros_like(w) if state is None else state["r"]
    w_new = w - alpha * g / (np.sqrt(r) + eps)
    return w_new, {"r": r + g * g}
""", False),
    "adagrad_global_state": ("adagrad", "teste_adagrad", """
_R = {}
def adagrad(w, g, state=None, alpha=0.01, eps=1e-10):
    if state is None or _R.get("r") is None or _R["r"].shape != w.shape:
        _R["r"] = np.zeros_like(w)
    _R["r"] = _R["r"] + g * g
    return w - alpha * g / (np.sqrt(_R["r"]) + eps), {"r": _R["r"]}
""", True),
    "rmsprop_eps_inside": ("rmsprop", "teste_rmsprop", """
def rmsprop(w, g, state=None, alpha=0.001, rho=0.9, eps=1e-8):
    r = np.zeros_like(w) if state is None else state["r"]
    r = rho * r + (1 - rho) * g * g
    return w - alpha * g / np.sqrt(r + eps), {"r": r}
""", False),
    "rmsprop_rho_swapped": ("rmsprop", "teste_rmsprop", """
def rmsprop(w, g, state=None, alpha=0.001, rho=0.9, eps=1e-8):
    r = np.zeros_like(w) if state is None else state["r"]
    r = (1 - rho) * r + rho * g * g
    return w - alpha * g / (np.sqrt(r) + eps), {"r": r}
""", False),
    "rmsprop_missing_one_minus_rho": ("rmsprop", "teste_rmsprop", """
def rmsprop(w, g, state=None, alpha=0.001, rho=0.9, eps=1e-8):
    r = np.zeros_like(w) if state is None else state["r"]
    r = rho * r + g * g
    return w - alpha * g / (np.sqrt(r) + eps), {"r": r}
""", False),
    "rmsprop_global_state": ("rmsprop", "teste_rmsprop", """
_RR = {}
def rmsprop(w, g, state=None, alpha=0.001, rho=0.9, eps=1e-8):
    if state is None or _RR.get("r") is None or _RR["r"].shape != w.shape:
        _RR["r"] = np.zeros_like(w)
    _RR["r"] = rho * _RR["r"] + (1 - rho) * g * g
    return w - alpha * g / (np.sqrt(_RR["r"]) + eps), {"r": _RR["r"]}
""", True),
    "adam_t_not_incremented": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 1}
    t = state["t"]
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * g * g
    w_new = w - alpha * (m / (1 - beta1**t)) / (np.sqrt(s / (1 - beta2**t)) + eps)
    return w_new, {"m": m, "s": s, "t": t}
""", False),
    "adam_t_used_before_increment": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 0}
    t = state["t"]
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * g * g
    with np.errstate(divide="ignore", invalid="ignore"):
        w_new = w - alpha * (m / (1 - beta1**t)) / (np.sqrt(s / (1 - beta2**t)) + eps)
    return w_new, {"m": m, "s": s, "t": t + 1}
""", False),
    "adam_beta_squared_each_step": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 0, "b1t": beta1, "b2t": beta2}
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * g * g
    w_new = w - alpha * (m / (1 - state["b1t"])) / (np.sqrt(s / (1 - state["b2t"])) + eps)
    return w_new, {"m": m, "s": s, "t": t, "b1t": state["b1t"] ** 2, "b2t": state["b2t"] ** 2}
""", True),
    "adam_eps_inside": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 0}
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * g * g
    w_new = w - alpha * (m / (1 - beta1**t)) / np.sqrt(s / (1 - beta2**t) + eps)
    return w_new, {"m": m, "s": s, "t": t}
""", False),
    "adam_no_bias_correction": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 0}
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * g * g
    return w - alpha * m / (np.sqrt(s) + eps), {"m": m, "s": s, "t": state["t"] + 1}
""", False),
    "adam_correction_on_m_only": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 0}
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * g * g
    return w - alpha * (m / (1 - beta1**t)) / (np.sqrt(s) + eps), {"m": m, "s": s, "t": t}
""", False),
    "adam_stores_corrected_moments": ("adam", "teste_adam", """
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None:
        state = {"m": np.zeros_like(w), "s": np.zeros_like(w), "t": 0}
    t = state["t"] + 1
    m = (beta1 * state["m"] + (1 - beta1) * g) / (1 - beta1**t)
    s = (beta2 * state["s"] + (1 - beta2) * g * g) / (1 - beta2**t)
    return w - alpha * m / (np.sqrt(s) + eps), {"m": m, "s": s, "t": t}
""", False),
    "adam_global_state": ("adam", "teste_adam", """
_AD = {}
def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    if state is None or _AD.get("m") is None or _AD["m"].shape != w.shape:
        _AD.update(m=np.zeros_like(w), s=np.zeros_like(w), t=0)
    _AD["t"] += 1
    t = _AD["t"]
    _AD["m"] = beta1 * _AD["m"] + (1 - beta1) * g
    _AD["s"] = beta2 * _AD["s"] + (1 - beta2) * g * g
    w_new = w - alpha * (_AD["m"] / (1 - beta1**t)) / (np.sqrt(_AD["s"] / (1 - beta2**t)) + eps)
    return w_new, {"m": _AD["m"], "s": _AD["s"], "t": t}
""", True),
    "decay_no_plateau": ("linear_decay", "teste_linear_decay", """
def linear_decay(j, alpha0, alpha_tau, tau):
    if j < 0:
        raise ValueError(f"j = {j}")
    return float((1 - j / tau) * alpha0 + j / tau * alpha_tau)
""", False),
    "decay_swapped": ("linear_decay", "teste_linear_decay", """
def linear_decay(j, alpha0, alpha_tau, tau):
    if j < 0:
        raise ValueError(f"j = {j}")
    f = min(j / tau, 1.0)
    return float(f * alpha0 + (1 - f) * alpha_tau)
""", False),
    "decay_off_by_one": ("linear_decay", "teste_linear_decay", """
def linear_decay(j, alpha0, alpha_tau, tau):
    if j < 0:
        raise ValueError(f"j = {j}")
    f = min((j + 1) / tau, 1.0)
    return float((1 - f) * alpha0 + f * alpha_tau)
""", False),
    "decay_integer_division": ("linear_decay", "teste_linear_decay", """
def linear_decay(j, alpha0, alpha_tau, tau):
    if j < 0:
        raise ValueError(f"j = {j}")
    f = min(j // tau, 1)
    return float((1 - f) * alpha0 + f * alpha_tau)
""", False),
    "decay_no_error_for_negative_j": ("linear_decay", "teste_linear_decay", """
def linear_decay(j, alpha0, alpha_tau, tau):
    f = min(max(j, 0) / tau, 1.0)
    return float((1 - f) * alpha0 + f * alpha_tau)
""", True),
    "decay_calls_nnlib": ("linear_decay", "teste_linear_decay", """
from nnlib.schedules import LinearDecay as _LD
def linear_decay(j, alpha0, alpha_tau, tau):
    return _LD(alpha0, alpha_tau, tau)(j)
""", False),
    "config_too_small_alpha": ("melhor_config", "teste_melhor_config", """
melhor_config = {"optimizer": "sgd", "hyper": {"alpha": 0.01}, "decay": None,
                 "batch_size": 32, "epochs": 10}
""", False),
    "config_too_many_epochs": ("melhor_config", "teste_melhor_config", """
melhor_config = {"optimizer": "adam", "hyper": {"alpha": 0.01}, "decay": None,
                 "batch_size": 32, "epochs": 30}
""", False),
    "config_tiny_batches": ("melhor_config", "teste_melhor_config", """
melhor_config = {"optimizer": "adam", "hyper": {"alpha": 0.003}, "decay": None,
                 "batch_size": 1, "epochs": 10}
""", False),
    "config_unknown_hyper": ("melhor_config", "teste_melhor_config", """
melhor_config = {"optimizer": "adam", "hyper": {"alpha": 0.003, "mu": 0.9}, "decay": None,
                 "batch_size": 32, "epochs": 10}
""", False),
    "config_bad_decay": ("melhor_config", "teste_melhor_config", """
melhor_config = {"optimizer": "momentum", "hyper": {"alpha": 0.1, "mu": 0.9},
                 "decay": {"alpha_tau": -0.01, "tau": 400}, "batch_size": 32, "epochs": 10}
""", False),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_wrong_answer_fails_its_test_cell(nb, notebook, bug):
    answer_id, test_id, wrong, hidden_only = BUGS[bug]
    test_src = cell_source(notebook, test_id)
    try:
        nb.run(wrong)
        full = run_test_cell(nb, test_src)
        visible = run_test_cell(nb, visible_part(test_src)) if hidden_only else None
    finally:
        nb.run(cell_source(notebook, answer_id))
        if test_id == "teste_melhor_config":
            nb.run(cell_source(notebook, "melhor_config"))
    assert full.startswith("AssertionError"), f"{bug}: {full}"
    if hidden_only:
        assert visible == "passed", f"{bug}: the visible part already fails: {visible}"
    assert run_test_cell(nb, test_src) == "passed"  # the model solution is back


def test_wrong_answer_messages_are_portuguese(nb, notebook):
    _, test_id, wrong, _ = BUGS["adam_no_bias_correction"]
    try:
        nb.run(wrong)
        result = run_test_cell(nb, cell_source(notebook, test_id))
    finally:
        nb.run(cell_source(notebook, "adam"))
    assert result.startswith("AssertionError: adam: w após o 1º passo")
    assert "fora da tolerância" in result


# --------------------------------------------------------------------------- the notebook's claims
RULE_CLASSES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov",
                "adagrad": "AdaGrad", "rmsprop": "RMSProp", "adam": "Adam"}


@pytest.mark.parametrize("name", sorted(RULE_CLASSES))
def test_model_rules_match_nnlib_optimizers(nb, name):
    """The model answers, through the adapter, follow nnlib's optimizers step for step."""
    hyper = {"sgd": "", "momentum": ", mu=0.8", "nesterov": ", mu=0.8", "adagrad": ", eps=1e-3",
             "rmsprop": ", rho=0.8, eps=1e-3", "adam": ", beta1=0.8, beta2=0.99, eps=1e-3"}[name]
    code = (
        "import nnlib.optim as _optim_ref, nnlib.schedules as _sched_ref\n"
        "_surf = surfaces.get('rosenbrock')\n"
        f"_ours = surfaces.run(StudentOptimizer('{name}', 0.002{hyper}), _surf, steps=40)\n"
        f"_ref = surfaces.run(_optim_ref.{RULE_CLASSES[name]}(alpha=0.002{hyper}), _surf, steps=40)\n"
        "_sched = lambda j: linear_decay(j, 0.002, 0.0005, 25)\n"
        f"_ours_d = surfaces.run(StudentOptimizer('{name}', _sched{hyper}), _surf, steps=40)\n"
        f"_ref_d = surfaces.run(_optim_ref.{RULE_CLASSES[name]}(alpha=_sched_ref.LinearDecay(0.002, 0.0005, 25){hyper}), _surf, steps=40)\n"
    )
    nb.run(code)
    assert nb.eval("_ours.shape == _ref.shape == (41, 2)")
    assert nb.eval("float(np.max(np.abs(_ours - _ref)))") < 1e-12
    assert nb.eval("float(np.max(np.abs(_ours_d - _ref_d)))") < 1e-12
    assert nb.eval("float(np.max(np.abs(_ours - _ours_d)))") > 1e-6  # the schedule mattered


def test_model_config_is_robust(nb):
    """The model melhor_config clears 0.95 on seeds beyond the ones the test cell uses."""
    accs = nb.eval("[float(train_rule(melhor_config['optimizer'], melhor_config['hyper'], "
                   "decay=melhor_config['decay'], seed=s).val_accuracy[-1]) for s in range(6)]")
    assert min(accs) >= 0.96, accs


def test_experiment_claims_of_the_model_answer(nb):
    """The numbers the model analysis quotes come out of the experiment cell."""
    res = nb.eval("{k: {'acc': v[1].val_accuracy, 'J': v[1].J, 'alpha': v[2]} for k, v in escolhidos.items()}")
    assert len(res) == 7

    def first_epoch_at(key, level=0.95):
        return next(k for k, a in enumerate(res[key]["acc"]) if a >= level)

    assert first_epoch_at("nesterov") == 3 and first_epoch_at("adam") == 3
    assert first_epoch_at("momentum + decaimento") == 4
    assert first_epoch_at("rmsprop") == 4 and first_epoch_at("adagrad") == 4
    assert first_epoch_at("momentum") == 6
    finals = {k: v["J"][-1] for k, v in res.items()}
    assert max(finals, key=finals.get) == "sgd"
    assert min(finals, key=finals.get) == "nesterov"
    assert all(0.966 <= v["acc"][-1] <= 0.974 for v in res.values())
    # SGD: above 95% for good from epoch 7, with J rising in epochs 5-6
    assert all(a >= 0.95 for a in res["sgd"]["acc"][7:]) and res["sgd"]["acc"][6] < 0.95
    assert res["sgd"]["J"][5] > res["sgd"]["J"][4]
    assert res["rmsprop"]["acc"][5] > 0.955 and res["rmsprop"]["acc"][6] < 0.91  # the drop at epoch 6


def test_adam_bias_correction_numbers_of_the_model_answer(nb):
    """Pergunta 1: first step ≈ 3.16 α without the correction and α with it."""
    nb.run("_w1, _ = adam(np.array([0.0]), np.array([0.7]), None, alpha=1.0, eps=0.0)")
    assert abs(nb.eval("float(_w1[0])") + 1.0) < 1e-12
    no_correction = 0.1 / (0.001 ** 0.5)
    assert abs(no_correction - 3.16) < 0.005
    assert 0.9 ** 44 < 0.01 < 0.9 ** 43
    assert abs(0.999 ** 1000 - 0.37) < 0.005 and abs(0.999 ** 3000 - 0.05) < 0.001


# --------------------------------------------------------------------------- widget
SUMMARY = '''
def _paths_summary(fig):
    ax_path, ax_J = fig.axes
    out = {"n_axes": len(fig.axes), "title": ax_path.get_title(),
           "labels": [t.get_text() for t in ax_path.get_legend().get_texts()],
           "paths": [l.get_xydata().round(8).tolist() for l in ax_path.lines if len(l.get_xdata()) > 1],
           "n_J_lines": sum(len(l.get_xdata()) > 0 for l in ax_J.lines), "xlim": list(ax_path.get_xlim())}
    plt.close(fig)
    return out
'''


def test_widget_callback_redraws(nb):
    nb.run(SUMMARY)
    quad = nb.eval("_paths_summary(plot_student_paths('quadratic', 0.05, 60, ('sgd', 'momentum')))")
    rosen = nb.eval("_paths_summary(plot_student_paths('rosenbrock', 0.002, 120, "
                    "('sgd', 'nesterov', 'adagrad', 'adam')))")
    bigger = nb.eval("_paths_summary(plot_student_paths('quadratic', 0.09, 60, ('sgd', 'momentum')))")
    assert quad["n_axes"] == rosen["n_axes"] == 2
    assert quad["title"].startswith("quadratic") and "α = 0.05" in quad["title"]
    assert rosen["title"].startswith("rosenbrock") and "120 passos" in rosen["title"]
    assert quad["labels"] == ["mínimo", "sgd", "momentum"]
    assert rosen["labels"] == ["mínimo", "sgd", "nesterov", "adagrad", "adam"]
    assert (quad["n_J_lines"], rosen["n_J_lines"]) == (2, 4)
    assert [len(p) for p in quad["paths"]] == [61, 61]
    assert [len(p) for p in rosen["paths"]] == [121] * 4
    assert quad["paths"] != bigger["paths"] and quad["xlim"] != rosen["xlim"]
    # starting point and the first SGD step on J = (w1² + 20 w2²)/2 from (-4, 1.5)
    assert quad["paths"][0][0] == [-4.0, 1.5]
    assert quad["paths"][0][1] == pytest.approx([-4.0 + 0.05 * 4.0, 1.5 - 0.05 * 20 * 1.5])


def test_widget_marks_divergence_and_missing_rules(nb, notebook):
    nb.run(SUMMARY)
    diverged = nb.eval("_paths_summary(plot_student_paths('quadratic', 0.95, 300, ('sgd', 'adam')))")
    assert diverged["labels"][1] == "sgd (divergiu)" and diverged["labels"][2] == "adam"
    try:
        nb.run("def adam(w, g, state=None, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
               "    raise NotImplementedError()")
        blank = nb.eval("_paths_summary(plot_student_paths('beale', 0.01, 30, ('sgd', 'adam')))")
    finally:
        nb.run(cell_source(notebook, "adam"))
    assert blank["labels"] == ["mínimo", "sgd", "adam: não implementado"]
    assert len(blank["paths"]) == 1


PIXELS = ("import io as _io\nimport numpy as _np\n"
          "from nnlib.liveplot import png_pixels as _png_pixels, figure_pixels as _full_draw, "
          "differing_pixels as _differing_pixels\n")


def test_widget_callback_returns_png(nb):
    nb.run(PIXELS)
    nb.run("_png_a = show_student_paths('quadratic', 0.05, 60, ('sgd', 'momentum'))\n"
           "_png_b = show_student_paths('quadratic', 0.05, 100, ('sgd', 'momentum'))")
    assert nb.eval("[type(p).__name__ for p in (_png_a, _png_b)]") == ["bytes", "bytes"]
    assert nb.eval("_png_a[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and _png_b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")
    assert nb.eval("bool((_png_pixels(_png_a) != _png_pixels(_png_b)).any())")
    assert nb.eval("live.image.value == _png_b")  # what the widget shows


@pytest.mark.parametrize("args", [
    ("quadratic", 0.05, 60, ("sgd", "momentum", "nesterov", "adam")),
    ("rosenbrock", 0.002, 120, ("sgd", "nesterov", "adagrad", "adam")),
    ("beale", 1.0, 150, ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")),
    ("bounded_saddle", 0.003, 5, ("sgd",)),
    ("quadratic", 1e-4, 300, ()),
])
def test_widget_redraw_equals_a_full_draw(nb, args):
    """The in-place redraw, after other moves (another surface, other steps and rules), shows
    pixel for pixel what plot_student_paths draws: the static part cached per surface, the
    step axis redrawn with the trajectories."""
    nb.run(PIXELS)
    for other in (("beale", 0.3, 200, ("adam", "sgd")), ("quadratic", 0.02, 20, ("sgd",)),
                  ("rosenbrock", 0.01, 300, ("momentum", "rmsprop"))):
        nb.run(f"show_student_paths{other!r}")
    assert nb.eval(f"_differing_pixels(show_student_paths{args!r}, plot_student_paths{args!r})") == 0


def test_widget_callback_with_blank_rules(nb, notebook):
    """The student version: rules still raising NotImplementedError are listed, nothing breaks."""
    nb.run(PIXELS)
    stub = ("def {0}(w, g, state=None, alpha=0.01, **hyper):\n"
            "    raise NotImplementedError()\n")
    try:
        nb.run("".join(stub.format(name) for name in ("sgd", "adam")))
        nb.run("_png = show_student_paths('beale', 0.01, 30, ('sgd', 'rmsprop', 'adam'))")
        labels = nb.eval("[t.get_text() for t in live_artists['legend'].get_texts()]")
        differing = nb.eval("_differing_pixels(_png, plot_student_paths('beale', 0.01, 30, ('sgd', 'rmsprop', 'adam')))")
    finally:
        nb.run(cell_source(notebook, "sgd"))
        nb.run(cell_source(notebook, "adam"))
    assert labels == ["mínimo", "sgd: não implementado", "rmsprop", "adam: não implementado"]
    assert differing == 0
    assert nb.eval("[len(l.get_xdata()) for l in (live_artists['path_sgd'], live_artists['path_rmsprop'])]") == [0, 31]



# --------------------------------------------------------------------------- student version
def test_student_version_exists_and_is_blank():
    assert os.path.exists(RELEASE), "run `make release`"
    student = nbformat.read(RELEASE, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "Rubrica" not in text and "Resposta modelo" not in text
    assert "melhor_config = {" not in re.sub(r"```python.*?```", "", text, flags=re.S)
    stubs = [c for c in student.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubs) == 9  # 7 rules, the experiment, melhor_config


# --------------------------------------------------------------------------- sample submissions
def solution_code(notebook, grade_id):
    """An answer cell of the source without the solution markers (what a good student writes)."""
    lines = cell_source(notebook, grade_id).splitlines()
    return "\n".join(l for l in lines if l.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def sample_submission(notebook, answers):
    """The released student version with ``answers`` (grade_id -> source) filled in."""
    student = nbformat.read(RELEASE, as_version=4)
    for cell in student.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nbformat.writes(student)


@pytest.fixture(scope="module")
def graded_samples(notebook, tmp_path_factory):
    """`make grade`'s code (course.grade.grade, without the sandbox) on two sample submissions."""
    import shutil

    sys.path.insert(0, ROOT)
    from course.grade import grade
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("course")
    os.chmod(base, 0o711)
    shutil.copytree(os.path.dirname(SOURCE), base / "solutions" / NB_ID)
    good = {gid: solution_code(notebook, gid) for gid in
            ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "linear_decay",
             "experimento", "melhor_config")}
    text = {"identificacao": "Nome: Aluna Exemplo\n\nMatrícula: 123456",
            "pergunta1": "Sem correção o passo é maior.", "analise": "O Adam foi o melhor."}
    partial = {**good, **text,
               "nesterov": BUGS["nesterov_gradient_at_w"][2],
               "adam": BUGS["adam_no_bias_correction"][2],
               "melhor_config": BUGS["config_too_small_alpha"][2]}
    copied = {**good, **text,
              "sgd": BUGS["sgd_calls_nnlib"][2], "momentum": BUGS["momentum_calls_nnlib"][2],
              "linear_decay": BUGS["decay_calls_nnlib"][2],
              "melhor_config": BUGS["config_unknown_hyper"][2]}
    for student, answers in (("parcial", partial), ("usa_nnlib", copied)):
        folder = base / "submitted" / student / NB_ID
        folder.mkdir(parents=True)
        (folder / (NB_ID + ".ipynb")).write_text(sample_submission(notebook, answers), encoding="utf-8")
    results = grade(str(base), pairs=[("parcial", NB_ID), ("usa_nnlib", NB_ID)], use_sandbox=False)
    scores = {}
    with Gradebook(f"sqlite:///{base}/gradebook.db", "t320") as gb:
        for student in ("parcial", "usa_nnlib"):
            sub = gb.find_submission(NB_ID, student)
            scores[student] = {g.cell.name: g.score for nb_ in sub.notebooks for g in nb_.grades
                               if g.cell.cell_type == "code"}
    for folder in ("autograded", "feedback"):  # grade() closes them to other users
        os.chmod(base / folder, 0o755)
    return {"base": base, "results": results, "scores": scores}


def test_sample_submissions_get_partial_credit(graded_samples):
    assert all(r["success"] for r in graded_samples["results"].values())
    partial = graded_samples["scores"]["parcial"]
    assert partial == {"teste_sgd": 4, "teste_momentum": 8, "teste_nesterov": 0, "teste_adagrad": 7,
                       "teste_rmsprop": 7, "teste_adam": 0, "teste_linear_decay": 7,
                       "teste_melhor_config": 0}
    copied = graded_samples["scores"]["usa_nnlib"]
    assert copied["teste_sgd"] == copied["teste_momentum"] == copied["teste_linear_decay"] == 0
    assert copied["teste_melhor_config"] == 0
    assert copied["teste_adam"] == 12  # this answer itself is a correct one


def test_sample_grades_csv_and_feedback(graded_samples):
    import csv

    base = graded_samples["base"]
    with open(base / "grades.csv", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(rows["parcial"]["score"]) == 33 and float(rows["parcial"]["max_score"]) == 100
    assert float(rows["usa_nnlib"]["score"]) == sum(
        v for v in graded_samples["scores"]["usa_nnlib"].values())
    import html as html_lib

    hidden = set()
    for c in nbformat.read(SOURCE, as_version=4).cells:
        if "### BEGIN HIDDEN TESTS" in c.source:
            body = c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            hidden |= {l.strip() for l in body.splitlines() if len(l.strip()) > 3}
    for student in ("parcial", "usa_nnlib"):
        page = (base / "feedback" / student / NB_ID / (NB_ID + ".html")).read_text(encoding="utf-8")
        text = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
        lines = {l.strip() for l in text.splitlines()}
        # every failure of these two submissions is in a visible part: no hidden line shows
        assert not hidden & lines, sorted(hidden & lines)
        assert "referencia_adam_o" not in text and "semente_oculta" not in text
    partial_text = (base / "feedback" / "parcial" / NB_ID / (NB_ID + ".html")).read_text(encoding="utf-8")
    assert "adam: w após o 1º passo" in html_lib.unescape(partial_text)


@pytest.mark.parametrize("surface_name", ["rosenbrock", "beale"])
def test_widget_draws_diverging_rules(nb, surface_name):
    """A diverging rule (J ~ 1e285) must still give a drawable figure, not an OverflowError.

    These calls crashed the benchmark (docs/performance.md): the figure of plot_student_paths
    saved as the inline backend saves it, and the widget callback's PNG.
    """
    nb.run(PIXELS)
    nb.run("import io as _io\n"
           f"_fig = plot_student_paths({surface_name!r}, 0.1, 300, RULE_NAMES)\n"
           "_fig.savefig(_io.BytesIO(), format='png', bbox_inches='tight')\n"
           f"_png = show_student_paths({surface_name!r}, 0.1, 300, RULE_NAMES)")
    assert any("divergiu" in label for label in nb.eval("[l.get_label() for l in _fig.axes[1].get_lines()]"))
    assert nb.eval("_png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")
    assert any("divergiu" in t for t in nb.eval("[t.get_text() for t in live_artists['legend'].get_texts()]"))
    assert nb.eval(f"_differing_pixels(_png, plot_student_paths({surface_name!r}, 0.1, 300, RULE_NAMES))") == 0


@pytest.mark.parametrize("bug", ["momentum_old_velocity", "decay_off_by_one"])
def test_melhor_config_does_not_depend_on_the_rules(nb, notebook, bug):
    """melhor_config retrains with nnlib's reference rules: a wrong momentum or linear_decay
    fails its own cell and leaves teste_melhor_config passing (fair partial credit)."""
    answer_id, test_id, wrong, _ = BUGS[bug]
    try:
        nb.run(wrong)
        own = run_test_cell(nb, cell_source(notebook, test_id))
        config = run_test_cell(nb, cell_source(notebook, "teste_melhor_config"))
    finally:
        nb.run(cell_source(notebook, answer_id))
    assert own.startswith("AssertionError"), own
    assert config == "passed", config
