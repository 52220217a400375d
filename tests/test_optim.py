"""Specification of nnlib.optim: the slides' update rules, checked against torch.optim.

- A hand-computed first (and second) step for every rule.
- 20-step trajectories on the Rosenbrock function and on an ill-conditioned least-squares
  problem with two parameter arrays (W 2x3 and b), against PyTorch: live when torch is
  installed, and always against the values stored in tests/golden/optim_trajectories.json
  (cases and torch code in tests/golden/make_golden.py; rerun it to refresh them).
- The known convention gaps (PyTorch momentum under a decaying alpha, the Nesterov look-ahead
  point, Keras' epsilon-hat Adam) and the classic student bugs, written out here, are shown
  to give measurably different numbers, so these tests can fail.
- Bad hyper-parameters and bad inputs raise errors naming the parameter, value and range.
"""

import importlib.util
import json
import pathlib
import warnings

import numpy as np
import pytest

from nnlib import optim, schedules

GOLDEN_DIR = pathlib.Path(__file__).resolve().parent / "golden"
RTOL, ATOL = 1e-10, 1e-10  # float64, same math up to rounding; ATOL floors entries that cross zero
CAUGHT = 100 * ATOL  # a bug must move some parameter by more than this: far outside the tolerance


def _load_make_golden():
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN_DIR / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports numpy only; torch is imported lazily
    return module


mg = _load_make_golden()
GOLDEN = json.loads((GOLDEN_DIR / "optim_trajectories.json").read_text())
STEPS = mg.STEPS
X, Y, QUADRATIC_W0 = mg.quadratic_data()


# --- test problems: numpy gradients, written independently of torch's autograd -------------------


def rosenbrock_grad(ws):
    """J(w) = (1 - x)^2 + 100 (y - x^2)^2 with w = [x, y] in one array."""
    (w,) = ws
    x, y = w
    return [np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])]


def rosenbrock_split_grad(ws):
    """The same function with x and y in two arrays of shape (1,): two same-shaped parameters."""
    (g,) = rosenbrock_grad([np.concatenate(ws)])
    return [g[:1], g[1:]]


def quadratic_grad(ws):
    """J(W, b) = mean over n of ||x_n W + b - y_n||^2 / 2."""
    W, b = ws
    R = X @ W + b - Y
    return [X.T @ R / len(X), R.mean(axis=0)]


def quadratic_loss(ws):
    W, b = ws
    return np.mean(np.sum((X @ W + b - Y) ** 2, axis=1)) / 2


def rosenbrock_loss(ws):
    x, y = ws[0]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


PROBLEMS = {
    "rosenbrock": (rosenbrock_grad, lambda: [np.array(mg.ROSENBROCK_W0)]),
    "rosenbrock-split": (rosenbrock_split_grad, lambda: [np.array(mg.ROSENBROCK_W0[:1]), np.array(mg.ROSENBROCK_W0[1:])]),
    "quadratic": (quadratic_grad, lambda: [w.copy() for w in QUADRATIC_W0]),
}


def build(name, hyper):
    """nnlib optimizer from a golden case (a schedule is written {"linear_decay": [a0, a_tau, tau]})."""
    hyper = dict(hyper)
    if isinstance(hyper["alpha"], dict):
        hyper["alpha"] = schedules.LinearDecay(*hyper["alpha"]["linear_decay"])
    return optim.get(name, **hyper)


def nnlib_path(opt, problem, steps=STEPS, view="params"):
    """Copies of the parameters before the first step and after each step.

    view="lookahead" records w + mu v (what PyTorch stores for Nesterov) instead of w.
    """
    grad_fn, start = PROBLEMS[problem]
    ws = start()

    def snapshot():
        if view == "lookahead" and opt.t > 0:
            return [w + opt.mu * v for w, v in zip(ws, opt.v)]
        return [w.copy() for w in ws]

    path = [snapshot()]
    for _ in range(steps):
        opt.step(ws, grad_fn)
        path.append(snapshot())
    return path


def as_arrays(path):
    return [[np.asarray(w, dtype=float) for w in ws] for ws in path]


def assert_same_path(path, reference):
    assert len(path) == len(reference)
    for k, (ws, refs) in enumerate(zip(path, reference)):
        assert len(ws) == len(refs)
        for i, (w, r) in enumerate(zip(ws, refs)):
            np.testing.assert_allclose(w, r, rtol=RTOL, atol=ATOL, err_msg=f"after {k} steps, params[{i}]")


def max_difference(path, reference):
    """Largest |difference| over steps and parameters (inf if either is NaN/inf)."""
    worst = 0.0
    for ws, refs in zip(path, reference):
        for w, r in zip(ws, refs):
            d = np.abs(np.asarray(w) - np.asarray(r))
            worst = max(worst, np.inf if not np.all(np.isfinite(d)) else float(d.max()))
    return worst


# --- the test problems themselves -----------------------------------------------------------------


@pytest.mark.parametrize(
    "loss, grad, ws",
    [
        (rosenbrock_loss, rosenbrock_grad, [np.array([-1.5, 2.0])]),
        (quadratic_loss, quadratic_grad, [w.copy() for w in QUADRATIC_W0]),
    ],
)
def test_problem_gradients_match_central_differences(loss, grad, ws):
    """The numpy gradients used below agree with central finite differences."""
    h = 1e-6
    for w, g in zip(ws, grad(ws)):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + h
            up = loss(ws)
            w[idx] = old - h
            down = loss(ws)
            w[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-6)


# --- hand-computed steps on J(w) = w . w (g = 2w), w0 = [1, -2] ------------------------------------


def square_grad(ws):
    return [2 * w for w in ws]


def start_square():
    return [np.array([1.0, -2.0])]


def test_sgd_first_two_steps_by_hand():
    """SGD: w = w - alpha g; g = [2, -4] then [1.6, -3.2]."""
    ws = start_square()
    opt = optim.SGD(alpha=0.1)
    g = opt.step(ws, square_grad)
    np.testing.assert_allclose(g[0], [2.0, -4.0], rtol=1e-15)
    np.testing.assert_allclose(ws[0], [0.8, -1.6], rtol=1e-15)
    opt.step(ws, square_grad)
    np.testing.assert_allclose(ws[0], [0.64, -1.28], rtol=1e-15)


def test_momentum_first_two_steps_by_hand():
    """Momentum: v = mu v - alpha g; w = w + v, with v0 = 0."""
    ws = start_square()
    opt = optim.Momentum(alpha=0.1, mu=0.9)
    opt.step(ws, square_grad)
    np.testing.assert_allclose(opt.v[0], [-0.2, 0.4], rtol=1e-15)  # -0.1 * [2, -4]
    np.testing.assert_allclose(ws[0], [0.8, -1.6], rtol=1e-15)
    opt.step(ws, square_grad)  # g = [1.6, -3.2]
    np.testing.assert_allclose(opt.v[0], [-0.34, 0.68], rtol=1e-14)  # 0.9 * [-0.2, 0.4] - 0.1 * g
    np.testing.assert_allclose(ws[0], [0.46, -0.92], rtol=1e-14)


def test_nesterov_first_two_steps_by_hand_gradient_at_lookahead():
    """Nesterov: the gradient is taken at w + mu v (w itself at the first step, since v0 = 0)."""
    ws = start_square()
    seen = []

    def grad_fn(points):
        seen.append([p.copy() for p in points])
        return square_grad(points)

    opt = optim.Nesterov(alpha=0.1, mu=0.9)
    opt.step(ws, grad_fn)
    np.testing.assert_allclose(ws[0], [0.8, -1.6], rtol=1e-15)
    g = opt.step(ws, grad_fn)  # look-ahead [0.8, -1.6] + 0.9 * [-0.2, 0.4] = [0.62, -1.24]
    np.testing.assert_allclose(seen[0][0], [1.0, -2.0], rtol=1e-15)
    np.testing.assert_allclose(seen[1][0], [0.62, -1.24], rtol=1e-14)
    np.testing.assert_allclose(g[0], [1.24, -2.48], rtol=1e-14)  # returned: the gradient used
    np.testing.assert_allclose(opt.v[0], [-0.304, 0.608], rtol=1e-14)  # 0.9 v - 0.1 g
    np.testing.assert_allclose(ws[0], [0.496, -0.992], rtol=1e-14)


def test_adagrad_first_step_by_hand():
    """AdaGrad with eps = 1: r = g^2 = [4, 16]; w = w - 0.1 g / (sqrt(r) + 1)."""
    ws = start_square()
    opt = optim.AdaGrad(alpha=0.1, eps=1.0)
    opt.step(ws, square_grad)
    np.testing.assert_allclose(opt.r[0], [4.0, 16.0], rtol=1e-15)
    np.testing.assert_allclose(ws[0], [1 - 0.2 / 3, -2 + 0.4 / 5], rtol=1e-15)
    opt.step(ws, square_grad)  # g = [28/15, -3.84]: r keeps the sum of squares
    np.testing.assert_allclose(opt.r[0], [4 + (28 / 15) ** 2, 16 + 3.84**2], rtol=1e-14)


def test_rmsprop_first_step_by_hand():
    """RMSProp with rho = 0.5, eps = 1: r = 0.5 g^2 = [2, 8]; w = w - 0.1 g / (sqrt(r) + 1)."""
    ws = start_square()
    opt = optim.RMSProp(alpha=0.1, rho=0.5, eps=1.0)
    opt.step(ws, square_grad)
    np.testing.assert_allclose(opt.r[0], [2.0, 8.0], rtol=1e-15)
    np.testing.assert_allclose(ws[0], [1 - 0.2 / (np.sqrt(2) + 1), -2 + 0.4 / (np.sqrt(8) + 1)], rtol=1e-15)


def test_adam_first_two_steps_by_hand():
    """Adam, beta1 = 0.5, beta2 = 0.75, eps = 1: the bias correction divides by 1 - beta^t, t = 1, 2."""
    ws = start_square()
    opt = optim.Adam(alpha=0.1, beta1=0.5, beta2=0.75, eps=1.0)
    opt.step(ws, square_grad)
    # t = 1: m = 0.5 g = [1, -2], s = 0.25 g^2 = [1, 4]; m_hat = g, s_hat = g^2
    np.testing.assert_allclose(opt.m[0], [1.0, -2.0], rtol=1e-15)
    np.testing.assert_allclose(opt.s[0], [1.0, 4.0], rtol=1e-15)
    np.testing.assert_allclose(ws[0], [1 - 0.2 / 3, -2 + 0.4 / 5], rtol=1e-15)  # 0.1 g / (|g| + 1)
    assert opt.t == 1
    opt.step(ws, square_grad)
    # t = 2: g = 2 w = [28/15, -3.84]
    m = np.array([0.5 + 14 / 15, -1 - 1.92])  # 0.5 m + 0.5 g
    s = np.array([0.75 + 0.25 * (28 / 15) ** 2, 3 + 0.25 * 3.84**2])  # 0.75 s + 0.25 g^2
    m_hat, s_hat = m / 0.75, s / 0.4375  # 1 - 0.5^2, 1 - 0.75^2
    expected = np.array([14 / 15, -1.92]) - 0.1 * m_hat / (np.sqrt(s_hat) + 1)
    np.testing.assert_allclose(opt.m[0], m, rtol=1e-14)
    np.testing.assert_allclose(opt.s[0], s, rtol=1e-14)
    np.testing.assert_allclose(ws[0], expected, rtol=1e-14)
    assert opt.t == 2


# --- trajectories against torch.optim -----------------------------------------------------------

CASE_NAMES = list(mg.CASES)


def test_golden_file_holds_the_current_cases():
    """The stored torch values were made from the cases and data make_golden.py defines now."""
    assert set(GOLDEN["cases"]) == set(mg.CASES)
    for case, (name, problem, hyper, compare) in mg.CASES.items():
        stored = GOLDEN["cases"][case]
        assert (stored["optimizer"], stored["problem"], stored["hyper"], stored["compare"]) == (
            name, problem, json.loads(json.dumps(hyper)), compare,
        )
        assert len(stored["trajectory"]) == STEPS + 1
    assert GOLDEN["problems"]["rosenbrock"]["w0"] == [mg.ROSENBROCK_W0]
    np.testing.assert_array_equal(GOLDEN["problems"]["quadratic"]["X"], X)
    np.testing.assert_array_equal(GOLDEN["problems"]["quadratic"]["Y"], Y)
    for w, stored in zip(QUADRATIC_W0, GOLDEN["problems"]["quadratic"]["w0"]):
        np.testing.assert_array_equal(stored, w)


def test_cases_cover_every_optimizer_on_both_problems():
    covered = {(name, problem) for name, problem, _, compare in mg.CASES.values() if compare != "differs"}
    for name in optim.OPTIMIZERS:
        assert {(name, "rosenbrock"), (name, "quadratic")} <= covered


def _check_against(case, reference):
    name, problem, hyper, compare = mg.CASES[case]
    view = "lookahead" if compare == "lookahead" else "params"
    path = nnlib_path(build(name, hyper), problem, view=view)
    if compare == "differs":
        assert max_difference(path, reference) > 1e-3, "PyTorch momentum should differ under a decaying alpha"
    else:
        assert_same_path(path, reference)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_trajectory_matches_stored_torch(case):
    """nnlib reproduces the stored torch.optim trajectory (w + mu v for Nesterov)."""
    _check_against(case, as_arrays(GOLDEN["cases"][case]["trajectory"]))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_trajectory_matches_live_torch(case):
    """Same comparison with the torch installed now (and the stored values still hold)."""
    pytest.importorskip("torch")
    name, problem, hyper, _ = mg.CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        live = mg.torch_trajectory(name, problem, hyper)
    _check_against(case, live)
    assert_same_path(live, as_arrays(GOLDEN["cases"][case]["trajectory"]))


# --- convention gaps ------------------------------------------------------------------------------


def torch_style_momentum(problem, alpha, mu, steps=STEPS):
    """PyTorch's momentum written out: b = mu b + g (b = g at first), w = w - alpha_j b."""
    grad_fn, start = PROBLEMS[problem]
    ws = start()
    b = None
    path = [[w.copy() for w in ws]]
    for j in range(steps):
        g = grad_fn(ws)
        b = [gi.copy() for gi in g] if b is None else [mu * bi + gi for bi, gi in zip(b, g)]
        for w, bi in zip(ws, b):
            w -= alpha(j) * bi
        path.append([w.copy() for w in ws])
    return path


def test_momentum_differs_from_pytorch_under_linear_decay_and_why():
    """Under the slides' linear decay, PyTorch's b-form gives another trajectory; equal for constant alpha."""
    _, problem, hyper, compare = mg.CASES["momentum-lineardecay-quadratic"]
    assert compare == "differs"
    decay = schedules.LinearDecay(*hyper["alpha"]["linear_decay"])
    torch_path = as_arrays(GOLDEN["cases"]["momentum-lineardecay-quadratic"]["trajectory"])
    # the b-form reproduces torch, so the gap is the convention, not a bug
    assert_same_path(torch_style_momentum(problem, decay, hyper["mu"]), torch_path)
    slides = nnlib_path(optim.Momentum(alpha=decay, mu=hyper["mu"]), problem)
    assert max_difference(slides, torch_path) > 1e-3
    # with a constant alpha the two forms agree
    constant = nnlib_path(optim.Momentum(alpha=0.02, mu=hyper["mu"]), problem)
    assert_same_path(constant, torch_style_momentum(problem, lambda j: 0.02, hyper["mu"]))


@pytest.mark.parametrize("case", ["nesterov-rosenbrock", "nesterov-quadratic"])
def test_nesterov_torch_parameters_are_the_lookahead_point(case):
    """PyTorch stores w + mu v: it matches w + mu v (tested above) but not w itself."""
    name, problem, hyper, _ = mg.CASES[case]
    torch_path = as_arrays(GOLDEN["cases"][case]["trajectory"])
    path = nnlib_path(build(name, hyper), problem)
    assert max_difference(path, torch_path) > CAUGHT


def adam_epsilon_hat(problem, alpha, beta1, beta2, eps_hat, steps=STEPS):
    """Keras / scikit-learn Adam: alpha_t = alpha sqrt(1 - beta2^t) / (1 - beta1^t); w -= alpha_t m / (sqrt(s) + eps_hat)."""
    grad_fn, start = PROBLEMS[problem]
    ws = start()
    m = [np.zeros_like(w) for w in ws]
    s = [np.zeros_like(w) for w in ws]
    path = [[w.copy() for w in ws]]
    for t in range(1, steps + 1):
        alpha_t = alpha * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        for w, g, mi, si in zip(ws, grad_fn(ws), m, s):
            mi[...] = beta1 * mi + (1 - beta1) * g
            si[...] = beta2 * si + (1 - beta2) * g**2
            w -= alpha_t * mi / (np.sqrt(si) + eps_hat)
        path.append([w.copy() for w in ws])
    return path


@pytest.mark.parametrize("problem", ["rosenbrock", "quadratic"])
def test_adam_epsilon_hat_equals_algorithm1_with_eps_t(problem):
    """The epsilon-hat form is Algorithm 1 with eps_t = eps_hat / sqrt(1 - beta2^t); equal eps differ."""
    alpha, beta1, beta2, eps_hat = 0.05, 0.8, 0.95, 1e-3
    reference = adam_epsilon_hat(problem, alpha, beta1, beta2, eps_hat)

    opt = optim.Adam(alpha=alpha, beta1=beta1, beta2=beta2, eps=eps_hat)
    grad_fn, start = PROBLEMS[problem]
    ws = start()
    path = [[w.copy() for w in ws]]
    for t in range(1, STEPS + 1):
        opt.eps = eps_hat / np.sqrt(1 - beta2**t)  # about 2.2 eps_hat at t = 1
        opt.step(ws, grad_fn)
        path.append([w.copy() for w in ws])
    assert_same_path(path, reference)

    same_eps = nnlib_path(optim.Adam(alpha=alpha, beta1=beta1, beta2=beta2, eps=eps_hat), problem)
    assert max_difference(same_eps, reference) > CAUGHT


# --- the classic student bugs give other numbers ------------------------------------------------


def hand_rule(rule, bug, problem, steps=STEPS, **hyper):
    """Trajectory of a rule written out here, correct (bug=None) or with one named bug."""
    grad_fn, start = PROBLEMS[problem]
    ws = start()
    state = {}

    def slot(key, i, w):  # one state array per parameter, or one shared array
        i = 0 if bug == "state shared between params" else i
        return state.setdefault((key, i), np.zeros_like(w))

    path = [[w.copy() for w in ws]]
    for t in range(1, steps + 1):
        if rule == "momentum":
            mu, alpha = hyper["mu"], hyper["alpha"]
            for i, (w, g) in enumerate(zip(ws, grad_fn(ws))):
                v = slot("v", i, w)
                if bug == "velocity sign flipped":
                    v[...] = mu * v + alpha * g
                else:
                    v[...] = mu * v - alpha * g
                w += v
        elif rule == "nesterov":
            mu, alpha = hyper["mu"], hyper["alpha"]
            vs = [slot("v", i, w) for i, w in enumerate(ws)]
            at = ws if bug == "gradient at w instead of look-ahead" else [w + mu * v for w, v in zip(ws, vs)]
            for w, v, g in zip(ws, vs, grad_fn(at)):
                v[...] = mu * v - alpha * g
                w += v
        elif rule == "adam":
            alpha, beta1, beta2, eps = hyper["alpha"], hyper["beta1"], hyper["beta2"], hyper["eps"]
            tt = t - 1 if bug == "t not incremented before use" else t
            if bug == "beta^(2^t)":  # beta squared at every step: beta, beta^2, beta^4, ...
                c1, c2 = beta1 ** (2 ** (t - 1)), beta2 ** (2 ** (t - 1))
            else:
                c1, c2 = beta1**tt, beta2**tt
            for i, (w, g) in enumerate(zip(ws, grad_fn(ws))):
                m, s = slot("m", i, w), slot("s", i, w)
                m[...] = beta1 * m + (1 - beta1) * g
                s[...] = beta2 * s + (1 - beta2) * g * g
                if bug == "no bias correction":
                    m_hat, s_hat = m, s
                else:
                    m_hat, s_hat = m / (1 - c1), s / (1 - c2)
                if bug == "eps inside the root":
                    w -= alpha * m_hat / np.sqrt(s_hat + eps)
                else:
                    w -= alpha * m_hat / (np.sqrt(s_hat) + eps)
        path.append([w.copy() for w in ws])
    return path


BUGS = [
    ("momentum", "velocity sign flipped", "quadratic", {"alpha": 0.01, "mu": 0.8}),
    ("momentum", "state shared between params", "rosenbrock-split", {"alpha": 5e-4, "mu": 0.9}),
    ("nesterov", "gradient at w instead of look-ahead", "quadratic", {"alpha": 0.01, "mu": 0.8}),
    ("adam", "t not incremented before use", "quadratic", {"alpha": 0.05, "beta1": 0.7, "beta2": 0.9, "eps": 1e-6}),
    ("adam", "beta^(2^t)", "quadratic", {"alpha": 0.05, "beta1": 0.7, "beta2": 0.9, "eps": 1e-6}),
    ("adam", "eps inside the root", "quadratic", {"alpha": 0.05, "beta1": 0.7, "beta2": 0.9, "eps": 1e-6}),
    ("adam", "no bias correction", "quadratic", {"alpha": 0.05, "beta1": 0.7, "beta2": 0.9, "eps": 1e-6}),
    ("adam", "state shared between params", "rosenbrock-split", {"alpha": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6}),
]


@pytest.mark.parametrize("rule, bug, problem, hyper", BUGS, ids=[f"{r}: {b}" for r, b, _, _ in BUGS])
def test_student_bug_is_caught(rule, bug, problem, hyper):
    """The correct hand-written rule matches nnlib; the buggy one is off by far more than the tolerance."""
    nnlib = nnlib_path(optim.get(rule, **hyper), problem)
    assert_same_path(hand_rule(rule, None, problem, **hyper), nnlib)
    with np.errstate(all="ignore"):  # t = 0 divides by 1 - beta^0 = 0
        buggy = hand_rule(rule, bug, problem, **hyper)
    assert max_difference(buggy, nnlib) > CAUGHT


# --- state, in-place updates, reset, determinism, schedules ------------------------------------------


def test_splitting_params_into_arrays_does_not_change_the_rule():
    """State is one array per parameter array: Rosenbrock as [x], [y] equals Rosenbrock as [x, y]."""
    for name in optim.OPTIMIZERS:
        whole = nnlib_path(optim.get(name, alpha=1e-3), "rosenbrock")
        split = nnlib_path(optim.get(name, alpha=1e-3), "rosenbrock-split")
        assert_same_path([[np.concatenate(ws)] for ws in split], whole)


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_state_is_allocated_per_param_with_its_shape_and_dtype(name):
    opt = optim.get(name)
    ws = [np.ones((2, 3), dtype=np.float32), np.ones(3, dtype=np.float32)]
    opt.step(ws, lambda p: [np.full_like(w, 0.5) for w in p])
    for key in opt._state_names:
        state = getattr(opt, key)
        assert len(state) == 2
        for s, w in zip(state, ws):
            assert s.shape == w.shape and s.dtype == np.float32
        assert not np.shares_memory(state[0], state[1])
    assert all(w.dtype == np.float32 for w in ws)


def test_step_updates_views_of_a_flat_vector_in_place():
    """Like net.params: views into one flat w; step writes through them."""
    flat = np.arange(9.0)
    params = [flat[:6].reshape(2, 3), flat[6:]]
    opt = optim.Momentum(alpha=0.5, mu=0.9)
    opt.step(params, lambda p: [np.ones_like(w) for w in p])
    np.testing.assert_array_equal(flat, np.arange(9.0) - 0.5)
    assert np.shares_memory(params[0], flat) and np.shares_memory(params[1], flat)


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_t_counts_steps_and_reset_clears_state(name):
    opt = optim.get(name, alpha=1e-3)
    first = nnlib_path(opt, "quadratic", steps=3)
    assert opt.t == 3
    opt.reset()
    assert opt.t == 0
    assert all(getattr(opt, key) is None for key in opt._state_names)
    again = nnlib_path(opt, "quadratic", steps=3)
    for a, b in zip(again, first):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    opt.reset()
    opt.step([np.ones(4)], lambda p: [np.ones(4)])  # other shapes are fine after reset


@pytest.mark.parametrize("case", CASE_NAMES)
def test_same_hyper_parameters_give_bit_identical_results(case):
    name, problem, hyper, _ = mg.CASES[case]
    a = nnlib_path(build(name, hyper), problem)
    b = nnlib_path(build(name, hyper), problem)
    for ws, vs in zip(a, b):
        for x, y in zip(ws, vs):
            np.testing.assert_array_equal(x, y)


def test_schedule_alpha_is_called_with_steps_already_taken():
    seen = []

    def alpha(j):
        seen.append(j)
        return 0.1 / (j + 1)

    ws = [np.array([1.0])]
    opt = optim.SGD(alpha=alpha)
    for _ in range(4):
        opt.step(ws, lambda p: [np.array([1.0])])  # constant g = 1: w drops by alpha_j
    assert seen == [0, 1, 2, 3]
    np.testing.assert_allclose(ws[0], [1 - 0.1 - 0.05 - 0.1 / 3 - 0.025], rtol=1e-15)


def test_nan_gradient_is_computed_not_raised():
    """Divergence is reported by the training loop, not by step()."""
    for name in optim.OPTIMIZERS:
        ws = [np.array([1.0, 2.0])]
        with np.errstate(all="ignore"):
            optim.get(name).step(ws, lambda p: [np.array([np.nan, np.inf])])
        assert not np.all(np.isfinite(ws[0]))


def test_different_params_than_the_state_raise():
    opt = optim.Adam()
    opt.step([np.zeros(3), np.zeros(2)], lambda p: [np.ones_like(w) for w in p])
    with pytest.raises(ValueError, match=r"shapes .*\(3,\), \(2,\).*got \[\(3,\)\].*reset"):
        opt.step([np.zeros(3)], lambda p: [np.ones_like(w) for w in p])
    with pytest.raises(ValueError, match=r"got \[\(3,\), \(4,\)\]"):
        opt.step([np.zeros(3), np.zeros(4)], lambda p: [np.ones_like(w) for w in p])


def test_bad_params_and_grads():
    opt = optim.SGD()
    ones = lambda p: [np.ones_like(w) for w in p]  # noqa: E731
    with pytest.raises(TypeError, match="params must be a list of float numpy arrays, got ndarray"):
        opt.step(np.zeros(3), ones)
    with pytest.raises(TypeError, match=r"params\[0\] must be a float numpy array, got array of dtype int"):
        opt.step([np.zeros(3, dtype=int)], ones)
    with pytest.raises(TypeError, match=r"params\[1\] must be a float numpy array, got list"):
        opt.step([np.zeros(3), [1.0, 2.0]], ones)
    with pytest.raises(ValueError, match="non-empty"):
        opt.step([], ones)
    with pytest.raises(TypeError, match="grad_fn must be callable"):
        opt.step([np.zeros(3)], None)
    with pytest.raises(ValueError, match=r"grad_fn must return 1 gradient\(s\).*got 2"):
        opt.step([np.zeros(3)], lambda p: [np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match=r"gradient 0 must have shape \(3,\).*got \(2,\)"):
        opt.step([np.zeros(3)], lambda p: [np.ones(2)])


# --- hyper-parameters --------------------------------------------------------------------------

DEFAULTS = {
    "sgd": {"alpha": 0.01},
    "momentum": {"alpha": 0.01, "mu": 0.9},
    "nesterov": {"alpha": 0.01, "mu": 0.9},
    "adagrad": {"alpha": 0.01, "eps": 1e-10},
    "rmsprop": {"alpha": 0.001, "rho": 0.9, "eps": 1e-8},
    "adam": {"alpha": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_defaults(name):
    opt = optim.get(name)
    assert {k: getattr(opt, k) for k in DEFAULTS[name]} == DEFAULTS[name]
    assert opt.t == 0


def test_get_maps_names_to_classes():
    classes = [optim.SGD, optim.Momentum, optim.Nesterov, optim.AdaGrad, optim.RMSProp, optim.Adam]
    for name, cls in zip(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"], classes):
        assert type(optim.get(name)) is cls
    opt = optim.get("RMSProp", alpha=0.1, rho=0.5)
    assert (opt.alpha, opt.rho) == (0.1, 0.5)
    assert repr(optim.get("adam", alpha=0.01)) == "Adam(alpha=0.01, beta1=0.9, beta2=0.999, eps=1e-08)"
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamw'; choose one of \['adagrad', 'adam', 'momentum'"):
        optim.get("adamw")
    with pytest.raises(TypeError, match="optimizer name must be a string"):
        optim.get(3)


BAD_VALUES = []
for _name, _cls in optim.OPTIMIZERS.items():
    BAD_VALUES += [
        (_cls, "alpha", 0.0, ValueError, r"alpha must be > 0, got 0\.0"),
        (_cls, "alpha", -0.1, ValueError, r"alpha must be > 0, got -0\.1"),
        (_cls, "alpha", float("nan"), ValueError, r"alpha must be finite, got nan"),
        (_cls, "alpha", "0.1", TypeError, r"alpha must be a real number, got '0\.1' \(str\)"),
    ]
for _cls in (optim.Momentum, optim.Nesterov):
    BAD_VALUES += [
        (_cls, "mu", 1.0, ValueError, r"mu must be in \[0, 1\), got 1\.0"),
        (_cls, "mu", -0.5, ValueError, r"mu must be in \[0, 1\), got -0\.5"),
        (_cls, "mu", None, TypeError, r"mu must be a real number, got None"),
    ]
for _cls in (optim.AdaGrad, optim.RMSProp, optim.Adam):
    BAD_VALUES += [
        (_cls, "eps", 0.0, ValueError, r"eps must be > 0, got 0\.0"),
        (_cls, "eps", -1e-8, ValueError, r"eps must be > 0, got -1e-08"),
        (_cls, "eps", [1e-8], TypeError, r"eps must be a real number, got \[1e-08\] \(list\)"),
    ]
BAD_VALUES += [
    (optim.RMSProp, "rho", 1.0, ValueError, r"rho must be in \[0, 1\), got 1\.0"),
    (optim.RMSProp, "rho", 1.5, ValueError, r"rho must be in \[0, 1\), got 1\.5"),
    (optim.RMSProp, "rho", True, TypeError, r"rho must be a real number, got True \(bool\)"),
    (optim.Adam, "beta1", 1.0, ValueError, r"beta1 must be in \[0, 1\), got 1\.0"),
    (optim.Adam, "beta1", -0.1, ValueError, r"beta1 must be in \[0, 1\), got -0\.1"),
    (optim.Adam, "beta2", 1.0, ValueError, r"beta2 must be in \[0, 1\), got 1\.0"),
    (optim.Adam, "beta2", "0.999", TypeError, r"beta2 must be a real number, got '0\.999'"),
]


@pytest.mark.parametrize(
    "cls, param, value, error, message", BAD_VALUES, ids=[f"{c.__name__}-{p}={v!r}" for c, p, v, _, _ in BAD_VALUES]
)
def test_bad_hyper_parameter_is_named_with_value_and_range(cls, param, value, error, message):
    with pytest.raises(error, match=message):
        cls(**{param: value})


def test_hyper_parameter_edges_are_accepted():
    optim.Momentum(mu=0.0)
    optim.RMSProp(rho=0.0)
    optim.Adam(beta1=0.0, beta2=0.0)
    optim.SGD(alpha=1)  # an int is a number
    assert isinstance(optim.SGD(alpha=1).alpha, float)


@pytest.mark.parametrize(
    "value, error, message",
    [
        (0.0, ValueError, r"alpha schedule returned 0\.0 at step j=2; alpha must be a finite number > 0"),
        (-1.0, ValueError, r"alpha schedule returned -1\.0 at step j=2; alpha must be a finite number > 0"),
        (float("inf"), ValueError, r"alpha schedule returned inf at step j=2"),
        (float("nan"), ValueError, r"alpha schedule returned nan at step j=2"),
        ("0.1", TypeError, r"alpha schedule must return a real number, got '0\.1' \(str\) at step j=2"),
    ],
)
def test_bad_schedule_value_raises_at_step_time(value, error, message):
    opt = optim.Adam(alpha=lambda j: 0.1 if j < 2 else value)
    ws = [np.ones(3)]
    ones = lambda p: [np.ones(3)]  # noqa: E731
    opt.step(ws, ones)
    opt.step(ws, ones)
    before = ws[0].copy()
    with pytest.raises(error, match=message):
        opt.step(ws, ones)
    np.testing.assert_array_equal(ws[0], before)  # nothing was updated
    assert opt.t == 2


def test_schedule_object_and_numpy_scalar_alpha_work():
    opt = optim.SGD(alpha=schedules.LinearDecay(0.1, 0.01, 2))
    ws = [np.array([0.0])]
    for _ in range(4):
        opt.step(ws, lambda p: [np.array([-1.0])])
    np.testing.assert_allclose(ws[0], [0.1 + 0.055 + 0.01 + 0.01], rtol=1e-15)
    np.testing.assert_allclose(optim.SGD(alpha=lambda j: np.float64(0.5)).step([np.ones(1)], lambda p: [np.ones(1)]), [[1.0]])
