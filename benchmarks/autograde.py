"""Autograde time per submission, four ways side by side in one run.

Grades the source (full marks) and the blank student version of every notebook in a scratch
copy of the course through ``course.grading.driver.grade`` (what ``make grade`` runs):

1. ``make grade``: the student's kernel and the trusted test process, each sandboxed;
2. the sandboxed kernel with the tests in the kernel (nbgrader's own ``Execute``): what the
   trusted process costs;
3. ``UNSAFE=1``: no sandbox, the tests in an unsandboxed trusted process: what the two
   sandboxes cost;
4. nbgrader's plain autograde: no sandbox, the tests in the kernel (the reference of the
   ratio 1 / 4, target <= 1.15).

Prints seconds per submission, the medians and the ratio; ``--only ID...`` restricts the
notebooks; with ``--write`` the table goes into docs/performance.md between its markers.
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile

from benchmarks.report import publish
from course import ROOT, notebook_ids, release_dir_for
from course.grading.driver import grade

MARKERS = ("<!-- autograde:start -->", "<!-- autograde:end -->")


def scratch_course(ids):
    base = tempfile.mkdtemp(prefix="t320-bench-")
    os.chmod(base, 0o711)  # the sandbox user must reach autograded/
    shutil.copytree(os.path.join(ROOT, "solutions"), os.path.join(base, "solutions"))
    for nb_id in ids:
        for student, src in (("fonte", os.path.join(ROOT, "solutions", nb_id, nb_id + ".ipynb")),
                             ("branco", os.path.join(ROOT, release_dir_for(nb_id), nb_id, nb_id + ".ipynb"))):
            d = os.path.join(base, "submitted", student, nb_id)
            os.makedirs(d)
            shutil.copy(src, os.path.join(d, nb_id + ".ipynb"))
    return base


IN_KERNEL = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
             "nbconvert.preprocessors.ClearMetadataPreprocessor",
             "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
             "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata"]


def measure(ids, sandbox, pipeline=None):
    base = scratch_course(ids)
    extra = {} if pipeline is None else {"Autograde.autograde_preprocessors": pipeline}
    try:
        pairs = [(s, i) for i in ids for s in ("fonte", "branco")]
        results = grade(base, pairs=pairs, use_sandbox=sandbox, feedback=False, csv=False, **extra)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {key: r["seconds"] for key, r in results.items()}


def trusted_start_seconds(runs=5):
    """Median seconds from starting a trusted test process to its "ready": sandboxed (as
    ``make grade`` starts it) and unsandboxed (``UNSAFE=1``), alternated in one run."""
    import time

    from course.grading import limits, sandbox
    from course.grading.trusted_client import TrustedClient

    times = {"sandboxed": [], "unsandboxed": []}
    with sandbox.GraderUid() as uid:
        for _ in range(runs):
            for kind in times:
                if kind == "unsandboxed":
                    os.environ[sandbox.UNSAFE] = "1"
                t0 = time.monotonic()
                client = TrustedClient(uid)
                ready = client.ask(None, timeout=limits.TRUSTED_START_S)
                times[kind].append(time.monotonic() - t0)
                client.close()
                os.environ.pop(sandbox.UNSAFE, None)
                assert ready == {"ready": True}, f"{kind} trusted process did not start"
    return {kind: statistics.median(t) for kind, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="also update docs/performance.md")
    parser.add_argument("--only", nargs="+", help="notebook ids to grade (default: all)")
    args = parser.parse_args(argv)
    ids = args.only or notebook_ids()
    modes = [("make grade (both sandboxed)", True, None),
             ("sandbox, tests in kernel", True, IN_KERNEL),
             ("UNSAFE, trusted tests", False, None),
             ("plain nbgrader", False, IN_KERNEL)]
    columns = {name: measure(ids, sandbox, pipeline) for name, sandbox, pipeline in modes}
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"load average before the run {os.getloadavg()[0]:.2f}", "",
             "| notebook | submission | " + " | ".join(f"{n} s" for n in columns) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in columns) + " |"]
    for nb_id in ids:
        for student in ("fonte", "branco"):
            cells = " | ".join(f"{col[(student, nb_id)]:.1f}" for col in columns.values())
            lines.append(f"| {nb_id} | {'source' if student == 'fonte' else 'blank'} | {cells} |")
    medians = " | ".join(f"**{statistics.median(col.values()):.1f}**" for col in columns.values())
    lines.append(f"| median | | {medians} |")
    total = {name: sum(col.values()) for name, col in columns.items()}
    first, last = list(total)[0], list(total)[-1]
    lines += ["", "Sum over the submissions: " + ", ".join(f"{n} {t:.1f} s" for n, t in total.items())
              + f". Ratio make grade / plain nbgrader: **{total[first] / total[last]:.2f}**."]
    start = trusted_start_seconds()
    lines.append(f"Trusted test process, start to ready (median of 5): sandboxed "
                 f"{start['sandboxed']:.2f} s, unsandboxed {start['unsandboxed']:.2f} s.")
    report = "\n".join(lines)
    publish(MARKERS, report, args.write and not args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
