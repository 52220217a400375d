"""``make grade``: autograde every submission in ``submitted/<student>/<id>/``, sandboxed.

Usage: ``python -m course.grading [-j N] [--unsafe] [--timeout S] [--no-progress]``
(``make grade [JOBS=N] [UNSAFE=1]``). Runs in the grading process. Steps:

1. record every id that has submissions in the gradebook (``generate_assignment`` into a
   scratch folder, so the committed student versions are not touched), with its due date
   from ``course.toml`` (nbgrader's late penalty, ``course/lms/late.py``, then applies to
   submissions whose ``timestamp.txt`` is later);
2. make the instructor-only parts unreadable for other users: ``solutions/``, ``.git/``,
   ``submitted/``, ``feedback/``, ``gradebook.db``, ``grades.csv`` and every already graded
   ``autograded/<student>/`` (``chmod go-rwx``);
3. ``autograde`` each submission with ``TrustedExecute`` (``execute.py``): the student's
   cells in the ``t320-grader`` kernel (``kernel_launcher.py``), the test cells in the
   trusted process (``trusted_client.py``), each in its own sandbox (``sandbox.py``:
   unprivileged uid or user namespace, memory/CPU/process caps); kill whatever it left running, close its
   ``autograded/<student>/`` folder again. ``-j N`` (default: the number of cores) runs N
   worker processes, each with its own grader uid (the kill is per uid), side by side: a
   submission that times out holds up only its own worker. nbgrader's SQLite gradebook is
   written by one worker at a time (``gradebook_lock.py``); a tqdm bar shows
   progress and the time left;
   A re-grade keeps the instructor's reviews (``course/grading/reviews.py`` around each autograde:
   manual scores, comments and the "needs manual grade" flag off, unless the answer changed
   since the review, which is then listed);
4. ``generate_feedback`` (hidden tests removed, see ``nbgrader_config.py``);
5. write ``grades.csv``.

Where no sandbox can start (``sandbox.SandboxUnavailable``) it stops and says what to do;
``--unsafe`` grades without one, and says so in its output, in the log and on every
feedback page. Interrupted (Ctrl-C, SIGTERM), it leaves no process of a grader uid behind;
killed outright (SIGKILL), its workers and their sandboxes end with it.
"""

import argparse
import contextlib
import hashlib
import os
import signal
import stat
import sys
import tempfile
import time

from course import ROOT, make_api
from course import course_toml
from course.grading import reviews
from course.grading import gradebook_lock, kernel_launcher, limits, sandbox, trusted_client

PRIVATE = ("solutions", ".git", "submitted", "feedback", "gradebook.db", "grades.csv",
           "downloaded", "students.csv", "export")


def submissions(root=ROOT):
    """Sorted ``(student, id)`` pairs found in ``submitted/``."""
    sub = os.path.join(root, "submitted")
    pairs = []
    if os.path.isdir(sub):
        for student in sorted(os.listdir(sub)):
            sdir = os.path.join(sub, student)
            if os.path.isdir(sdir):
                pairs += [(student, a) for a in sorted(os.listdir(sdir))
                          if os.path.isdir(os.path.join(sdir, a))]
    return pairs


def _close(path):
    if os.path.lexists(path) and not os.path.islink(path):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        os.chmod(path, mode & 0o700)


def harden(root=ROOT):
    """Remove group/other permissions from the instructor-only parts of the course."""
    for name in PRIVATE:
        _close(os.path.join(root, name))
    graded = os.path.join(root, "autograded")
    os.makedirs(graded, exist_ok=True)
    os.chmod(graded, 0o711)  # traversable (the kernel's working folder is inside), not listable
    for student in os.listdir(graded):
        _close(os.path.join(graded, student))


def grade(root=ROOT, pairs=None, use_sandbox=True, feedback=True, csv=True, jobs=1,
          progress=False, **overrides):
    """Autograde ``pairs`` (default: every submission); return {(student, id): result dict}.

    Each result has ``success`` (nbgrader finished), ``score``, ``max_score`` and
    ``needs_manual_grade`` read from the gradebook, ``seconds`` and the grader ``uid``.
    ``jobs`` > 1 grades that many submissions at once, each worker process with its own
    grader uid, the gradebook written by one at a time (``course/grading/gradebook_lock.py``).
    ``progress`` shows a tqdm bar on stderr. ``overrides`` are extra ``"Class.trait"``
    config values (e.g. ``**{"Execute.timeout": 5}``).
    """
    root = os.path.abspath(root)
    pairs = submissions(root) if pairs is None else list(pairs)
    before = os.environ.get(sandbox.UNSAFE)
    try:
        return _grade(root, pairs, use_sandbox, feedback, csv, jobs, progress, overrides)
    finally:  # the caller's process keeps the mode it had (a test run grades both ways)
        if before is None:
            os.environ.pop(sandbox.UNSAFE, None)
        else:
            os.environ[sandbox.UNSAFE] = before


def _grade(root, pairs, use_sandbox, feedback, csv, jobs, progress, overrides):
    if use_sandbox:
        os.environ.pop(sandbox.UNSAFE, None)
        sandbox.mode()  # SandboxUnavailable, with what to do, before anything is graded
    else:
        os.environ[sandbox.UNSAFE] = "1"
    with sandbox.GraderUid() if use_sandbox else contextlib.nullcontext() as uid:
        if use_sandbox:
            kernel_launcher.install_kernel()
            trusted_client.check_starts(uid)
        prepare(root, sorted({a for _, a in pairs}), overrides)
        if jobs <= 1 or len(pairs) <= 1:
            results = _grade_serial(root, pairs, use_sandbox, feedback, uid, overrides, progress)
        else:
            trusted_client.Zygote.stop_current()  # the check's zygote: each worker starts its own
            results = _grade_parallel(root, pairs, use_sandbox, feedback, jobs, overrides, progress)
    _close(os.path.join(root, "feedback"))
    return _read_scores(root, results, csv)


def prepare(root, ids, overrides):
    """Record ``ids`` in the gradebook (with their due dates), close the private parts."""
    from nbgrader.api import Gradebook

    api = make_api(root, **overrides)
    with tempfile.TemporaryDirectory() as scratch:
        api.coursedir.release_directory = scratch
        for nb_id in ids:
            res = api.generate_assignment(nb_id, force=True, create=True)
            if not res["success"]:
                raise RuntimeError(f"generate_assignment({nb_id}) failed:\n{res.get('log')}")
    cfg = course_toml.load(root)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for nb_id in ids:
            due = course_toml.due_utc(nb_id, root, cfg)
            if due is not None:
                gb.update_or_create_assignment(nb_id, duedate=due)
    harden(root)


def _worker_api(root, use_sandbox, uid, overrides):
    overrides = dict(overrides)
    if use_sandbox:
        for key, value in kernel_launcher.kernel_config(uid).items():  # kernel, ipc transport
            overrides.setdefault(key, value)
    else:  # --unsafe, chosen on purpose: TrustedExecute would put the kernel in the sandbox
        overrides.setdefault("TrustedExecute.allow_outside_sandbox", True)
    return make_api(root, **overrides)


def grade_one(api, root, student, nb_id, use_sandbox, feedback, uid):
    """Autograde one submission (and its feedback); kill what it left; its result dict."""
    started, t0 = time.time(), time.monotonic()
    # a re-grade keeps the instructor's reviews (course/grading/reviews.py): manual scores, comments,
    # needs_manual_grade off, unless the answer changed since (then it is reported)
    with reviews.kept_reviews(api.coursedir, student, nb_id) as kept:
        res = api.autograde(nb_id, student, force=True, create=True)
    seconds = time.monotonic() - t0
    if use_sandbox:
        sandbox.kill_grader_processes(uid)
    _close(os.path.join(root, "autograded", student))
    result = {"success": bool(res["success"]), "log": res.get("log", ""),
              "seconds": seconds, "uid": uid, "started": started, "finished": time.time(),
              "review_again": kept.message(student, nb_id)}
    if feedback and res["success"]:
        fb = api.generate_feedback(nb_id, student, force=True)
        result["feedback"] = bool(fb["success"])
        _close(os.path.join(root, "feedback", student))
    return result


def _bar(total, progress):
    from tqdm import tqdm

    return tqdm(total=total, unit="envio", desc="corrigindo", disable=not progress,
                dynamic_ncols=True, file=sys.stderr)


def _grade_serial(root, pairs, use_sandbox, feedback, uid, overrides, progress):
    api = _worker_api(root, use_sandbox, uid, overrides)
    results = {}
    with _bar(len(pairs), progress) as bar:
        for student, nb_id in pairs:
            bar.set_postfix_str(f"{student} {nb_id}")
            results[(student, nb_id)] = grade_one(api, root, student, nb_id, use_sandbox,
                                                  feedback, uid)
            bar.update()
    if use_sandbox:
        sandbox.kill_grader_processes(uid)
    return results


# --- parallel workers (spawned processes: a fresh interpreter, no inherited threads) -----
_WORKER = {}


def _init_worker(root, use_sandbox, overrides, lock_path, parent):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # a parent killed outright (SIGKILL, the OOM killer) takes its workers with it, and their
    # sandboxes (bubblewrap's --die-with-parent) with them: no orphan keeps grading
    sandbox.die_with_parent()
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)
    gradebook_lock.install(lock_path)
    uid = None
    if use_sandbox:
        reservation = sandbox.GraderUid()
        uid = reservation.__enter__()  # held (its flock open) for the worker's lifetime
        _WORKER["reservation"] = reservation
    # nbgrader's messages from this worker (and a plain kernel's output with --unsafe;
    # a sandboxed kernel writes to /dev/null): into a private log, not the parent's bar
    log = os.path.join(sandbox.scratch_base(), f"worker-{uid or os.getpid()}.log")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    _WORKER.update(api=_worker_api(root, use_sandbox, uid, overrides), root=root,
                   use_sandbox=use_sandbox, uid=uid)


def _grade_in_worker(student, nb_id, feedback):
    w = _WORKER
    try:
        return grade_one(w["api"], w["root"], student, nb_id, w["use_sandbox"], feedback, w["uid"])
    finally:
        gradebook_lock.release_all()


def _grade_parallel(root, pairs, use_sandbox, feedback, jobs, overrides, progress):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    lock_path = os.path.join(sandbox.scratch_base(), "gradebook-" + hashlib.sha1(
        root.encode()).hexdigest()[:16] + ".lock")
    ctx = multiprocessing.get_context("spawn")
    results = {}
    jobs = min(jobs, len(pairs))
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                               initargs=(root, use_sandbox, overrides, lock_path, os.getpid()))
    try:
        with _bar(len(pairs), progress) as bar:
            futures = {pool.submit(_grade_in_worker, s, a, feedback): (s, a) for s, a in pairs}
            bar.set_postfix_str(f"{jobs} em paralelo")
            for fut in as_completed(futures):
                student, nb_id = futures[fut]
                try:
                    results[(student, nb_id)] = fut.result()
                except Exception as exc:  # a worker died: that submission failed, not the run
                    results[(student, nb_id)] = {"success": False, "log": repr(exc),
                                                 "seconds": None, "uid": None}
                bar.set_postfix_str(f"{student} {nb_id} pronto")
                bar.update()
    except BaseException:  # Ctrl-C or SIGTERM: stop now, not after every worker's submission
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    if use_sandbox:
        for uid in {r["uid"] for r in results.values()} - {None}:
            sandbox.kill_grader_processes(uid)
    # pairs order, as the serial run returns them
    return {pair: results[pair] for pair in pairs}


def _stop_workers(pool):
    """End the pool's workers at once: SIGTERM (their kernels follow them, PDEATHSIG; their
    trusted sandboxes die with them), SIGKILL after a grace. ``concurrent.futures`` has no
    public way to reach them; ``shutdown`` alone waits for each running submission to end."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=limits.KILL_GRACE_S)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _read_scores(root, results, csv):
    from nbgrader.api import Gradebook, MissingEntry

    api = make_api(root)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for (student, nb_id), r in results.items():
            try:
                s = gb.find_submission(nb_id, student)
                r.update(score=s.score, max_score=s.max_score,
                         needs_manual_grade=s.needs_manual_grade, row=True)
            except MissingEntry:
                r.update(score=None, max_score=None, needs_manual_grade=None, row=False)
        if csv:
            from nbgrader.plugins.export import CsvExportPlugin

            CsvExportPlugin(to=os.path.join(root, "grades.csv")).export(gb)
            _close(os.path.join(root, "grades.csv"))
    return results


UNSAFE_WARNING = ("UNSAFE=1: grading WITHOUT a sandbox: every submission runs with your own "
                  "rights and can read or change anything you can")


def _interrupt_on_sigterm():
    """SIGTERM (``kill``, a closed session) ends the run like Ctrl-C: with its cleanup."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def kill_leftovers():
    """Kill the processes of every grader uid no running grading holds (root only).

    A grader uid is held by its reservation's ``flock``; once this run's workers are gone
    their uids are free, and whatever still runs under them (a kernel, a trusted process
    whose worker was interrupted) is killed here.
    """
    import fcntl

    if os.geteuid() != 0:
        return
    for uid in sandbox.UID_RANGE:
        path = os.path.join(sandbox.scratch_base(), f"uid-{uid}.lock")
        if not os.path.exists(path):
            continue
        with open(path, "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # another grading run holds it
            sandbox.kill_grader_processes(uid)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unsafe", action="store_true",
                        help="no sandbox: run student code as yourself (trusted submissions only)")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout (s)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--root", default=ROOT, help="the course folder (default: this repository)")
    args = parser.parse_args(argv)
    extra = {} if args.timeout is None else {"Execute.timeout": args.timeout}
    pairs = submissions(args.root)
    if not pairs:
        print("no submissions in submitted/<student>/<id>/")
        return 0
    if args.unsafe:
        print(UNSAFE_WARNING, file=sys.stderr)
    _interrupt_on_sigterm()
    t0 = time.monotonic()
    try:
        results = grade(args.root, pairs=pairs, use_sandbox=not args.unsafe, jobs=max(1, args.jobs),
                        progress=not args.no_progress, **extra)
    except sandbox.SandboxUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kill_leftovers()
        print("make grade interrupted: no grading process left running; run it again to "
              "grade the rest", file=sys.stderr)
        return 130
    seconds = time.monotonic() - t0
    failed = 0
    for (student, nb_id), r in results.items():
        flag = " (revisão manual)" if r.get("needs_manual_grade") else ""
        ok = "" if r["success"] else "  AUTOGRADE FAILED"
        failed += not r["success"]
        print(f"{student:20s} {nb_id:24s} {r['score']}/{r['max_score']}{flag}{ok}")
    again = [r["review_again"] for r in results.values() if r.get("review_again")]
    if again:
        print("answers changed since your review (score and comment kept, flagged again):")
        print("\n".join("  " + line for text in again for line in text.splitlines()))
    print(f"{len(results)} submissions in {seconds:.0f} s ({max(1, args.jobs)} at a time); "
          "grades.csv written; feedback in feedback/")
    if args.unsafe:
        print(UNSAFE_WARNING)
    return 1 if failed else 0
