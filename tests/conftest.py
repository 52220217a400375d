"""Shared pytest setup: the hostile batch many modules read, and the grouping that lets
``make test`` run the suite on several workers (pytest-xdist, ``--dist loadgroup``) without
running an expensive shared fixture twice."""

import os
import shutil
import tempfile
import time

import pytest

# Keras 3 runs on the torch backend here (TensorFlow is not a dependency).
os.environ.setdefault("KERAS_BACKEND", "torch")

from hostile.batch import HOSTILE_ID, HOSTILE_SRC, HOSTILE_TIMEOUT, ROOT_USER, submit


# ----------------------------------------------------------------------------- workers
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "xdist_group(name): tests of one group run on the same pytest-xdist worker")


def _shared_fixtures(item):
    """Keys of the fixtures ``item`` shares with other tests: every fixture of the project's
    test files whose scope is wider than one test (a grading batch, an executed notebook)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    keys = []
    for name in info.names_closure:
        for fixturedef in info.name2fixturedefs.get(name, ()):
            if fixturedef.scope == "function" or not fixturedef.baseid:
                continue  # per test, or pytest's own (tmp_path_factory, ...): nothing to share
            if fixturedef.scope == "session":
                keys.append(("session", name, fixturedef.baseid))
            else:  # module-, class- or package-scoped: one instance per module at most
                keys.append((fixturedef.scope, name, item.module.__name__ if item.module else ""))
    return keys


def pytest_collection_modifyitems(config, items):
    """Tests that share a module- or session-scoped fixture get one ``xdist_group``, so that
    ``--dist loadgroup`` sends them to one worker and the fixture runs once; every other test
    is handed to whichever worker is free. Tests already marked keep their group."""
    parent = {}

    def find(key):
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keyed = []
    for item in items:
        if any(True for _ in item.iter_markers("xdist_group")):
            continue
        keys = _shared_fixtures(item)
        if keys:
            for key in keys[1:]:
                parent[find(key)] = find(keys[0])
            keyed.append((item, keys[0]))
    names = {}
    for item, key in keyed:
        root = find(key)
        if root not in names:  # named after the first test module that uses it
            names[root] = f"{item.nodeid.split('::')[0]}:{root[1]}"
        item.add_marker(pytest.mark.xdist_group(names[root]))


# ----------------------------------------------------------------------------- hostile batch
@pytest.fixture(scope="session")
def hostile_batch():
    """The whole hostile set of ``tests/hostile/make_hostile.py`` (crashes, loops, bombs, the
    attacks on the tests, the sandbox escapes) and the fixture's own solution as control
    (``controle``), graded ONCE in a scratch course through ``course.grading.driver.grade``
    with a short per-cell timeout, in the sandbox as root. tests/test_pipeline.py and
    tests/hostile/test_trusted_tests.py each read their own outcomes from it.

    Returns ``{"base", "results", "names", "seconds"}``; the course is removed at the end."""
    from course import ensure_venv_on_path
    from course.grading.driver import grade
    from hostile import make_hostile

    ensure_venv_on_path()
    base = tempfile.mkdtemp(prefix="t320-hostile-")
    os.chmod(base, 0o711)  # the sandbox user must reach autograded/, as in a real course
    try:
        os.makedirs(os.path.join(base, "solutions", HOSTILE_ID))
        shutil.copy(HOSTILE_SRC, os.path.join(base, "solutions", HOSTILE_ID, HOSTILE_ID + ".ipynb"))
        subs = make_hostile.build(HOSTILE_SRC, sandboxed=ROOT_USER)
        for name, data in subs.items():
            submit(base, "h_" + name, HOSTILE_ID, data)
        # the control: the fixture's own solution must get full marks in the same run, so the
        # zeros come from the hostile code and not from a broken fixture
        submit(base, "controle", HOSTILE_ID, open(HOSTILE_SRC, "rb").read())
        pairs = [("controle", HOSTILE_ID)] + [("h_" + n, HOSTILE_ID) for n in subs]
        t0 = time.monotonic()
        res = grade(base, pairs=pairs, use_sandbox=ROOT_USER, **{"Execute.timeout": HOSTILE_TIMEOUT})
        seconds = time.monotonic() - t0
        print(f"autograde: {len(subs)} hostile submissions in {seconds:.1f} s")
        yield {"base": base, "results": res, "names": sorted(subs), "seconds": seconds}
    finally:
        shutil.rmtree(base, ignore_errors=True)
