"""How many students can one machine's class hub hold? (issue 27; docs/performance.md §8)

As root: ``python -m benchmarks.hub_load [--n 5 10 20 40] [--write]``. For each N, a
throw-away class hub (``tests/hub/harness.py``: ``deploy/hub`` with N real Unix users on
loopback ports, deleted afterwards) and N simulated students at once, each in a thread:

1. logs in through the hub's form and asks for their server (the hub's REST API);
   **time to a running server** = from the request to the server answering;
2. starts a kernel on their server and runs the code cells of the heaviest lecture
   (``aula05_inicializacao``, student version) over the kernel's websocket, one cell after
   the other as "Run All" does; **time to first figure** = from the kernel request to the
   first ``image/png`` output; **time to all cells**;
3. **memory**: the resident memory (PSS when the kernel exposes it, else RSS) of every
   process of that student's Unix user (server + kernel) once the cells ran.

Errors are what stops a student (a server that does not start in ``--start-timeout``, a
kernel that dies, a cell that does not finish in ``--cell-timeout``): exercise stubs raising
``NotImplementedError`` are the notebook's, not errors.
"""

import argparse
import concurrent.futures as cf
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid

import websocket
from jupyter_server.services.kernels.connection.base import deserialize_binary_message

from benchmarks.report import write_section

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "hub"))
from harness import ClassHub, User, pids_of_uid  # noqa: E402

AULA = "aula05_inicializacao"
START, END = "<!-- hub-load:start -->", "<!-- hub-load:end -->"


def code_cells(aula=AULA):
    with open(os.path.join(REPO, "lectures", aula, f"{aula}.ipynb")) as fh:
        nb = json.load(fh)
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def memory_mb(user):
    """Resident memory of every process of ``user`` (PSS when available: shared pages split)."""
    import pwd

    total = 0
    for pid in pids_of_uid(pwd.getpwnam(user).pw_uid):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            total += int(fields.get("Pss", fields.get("Rss", "0 kB")).split()[0])
        except (OSError, ValueError):
            continue
    return total / 1024


def run_cells(user, cells, cell_timeout):
    """Kernel + cells over the websocket; returns (seconds to first figure, to all cells)."""
    t0 = time.monotonic()
    r = user.post("/api/kernels", data=json.dumps({"name": "python3"}))
    if r.status_code != 201:
        raise RuntimeError(f"kernel start: {r.status_code} {r.text[:200]}")
    kernel = r.json()
    cookies = "; ".join(f"{c.name}={c.value}" for c in user.s.cookies)
    ws_url = user.base.replace("http://", "ws://") + f"/api/kernels/{kernel['id']}/channels"
    ws = websocket.create_connection(ws_url, cookie=cookies, timeout=cell_timeout,
                                     header=[f"X-XSRFToken: {user._xsrf()}"])
    first_figure = None
    try:
        session = uuid.uuid4().hex
        for code in cells:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session,
                           "username": user.name, "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}}))
            deadline = time.monotonic() + cell_timeout
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"a cell ran more than {cell_timeout} s")
                frame = ws.recv()  # text JSON, or binary when the message has buffers (widgets)
                msg = json.loads(frame) if isinstance(frame, str) else \
                    deserialize_binary_message(frame)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if (first_figure is None and msg["msg_type"] in ("display_data", "execute_result")
                        and "image/png" in msg["content"].get("data", {})):
                    first_figure = time.monotonic() - t0
                if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
                    break
    finally:
        ws.close()
    return first_figure, time.monotonic() - t0


def one_student(hub, name, cells, args, barrier):
    out = {"student": name, "error": None}
    try:
        barrier.wait(timeout=120)  # every student starts at once
        user = User(hub, name).login()
        t0 = time.monotonic()
        r = user.s.post(f"{hub.url}/hub/api/users/{name}/server", timeout=args.start_timeout,
                        headers={"X-XSRFToken": user.s.cookies.get("_xsrf", "")})
        if r.status_code not in (201, 202):
            hub.start_server(name, timeout=args.start_timeout)  # the driver asks instead
        else:
            deadline = time.monotonic() + args.start_timeout
            while True:
                probe = user.s.get(f"{user.base}/api", timeout=30, allow_redirects=False)
                if probe.status_code == 200 and "version" in probe.text:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server not running after {args.start_timeout} s")
                time.sleep(0.5)
        out["start_s"] = time.monotonic() - t0
        user.open_server()
        out["first_figure_s"], out["all_cells_s"] = run_cells(user, cells, args.cell_timeout)
        out["memory_mb"] = memory_mb(name)
    except Exception as exc:  # noqa: BLE001 - every failure is a data point
        out["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return out


def mem_available_mb():
    with open("/proc/meminfo") as fh:
        info = dict(line.split(":", 1) for line in fh)
    return int(info["MemAvailable"].split()[0]) / 1024


def run_n(n, args):
    need = n * args.mb_per_student + args.mb_margin
    if mem_available_mb() < need:  # never push a shared machine into the OOM killer
        print(f"N={n} skipped: {mem_available_mb():.0f} MB available, {need} MB needed",
              file=sys.stderr)
        return None
    cells = code_cells()
    hub = ClassHub(n_students=n, start_timeout=args.start_timeout,
                   http_timeout=args.http_timeout, cull_idle_seconds=0)
    load_before = os.getloadavg()[0]
    try:
        hub.start(timeout=120)
        barrier = threading.Barrier(n)
        with cf.ThreadPoolExecutor(n) as pool:
            results = list(pool.map(lambda s: one_student(hub, s, cells, args, barrier),
                                    hub.students))
    except Exception as exc:  # noqa: BLE001 - the hub itself failed: a row of errors
        results = [{"student": s, "error": f"hub: {str(exc)[:200]}"} for s in hub.students]
    finally:
        errors = hub.close()
        if errors:
            print("cleanup:", errors, file=sys.stderr)
    ok = [r for r in results if r["error"] is None]

    def stat(key, f):
        vals = [r[key] for r in ok if r.get(key) is not None]
        return f(vals) if vals else float("nan")
    row = {"n": n, "load_before": load_before, "ok": len(ok),
           "errors": [r["error"] for r in results if r["error"]],
           "start_median": stat("start_s", statistics.median), "start_max": stat("start_s", max),
           "figure_median": stat("first_figure_s", statistics.median),
           "figure_max": stat("first_figure_s", max),
           "cells_median": stat("all_cells_s", statistics.median),
           "mem_median": stat("memory_mb", statistics.median),
           "mem_total": stat("memory_mb", sum)}
    print(json.dumps(row), flush=True)
    return row


def table(rows):
    head = (f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM, "
            f"Python {platform.python_version()}; {AULA}'s code cells in each student's kernel; "
            f"measured {time.strftime('%Y-%m-%d %H:%M')}\n\n"
            "| N students | load before | ok | errors | server start s (median / max) "
            "| first figure s (median / max) | all cells s (median) "
            "| memory per student MB (median) | memory, all students MB |\n"
            "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n")
    lines = []
    for r in rows:
        errs = "; ".join(sorted(set(r["errors"])))[:120] or "0"
        if r["errors"]:
            errs = f"{len(r['errors'])}: {errs}"
        lines.append(f"| {r['n']} | {r['load_before']:.1f} | {r['ok']} | {errs} "
                     f"| {r['start_median']:.1f} / {r['start_max']:.1f} "
                     f"| {r['figure_median']:.1f} / {r['figure_max']:.1f} "
                     f"| {r['cells_median']:.1f} | {r['mem_median']:.0f} | {r['mem_total']:.0f} |")
    return head + "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[5, 10, 20, 40])
    ap.add_argument("--start-timeout", type=int, default=300)
    ap.add_argument("--cell-timeout", type=int, default=300)
    ap.add_argument("--http-timeout", type=int, default=300,
                    help="the hub's Spawner.http_timeout: how long it waits for a started "
                         "server to answer before giving up on it (deploy default 120)")
    ap.add_argument("--mb-per-student", type=int, default=500,
                    help="memory to expect per student (measured: about 375 MB PSS)")
    ap.add_argument("--mb-margin", type=int, default=4000, help="memory left for the rest (MB)")
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("the load test creates Unix users: run it as root")
    rows = [row for row in (run_n(n, args) for n in args.n) if row is not None]
    text = table(rows)
    print(text)
    if args.write:
        write_section((START, END), text.rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
