"""Autograde every submission in ``submitted/<student>/<id>/`` inside the sandbox kernel.

Usage: ``python -m course.grade [--no-sandbox] [--timeout S]`` (``make grade``). Steps:

1. record every id that has submissions in the gradebook (``generate_assignment`` into a
   scratch folder, so the committed student versions are not touched);
2. make the instructor-only parts unreadable for other users: ``solutions/``, ``.git/``,
   ``submitted/``, ``feedback/``, ``gradebook.db``, ``grades.csv`` and every already graded
   ``autograded/<student>/`` (``chmod go-rwx``);
3. ``autograde`` each submission with the ``t320-grader`` kernel (``course/sandbox.py``:
   unprivileged uid, memory/CPU/process caps), kill whatever it left running, close its
   ``autograded/<student>/`` folder again;
4. ``generate_feedback`` (hidden tests removed, see ``nbgrader_config.py``);
5. write ``grades.csv``.
"""

import argparse
import contextlib
import os
import stat
import sys
import tempfile
import time

from course import ROOT, make_api
from course import sandbox

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


def grade(root=ROOT, pairs=None, use_sandbox=True, feedback=True, csv=True, **overrides):
    """Autograde ``pairs`` (default: every submission); return {(student, id): result dict}.

    Each result has ``success`` (nbgrader finished), ``score``, ``max_score`` and
    ``needs_manual_grade`` read from the gradebook. ``overrides`` are extra
    ``"Class.trait"`` config values (e.g. ``**{"Execute.timeout": 5}``).
    """
    with sandbox.GraderUid() if use_sandbox else contextlib.nullcontext() as uid:
        return _grade(root, pairs, use_sandbox, feedback, csv, uid, overrides)


def _grade(root, pairs, use_sandbox, feedback, csv, uid, overrides):
    from nbgrader.api import Gradebook, MissingEntry

    root = os.path.abspath(root)
    pairs = submissions(root) if pairs is None else list(pairs)
    if use_sandbox:
        sandbox.install_kernel()
        for key, value in sandbox.kernel_config(uid).items():  # kernel name, ipc transport
            overrides.setdefault(key, value)
    api = make_api(root, **overrides)
    with tempfile.TemporaryDirectory() as scratch:
        api.coursedir.release_directory = scratch
        for nb_id in sorted({a for _, a in pairs}):
            res = api.generate_assignment(nb_id, force=True, create=True)
            if not res["success"]:
                raise RuntimeError(f"generate_assignment({nb_id}) failed:\n{res.get('log')}")
    harden(root)
    results = _autograde_all(api, root, pairs, use_sandbox, feedback, uid)
    db_url = api.coursedir.db_url
    with Gradebook(db_url, api.coursedir.course_id) as gb:
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


def _autograde_all(api, root, pairs, use_sandbox, feedback, uid):
    results = {}
    for student, nb_id in pairs:
        t0 = time.monotonic()
        res = api.autograde(nb_id, student, force=True, create=True)
        seconds = time.monotonic() - t0
        if use_sandbox:
            sandbox.kill_grader_processes(uid)
        _close(os.path.join(root, "autograded", student))
        results[(student, nb_id)] = {"success": bool(res["success"]), "log": res.get("log", ""),
                                     "seconds": seconds, "uid": uid}
        if feedback and res["success"]:
            fb = api.generate_feedback(nb_id, student, force=True)
            results[(student, nb_id)]["feedback"] = bool(fb["success"])
    _close(os.path.join(root, "feedback"))
    if use_sandbox:
        sandbox.kill_grader_processes(uid)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code as yourself (trusted submissions only)")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout (s)")
    args = parser.parse_args(argv)
    extra = {} if args.timeout is None else {"Execute.timeout": args.timeout}
    pairs = submissions()
    if not pairs:
        print("no submissions in submitted/<student>/<id>/")
        return 0
    results = grade(pairs=pairs, use_sandbox=not args.no_sandbox, **extra)
    failed = 0
    for (student, nb_id), r in results.items():
        flag = " (revisão manual)" if r.get("needs_manual_grade") else ""
        ok = "" if r["success"] else "  AUTOGRADE FAILED"
        failed += not r["success"]
        print(f"{student:20s} {nb_id:24s} {r['score']}/{r['max_score']}{flag}{ok}")
    print("grades.csv written; feedback in feedback/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
