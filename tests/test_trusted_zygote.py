"""Each submission's trusted process is forked fresh from the zygote (course/trusted.py).

The grading process keeps one zygote that has imported numpy, matplotlib and nnlib once;
each submission's test cells run in a new process forked from it. What one submission's
tests leave behind (a patched module, a global) must not reach the next submission's
tests, a dead zygote must be replaced, and a trusted process must end when grading says so.
"""

import os
import tempfile
import time

import pytest

from course import trusted


def _runner(workdir):
    r = trusted._Runner(".t320-test.sock", workdir)
    assert r.ask(None, timeout=30) == {"ready": True}
    setup = r.ask({"op": "setup", "cells": [], "answers": [], "wait": 0.01}, timeout=30)
    assert setup == {"connected": False, "problems": []}
    return r


def _run(runner, source):
    answer = runner.ask({"op": "run", "source": source}, timeout=30)
    assert answer is not None, "the trusted process did not answer"
    assert answer["error"] is None, answer["error"]
    return answer["stdout"].strip()


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory() as d:
        yield d


def test_modules_are_preloaded(workdir):
    """A fresh trusted process already holds numpy, pyplot and nnlib: nothing to import."""
    r = _runner(workdir)
    try:
        out = _run(r, "import sys\nprint(sorted(m for m in ('numpy', 'matplotlib.pyplot', "
                      "'nnlib.checks', 'nnlib.optim', 'course.channel') if m in sys.modules))")
    finally:
        r.close()
    assert out == str(sorted(['numpy', 'matplotlib.pyplot', 'nnlib.checks', 'nnlib.optim',
                              'course.channel']))


def test_nothing_carries_over_to_the_next_submission(workdir):
    first = _runner(workdir)
    try:
        pid_first = _run(first, "import os, nnlib.checks, numpy\n"
                                "nnlib.checks.check_close = lambda *a, **k: None\n"
                                "numpy.t320_mark = 1\n"
                                "print(os.getpid(), os.getppid())")
    finally:
        first.close()
    second = _runner(workdir)
    try:
        out = _run(second, "import os, nnlib.checks, numpy\n"
                           "print(os.getpid(), os.getppid(), hasattr(numpy, 't320_mark'), "
                           "nnlib.checks.check_close.__name__)")
    finally:
        second.close()
    pid1, parent1 = pid_first.split()
    pid2, parent2, marked, name = out.split()
    assert pid1 != pid2, "both submissions ran in the same trusted process"
    assert parent1 == parent2 != str(os.getpid()), "not forked from the zygote"
    assert (marked, name) == ("False", "check_close"), "the first submission's changes leaked"


def test_a_dead_zygote_is_replaced(workdir):
    _runner(workdir).close()
    old = trusted._Zygote._current
    old.proc.kill()
    old.proc.wait()
    r = _runner(workdir)
    try:
        assert _run(r, "print(6 * 7)") == "42"
    finally:
        r.close()
    assert trusted._Zygote._current is not old


def test_kill_ends_a_test_that_never_returns(workdir):
    r = _runner(workdir)
    assert r.alive()
    assert r.ask({"op": "run", "source": "while True:\n    pass"}, timeout=0.5) is None
    r.kill()
    deadline = time.monotonic() + 10
    while r.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not r.alive(), "the trusted process survived kill()"
    r.close()


def test_close_ends_the_process(workdir):
    r = _runner(workdir)
    pid = r.pid
    r.close()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}"), "the trusted process is still running"
