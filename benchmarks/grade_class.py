"""A whole class graded: serial vs parallel ``make grade`` (issue 15's target: 120 in <= 4 min).

Builds a synthetic class in a scratch copy of the course: ``--students`` students (default
60), each handing in lista01 and lista02. Most submissions are honest (the source), about
a fifth are partly wrong (one answer replaced by ``raise NotImplementedError()``), and in
each assignment one student's first answer loops forever (a full ``Execute.timeout``) and
one ends its kernel with ``os._exit``. The same class is graded twice through
``course.grading.driver.grade`` (what ``make grade`` runs, sandbox included when run as root, with
feedback): once with one worker and once with ``--jobs`` workers (default: the number of
cores). Both runs must give the same scores. With ``--write`` the table goes into
docs/performance.md between its markers.

Usage: ``python -m benchmarks.grade_class [--students N] [--jobs N] [--timeout S] [--write]``
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

from benchmarks.report import write_section
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
    parser.add_argument("--write", action="store_true", help="also update docs/performance.md")
    args = parser.parse_args(argv)
    sandbox = os.geteuid() == 0
    load = os.getloadavg()[0]
    n = args.students * len(IDS)
    print(f"grading {n} submissions serially, then with {args.jobs} workers ...", flush=True)
    serial_s, serial_scores, serial_res = run(args.students, 1, args.timeout, sandbox)
    print(f"serial: {serial_s:.0f} s", flush=True)
    par_s, par_scores, par_res = run(args.students, args.jobs, args.timeout, sandbox)
    print(f"parallel: {par_s:.0f} s", flush=True)
    same = serial_scores == par_scores
    serial_kinds, par_kinds = seconds_by_kind(serial_res), seconds_by_kind(par_res)
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{'sandbox' if sandbox else 'plain kernel'}, Execute.timeout {args.timeout} s; "
        f"load average before the run {load:.2f}; {time.strftime('%Y-%m-%d %H:%M')}", "",
        f"| class | submissions | serial (1 worker) | parallel ({args.jobs} workers) | speed-up | same scores |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| {args.students} students x lista01 + lista02 | {n} | {serial_s / 60:.1f} min "
        f"| **{par_s / 60:.1f} min** | {serial_s / par_s:.2f}x | {'yes' if same else 'NO'} |", "",
        "| submission kind | count | median s each, serial | median s each, parallel |",
        "| --- | ---: | ---: | ---: |"]
    for kind in ("honest", "partly wrong", "infinite loop", "os._exit"):
        if kind in par_kinds:
            lines.append(f"| {kind} | {len(par_kinds[kind])} | {statistics.median(serial_kinds.get(kind, [0.0])):.1f} "
                         f"| {statistics.median(par_kinds[kind]):.1f} |")
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_section(MARKERS, report)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
