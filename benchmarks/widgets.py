"""`make bench`, part 2: widget latency and notebook execution time.

For every source notebook in ``solutions/`` this script

1. executes the notebook once in a fresh kernel (``tests/notebook_session.py``, nbclient,
   ``MPLBACKEND=Agg``, not in grading mode) and records the wall time, the kernel's CPU time
   (``os.times()`` of the kernel process: user + system, BLAS threads included) and the
   slowest cells;
2. calls each widget callback of that notebook (the ``REGISTRY`` below) about 20 times with
   the argument combinations a student produces by moving the sliders one at a time, and
   times each call *as the student waits for it*: the callback, the PNG rendering the inline
   backend does when the figure is displayed (``fig.savefig`` at the figure's dpi with
   ``bbox_inches="tight"``, through IPython's display formatter) and closing the figure.
   A callback that redraws a ``nnlib.liveplot.LiveFigure`` returns the PNG bytes it sent to
   its ``ipywidgets.Image``: its time is the callback alone, PNG included.

With ``--student`` it executes the student versions instead (``lectures/``, ``assignments/``:
the notebook as a student runs it, exercises blank) against the 10 s target of DEVELOPERS.md.

It prints two Markdown tables; with ``--write`` it also puts them into docs/performance.md
between ``<!-- widgets:start -->``/``<!-- widgets:end -->`` and
``<!-- notebooks:start -->``/``<!-- notebooks:end -->``.

Targets (issue 7): widget median <= 150 ms and p95 <= 300 ms; notebook <= 20 s per lecture
(``aula*``) and <= 60 s per problem set (``lista*``). The load average is recorded next to
each table: on a shared machine the wall times are inflated, the CPU times much less so.

Adding a notebook: add ``"<id>": [Widget("callback", calls)]`` to ``REGISTRY`` (``callback`` is a
name in the notebook, or ``"box.atualizar"`` for the callback of a ``nnlib.figures`` widget), where
``calls`` is a list of keyword dicts (see ``slider_path``) or a string the kernel evaluates
to such a list (for options the notebook defines). A notebook with a widget cell and no
registry entry is listed as "not registered"; a registered callback the notebook does not
define is listed as "not found".
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from notebook_session import NotebookSession  # noqa: E402

from benchmarks.report import write_section  # noqa: E402

WIDGET_MARKERS = ("<!-- widgets:start -->", "<!-- widgets:end -->")
NOTEBOOK_MARKERS = ("<!-- notebooks:start -->", "<!-- notebooks:end -->")
TARGET_MEDIAN, TARGET_P95 = 0.150, 0.300
TARGET_NOTEBOOK = {"aula": 20.0, "lista": 60.0}
TARGET_STUDENT = 10.0   # DEVELOPERS.md: each notebook executes in <= 10 s as a student runs it


@dataclass
class Widget:
    """A widget callback: its name in the notebook and the calls to time."""

    callback: str
    calls: object  # list of kwargs dicts, or a str evaluated in the kernel to such a list
    note: str = ""


def slider_path(defaults, moves):
    """The calls a student makes moving one control at a time, the others staying put.

    ``moves`` is a list of ``(name, values)``; every value is one callback call, and the
    control keeps its last value for the moves that follow.
    """
    state, calls = dict(defaults), []
    for name, values in moves:
        for value in values:
            state[name] = value
            calls.append(dict(state))
    return calls


ALL_RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")

REGISTRY = {
    "aula00_exemplo": [
        Widget("desenhar", slider_path({"alpha": 0.3}, [
            ("alpha", [round(float(a), 2) for a in np.linspace(0.05, 2.1, 20)])]),
            note="plt.show() inside: the inline backend renders and closes the figure"),
    ],
    "aula01_online_batch_minibatch": [
        Widget("painel_lote.atualizar", slider_path({"m": 20, "alpha": 0.1}, [
            ("m", [10, 5, 2, 1]), ("alpha", [0.05, 0.2, 0.5, 0.9]),
            ("m", [2, 5, 10, 20, 50, 100, 200]), ("alpha", [0.3, 0.1, 0.02, 1.0]), ("m", [1])]),
            note="nnlib.figures.aula01.interativo_tamanho_lote"),
    ],
    "aula02_sgd_passo_aprendizagem": [
        Widget("painel_reducao.atualizar", slider_path({"alpha0": 0.3, "alpha_tau": 0.02, "tau": 400}, [
            ("alpha0", [0.1, 0.5, 0.8, 1.0, 0.2]), ("alpha_tau", [0.001, 0.05, 0.1, 0.3, 0.01]),
            ("tau", [20, 100, 200, 600, 800]), ("alpha0", [0.45, 0.05, 0.3, 0.7, 0.15])]),
            note="nnlib.figures.aula02.interativo_reducao_do_passo; sliders with continuous_update=False: "
                 "one call per release"),
    ],
    "aula03_momentum_nesterov": [
        Widget("painel_trajetorias.atualizar", slider_path({"alpha": 0.06, "mu": 0.7, "optimizer": "todos"}, [
            ("alpha", [0.005, 0.02, 0.04, 0.08, 0.1, 0.12]), ("mu", [0.0, 0.3, 0.5, 0.9, 0.95, 0.99]),
            ("optimizer", ["sgd", "momentum", "nesterov", "todos"]), ("alpha", [0.03, 0.11, 0.06, 0.09])]),
            note="nnlib.figures.aula03.interativo_trajetorias"),
        Widget("painel_mapa.atualizar", slider_path({"kappa": 20, "alpha_lambda": 1.0, "mu": 0.7}, [
            ("alpha_lambda", [0.2, 0.5, 1.5, 2.5, 3.5]), ("mu", [0.0, 0.3, 0.5, 0.9, 0.95]),
            ("kappa", [5, 50, 200, 1000]), ("alpha_lambda", [1.0, 2.0]), ("mu", [0.7, 0.8]), ("kappa", [20])]),
            note="nnlib.figures.aula03.interativo_mapa_momentum; a κ not seen before draws a new map "
                 "(the static part)"),
    ],
    "aula04_passo_adaptativo": [
        Widget("painel.atualizar", slider_path(
            {"optimizers": ("sgd", "momentum", "adam"), "alpha": 10 ** -2.5, "mu": 0.9, "rho": 0.9,
             "beta1": 0.9, "beta2": 0.999, "surface": "rosenbrock"}, [
                ("optimizers", [ALL_RULES]), ("alpha", [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10 ** 0.5]),
                ("surface", ["quadratic", "beale", "bounded_saddle", "rosenbrock"]),
                ("mu", [0.5, 0.99]), ("rho", [0.5, 0.999]), ("beta1", [0.5, 0.0]), ("beta2", [0.9, 0.9999]),
                ("optimizers", [("sgd",)])])),
        Widget("painel_pre.atualizar", slider_path({"kappa": 100, "angle": 0}, [
            ("kappa", [1, 10, 1000, 100]), ("angle", [15, 30, 45, 0]), ("kappa", [10, 1]),
            ("angle", [45, 15]), ("kappa", [1000, 100, 10]), ("angle", [0, 30])]),
            note="κ and rotation of the quadratic (section 4); the contour is a dynamic artist, the static part is drawn once"),
    ],
    "aula05_inicializacao": [
        Widget("painel.atualizar", slider_path(
            {"depth": 10, "activation": "tanh", "heuristic": "glorot", "distribution": "normal", "scale": 1.0}, [
                ("depth", [5, 15, 20, 30]), ("activation", ["logistic", "relu", "selu", "linear", "tanh"]),
                ("heuristic", ["he", "lecun", "glorot"]), ("distribution", ["uniform"]),
                ("scale", [0.5, 2.0, 3.0, 0.25, 1.0]), ("depth", [2, 10])])),
    ],
    "aula06_custo_frameworks": [
        Widget("painel.atualizar",
               "[dict(framework=f, optimizer=o) for f in FRAMEWORKS for o in OPTIMIZERS]",
               note="every (library, optimizer) pair; the curves are computed when the notebook runs"),
    ],
    "lista01_otimizadores": [
        Widget("cronograma_widget.atualizar", slider_path({"alpha0": 0.1, "alpha_tau": 0.01, "tau": 200}, [
            ("alpha0", [0.02, 0.05, 0.15, 0.19, 0.3]), ("alpha_tau", [0.0005, 0.002, 0.005, 0.05]),
            ("tau", [10, 50, 100, 300, 400]), ("alpha0", [0.19]), ("alpha_tau", [0.002]), ("tau", [200])])),
    ],
    "lista02_inicializacao_treinamento": [
        Widget("painel_ajuste.atualizar", slider_path({"otimizador": "sgd", "alpha": 0.01, "m": 32}, [
            ("alpha", [0.001, 0.05, 0.2, 1.0, 0.1]), ("m", [1, 4, 16, 64, 128]),
            ("otimizador", ["momentum", "nesterov", "adagrad", "rmsprop", "adam"]),
            ("alpha", [0.002, 0.01, 0.5]), ("m", [32, 1])]),
            note="nnlib.figures.lista02.interativo_ajuste; one training of ORCAMENTO updates per call"),
    ],
}

# Runs inside the notebook's kernel. One call = callback + PNG of every figure it leaves
# (the returned Figure and any figure still open in pyplot, as ipywidgets' interactive output
# and the inline backend would display them) + closing them.
KERNEL_HARNESS = r'''
def __widget_bench(__name, __calls, __warmup=1):
    import time as _t
    import matplotlib.pyplot as _plt
    from matplotlib.figure import Figure as _Figure
    from IPython import get_ipython as _gi
    from IPython.core.pylabtools import print_figure as _print_figure
    _head, *_attrs = __name.split(".")  # "box.atualizar": the callback of a nnlib.figures widget
    if _head not in globals():
        return {"error": "not found"}
    _fn = globals()[_head]
    for _attr in _attrs:
        _fn = getattr(_fn, _attr, None)
    if _fn is None:
        return {"error": "not found"}
    _fmt = _gi().display_formatter

    def _once(kwargs):
        _plt.close("all")
        before = set(_plt.get_fignums())
        stage = "callback"
        try:
            w0, c0 = _t.perf_counter(), _t.process_time()
            result = _fn(**kwargs)
            w1, c1 = _t.perf_counter(), _t.process_time()
            stage = "PNG"
            figs = [result] if isinstance(result, _Figure) else []
            for num in _plt.get_fignums():
                if num not in before and _plt.figure(num) not in figs:
                    figs.append(_plt.figure(num))
            # a LiveFigure callback returns the PNG it sent to its ipywidgets.Image
            size = len(result) if isinstance(result, (bytes, bytearray)) else 0
            for fig in figs:
                png = _fmt.format(fig, include={"image/png"})[0].get("image/png")
                if png is None:   # no inline formatter registered: what it would do
                    png = _print_figure(fig, "png", bbox_inches="tight", base64=True)
                size += len(png or "") * 3 // 4   # base64 -> bytes
                _plt.close(fig)
            return [_t.perf_counter() - w0, _t.process_time() - c0, len(figs), size, w1 - w0, c1 - c0]
        except Exception as error:   # a crash is a finding, not the end of the benchmark
            _plt.close("all")
            return {"kwargs": repr(kwargs), "stage": stage, "error": f"{type(error).__name__}: {error}"}

    for kwargs in __calls[:__warmup]:
        _once(kwargs)
    out = [_once(kwargs) for kwargs in __calls]
    return {"calls": [c for c in out if isinstance(c, list)],
            "failures": [c for c in out if isinstance(c, dict)]}
'''


# Where the time of one call goes (CPU medians over ``repeats``): building the figure, one
# draw, PNG without and with bbox_inches="tight", and PNG at 72 dpi (tight).
KERNEL_BREAKDOWN = r"""
def __widget_breakdown(__name, __kwargs, repeats=5):
    import io, statistics, time as _t
    import matplotlib.pyplot as _plt
    from matplotlib.figure import Figure as _Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    _root, _, _attributes = __name.partition(".")
    _fn = globals()[_root]
    for _attribute in filter(None, _attributes.split(".")):
        _fn = getattr(_fn, _attribute)

    if isinstance(_fn(**__kwargs), (bytes, bytearray)):
        return None   # a LiveFigure callback: no figure is built per call
    _plt.close("all")

    def _figure():
        _plt.close("all")
        result = _fn(**__kwargs)
        if isinstance(result, _Figure):
            return result
        nums = _plt.get_fignums()
        return _plt.figure(nums[-1]) if nums else None

    def _cpu(step):
        times = []
        for _ in range(repeats):
            c0 = _t.process_time()
            fig = _figure()
            if fig is not None:
                step(fig)
            times.append(_t.process_time() - c0)
            _plt.close("all")
        return statistics.median(times)

    def _lean(fig):   # the cheap variants suggested in docs/performance.md
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_scale() == "log":
                    axis.set_minor_formatter(_plt.NullFormatter())
        fig.set_layout_engine("none")
        fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi)

    # a closed pyplot figure keeps a bare FigureCanvasBase whose draw() does nothing: use Agg
    return {"callback": _cpu(lambda fig: None),
            "draw": _cpu(lambda fig: FigureCanvasAgg(fig).draw()),
            "png": _cpu(lambda fig: fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi)),
            "png_tight": _cpu(lambda fig: fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi, bbox_inches="tight")),
            "png_tight_72dpi": _cpu(lambda fig: fig.savefig(io.BytesIO(), format="png", dpi=72, bbox_inches="tight")),
            "png_lean": _cpu(_lean)}
"""

def kernel_cpu_seconds(nb):
    return nb.eval("(lambda t: t.user + t.system + t.children_user + t.children_system)(__import__('os').times())")


def has_widget(path):
    nb = nbformat.read(path, as_version=4)
    return any(c.cell_type == "code" and ("ipywidgets" in c.source or "widgets.interactive" in c.source
                                          or "figures.interativo_" in c.source)
               for c in nb.cells)


def slowest_cells(nb, k=3):
    """The k slowest code cells (index, seconds, first line) from nbclient's timing metadata."""
    from datetime import datetime

    def stamp(s):
        return datetime.fromisoformat(s.replace("Z", "+00:00"))

    rows = []
    for i, cell in enumerate(nb.nb.cells):
        ex = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            sec = (stamp(ex["shell.execute_reply"]) - stamp(ex["iopub.execute_input"])).total_seconds()
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")[:40]
            rows.append((sec, i, first))
    return sorted(rows, reverse=True)[:k]


def notebooks(only=None, student=False):
    """The source notebooks, or with ``student`` the student versions (lectures/, assignments/):
    what a student runs, the exercises blank (their cells, tagged raises-exception, raise)."""
    folders = ("lectures", "assignments") if student else ("solutions",)
    paths = [p for folder in folders for p in sorted(ROOT.glob(f"{folder}/*/*.ipynb"))]
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts and p.stem == p.parent.name]
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
    return paths


def measure_notebook(path, n_calls, timeout, breakdown=False):
    """Execute one notebook, then time its registered widget callbacks. Returns a dict."""
    load0 = os.getloadavg()[0]
    out = {"id": path.stem, "load_start": load0, "widgets": []}
    start = time.perf_counter()
    session = NotebookSession(path, timeout=timeout)
    try:
        session.__enter__()
    except Exception as error:  # a broken notebook is reported, the others still run
        if session._context is not None:  # the kernel started: shut it down
            session.__exit__(None, None, None)
        out["error"] = f"{type(error).__name__}: {str(error).strip().splitlines()[-1][:120]}"
        out["wall"] = time.perf_counter() - start
        return out
    try:
        out["wall"] = time.perf_counter() - start
        out["cpu"] = kernel_cpu_seconds(session)
        out["slowest"] = slowest_cells(session)
        out["load_end_exec"] = os.getloadavg()[0]
        entries = REGISTRY.get(path.stem)
        if entries is None:
            if has_widget(path):
                out["widgets"].append({"callback": "?", "error": "widget cell, not registered in REGISTRY"})
            return out
        session.run(KERNEL_HARNESS)
        session.run(KERNEL_BREAKDOWN)
        for widget in entries:
            calls = widget.calls if isinstance(widget.calls, str) else repr(widget.calls[:n_calls])
            if isinstance(widget.calls, str):
                calls = f"({calls})[:{n_calls}]"
            row = {"callback": widget.callback, "note": widget.note}
            try:
                result = session.eval(f"__widget_bench({widget.callback!r}, {calls})")
            except Exception as error:  # AssertionError from the kernel, TimeoutError
                lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln) for ln in str(error).splitlines() if ln.strip()]
                row["error"] = "raised: " + (lines[-1][:120] if lines else "?")
            else:
                if "error" in result:
                    row["error"] = result["error"]
                else:
                    row["calls"], row["failures"] = result["calls"], result["failures"]
            if breakdown and "calls" in row:
                first = f"({widget.calls})[0]" if isinstance(widget.calls, str) else repr(widget.calls[0])
                try:
                    found = session.eval(f"__widget_breakdown({widget.callback!r}, {first})")
                    if found is not None:  # None: a LiveFigure callback, nothing to split
                        row["breakdown"], row["breakdown_kwargs"] = found, first
                except Exception:  # the breakdown is optional; the timings above stand
                    pass
            out["widgets"].append(row)
        out["load_end"] = os.getloadavg()[0]
    finally:
        session.__exit__(None, None, None)
    return out


def p95(values):
    return float(np.percentile(values, 95))


def fmt_load(results, key_a, key_b):
    loads = [r[k] for r in results for k in (key_a, key_b) if k in r]
    return f"{min(loads):.1f}-{max(loads):.1f}" if loads else "?"


def widget_table(results):
    lines = [f"Load average (1 min) during the measurements: {fmt_load(results, 'load_end_exec', 'load_end')} "
             f"on {os.cpu_count()} cores. One warm-up call, then the calls listed; time = callback + PNG "
             "(inline backend) + close, or, for a LiveFigure callback (PNG kB from the callback), the "
             "callback alone, which draws and encodes the PNG itself. CPU = the kernel process's CPU time (all its threads).",
             "",
             "| notebook | callback | calls | median ms | p95 ms | max ms | median CPU ms | p95 CPU ms "
             "| CPU ms: callback / PNG + close | PNG kB | target (wall) | target (CPU) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |"]
    failures = []
    for r in results:
        for w in r["widgets"]:
            if "error" in w:
                lines.append(f"| {r['id']} | `{w['callback']}` | | | | | | | | | {w['error']} | |")
                continue
            for f in w.get("failures", []):
                failures.append(f"- {r['id']} `{w['callback']}({f['kwargs']})` failed in the {f['stage']}: "
                                f"{f['error'][:160]}")
            if not w["calls"]:
                lines.append(f"| {r['id']} | `{w['callback']}` | 0 | | | | | | | | every call failed | |")
                continue
            wall = [c[0] for c in w["calls"]]
            cpu = [c[1] for c in w["calls"]]
            cb = statistics.median(c[5] for c in w["calls"])
            png = statistics.median(c[1] - c[5] for c in w["calls"])
            kb = statistics.median(c[3] for c in w["calls"]) / 1024
            ok_wall = statistics.median(wall) <= TARGET_MEDIAN and p95(wall) <= TARGET_P95
            ok_cpu = statistics.median(cpu) <= TARGET_MEDIAN and p95(cpu) <= TARGET_P95
            lines.append(
                f"| {r['id']} | `{w['callback']}` | {len(wall) + len(w.get('failures', []))} | {statistics.median(wall) * 1e3:.0f} | "
                f"{p95(wall) * 1e3:.0f} | {max(wall) * 1e3:.0f} | {statistics.median(cpu) * 1e3:.0f} | "
                f"{p95(cpu) * 1e3:.0f} | {cb * 1e3:.0f} / {png * 1e3:.0f} | {kb:.0f} | {'yes' if ok_wall else 'NO'} | "
                f"{'yes' if ok_cpu else 'NO'} |")
    notes = [f"- {r['id']} `{w['callback']}`: {w['note']}" for r in results for w in r["widgets"] if w.get("note")]
    if notes:
        lines += ["", "Notes:", ""] + notes
    if failures:
        lines += ["", "Calls that raised (left out of the timings above):", ""] + failures
    return "\n".join(lines)


def breakdown_table(results):
    rows = [(r["id"], w) for r in results for w in r["widgets"] if "breakdown" in w]
    if not rows:
        return ""
    lines = ["Where the CPU time of one call goes: total kernel CPU ms (median of 5 repeats of the first call "
             "of each list) when the call stops after each stage. "
             "The inline backend does \"PNG, tight\" at the figure's dpi (100). \"Lean\" = no minor tick "
             "labels on log axes, no layout engine, no tight bounding box (a sketch of the cheap variant: "
             "without a layout engine the margins must be set by hand with `subplots_adjust`).",
             "",
             "| callback | build the figure | build + one Agg draw | build + PNG | build + PNG, tight (= inline) "
             "| build + PNG, tight, 72 dpi | build + lean PNG |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for nb_id, w in rows:
        b = w["breakdown"]
        lines.append(f"| {nb_id} `{w['callback']}` | {b['callback'] * 1e3:.0f} | {b['draw'] * 1e3:.0f} | "
                     f"{b['png'] * 1e3:.0f} | {b['png_tight'] * 1e3:.0f} | {b['png_tight_72dpi'] * 1e3:.0f} | "
                     f"{b['png_lean'] * 1e3:.0f} |")
    return "\n".join(lines)


def notebook_table(results, student=False):
    what = ("the student version (lectures/, assignments/: the exercises blank, their cells raise)" if student
            else "the source notebook (solutions/)")
    lines = [f"Load average (1 min) at the start of each execution: {fmt_load(results, 'load_start', 'load_end_exec')} "
             f"on {os.cpu_count()} cores. Fresh kernel, every cell of {what}, not in grading mode; wall includes the "
             "kernel start-up (about 1 s); CPU = the kernel's user + system time (BLAS threads included).",
             "",
             "| notebook | wall s | kernel CPU s | target s | target (wall) | target (CPU) | load | slowest cells (s) |",
             "| --- | ---: | ---: | ---: | :---: | :---: | ---: | --- |"]
    for r in results:
        target = TARGET_STUDENT if student else TARGET_NOTEBOOK["lista" if r["id"].startswith("lista") else "aula"]
        if "error" in r:
            lines.append(f"| {r['id']} | {r['wall']:.1f} | | {target:.0f} | failed: {r['error']} | | "
                         f"{r['load_start']:.1f} | |")
            continue
        slow = "; ".join(f"#{i} `{first.replace('|', '/').replace('`', '')}` {sec:.1f}"
                         for sec, i, first in r["slowest"])
        lines.append(f"| {r['id']} | {r['wall']:.1f} | {r['cpu']:.1f} | {target:.0f} | "
                     f"{'yes' if r['wall'] <= target else 'NO'} | {'yes' if r['cpu'] <= target else 'NO'} | "
                     f"{r['load_start']:.1f} | {slow} |")
    return "\n".join(lines)


def machine():
    from threadpoolctl import threadpool_info
    import matplotlib

    blas = ", ".join(f"{p['internal_api']} {p.get('version')} ({p['num_threads']} threads)"
                     for p in threadpool_info() if p["user_api"] == "blas")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, numpy {np.__version__}, matplotlib {matplotlib.__version__}, "
            f"BLAS: {blas}; measured {time.strftime('%Y-%m-%d %H:%M')}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 calls per widget (a smoke test)")
    parser.add_argument("--calls", type=int, default=20, help="calls per widget (default 20)")
    parser.add_argument("--only", nargs="*", help="notebook id prefixes, e.g. aula01 lista01")
    parser.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false",
                        help="skip splitting one call's CPU time into figure building, drawing and PNG")
    parser.add_argument("--student", action="store_true",
                        help="execute the student versions (lectures/, assignments/) instead of solutions/; "
                             f"notebook target {TARGET_STUDENT:g} s")
    parser.add_argument("--json", help="also dump the raw measurements to this file")
    parser.add_argument("--write", action="store_true", help="also update docs/performance.md")
    args = parser.parse_args(argv)
    n_calls = 5 if args.quick else args.calls
    results = []
    for path in notebooks(args.only, args.student):
        print(f"executing {path.stem} (load {os.getloadavg()[0]:.1f}) ...", file=sys.stderr, flush=True)
        r = measure_notebook(path, n_calls, args.timeout, args.breakdown)
        print(f"  {r.get('wall', float('nan')):.1f} s wall, {r.get('cpu', float('nan')):.1f} s CPU"
              + (f", {r['error']}" if "error" in r else ""), file=sys.stderr, flush=True)
        results.append(r)
    head = f"Machine: {machine()}"
    widgets_md = head + "\n\n" + widget_table(results)
    if args.breakdown:
        widgets_md += "\n\n" + breakdown_table(results)
    notebooks_md = head + "\n\n" + notebook_table(results, args.student)
    print(widgets_md + "\n\n" + notebooks_md)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    if args.write:
        if args.only or args.student:
            print("--write with --only or --student would replace the source notebooks' rows: not written",
                  file=sys.stderr)
            return 1
        write_section(WIDGET_MARKERS, widgets_md)
        write_section(NOTEBOOK_MARKERS, notebooks_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
