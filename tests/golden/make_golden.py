"""Write tests/golden/optim_trajectories.json and tests/golden/schedules.json with PyTorch (and Keras).

The stored values let ``tests/test_optim.py`` and ``tests/test_schedules.py`` compare nnlib with
``torch.optim`` even where torch is not installed. Rerun after changing a case (the tests check
that the stored cases are the ones they expect) or to check a new torch version::

    .venv/bin/python tests/golden/make_golden.py          # from the repository root

Needs torch (``pip install -e .[torch]``); Keras values are added when keras imports with the
torch backend. Everything runs in float64 on the CPU and takes a few seconds. Gradients come from
torch autograd, independently of the numpy gradients the tests use.

The file is also imported by the tests (``torch_trajectory``, ``torch_schedule``...) to compare
with live torch; torch and keras are imported only inside the functions that need them.
"""

import json
import os
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OPTIM_FILE = HERE / "optim_trajectories.json"
SCHEDULES_FILE = HERE / "schedules.json"

STEPS = 20

# --- test problems (the tests define the same data and check it against the stored copy) ------
ROSENBROCK_W0 = [-1.5, 2.0]  # J(w) = (1 - w0)^2 + 100 (w1 - w0^2)^2


def quadratic_data():
    """Ill-conditioned least squares J(W, b) = mean_n ||x_n W + b - y_n||^2 / 2, W 2x3, b (3,)."""
    t = np.linspace(-1.0, 1.0, 5)
    X = np.column_stack([t, 10.0 * t**2])  # Hessian condition number about 106
    Y = np.linspace(-1.0, 2.0, 15).reshape(5, 3)
    W0 = np.linspace(-0.5, 0.5, 6).reshape(2, 3)
    b0 = np.array([0.3, -0.2, 0.1])
    return X, Y, [W0, b0]


# --- optimizer cases: nnlib names and values; "compare" says what the test asserts ------------
# "equal":     nnlib params == torch params at every step.
# "lookahead": nnlib w + mu v == torch params (PyTorch stores the Nesterov look-ahead point).
# "differs":   nnlib differs from torch measurably (PyTorch momentum under a decaying alpha).
# A schedule alpha is written {"linear_decay": [alpha0, alpha_tau, tau]}.
CASES = {
    "sgd-rosenbrock": ("sgd", "rosenbrock", {"alpha": 5e-4}, "equal"),
    "momentum-rosenbrock": ("momentum", "rosenbrock", {"alpha": 5e-4, "mu": 0.9}, "equal"),
    "nesterov-rosenbrock": ("nesterov", "rosenbrock", {"alpha": 5e-4, "mu": 0.9}, "lookahead"),
    "adagrad-rosenbrock": ("adagrad", "rosenbrock", {"alpha": 0.3, "eps": 1e-6}, "equal"),
    "rmsprop-rosenbrock": ("rmsprop", "rosenbrock", {"alpha": 0.01, "rho": 0.8, "eps": 1e-6}, "equal"),
    "adam-rosenbrock": ("adam", "rosenbrock", {"alpha": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6}, "equal"),
    "sgd-quadratic": ("sgd", "quadratic", {"alpha": 0.03}, "equal"),
    "momentum-quadratic": ("momentum", "quadratic", {"alpha": 0.01, "mu": 0.8}, "equal"),
    "nesterov-quadratic": ("nesterov", "quadratic", {"alpha": 0.01, "mu": 0.8}, "lookahead"),
    "adagrad-quadratic": ("adagrad", "quadratic", {"alpha": 0.2, "eps": 1e-6}, "equal"),
    "rmsprop-quadratic": ("rmsprop", "quadratic", {"alpha": 0.02, "rho": 0.7, "eps": 1e-6}, "equal"),
    "adam-quadratic": ("adam", "quadratic", {"alpha": 0.05, "beta1": 0.7, "beta2": 0.9, "eps": 1e-6}, "equal"),
    "sgd-lineardecay-quadratic": ("sgd", "quadratic", {"alpha": {"linear_decay": [0.04, 0.004, 10]}}, "equal"),
    "adam-lineardecay-rosenbrock": (
        "adam", "rosenbrock", {"alpha": {"linear_decay": [0.1, 0.01, 10]}, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6},
        "equal",
    ),
    "momentum-lineardecay-quadratic": (
        "momentum", "quadratic", {"alpha": {"linear_decay": [0.02, 0.002, 10]}, "mu": 0.8}, "differs",
    ),
}

# --- schedule cases --------------------------------------------------------------------------
LINEAR_DECAY = {"alpha0": 0.1, "alpha_tau": 0.01, "tau": 10}
STEP_DECAY = {"alpha0": 0.1, "drop": 0.5, "every": 3}
EXPONENTIAL_DECAY = {"alpha0": 0.1, "gamma": 0.9}
SCHEDULE_J = list(range(16))  # j = 0 .. 15: through and past tau = 10


def torch_optimizer(name, hyper, tensors, lr):
    """The torch.optim twin of nnlib's ``name`` (hyper-parameters in nnlib's names)."""
    import torch

    if name == "sgd":
        return torch.optim.SGD(tensors, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(tensors, lr=lr, momentum=hyper["mu"])
    if name == "nesterov":
        return torch.optim.SGD(tensors, lr=lr, momentum=hyper["mu"], nesterov=True)
    if name == "adagrad":
        return torch.optim.Adagrad(tensors, lr=lr, eps=hyper["eps"], initial_accumulator_value=0.0)
    if name == "rmsprop":  # PyTorch calls the decay rate rho "alpha"
        return torch.optim.RMSprop(tensors, lr=lr, alpha=hyper["rho"], eps=hyper["eps"])
    if name == "adam":
        return torch.optim.Adam(tensors, lr=lr, betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["eps"])
    raise ValueError(name)


def torch_loss(problem, tensors):
    import torch

    if problem == "rosenbrock":
        (w,) = tensors
        return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
    if problem == "quadratic":
        X, Y, _ = quadratic_data()
        W, b = tensors
        R = torch.from_numpy(X) @ W + b - torch.from_numpy(Y)
        return (R**2).sum(dim=1).mean() / 2
    raise ValueError(problem)


def start(problem):
    if problem == "rosenbrock":
        return [np.array(ROSENBROCK_W0)]
    return quadratic_data()[2]


def torch_trajectory(name, problem, hyper, steps=STEPS):
    """PyTorch's parameters before the first step and after each step: list of lists of arrays."""
    import torch

    tensors = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in start(problem)]
    alpha = hyper["alpha"]
    decay = isinstance(alpha, dict)
    lr = alpha["linear_decay"][0] if decay else alpha
    opt = torch_optimizer(name, hyper, tensors, lr)
    if decay:
        alpha0, alpha_tau, tau = alpha["linear_decay"]
        sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=alpha_tau / alpha0, total_iters=tau)
    path = [[p.detach().numpy().copy() for p in tensors]]
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(problem, tensors).backward()
        opt.step()
        if decay:
            sched.step()
        path.append([p.detach().numpy().copy() for p in tensors])
    return path


def _schedule_values(opt, sched, n):
    values = []
    for _ in range(n):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return values


def torch_schedule(kind, n=len(SCHEDULE_J)):
    """α_j for j = 0 .. n-1 from torch.optim.lr_scheduler (``linear``, ``step``, ``exponential``)."""
    import torch

    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    S = torch.optim.lr_scheduler
    if kind == "linear":
        c = LINEAR_DECAY
        opt = torch.optim.SGD([p], lr=c["alpha0"])
        sched = S.LinearLR(opt, start_factor=1.0, end_factor=c["alpha_tau"] / c["alpha0"], total_iters=c["tau"])
    elif kind == "step":
        c = STEP_DECAY
        opt = torch.optim.SGD([p], lr=c["alpha0"])
        sched = S.StepLR(opt, step_size=c["every"], gamma=c["drop"])
    elif kind == "exponential":
        c = EXPONENTIAL_DECAY
        opt = torch.optim.SGD([p], lr=c["alpha0"])
        sched = S.ExponentialLR(opt, gamma=c["gamma"])
    else:
        raise ValueError(kind)
    return _schedule_values(opt, sched, n)


def import_keras():
    """Keras 3 with the torch backend and float64, or None if it does not import."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except Exception:  # noqa: BLE001 - any import failure means "no keras here"
        return None
    if keras.backend.backend() != "torch":
        return None
    keras.config.set_floatx("float64")
    return keras


def keras_polynomial_decay(keras, j_values=SCHEDULE_J):
    c = LINEAR_DECAY
    sched = keras.optimizers.schedules.PolynomialDecay(
        initial_learning_rate=c["alpha0"], decay_steps=c["tau"], end_learning_rate=c["alpha_tau"], power=1.0
    )
    return [float(sched(j)) for j in j_values]


def keras_exponential_decay(keras, j_values=SCHEDULE_J):
    c = EXPONENTIAL_DECAY
    sched = keras.optimizers.schedules.ExponentialDecay(c["alpha0"], decay_steps=1, decay_rate=c["gamma"])
    return [float(sched(j)) for j in j_values]


def main():
    import warnings

    import torch

    warnings.filterwarnings("ignore", category=UserWarning)  # scheduler-order warnings
    torch.set_default_dtype(torch.float64)
    optim = {
        "meta": {
            "generated_by": "python tests/golden/make_golden.py",
            "torch": torch.__version__,
            "numpy": np.__version__,
            "steps": STEPS,
            "note": "trajectory[k][i] = torch parameter i after k steps (k = 0: the start)",
        },
        "problems": {
            "rosenbrock": {"w0": [ROSENBROCK_W0]},
            "quadratic": dict(zip(("X", "Y", "w0"), _tolist(quadratic_data()))),
        },
        "cases": {},
    }
    for case, (name, problem, hyper, compare) in CASES.items():
        path = torch_trajectory(name, problem, hyper)
        optim["cases"][case] = {
            "optimizer": name,
            "problem": problem,
            "hyper": hyper,
            "compare": compare,
            "trajectory": _tolist(path),
        }
    schedules = {
        "meta": {"generated_by": "python tests/golden/make_golden.py", "torch": torch.__version__, "j": SCHEDULE_J},
        "linear_decay": {"hyper": LINEAR_DECAY, "torch_LinearLR": torch_schedule("linear")},
        "step_decay": {"hyper": STEP_DECAY, "torch_StepLR": torch_schedule("step")},
        "exponential_decay": {"hyper": EXPONENTIAL_DECAY, "torch_ExponentialLR": torch_schedule("exponential")},
    }
    keras = import_keras()
    if keras is not None:
        schedules["meta"]["keras"] = keras.__version__
        schedules["linear_decay"]["keras_PolynomialDecay"] = keras_polynomial_decay(keras)
        schedules["exponential_decay"]["keras_ExponentialDecay"] = keras_exponential_decay(keras)
    else:
        print("keras not importable with the torch backend: no Keras values stored", file=sys.stderr)
    for path, data in ((OPTIM_FILE, optim), (SCHEDULES_FILE, schedules)):
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}")


def _tolist(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_tolist(e) for e in x]
    return x


if __name__ == "__main__":
    main()
