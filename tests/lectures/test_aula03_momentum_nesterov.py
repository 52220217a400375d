"""Aula 3 (momentum and Nesterov): widget callback, the notebook's claims, and its test cells.

One kernel executes the source notebook (module-scoped fixture); the tests then call its
functions, and run its autograded test cells against wrong implementations (mutants) to show
that every usual mistake loses the points.
"""

import json

import nbformat
import numpy as np
import pytest

from nnlib import optim
from notebook_layout import layout_problems
from notebook_session import PIXELS, NotebookSession, grade_cell_source, notebook_path, visible_part

NB_ID = "aula03_momentum_nesterov"
SOURCE = notebook_path("solutions", NB_ID)
STUDENT = notebook_path("lectures", NB_ID)


@pytest.fixture(scope="module")
def nb():
    with NotebookSession(SOURCE, timeout=180) as session:
        session.run("plot_trajectories = painel_trajetorias.figura\n"
                    "show_trajectories = painel_trajetorias.atualizar\n"
                    "live, live_artists = painel_trajetorias.live, painel_trajetorias.artistas\n"
                    "live_fig = live.fig")
        yield session


def renamed_test_cell(grade_id, rename=None):
    """A test cell's source; ``rename`` maps a class name of the answer to another name defined in the kernel."""
    src = grade_cell_source(SOURCE, grade_id)
    for old, new in (rename or {}).items():
        src = src.replace(old, new)
    return src


# ------------------------------------------------------------------ widget callback
def line_data(nb, fig, ax):
    return nb.eval(f"[l.get_xydata().tolist() for l in {fig}.axes[{ax}].get_lines() "
                   f"if not l.get_label().startswith('_')]")


def test_widget_callback_redraws(nb):
    nb.run("fig_a = plot_trajectories(0.06, 0.7, 'todos'); "
           "fig_b = plot_trajectories(0.03, 0.95, 'momentum'); "
           "fig_c = plot_trajectories(0.03, 0.95, 'nesterov')")
    assert nb.eval("len(fig_a.axes)") == 2
    labels_a = nb.eval("[l.get_label() for l in fig_a.axes[0].get_lines() if not l.get_label().startswith('_')]")
    labels_b = nb.eval("[l.get_label() for l in fig_b.axes[0].get_lines() if not l.get_label().startswith('_')]")
    assert labels_a == ["gradiente descendente", "momentum", "Nesterov"]
    assert labels_b == ["momentum"]
    assert nb.eval("fig_a.axes[0].get_title()") == "α = 0.060, μ = 0.70"
    assert nb.eval("fig_b.axes[0].get_title()") == "α = 0.030, μ = 0.95"
    # the momentum trajectory changes with (alpha, mu), and Nesterov differs from momentum
    mom_a, mom_b, nes_c = line_data(nb, "fig_a", 0)[1], line_data(nb, "fig_b", 0)[0], line_data(nb, "fig_c", 0)[0]
    assert len(mom_a) == len(mom_b) == len(nes_c) == 61
    assert mom_a[0] == mom_b[0] == [-4.0, 1.5]
    assert max(abs(p - q) for u, v in zip(mom_a, mom_b) for p, q in zip(u, v)) > 0.1
    assert max(abs(p - q) for u, v in zip(mom_b, nes_c) for p, q in zip(u, v)) > 0.1
    # J curve: the same points as the trajectory, J = (w1² + 20 w2²)/2
    J_b = line_data(nb, "fig_b", 1)[0]
    w = mom_b[10]
    assert abs(J_b[10][1] - 0.5 * (w[0] ** 2 + 20 * w[1] ** 2)) < 1e-9 * max(1.0, J_b[10][1])


def test_widget_marks_divergence(nb):
    nb.run("fig_d = plot_trajectories(0.11, 0.5, 'todos')")
    labels = nb.eval("[l.get_label() for l in fig_d.axes[0].get_lines() if not l.get_label().startswith('_')]")
    assert labels[0] == "gradiente descendente (diverge)"   # α b = 2.2 > 2
    assert labels[1] == "momentum"                           # α b < 2 (1 + μ) = 3
    assert labels[2] == "Nesterov (diverge)"                 # α b > 2 (1 + μ) / (1 + 2 μ) = 1.5


def test_widget_callback_returns_png(nb):
    nb.run(PIXELS)
    nb.run("_png_a = show_trajectories(0.06, 0.7, 'todos'); _png_b = show_trajectories(0.03, 0.95, 'momentum')")
    assert nb.eval("[type(p).__name__ for p in (_png_a, _png_b)]") == ["bytes", "bytes"]
    assert nb.eval("_png_a[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and _png_b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'")
    assert nb.eval("bool((_png_pixels(_png_a) != _png_pixels(_png_b)).any())")
    assert nb.eval("live.image.value == _png_b")  # what the widget shows


@pytest.mark.parametrize("args", [(0.06, 0.7, "todos"), (0.03, 0.95, "momentum"),
                                  (0.11, 0.5, "todos"), (0.12, 0.99, "nesterov"), (0.005, 0.0, "sgd")])
def test_widget_redraw_equals_a_full_draw(nb, args):
    """The in-place redraw, after other moves, shows pixel for pixel what plot_trajectories draws."""
    nb.run(PIXELS)
    for other in ((0.12, 0.99, "todos"), (0.005, 0.0, "sgd"), (0.08, 0.3, "nesterov")):
        nb.run(f"show_trajectories{other!r}")
    assert nb.eval(f"_differing_pixels(show_trajectories{args!r}, plot_trajectories{args!r})") == 0


def test_widget_legend_follows_the_optimizer(nb):
    """The callback rebuilds the legend: only the chosen optimizers, with the divergence mark."""
    nb.run(PIXELS)
    nb.run("show_trajectories(0.11, 0.5, 'todos'); _png = show_trajectories(0.11, 0.5, 'sgd')")
    assert nb.eval("[t.get_text() for t in live_artists['legenda'].get_texts()]") == [
        "gradiente descendente (diverge)"]
    # one legend in the figure, and the PNG shows that one only (no trace of the three-entry one)
    assert nb.eval("sum(ax.get_legend() is not None for ax in live_fig.axes)") == 1
    assert nb.eval("live_fig.axes[0].get_legend() is live_artists['legenda']")
    assert nb.eval("_differing_pixels(_png, plot_trajectories(0.11, 0.5, 'sgd'))") == 0



# ------------------------------------------------------------------ the notebook's claims
def test_quadratic_claims(nb):
    it = nb.eval("{k: first_below(quad.J(p), 1e-3) for k, p in trajetorias_q.items()}")
    assert it["nesterov"] < it["momentum"] < it["sgd"], it
    assert it["sgd"] > 2 * it["momentum"]


def test_sign_flip_claims(nb):
    assert nb.eval("trocas.tolist()") == [0, 29]   # g2 flips every step, g1 never
    assert nb.eval("float(razao_ingreme)") < 1.0 < nb.eval("float(razao_plana)")


def test_rosenbrock_claims(nb):
    J = nb.eval("{k: float(rosen.J(p[-1])) for k, p in trajetorias_r.items()}")
    assert J["momentum"] < 1e-6 and J["nesterov"] < 1e-6 and J["sgd"] > 1e-2, J


def test_lookahead_step_claim(nb):
    assert nb.eval("float(g_momentum[1])") > 0 > nb.eval("float(g_nesterov[1])")


def test_torch_and_keras_store_the_lookahead_point(nb):
    pytest.importorskip("torch")
    d = nb.eval("[float(abs(torch_nesterov_path(0.06, 0.7, 30) - nesterov_lookahead_path(0.06, 0.7, 30)[1]).max()), "
                "float(abs(torch_nesterov_path(0.06, 0.7, 30) - nesterov_lookahead_path(0.06, 0.7, 30)[0]).max())]")
    assert d[0] < 1e-12 and d[1] > 0.1, d
    pytest.importorskip("keras")
    d = nb.eval("float(abs(keras_nesterov_path(0.06, 0.7, 30) - nesterov_lookahead_path(0.06, 0.7, 30)[1]).max())")
    assert d < 1e-6, d   # Keras keeps the learning rate in float32 (μ is exact)


# ------------------------------------------------------------------ the model solutions
def test_solutions_match_nnlib(nb):
    for mine, ref in (("MyMomentum", "optim.Momentum"), ("MyNesterov", "optim.Nesterov")):
        d = nb.eval(f"float(abs(surfaces.run({mine}(1e-3, 0.9), rosen, steps=300) - "
                    f"surfaces.run({ref}(alpha=1e-3, mu=0.9), rosen, steps=300)).max())")
        assert d < 1e-12, (mine, d)


def test_source_test_cells_pass(nb):
    for gid in ("teste_my_momentum", "teste_my_nesterov", "teste_epocas_momentum"):
        assert nb.accepts(renamed_test_cell(gid)), gid


# ------------------------------------------------------------------ test cells catch mistakes
MUTANTS = r'''
import numpy as _np
from nnlib import optim as _optim


class _Base:
    def __init__(self, alpha, mu):
        self.alpha, self.mu, self.v = alpha, mu, None

    def _alloc(self, params):
        if self.v is None:
            self.v = [_np.zeros_like(w) for w in params]


class M_sign(_Base):              # v <- mu v + alpha g
    def step(self, params, grad_fn):
        self._alloc(params)
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v + self.alpha * g
            w += v


class M_sign_w(_Base):            # w <- w - v
    def step(self, params, grad_fn):
        self._alloc(params)
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v - self.alpha * g
            w -= v


class M_fresh(_Base):             # state not persisted: v = 0 at every step
    def step(self, params, grad_fn):
        self.v = [_np.zeros_like(w) for w in params]
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v - self.alpha * g
            w += v


class M_shared(_Base):            # one velocity for all parameter arrays
    def step(self, params, grad_fn):
        if self.v is None:
            z = _np.zeros_like(params[0])
            self.v = [z for _ in params]
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v - self.alpha * g
            w += v


class M_classlevel:               # velocity stored on the class: shared by instances
    v = None

    def __init__(self, alpha, mu):
        self.alpha, self.mu = alpha, mu

    def step(self, params, grad_fn):
        if type(self).v is None:
            type(self).v = [_np.zeros_like(w) for w in params]
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v - self.alpha * g
            w += v


class M_rebind(_Base):            # params[i] = w + v: the caller's arrays never change
    def step(self, params, grad_fn):
        self._alloc(params)
        grads = grad_fn(params)
        for i, (v, g) in enumerate(zip(self.v, grads)):
            v[...] = self.mu * v - self.alpha * g
            params[i] = params[i] + v


class M_twice(_Base):             # right values, but grad_fn called twice per step
    def step(self, params, grad_fn):
        self._alloc(params)
        grad_fn(params)
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v - self.alpha * g
            w += v


class M_delegate:                 # calls nnlib's own implementation
    def __init__(self, alpha, mu):
        self._o = _optim.Momentum(alpha=alpha, mu=mu)
        self.v = None

    def step(self, params, grad_fn):
        out = self._o.step(params, grad_fn)
        self.v = self._o.v
        return out


class M_subclass(_optim.Momentum):  # inherits nnlib's implementation
    def __init__(self, alpha, mu):
        super().__init__(alpha=alpha, mu=mu)


class N_at_w(_Base):              # Nesterov with the gradient at w (plain momentum)
    def step(self, params, grad_fn):
        self._alloc(params)
        for w, v, g in zip(params, self.v, grad_fn(params)):
            v[...] = self.mu * v - self.alpha * g
            w += v


class N_minus(_Base):             # look-ahead at w - mu v
    def step(self, params, grad_fn):
        self._alloc(params)
        grads = grad_fn([w - self.mu * v for w, v in zip(params, self.v)])
        for w, v, g in zip(params, self.v, grads):
            v[...] = self.mu * v - self.alpha * g
            w += v


class N_alpha(_Base):             # look-ahead at w - alpha v
    def step(self, params, grad_fn):
        self._alloc(params)
        grads = grad_fn([w + self.alpha * v for w, v in zip(params, self.v)])
        for w, v, g in zip(params, self.v, grads):
            v[...] = self.mu * v - self.alpha * g
            w += v


class N_after(_Base):             # CORRECT variant: v <- mu v first, gradient at w + v, then v -= alpha g
    def step(self, params, grad_fn):
        self._alloc(params)
        for v in self.v:
            v *= self.mu
        grads = grad_fn([w + v for w, v in zip(params, self.v)])
        for w, v, g in zip(params, self.v, grads):
            v -= self.alpha * g
            w += v


class N_moved(_Base):             # moves params to the look-ahead point and never back
    def step(self, params, grad_fn):
        self._alloc(params)
        for w, v in zip(params, self.v):
            w += self.mu * v
        grads = grad_fn(params)
        for w, v, g in zip(params, self.v, grads):
            v[...] = self.mu * v - self.alpha * g
            w += v


class N_sign(_Base):              # Nesterov with v <- mu v + alpha g
    def step(self, params, grad_fn):
        self._alloc(params)
        grads = grad_fn([w + self.mu * v for w, v in zip(params, self.v)])
        for w, v, g in zip(params, self.v, grads):
            v[...] = self.mu * v + self.alpha * g
            w += v


class N_fresh(_Base):             # Nesterov without persistent state
    def step(self, params, grad_fn):
        self.v = [_np.zeros_like(w) for w in params]
        grads = grad_fn([w + self.mu * v for w, v in zip(params, self.v)])
        for w, v, g in zip(params, self.v, grads):
            v[...] = self.mu * v - self.alpha * g
            w += v


class N_delegate(M_delegate):
    def __init__(self, alpha, mu):
        self._o = _optim.Nesterov(alpha=alpha, mu=mu)
        self.v = None
'''

MOMENTUM_MUTANTS = ["M_sign", "M_sign_w", "M_fresh", "M_shared", "M_classlevel", "M_rebind",
                    "M_twice", "M_delegate", "M_subclass"]
NESTEROV_MUTANTS = ["N_at_w", "N_minus", "N_alpha", "N_moved", "N_sign", "N_fresh",
                    "N_delegate", "M_shared", "M_rebind", "M_twice", "M_subclass"]


@pytest.fixture(scope="module")
def mutants(nb):
    nb.run(MUTANTS)
    return nb


@pytest.mark.parametrize("mutant", sorted(set(MOMENTUM_MUTANTS)))
def test_momentum_cell_catches(mutants, mutant):
    assert mutants.rejects(renamed_test_cell("teste_my_momentum", {"MyMomentum": mutant})), \
        f"{mutant} passed the MyMomentum test cell"


@pytest.mark.parametrize("mutant", NESTEROV_MUTANTS)
def test_nesterov_cell_catches(mutants, mutant):
    assert mutants.rejects(renamed_test_cell("teste_my_nesterov", {"MyNesterov": mutant})), \
        f"{mutant} passed the MyNesterov test cell"


def test_nesterov_cell_accepts_equivalent_form(mutants):
    """A correct implementation written in another order still gets the points."""
    assert mutants.accepts(renamed_test_cell("teste_my_nesterov", {"MyNesterov": "N_after"}))


def test_momentum_mutants_that_visible_tests_already_catch(mutants):
    """The visible part (before the hidden tests) catches the plain sign mistake."""
    visible = visible_part(renamed_test_cell("teste_my_momentum"))
    mutants.run("MyMomentum_backup = MyMomentum; MyMomentum = M_sign")
    try:
        verdict = mutants.verdict(visible)
    finally:
        mutants.run("MyMomentum = MyMomentum_backup")
    assert verdict.rejected and "1º passo" in verdict.message, verdict.traceback


@pytest.mark.parametrize("values,where", [
    ((12, 2), "hidden"),   # wrong by more than 2 epochs
    ((16, 6), "hidden"),
    ((2, 16), "visible"),  # swapped
    ((16.0, 2.0), "visible"),  # floats, not integers
    ((0, 0), "visible"),
])
def test_epochs_cell_catches(nb, values, where):
    sem, com = values
    nb.run(f"_keep = (epochs_sem_momentum, epochs_com_momentum); "
           f"epochs_sem_momentum, epochs_com_momentum = {sem!r}, {com!r}")
    try:
        rejected = nb.rejects(renamed_test_cell("teste_epocas_momentum"))
        rejected_by_visible = nb.rejects(visible_part(renamed_test_cell("teste_epocas_momentum")))
    finally:
        nb.run("epochs_sem_momentum, epochs_com_momentum = _keep")
    assert rejected
    assert rejected_by_visible == (where == "visible")


def test_epochs_values(nb):
    """The recorded answer: SGD needs many more epochs than momentum to reach J <= 0.2."""
    sem, com = nb.eval("[epochs_sem_momentum, epochs_com_momentum]")
    assert type(sem) is int and type(com) is int
    assert com < sem and sem >= 3 * com


def test_curious_cell_without_torch_says_how_to_install(nb):
    """With torch not importable the comparison cell prints the install command, no error."""
    nbk = nbformat.read(SOURCE, as_version=4)
    src = next(c.source for c in nbk.cells if "def torch_nesterov_path" in c.source)
    out = nb.run("import sys as _sys\n"
                 "_saved = {k: _sys.modules.pop(k) for k in list(_sys.modules) if k == 'torch' or k.startswith('torch.')}\n"
                 "_sys.modules['torch'] = None\n"
                 "try:\n"
                 f"    exec({json.dumps(src)}, globals())\n"
                 "finally:\n"
                 "    del _sys.modules['torch']\n"
                 "    _sys.modules.update(_saved)\n")
    text = "".join(o.get("text", "") for o in out)
    assert 'pip install -e ".[torch]"' in text, text
    assert "PyTorch não está instalado" in text


# ------------------------------------------------------------------ momentum along the eigen-directions
def momentum_factor_measured(alpha, mu, lam, steps=400):
    """ρ measured on nnlib's Momentum for J = λ w²/2 (1-D): the decay per step of ‖(w, v)‖,
    from the RMS over two windows of 40 steps (robust to the rotation of complex roots)."""
    opt = optim.Momentum(alpha=alpha, mu=mu)
    w = np.array([1.0])
    sizes = []
    for _ in range(steps):
        before = w.copy()
        opt.step([w], lambda ws: [lam * ws[0]])
        sizes.append(float(np.hypot(w[0], w[0] - before[0])))
        if not np.isfinite(sizes[-1]) or sizes[-1] > 1e150 or sizes[-1] < 1e-280:
            break
    sizes = np.array(sizes)
    n = len(sizes)
    t0, t1 = n // 10, n - 50
    def log_rms(a):   # log of the RMS of a window, scaled first so that nothing underflows
        window = sizes[a:a + 40]
        return np.log(window.max()) + 0.5 * np.log(np.mean((window / window.max()) ** 2))

    return float(np.exp((log_rms(t1) - log_rms(t0)) / (t1 - t0)))


CASES = [(0.06, 0.0, 1.0), (0.06, 0.0, 20.0), (0.06, 0.7, 1.0), (0.06, 0.7, 20.0), (0.09, 0.3, 20.0),
         (0.02, 0.5, 1.0), (0.01, 0.9, 200.0), (0.005, 0.7, 1.0), (0.0174, 0.75, 200.0), (0.3, 0.2, 5.0),
         (0.03, 0.95, 1.0), (0.1, 0.5, 29.0)]


@pytest.mark.parametrize("alpha,mu,lam", CASES)
def test_predicted_factor_matches_a_run_of_nnlib_momentum(nb, alpha, mu, lam):
    """Issue #14 item 4: the notebook's ρ(α, μ, λ) is the per-iteration decay of an actual run."""
    predicted = nb.eval(f"float(fator_de_convergencia({alpha}, {mu}, {lam}))")
    measured = momentum_factor_measured(alpha, mu, lam)
    assert measured == pytest.approx(predicted, rel=0.01, abs=0.005), (alpha, mu, lam, predicted, measured)


@pytest.mark.parametrize("mu", [0.0, 0.3, 0.7, 0.9])
def test_divergence_limit_is_two_times_one_plus_mu(nb, mu):
    """Converges for αλ < 2(1 + μ), diverges beyond: predicted and seen in a run."""
    lam = 20.0
    below, above = 0.98 * 2 * (1 + mu) / lam, 1.02 * 2 * (1 + mu) / lam
    assert nb.eval(f"float(fator_de_convergencia({below}, {mu}, {lam}))") < 1.0
    assert nb.eval(f"float(fator_de_convergencia({above}, {mu}, {lam}))") > 1.0
    assert momentum_factor_measured(below, mu, lam) < 1.0 < momentum_factor_measured(above, mu, lam, steps=300)


@pytest.mark.parametrize("kappa", [20.0, 200.0])
def test_best_mu_is_polyaks(nb, kappa):
    """On a grid of (α, μ), the smallest max(ρ(λ=1), ρ(λ=κ)) sits at Polyak's (α*, μ*, ρ*)."""
    best = nb.eval(
        "(lambda A, M: (lambda R: [float(A.flat[R.argmin()]), float(M.flat[R.argmin()]), float(R.min())])"
        f"(np.maximum(fator_de_convergencia(A, M, 1.0), fator_de_convergencia(A, M, {kappa}))))"
        f"(*np.meshgrid(np.linspace(0.2, 4.0, 400) / {kappa}, np.linspace(0.0, 0.99, 400)))")
    root = np.sqrt(kappa)
    assert best[0] == pytest.approx((2 / (root + 1)) ** 2, rel=0.03)
    assert best[1] == pytest.approx(((root - 1) / (root + 1)) ** 2, abs=0.01)
    assert best[2] == pytest.approx((root - 1) / (root + 1), abs=0.005)
    # and the best gradient descent (μ = 0) is much slower: (κ − 1)/(κ + 1)
    gd = nb.eval(f"float(max(fator_de_convergencia(2 / (1 + {kappa}), 0.0, 1.0), "
                 f"fator_de_convergencia(2 / (1 + {kappa}), 0.0, {kappa})))")
    assert gd == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-9)


def test_notebook_table_agrees_with_its_own_runs(nb):
    rows = nb.eval("[[float(fator_de_convergencia(a, m, lam)), float(fator_medido(surfaces.run("
                   "optim.Momentum(alpha=a, mu=m), quad, w0=np.array([1.0, 1.0]), steps=200), i))]"
                   " for a, m in [(0.06, 0.0), (0.06, 0.7), (0.09, 0.3), (0.02, 0.5)]"
                   " for i, lam in enumerate((quad.a, quad.b))]")
    for predicted, measured in rows:
        assert measured == pytest.approx(predicted, rel=0.01)


PNG_MAGIC = "b'\\x89PNG\\r\\n\\x1a\\n'"


def test_map_widget_follows_the_sliders(nb):
    nb.run(PIXELS + "_pngs = [painel_mapa.atualizar(*v) for v in"
           " [(20, 1.0, 0.7), (20, 2.0, 0.7), (20, 2.0, 0.3), (200, 2.0, 0.3)]]")
    assert nb.eval(f"all(p[:8] == {PNG_MAGIC} for p in _pngs)")
    assert nb.eval("[bool((_png_pixels(a) != _png_pixels(b)).any()) for a, b in zip(_pngs, _pngs[1:])]") == [True] * 3
    title = nb.eval("painel_mapa.artistas['titulo'].get_text()")
    assert "κ = 200" in title and "μ = 0.30" in title
    # beyond the limit αλ_máx < 2(1 + μ) the title says it diverges
    nb.run("painel_mapa.atualizar(20, 3.0, 0.3)")
    assert "diverge" in nb.eval("painel_mapa.artistas['titulo'].get_text()")


@pytest.mark.parametrize("args", [(20, 1.0, 0.7), (200, 1.5, 0.9), (5, 3.9, 0.1), (20, 3.5, 0.5)])
def test_map_redraw_equals_a_full_draw(nb, args):
    nb.run(PIXELS)
    for other in ((1000, 0.5, 0.95), (20, 2.0, 0.0), (200, 1.0, 0.7)):
        nb.run(f"painel_mapa.atualizar{other!r}")
    assert nb.eval(f"_differing_pixels(painel_mapa.atualizar{args!r}, painel_mapa.figura{args!r})") == 0


def test_map_star_is_the_best_point(nb):
    star = nb.eval("[float(v) for v in figures.melhor_momentum(200)]")
    assert star[1] == pytest.approx(((np.sqrt(200) - 1) / (np.sqrt(200) + 1)) ** 2)


# ------------------------------------------------------------------ layout, titles, questions
def test_student_version_meets_layout_targets():
    assert layout_problems(STUDENT) == []


def test_title_and_sections():
    cells = nbformat.read(SOURCE, as_version=4).cells
    assert cells[0].source.startswith("# Aula 3 — ")
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "nnlib/optim.py" not in text   # #13: the exercises no longer send students to the answer


@pytest.mark.parametrize("grade_id", ["teste_my_momentum", "teste_my_nesterov", "teste_epocas_momentum"])
def test_visible_tests_print_no_expected_value(grade_id):
    visible = visible_part(grade_cell_source(SOURCE, grade_id))
    assert "check_close" not in visible and "esperava" not in visible


def test_question_is_not_answered_above():
    """The hand-graded question asks for κ = 200, a case the text does not compute."""
    cells = nbformat.read(SOURCE, as_version=4).cells
    q = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "pergunta_momento")
    before = "\n".join(c.source for c in cells[:q - 1])
    assert "200" in cells[q - 1].source
    for number in ("0,949", "0,00263", "0,0190", "262", "0,989"):
        assert number not in before
    # issue #25: the question is no longer a plug-in of the closed forms of the star
    assert "0{,}9" in cells[q - 1].source and "raízes complexas" in cells[q - 1].source


def test_model_answer_of_the_question_agrees_with_the_notebook(nb):
    """μ = 0.9, κ = 200: ρ = √μ for α in ((1 − √μ)², (1 + √μ)²/200), worse outside, diverges at 0.019."""
    rho = lambda a, lam: nb.eval(f"float(fator_de_convergencia({a}, 0.9, {lam}))")
    for alpha in (0.003, 0.01, 0.0189):
        assert max(rho(alpha, 1.0), rho(alpha, 200.0)) == pytest.approx(np.sqrt(0.9), rel=1e-9)
    assert rho(0.001, 1.0) == pytest.approx(0.989, abs=5e-4)
    assert 1.0 > rho(0.018995, 200.0) > np.sqrt(0.9) and rho(0.0191, 200.0) > 1.0
    assert np.log(1e-6) / np.log(np.sqrt(0.9)) == pytest.approx(262, abs=0.5)


# The named wrong answers each visible test rejects (tests/test_exercise_rules.py, rule 6): the
# mutants above, each bound to the answer's name; the classic bugs of the update first.
WRONG_ANSWERS = {
    "teste_my_momentum": {name: f"{MUTANTS}\nMyMomentum = {name}" for name in
                          ["M_sign", "M_sign_w", "M_fresh", "M_rebind", "M_twice", "M_delegate", "M_subclass"]},
    "teste_my_nesterov": {name: f"{MUTANTS}\nMyNesterov = {name}" for name in
                          ["N_at_w", "N_minus", "N_alpha", "N_moved", "N_sign", "N_fresh", "N_delegate"]},
    "teste_epocas_momentum": {"swapped (momentum slower)": "epochs_sem_momentum, epochs_com_momentum = 2, 16",
                              "floats": "epochs_sem_momentum, epochs_com_momentum = 16.0, 2.0",
                              "zero épocas": "epochs_sem_momentum, epochs_com_momentum = 0, 0"},
}
