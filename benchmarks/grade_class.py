"""A whole class graded: serial vs parallel ``make grade`` (issue 15's target: 120 in <= 4 min).

Builds a synthetic class in a scratch copy of the course: ``--students`` students (default
60), each handing in lista01 and lista02. Most submissions are honest (the source), about
a fifth are partly wrong (one answer replaced by ``raise NotImplementedError()``), and in
each assignment one student's first answer loops forever (a full ``Execute.timeout``) and
one ends its kernel with ``os._exit``. The same class is graded twice through
``course.grading.driver.grade`` (what ``make grade`` runs, sandbox included when run as root, with
feedback): once with one worker and once with ``--jobs`` workers (default: the number of
cores). Both runs must give the same scores. ``--parallel-only`` skips the serial run.

The floor (issue 23's ratio (b)): the CPU time of the class's own cells (answers and test
cells, hidden tests included) measured by benchmarks/cell_cpu.py, one fresh Python process per
kind of submission with no kernel, sandbox or nbgrader around it, summed over the class and
divided by the cores. The parallel run's wall time is reported as a multiple of it.
With ``--write`` the table goes into docs/performance.md between its markers.

Usage: ``python -m benchmarks.grade_class [--students N] [--jobs N] [--timeout S]
[--parallel-only] [--write]``
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

from benchmarks.cell_cpu import cells_cpu_seconds
from benchmarks.report import publish
from course import ROOT
from course.grading.driver import grade

MARKERS = ("<!-- grade-class:start -->", "<!-- grade-class:end -->")
IDS = ("lista01_otimizadores", "lista02_inicializacao_treinamento")


def _answer_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"
            and c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def variants(nb_id):
    """{kind: bytes}: the honest, partly wrong and hostile submissions of ``nb_id``."""
    with open(os.path.join(ROOT, "solutions", nb_id, nb_id + ".ipynb"), encoding="utf-8") as fh:
        source = json.load(fh)
    out = {"honest": json.dumps(source).encode()}
    for kind, code, which in (("partly wrong", "raise NotImplementedError()", -1),
                              ("infinite loop", "while True:\n    pass", 0),
                              ("os._exit", "import os\nos._exit(3)", 0)):
        nb = json.loads(out["honest"])
        _answer_cells(nb)[which]["source"] = code
        out[kind] = json.dumps(nb).encode()
    return out


def kind_of(i):
    """The kind of submission student ``i`` hands in (same plan for both assignments)."""
    if i == 7:
        return "infinite loop"
    if i == 23:
        return "os._exit"
    return "partly wrong" if i % 5 == 3 else "honest"


def build_class(n_students):
    base = tempfile.mkdtemp(prefix="t320-class-")
    os.chmod(base, 0o711)  # the grader uid must reach autograded/
    for nb_id in IDS:
        shutil.copytree(os.path.join(ROOT, "solutions", nb_id), os.path.join(base, "solutions", nb_id))
    pairs = []
    for nb_id in IDS:
        subs = variants(nb_id)
        for i in range(n_students):
            student = f"aluno{i:03d}"
            d = os.path.join(base, "submitted", student, nb_id)
            os.makedirs(d)
            with open(os.path.join(d, nb_id + ".ipynb"), "wb") as fh:
                fh.write(subs[kind_of(i)])
            pairs.append((student, nb_id))
    return base, pairs


def floor_seconds(n_students, timeout, cores):
    """(floor in wall seconds, {(nb_id, kind): CPU seconds of its cells}) for the class."""
    per_kind, total = {}, 0.0
    for nb_id in IDS:
        for kind, raw in variants(nb_id).items():
            per_kind[nb_id, kind] = sum(cells_cpu_seconds(
                json.loads(raw), os.path.join(ROOT, "solutions", nb_id), timeout))
        total += sum(per_kind[nb_id, kind_of(i)] for i in range(n_students))
    return total / cores, per_kind


def run(n_students, jobs, timeout, sandbox):
    base, pairs = build_class(n_students)
    try:
        t0 = time.monotonic()
        res = grade(base, pairs=pairs, use_sandbox=sandbox, jobs=jobs,
                    **{"Execute.timeout": timeout})
        seconds = time.monotonic() - t0
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return seconds, {k: (r["score"], r["max_score"]) for k, r in res.items()}, res


def seconds_by_kind(results):
    """{submission kind: [seconds of each of its submissions]} of one run's results."""
    kinds = {}
    for (student, nb_id), r in results.items():
        kinds.setdefault(kind_of(int(student[5:])), []).append(r["seconds"] or 0.0)
    return kinds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=30, help="Execute.timeout (s), the course default")
    parser.add_argument("--parallel-only", action="store_true", help="skip the serial run")
    parser.add_argument("--write", action="store_true", help="also update docs/performance.md")
    args = parser.parse_args(argv)
    sandbox = os.geteuid() == 0
    load = os.getloadavg()[0]
    n = args.students * len(IDS)
    floor_s, per_kind = floor_seconds(args.students, args.timeout, args.jobs)
    print(f"floor: {floor_s:.0f} s (the cells' own CPU time / {args.jobs} cores)", flush=True)
    serial_s, serial_scores, serial_res = None, None, {}
    if not args.parallel_only:
        print(f"grading {n} submissions serially ...", flush=True)
        serial_s, serial_scores, serial_res = run(args.students, 1, args.timeout, sandbox)
        print(f"serial: {serial_s:.0f} s", flush=True)
    print(f"grading {n} submissions with {args.jobs} workers ...", flush=True)
    par_s, par_scores, par_res = run(args.students, args.jobs, args.timeout, sandbox)
    print(f"parallel: {par_s:.0f} s", flush=True)
    same = serial_scores is None or serial_scores == par_scores
    serial_kinds, par_kinds = seconds_by_kind(serial_res), seconds_by_kind(par_res)
    serial_cell = "not run" if serial_s is None else f"{serial_s / 60:.1f} min"
    speedup = "" if serial_s is None else f"{serial_s / par_s:.2f}x"
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{'sandbox' if sandbox else 'plain kernel'}, Execute.timeout {args.timeout} s; "
        f"load average before the run {load:.2f}; {time.strftime('%Y-%m-%d %H:%M')}", "",
        f"| class | submissions | serial (1 worker) | parallel ({args.jobs} workers) | speed-up "
        f"| floor (cells' CPU / {args.jobs}) | parallel / floor | same scores |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| {args.students} students x lista01 + lista02 | {n} | {serial_cell} "
        f"| **{par_s / 60:.1f} min** | {speedup} | {floor_s / 60:.1f} min | **{par_s / floor_s:.2f}x** "
        f"| {'yes' if same else 'NO'} |", "",
        "| submission kind | count | cells' CPU s (lista01, lista02) | median s each, serial "
        "| median s each, parallel |",
        "| --- | ---: | ---: | ---: | ---: |"]
    for kind in ("honest", "partly wrong", "infinite loop", "os._exit"):
        if kind in par_kinds:
            serial_median = (f"{statistics.median(serial_kinds[kind]):.1f}" if kind in serial_kinds
                             else "not run")
            cpu = ", ".join(f"{per_kind[nb_id, kind]:.1f}" for nb_id in IDS)
            lines.append(f"| {kind} | {len(par_kinds[kind])} | {cpu} | {serial_median} "
                         f"| {statistics.median(par_kinds[kind]):.1f} |")
    report = "\n".join(lines)
    publish(MARKERS, report, args.write)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
