"""Lecture 5 (weight initialization): run the source notebook once, then check its widget
callback (nnlib/figures/aula05.py, fed with the notebook's own ``layer_statistics``), its
numerical claims, its graded cells and the layout targets of its student version.

In the kernel, ``plot_layer_statistics(...)`` is ``figures.layer_statistics_figure(layer_statistics,
...)`` and ``show_layer_statistics`` / ``live`` / ``controls`` are the displayed widget's
``painel.atualizar`` / ``painel.live`` / ``painel.controles`` (aliases the fixture defines)."""

import ast

import numpy as np
import pytest

from notebook_layout import layout_problems
from notebook_session import PIXELS, NotebookSession, grade_cell_source, notebook_path, visible_part

SOURCE = notebook_path("solutions", "aula05_inicializacao")
STUDENT = notebook_path("lectures", "aula05_inicializacao")


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=180) as session:
        session.run("import numpy as np\nimport matplotlib.pyplot as plt\nfrom nnlib import init as _nninit\n"
                    "plot_layer_statistics = lambda *a, **k: figures.layer_statistics_figure(layer_statistics, *a, **k)\n"
                    "show_layer_statistics, live, controls = painel.atualizar, painel.live, painel.controles\n"
                    "log_limits = figures.log_limits")
        yield session


# ----------------------------------------------------------------------------- widget callback
FIGURE_SUMMARY = """
def _summary(fig):
    axes = fig.axes
    return {
        "n_axes": len(axes),
        "title": fig.get_suptitle(),
        "std_lines": [np.asarray(l.get_ydata(), dtype=float).tolist() for l in axes[0].get_lines()],
        "grad_line": np.asarray(axes[1].get_lines()[0].get_ydata(), dtype=float).tolist(),
        "n_hist": len(axes[2].patches),
        "n_hist_visible": sum(p.get_visible() for p in axes[2].patches),
        "ylabels": [ax.get_ylabel() for ax in axes],
        "xlabels": [ax.get_xlabel() for ax in axes],
    }
"""


def draw(nb, **kwargs):
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    nb.run(FIGURE_SUMMARY)
    out = nb.eval(f"(lambda f: (_summary(f), plt.close(f))[0])(plot_layer_statistics({args}))")
    return out


def test_widget_callback_returns_figure_and_changes(nb):
    base = draw(nb, depth=10, activation="relu", heuristic="he", distribution="normal", scale=1.0)
    other = draw(nb, depth=20, activation="relu", heuristic="glorot", distribution="uniform", scale=1.0)
    assert nb.eval("type(plot_layer_statistics()).__name__") == "Figure"
    nb.run("plt.close('all')")
    assert base["n_axes"] == other["n_axes"] == 3
    # one point per layer, so the depth slider changes the curves' length
    assert all(len(line) == 10 for line in base["std_lines"])
    assert all(len(line) == 20 for line in other["std_lines"])
    assert len(base["grad_line"]) == 10 and len(other["grad_line"]) == 20
    # the title names the choices (Portuguese labels)
    assert "relu" in base["title"] and "he" in base["title"] and "normal" in base["title"]
    assert "glorot" in other["title"] and "uniforme" in other["title"] and "20 camadas" in other["title"]
    assert "camada l" in base["xlabels"][0]
    # He keeps the ReLU signal; Glorot halves its variance per layer: the redraw shows it
    he_a = base["std_lines"][1]
    glorot_a = other["std_lines"][1]
    assert 0.3 < he_a[-1] / he_a[0] < 3
    assert glorot_a[-1] / glorot_a[0] < 1e-2
    # three histograms (first, middle, last layer)
    assert base["n_hist"] == other["n_hist"] == 3


def test_widget_scale_and_activation_change_the_statistics(nb):
    small = draw(nb, depth=12, activation="tanh", heuristic="glorot", distribution="normal", scale=0.5)
    large = draw(nb, depth=12, activation="tanh", heuristic="glorot", distribution="normal", scale=3.0)
    selu = draw(nb, depth=12, activation="selu", heuristic="lecun", distribution="uniform", scale=1.0)
    assert "0,5" in small["title"] and "3" in large["title"]
    # small weights: activations collapse; large weights: tanh saturates near ±1
    assert small["std_lines"][1][-1] < 1e-2
    assert large["std_lines"][1][-1] > 0.7
    # exploding gradient toward the input with large tanh weights
    assert large["grad_line"][0] / large["grad_line"][-1] > 20
    # SELU + LeCun: the std of a stays near 1
    assert all(0.8 < s < 1.25 for s in selu["std_lines"][1])
    assert small["std_lines"] != large["std_lines"] != selu["std_lines"]


def test_widget_handles_extreme_choices(nb):
    # overflow must not crash the widget (linear + He x 3 over 30 layers explodes)
    out = draw(nb, depth=30, activation="linear", heuristic="he", distribution="normal", scale=3.0)
    assert out["n_axes"] == 3 and len(out["std_lines"][0]) == 30
    out = draw(nb, depth=2, activation="logistic", heuristic="lecun", distribution="uniform", scale=0.25)
    assert len(out["grad_line"]) == 2
    assert out["n_hist_visible"] == 2      # L = 2: the middle layer is the first one
    assert nb.eval(f"show_layer_statistics(30, 'linear', 'he', 'normal', 3.0)[:8] == {PNG_MAGIC}") is True
    # non-finite statistics never break the axes: no point, default limits
    assert nb.eval("log_limits(np.array([np.nan, np.inf, -np.inf, 0.0]))") == [-3, 3]
    assert nb.eval("log_limits(np.array([np.nan, 1e-20, 1e30]))") == [-24, 36]


# ----------------------------------------------------------------------------- live widget
PNG_MAGIC = "b'\\x89PNG\\r\\n\\x1a\\n'"
DEFAULT = (10, "tanh", "glorot", "normal", 1.0)


def test_live_callback_returns_png_that_follows_every_control(nb):
    nb.run(PIXELS)
    moves = [DEFAULT, (11, "tanh", "glorot", "normal", 1.0), (11, "relu", "glorot", "normal", 1.0),
             (11, "relu", "he", "normal", 1.0), (11, "relu", "he", "uniform", 1.0), (11, "relu", "he", "uniform", 1.5)]
    nb.run(f"_pngs = [show_layer_statistics(*v) for v in {moves!r}]")
    assert nb.eval(f"all(p[:8] == {PNG_MAGIC} for p in _pngs)")
    # each control (depth, activation, heuristic, distribution, scale) changes the picture
    assert nb.eval("[bool((_png_pixels(a) != _png_pixels(b)).any()) for a, b in zip(_pngs, _pngs[1:])]") == [True] * 5
    assert nb.eval("plt.get_fignums()") == []   # no pyplot figure left for the inline backend


def test_widget_controls_redraw_the_image(nb):
    # the notebook's widget (built because NBGRADER_EXECUTION is unset here): a control change
    # calls the callback, which sends the PNG of the new values to the image
    nb.run("_sent = []\n"
           "live.image.observe(lambda change: _sent.append(change['new']), 'value')\n"
           "try:\n"
           "    controls['scale'].value = 2.0\n"
           "    controls['activation'].value = 'relu'\n"
           "finally:\n"
           "    live.image.unobserve_all('value')\n"
           "_sent_ok = [png == show_layer_statistics(10, act, 'glorot', 'normal', 2.0)"
           " for png, act in zip(_sent, ('tanh', 'relu'))]\n"
           "controls['scale'].value, controls['activation'].value = 1.0, 'tanh'")
    assert nb.eval("_sent_ok") == [True, True]


# earlier moves that visit several static keys (log windows, histogram ranges, L = 2), then the target
MOVES = [(30, "linear", "he", "normal", 3.0), (2, "relu", "he", "uniform", 1.0), (30, "relu", "glorot", "normal", 0.25),
         (25, "logistic", "glorot", "normal", 1.0), (7, "selu", "lecun", "uniform", 2.0), DEFAULT]


@pytest.mark.parametrize("target", [DEFAULT, (2, "relu", "he", "uniform", 1.0), (30, "linear", "he", "normal", 3.0),
                                    (30, "logistic", "glorot", "normal", 0.25), (17, "selu", "he", "uniform", 2.35),
                                    (12, "tanh", "lecun", "normal", 3.0)])
def test_live_redraw_equals_a_full_draw_of_plot_layer_statistics(nb, target):
    """The in-place redraw, after other moves, shows pixel for pixel what plot_layer_statistics draws."""
    nb.run(PIXELS)
    for move in MOVES:
        nb.run(f"show_layer_statistics{move!r}")
    assert nb.eval(f"_differing_pixels(show_layer_statistics{target!r}, plot_layer_statistics{target!r})") == 0


def test_live_memory_is_bounded_and_the_picture_stays_right(nb):
    """At most box.max_backgrounds static images are kept; starting over still draws the right picture."""
    nb.run(PIXELS + "_keep_max = painel.max_backgrounds\npainel.max_backgrounds = 2\nlive.forget_static()\n"
           "painel.seen_keys.clear()")
    try:
        for move in MOVES:
            nb.run(f"show_layer_statistics{move!r}")
            assert nb.eval("len(painel.seen_keys)") <= 2
        target = (30, "relu", "glorot", "normal", 0.25)
        assert nb.eval(f"_differing_pixels(show_layer_statistics{target!r}, plot_layer_statistics{target!r})") == 0
    finally:
        nb.run("painel.max_backgrounds = _keep_max")


def test_fixed_axes_hold_every_curve_and_histogram(nb):
    """Blitting cannot rescale: the fixed axes must hold what is drawn, in the extreme cases too."""
    cases = [DEFAULT, (30, "linear", "he", "normal", 3.0), (30, "relu", "glorot", "normal", 0.25),
             (30, "logistic", "lecun", "uniform", 0.25), (30, "selu", "he", "normal", 3.0), (2, "tanh", "he", "uniform", 3.0)]
    rows = nb.eval(
        "[(lambda f: [[f.axes[i].get_ylim(), f.axes[i].get_xlim(), [np.asarray(l.get_ydata(), float).tolist()"
        " for l in f.axes[i].lines]] for i in (0, 1)] + [[float(sum(p.get_data().values.sum()"
        " for p in f.axes[2].patches if p.get_visible())), sum(p.get_visible() for p in f.axes[2].patches),"
        " f.axes[2].get_xlim(), [p.get_data().edges[[0, -1]].tolist() for p in f.axes[2].patches]]])"
        "(plot_layer_statistics(*v)) for v in " + repr(cases) + "]")
    for case, (std, grad, hist) in zip(cases, rows):
        for (bottom, top), (left, right), lines in (std, grad):
            assert (left, right) == (0, 31)                      # the layer axis holds L = 30
            for line in lines:
                assert len(line) == case[0]
                assert all(bottom < v < top for v in line), (case, bottom, top, min(line), max(line))
        total, visible, (left, right), edges = hist
        # every finite activation of the shown layers falls in the fixed bins: fractions add up to 1 each
        assert total == pytest.approx(visible) and visible == (2 if case[0] == 2 else 3), case
        assert all(left < e0 and e1 < right for e0, e1 in edges)
    # the common case keeps the default windows (1e-3 .. 1e3) and the tanh range [-1, 1]
    assert rows[0][0][0] == pytest.approx((1e-3, 1e3)) and rows[0][1][0] == pytest.approx((1e-3, 1e3))
    assert rows[0][2][3][0] == [-1.0, 1.0]


# ----------------------------------------------------------------------------- the notebook's claims
def test_local_search_depends_on_start(nb):
    final = nb.eval("final_J.tolist()")
    assert len(final) == 8
    assert max(final) / min(final) > 2.0


def test_zero_weights_do_not_learn(nb):
    J = nb.eval("hist_zero.J")
    assert abs(J[0] - 0.6931471805599453) < 1e-12 and abs(J[-1] - J[0]) < 1e-12
    assert nb.eval("float(np.abs(net_zero.w).max())") < 1e-12


def test_constant_weights_stay_symmetric(nb):
    # W1 columns of the net trained from constant weights are identical; Glorot's are not
    assert nb.eval("float(np.ptp(net_c05.params[0], axis=1).max())") < 1e-10
    assert nb.eval("float(np.ptp(net_c05.params[2]))") < 1e-10
    assert nb.eval("float(np.abs(net_c05.w - 0.5).max())") > 0.1   # it did train
    assert nb.eval("float(np.ptp(net_glorot.params[0], axis=1).max())") > 0.5
    assert nb.eval("hist_glorot.accuracy[-1]") > nb.eval("hist_c05.accuracy[-1]") + 0.05


def test_exercise1_solution(nb):
    assert nb.eval("max(diff_const)") < 1e-10
    assert nb.eval("min(diff_rand)") > 0.05
    # independent check of max_unit_difference on a non-square matrix (axis matters)
    nb.run("_W = np.random.default_rng(3).normal(size=(4, 9))")
    got = nb.eval("max_unit_difference(_W)")
    ref = nb.eval("float(max(abs(_W[i, j] - _W[i, k]) for i in range(4) for j in range(9) for k in range(9)))")
    assert got == pytest.approx(ref, rel=1e-12)
    assert nb.eval("max_unit_difference(_W.T)") != pytest.approx(ref, rel=1e-3)


def test_variance_formula_demo(nb):
    # Var(z) = m Var(w) Var(x) = 400 * (1/400) * 4 for zero-mean inputs, within sampling error
    assert nb.eval("float(z.var())") == pytest.approx(4.0, rel=0.03)
    # logistic inputs: the formula needs E[x^2], not Var(x)
    with_ex2 = nb.eval("float(z_pos.var() / (m * W.var() * np.mean(x_pos ** 2)))")
    with_var = nb.eval("float(z_pos.var() / (m * W.var() * x_pos.var()))")
    assert with_ex2 == pytest.approx(1.0, rel=0.1)
    assert with_var > 4


def test_exercise2_solution_matches_nnlib(nb):
    """The source's init_limits / init_weights agree with nnlib.init (an independent implementation)."""
    for m, n in [(400, 300), (300, 400)]:
        for h in ["glorot", "he", "lecun"]:
            r, s2 = nb.eval(f"list(init_limits({m}, {n}, {h!r}))")
            sigma = nb.eval(f"_nninit.std({h!r}, {m}, {n})")
            assert s2 == pytest.approx(sigma ** 2, rel=1e-12)
            assert r == pytest.approx(nb.eval(f"_nninit.limit({h!r}, {m}, {n})"), rel=1e-12)
            for d in ["uniform", "normal"]:
                var_ratio = nb.eval(
                    f"float(init_weights({m}, {n}, {h!r}, {d!r}, np.random.default_rng(4)).var()"
                    f" / _nninit.get('{h}_{d}')({m}, {n}, np.random.default_rng(5)).var())")
                assert var_ratio == pytest.approx(1.0, abs=0.04)
        # He for the backward pass: variance 2 / fan_out (PyTorch's kaiming mode="fan_out")
        r, s2 = nb.eval(f"list(init_limits({m}, {n}, 'he_fan_out'))")
        assert s2 == pytest.approx(2.0 / n, rel=1e-12) and r == pytest.approx((6.0 / n) ** 0.5, rel=1e-12)


def test_deep_network_statistics_claims(nb):
    def ratio(act, heur, key="a_std", scale=1.0):
        return nb.eval(f"(lambda s: float(s[{key!r}][-1] / s[{key!r}][0]))"
                       f"(layer_statistics(20, {act!r}, {heur!r}, scale={scale}))")

    assert ratio("relu", "glorot") < 1e-2            # vanishes with Glorot
    assert 0.3 < ratio("relu", "he") < 3             # stable with He
    assert 0.8 < ratio("selu", "lecun") < 1.25       # SELU fixed point
    assert ratio("selu", "he") > 3                   # grows with He
    assert ratio("linear", "he", key="z_std") > 100  # doubles each layer
    assert 0.5 < ratio("linear", "glorot", key="z_std") < 2
    # gradients: logistic vanishes toward the input; tanh x 3 explodes toward the input
    assert ratio("logistic", "glorot", key="grad_norm") > 1e8
    assert ratio("tanh", "glorot", key="grad_norm", scale=3.0) < 1 / 100
    assert nb.eval("float(layer_statistics(20, 'logistic', 'glorot')['grad_norm'][0])") < 1e-12


def test_training_curves_claims(nb):
    res = nb.eval("{f'{a}-{h}-{s}': [hist.J[-1], hist.diverged is not None, hist.accuracy[-1]]"
                  " for (a, h, s), hist in histories.items()}")
    assert res["relu-he-1.0"][2] > 0.9 and res["tanh-glorot-1.0"][2] > 0.9
    assert res["relu-he-2.0"][1]                                     # diverged
    for stuck in ("tanh-glorot-0.3", "logistic-glorot-1.0"):
        assert abs(res[stuck][0] - 2.302585) < 0.05                  # J ≈ ln 10
    assert res["relu-glorot-1.0"][0] > res["relu-he-1.0"][0]         # slower start


def test_exercise3_solution_is_the_leaky_relu_gain(nb):
    """c = 2 / (1 + a^2): E[phi(z)^2] = (1 + a^2) / 2 Var(z) for z symmetric around 0, checked
    here by simulation, independently of the notebook's formula."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(2_000_000)
    for a in (0.0, 0.01, 0.3, 1.0, -0.5, 2.0):
        second_moment = float(np.mean(np.where(z > 0, z, a * z) ** 2))
        assert nb.eval(f"leaky_relu_gain({a})") == pytest.approx(1.0 / second_moment, rel=5e-3)


def test_symmetry_question_experiment(nb):
    """Only the incoming weights equal: the nodes start as twins and separate (the model answer)."""
    assert nb.eval("float(np.ptp(net_meio.params[0], axis=1).max())") > 1.0
    assert nb.eval("hist_meio.accuracy[-1]") > 0.95
    nb.run("_n = network.MLP([2, 8, 1], 'tanh', init='glorot_uniform', rng=np.random.default_rng(4))\n"
           "_n.params[0][...] = 0.5\n_n.params[1][...] = 0.0\n"
           "_n.loss_and_gradient(X_moons, Y_moons, 'binary_cross_entropy')")
    assert nb.eval("float(np.ptp(_n.layers[0].z, axis=1).max())") == 0.0      # same z on the way in
    assert nb.eval("float(np.ptp(_n.grads[0], axis=1).max())") > 1e-3        # different gradients back


def test_student_version_meets_the_layout_targets():
    assert layout_problems(STUDENT) == []


def test_no_yes_no_check_encoded_as_a_number_and_no_expected_value_printed_by_visible_tests():
    import nbformat

    for cell in nbformat.read(SOURCE, as_version=4).cells:
        if not cell.metadata.get("nbgrader", {}).get("grade") or cell.cell_type != "code":
            continue
        assert "check_scalar(float(" not in cell.source and "1.0, name=" not in cell.source
        visible = visible_part(cell.source)
        assert "check_close" not in visible, cell.metadata["nbgrader"]["grade_id"]
        # check_scalar only for the type, never with an expected value
        for node in ast.walk(ast.parse(visible)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "check_scalar":
                assert len(node.args) == 1 and all(k.arg != "expected" for k in node.keywords)


def test_title():
    import nbformat

    assert nbformat.read(SOURCE, as_version=4).cells[0].source.startswith("# Aula 5 — ")


def test_grading_mode_skips_widget_and_slow_demos():
    """Under NBGRADER_EXECUTION the notebook still runs, without the widget and the slow demos."""
    with NotebookSession(SOURCE, timeout=180, env={"NBGRADER_EXECUTION": "autograde"}) as s:
        assert s.eval("CORRIGINDO") is True
        assert s.eval("'histories' in globals()") is False
        assert s.eval("'painel' in globals()") is False
        assert s.eval("max(diff_const)") < 1e-10


# ----------------------------------------------------------------------------- the graded tests can fail
MUTANTS = {
    "teste_simetria": {
        "columns along the wrong axis": "def max_unit_difference(W):\n"
                                        "    return float(np.max(W.max(axis=0) - W.min(axis=0)))",
        "only neighbouring columns": "def max_unit_difference(W):\n"
                                     "    return float(np.abs(np.diff(W, axis=1)).max())",
        "experiment on a random net": "diff_const = [max_unit_difference(net_rand.params[0]),"
                                      " max_unit_difference(net_rand.params[2])]",
        "untrained constant net": "net_const = network.MLP([2, 8, 8, 1], 'tanh', rng=np.random.default_rng(3))\n"
                                  "net_const.w[:] = 0.3",
    },
    "teste_init_limits": {
        "He with 1/m": "_good = init_limits\n"
                       "def init_limits(m, n, h):\n"
                       "    return _good(m, n, 'lecun') if h == 'he' else _good(m, n, h)",
        "sigma used as r": "_good = init_limits\n"
                           "def init_limits(m, n, h):\n"
                           "    r, s2 = _good(m, n, h)\n"
                           "    return (s2 ** 0.5, s2)",
        "swapped fans": "_good = init_limits\n"
                        "def init_limits(m, n, h):\n"
                        "    return _good(n, m, h)",
        "he_fan_out with fan_in": "_good = init_limits\n"
                                  "def init_limits(m, n, h):\n"
                                  "    return _good(m, n, 'he') if h == 'he_fan_out' else _good(m, n, h)",
        "he_fan_out with 1/n": "_good = init_limits\n"
                               "def init_limits(m, n, h):\n"
                               "    return _good(n, m, 'lecun') if h == 'he_fan_out' else _good(m, n, h)",
        "no ValueError": "_good = init_limits\n"
                         "def init_limits(m, n, h):\n"
                         "    return _good(m, n, h if h in ('glorot', 'he', 'lecun') else 'glorot')",
    },
    "teste_init_weights": {
        "swapped fans": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                        "    r, s2 = (limits or init_limits)(fan_out, fan_in, h)\n"
                        "    return rng.uniform(-r, r, (fan_in, fan_out)) if d == 'uniform' else "
                        "rng.normal(0.0, s2 ** 0.5, (fan_in, fan_out))",
        "variance passed as std": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                                  "    r, s2 = (limits or init_limits)(fan_in, fan_out, h)\n"
                                  "    return rng.uniform(-r, r, (fan_in, fan_out)) if d == 'uniform' else "
                                  "rng.normal(0.0, s2, (fan_in, fan_out))",
        "std used as uniform limit": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                                     "    r, s2 = (limits or init_limits)(fan_in, fan_out, h)\n"
                                     "    return rng.uniform(-s2 ** 0.5, s2 ** 0.5, (fan_in, fan_out)) if d == 'uniform' else "
                                     "rng.normal(0.0, s2 ** 0.5, (fan_in, fan_out))",
        "calls nnlib.init": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                            "    return init.get(h + '_' + d)(fan_in, fan_out, rng)",
        "global random state": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                               "    r, s2 = (limits or init_limits)(fan_in, fan_out, h)\n"
                               "    return np.random.uniform(-r, r, (fan_in, fan_out)) if d == 'uniform' else "
                               "np.random.normal(0.0, s2 ** 0.5, (fan_in, fan_out))",
        "Keras truncated normal": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                                  "    r, s2 = (limits or init_limits)(fan_in, fan_out, h)\n"
                                  "    if d == 'uniform':\n"
                                  "        return rng.uniform(-r, r, (fan_in, fan_out))\n"
                                  "    s = s2 ** 0.5 / 0.87962566103423978\n"
                                  "    W = rng.normal(0.0, s, (fan_in, fan_out))\n"
                                  "    bad = np.abs(W) > 2 * s\n"
                                  "    while bad.any():\n"
                                  "        W[bad] = rng.normal(0.0, s, bad.sum())\n"
                                  "        bad = np.abs(W) > 2 * s\n"
                                  "    return W",
        "float32": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                   "    r, s2 = (limits or init_limits)(fan_in, fan_out, h)\n"
                   "    W = rng.uniform(-r, r, (fan_in, fan_out)) if d == 'uniform' else "
                   "rng.normal(0.0, s2 ** 0.5, (fan_in, fan_out))\n"
                   "    return W.astype(np.float32)",
        "uniform for both": "def init_weights(fan_in, fan_out, h, d, rng, limits=None):\n"
                            "    r, s2 = (limits or init_limits)(fan_in, fan_out, h)\n"
                            "    return rng.uniform(-r, r, (fan_in, fan_out))",
    },
    "teste_melhor_inicializacao": {
        "He's factor whatever the slope": "def leaky_relu_gain(slope):\n    return 2.0",
        "1 + a instead of 1 + a^2": "def leaky_relu_gain(slope):\n    return 2.0 / (1.0 + slope)",
        "1 + |a|": "def leaky_relu_gain(slope):\n    return 2.0 / (1.0 + abs(slope))",
        "the variance 1/c": "def leaky_relu_gain(slope):\n    return (1.0 + slope ** 2) / 2.0",
        "(1 + a)^2 / 2": "def leaky_relu_gain(slope):\n    return 2.0 / (1.0 + slope) ** 2",
        "returns a str": "def leaky_relu_gain(slope):\n    return 'he'",
    },
}
ANSWER_OF = {"teste_simetria": "simetria", "teste_init_limits": "inicializacoes",
             "teste_init_weights": "inicializacoes", "teste_melhor_inicializacao": "melhor_inicializacao"}


@pytest.mark.parametrize("grade_id", sorted(MUTANTS))
def test_graded_cells_pass_the_solution_and_fail_mutants(nb, grade_id):
    answer = grade_cell_source(SOURCE, ANSWER_OF[grade_id])
    test = grade_cell_source(SOURCE, grade_id)
    nb.run(answer)
    assert nb.accepts(test), f"{grade_id} fails the model solution"
    for name, code in MUTANTS[grade_id].items():
        nb.run(answer)          # start each mutant from the model solution
        nb.run(code)
        assert nb.rejects(test), f"{grade_id} accepts a wrong answer: {name}"
    nb.run(answer)
    assert nb.accepts(test)


def test_student_version_answer_cells_are_valid_python():
    """Each blank answer cell of the release parses and ends in `raise NotImplementedError()`."""
    import ast

    import nbformat

    cells = nbformat.read(STUDENT, as_version=4).cells
    answers = [c for c in cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert len(answers) == 3
    for c in answers:
        ast.parse(c.source)
        assert "raise NotImplementedError()" in c.source


def test_init_weights_cell_does_not_depend_on_init_limits(nb):
    """A wrong init_limits costs only item a): the init_weights cell passes a reference table
    in ``limits``, so the model init_weights (which calls init_limits by default) still passes."""
    nb.run(grade_cell_source(SOURCE, "inicializacoes"))
    try:
        nb.run(MUTANTS["teste_init_limits"]["swapped fans"])
        assert nb.rejects(grade_cell_source(SOURCE, "teste_init_limits"))
        assert nb.accepts(grade_cell_source(SOURCE, "teste_init_weights"))
    finally:
        nb.run(grade_cell_source(SOURCE, "inicializacoes"))


# The named wrong answers each visible test rejects (tests/test_exercise_rules.py, rule 6).
# Left to the hidden tests: He's fan_out variant without its factor 2, and an untrained net_const
# (the visible test reads diff_const, which the model experiment computes).
HIDDEN_ONLY = {"he_fan_out with 1/n", "untrained constant net"}
WRONG_ANSWERS = {grade_id: {name: code for name, code in cases.items() if name not in HIDDEN_ONLY}
                 for grade_id, cases in MUTANTS.items()}
