"""The floor of a grading run: the CPU time of a notebook's own cells, nothing else.

Runs the code cells of a source-form notebook (answers and test cells with their hidden
tests, in order) in one fresh Python process, the way plain nbgrader would run them in one
kernel but without a kernel, a sandbox, a channel or nbgrader around them, and measures each
cell's CPU time (user + system of the process and of any child it waited for). A cell that
raises is counted up to the raise and the next cell runs, as nbgrader's autograde goes on
after an error. A cell that has used ``timeout`` CPU seconds (an answer that loops forever)
is killed and counted as ``timeout``: a busy loop burns one core for as long as nbgrader's
``Execute.timeout`` lets it. (CPU seconds, not wall seconds, so that a busy machine does not
cut an honest cell short.) A cell that ends the process (``os._exit``)
is counted up to the end.

The class benchmark (benchmarks/grade_class.py) divides the sum over a class by the cores:
that is the least wall time any grader could take, and ``make grade``'s wall time is reported
as a multiple of it.
"""

import json
import os
import select
import subprocess
import sys
import tempfile

#: As the grading kernel and the trusted process run (course/grading): one BLAS thread, whose
#: CPU time is work (an idle OpenBLAS thread spins, and its spinning would count here).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: What nbgrader sets in the kernel it grades in: the notebooks skip their widgets and the
#: "Conferência final" under it, so the floor counts the same work as the graded kernel.
GRADING = {"NBGRADER_EXECUTION": "autograde"}

RUNNER = r'''
import json, os, resource, sys, traceback

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

cells = json.load(open(sys.argv[1], encoding="utf-8"))
out = os.fdopen(int(sys.argv[2]), "w")
namespace = {"__name__": "__main__"}
for i, source in enumerate(cells):
    out.write(json.dumps({"start": i}) + "\n"); out.flush()
    t0 = cpu()
    try:
        exec(compile(source, f"<cell {i}>", "exec"), namespace)
    except BaseException:
        pass
    out.write(json.dumps({"cell": i, "cpu": cpu() - t0}) + "\n"); out.flush()
'''


def code_cells(nb):
    """The sources of ``nb``'s code cells, IPython magics and shell lines dropped."""
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        cells.append("\n".join(lines))
    return cells


def cells_cpu_seconds(nb, cwd, timeout=30.0):
    """CPU seconds of each code cell of ``nb`` (a notebook dict) run in ``cwd``: a list."""
    with tempfile.TemporaryDirectory(prefix="t320-cellcpu-") as tmp:
        path = os.path.join(tmp, "cells.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(code_cells(nb), fh)
        read_fd, write_fd = os.pipe()
        env = {**os.environ, "MPLBACKEND": "Agg", **ONE_THREAD, **GRADING}
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, path, str(write_fd)], cwd=cwd,
                                env=env, pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        os.close(write_fd)
        seconds = _follow(proc, read_fd, timeout)
    return [seconds.get(i, 0.0) for i in range(len(code_cells(nb)))]


def _follow(proc, read_fd, timeout):
    """{cell index: CPU seconds} as the runner reports them; a cell over ``timeout`` CPU
    seconds is killed."""
    seconds, running, started, buffer = {}, None, 0.0, b""
    try:
        while True:
            ready, _, _ = select.select([read_fd], [], [], 0.1)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    msg = json.loads(line)
                    if "start" in msg:
                        running, started = msg["start"], _process_cpu(proc.pid)
                    else:
                        seconds[msg["cell"]], running = msg["cpu"], None
            if running is not None and _process_cpu(proc.pid) - started > timeout:
                seconds[running] = float(timeout)
                break
    finally:
        os.close(read_fd)
        proc.kill()
        proc.wait()
    return seconds


def _process_cpu(pid):
    """CPU seconds of process ``pid`` and its waited-for children, from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
