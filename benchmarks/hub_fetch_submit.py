"""A student's server start, fetch and submit on an idle class hub (issue 27: <= 5 s, <= 1 s).

As root: ``python -m benchmarks.hub_fetch_submit [--students 5] [--rounds 3] [--write]``. A
throw-away class hub (``tests/hub/harness.py``: ``deploy/hub`` with real Unix users on loopback
ports, deleted afterwards); the instructor releases lista01 through the formgrader's API, then
each student in turn, one at a time (the hub idle otherwise):

1. **server start**: from asking the hub's REST API for the server to the server being ready;
2. **list**: the Assignments panel's request (``GET /assignments``);
3. **fetch**: the panel's Fetch button (``POST /assignments/fetch``), lista01 copied from the
   course exchange into the student's home;
4. **submit**: the panel's Submit button (``POST /assignments/submit``), ``--rounds`` times (a
   student who submits again; nbgrader keeps every submission with its time stamp).

Each is the wall time of the HTTP request as the browser sends it, through the hub's proxy.
"""

import argparse
import os
import platform
import statistics
import sys
import time

from benchmarks.report import publish

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "hub"))
from harness import ClassHub  # noqa: E402

LISTA, COURSE = "lista01_otimizadores", "t320"
MARKERS = ("<!-- hub-fetch:start -->", "<!-- hub-fetch:end -->")


def timed(call):
    t0 = time.monotonic()
    answer = call()
    return time.monotonic() - t0, answer


def release(hub):
    prof = hub.login(hub.instructor)
    prof.open_server()
    for step in ("assign", "release"):
        r = prof.json("post", f"/formgrader/api/assignment/{LISTA}/{step}")
        if not r.get("success"):
            raise RuntimeError(f"{step}: {r.get('error')}")


def one_student(hub, name, rounds):
    row = {"start": hub.start_server(name, timeout=120)}
    s = hub.login(name)
    s.open_server()
    row["list"], listed = timed(lambda: s.json("get", f"/assignments?course_id={COURSE}"))
    assert listed["success"] and listed["value"][0]["status"] == "released", listed
    data = {"assignment_id": LISTA, "course_id": COURSE}
    row["fetch"], fetched = timed(lambda: s.json("post", "/assignments/fetch", data=data))
    assert fetched["success"], fetched
    row["submit"] = []
    for _ in range(rounds):
        seconds, submitted = timed(lambda: s.json("post", "/assignments/submit", data=data))
        assert submitted["success"], submitted
        row["submit"].append(seconds)
        time.sleep(1.1)  # nbgrader's submission time stamps are per second
    return row


def table(rows, load, students, rounds):
    def cell(values):
        return f"{statistics.median(values):.2f} | {max(values):.2f}"
    submits = [x for r in rows for x in r["submit"]]
    return "\n".join([
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{students} students one after the other, {rounds} submits each; load average before "
        f"the run {load:.2f}; {time.strftime('%Y-%m-%d %H:%M')}", "",
        "| request (idle hub) | median s | worst s | target |",
        "| --- | ---: | ---: | ---: |",
        f"| server start (REST API to ready) | {cell([r['start'] for r in rows])} | 5 |",
        f"| Assignments list | {cell([r['list'] for r in rows])} | 1 |",
        f"| Fetch lista01 | {cell([r['fetch'] for r in rows])} | 1 |",
        f"| Submit lista01 | {cell(submits)} | 1 |"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="submits per student")
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    hub = ClassHub(n_students=args.students)
    try:
        hub.start(timeout=120)
        hub.start_server(hub.instructor, timeout=120)
        release(hub)
        rows = [one_student(hub, name, args.rounds) for name in hub.students]
    finally:
        errors = hub.close()
        if errors:
            print("cleanup:", errors, file=sys.stderr)
    report = table(rows, load, args.students, args.rounds)
    publish(MARKERS, report, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
