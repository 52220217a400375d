"""Shared pytest setup: the hostile batch many modules read, and the grouping that lets
``make test`` run the suite on several workers (pytest-xdist, ``--dist loadgroup``) without
running an expensive shared fixture twice."""

import json
import os
import shutil
import tempfile
import time

import pytest

# Keras 3 runs on the torch backend here (TensorFlow is not a dependency).
os.environ.setdefault("KERAS_BACKEND", "torch")

# On pytest-xdist workers (make test: one per core), one BLAS/OpenMP thread per process, as the
# grading sandbox's kernels already have (course/grading/kernel_launcher.py kernel_env): two
# workers each running OpenBLAS's two spin-waiting threads on two cores slow each other down
# many times over (docs/performance.md, "Reproduce"). Inherited by the kernels, nbval and
# the other processes the tests start.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from course import prepare_nbgrader  # noqa: E402
from hostile.batch import HOSTILE_TIMEOUT, ROOT_USER, hostile_course  # noqa: E402

# nbgrader as the course's commands use it: the venv's bin on PATH, and a new gradebook (every
# test's scratch course has one) stamped in this process, not by an `alembic` subprocess
prepare_nbgrader()


# ----------------------------------------------------------------------------- workers
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "xdist_group(name): tests of one group run on the same pytest-xdist worker")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(GroupsOnWorkers(), "t320-groups-on-workers")


class GroupsOnWorkers:
    """``--dist loadgroup`` that works on pytest 9: xdist 3.8 tells the controller a test's
    ``xdist_group`` by appending it to ``item._nodeid``, which pytest 9 no longer reads
    (``Node.nodeid`` comes from ``Node._id``), so every test was scheduled alone. Here each
    worker writes {node id: group} to a file the controller passed it, and the controller's
    scheduler (xdist's LoadScopeScheduling) takes a test's group from that file as its scope."""

    def pytest_configure(self, config):
        if not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") == "loadgroup":
            self.folder = tempfile.mkdtemp(prefix="t320-xdist-groups-")
            config.t320_groups_file = os.path.join(self.folder, "groups.json")

    def pytest_unconfigure(self, config):
        if getattr(self, "folder", None):
            shutil.rmtree(self.folder, ignore_errors=True)

    def pytest_configure_node(self, node):
        node.workerinput["t320_groups_file"] = node.config.t320_groups_file

    def pytest_xdist_make_scheduler(self, config, log):
        if getattr(config, "t320_groups_file", None):
            return _group_scheduling(config, log)
        return None


def _group_scheduling(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """A test's scope is its ``xdist_group`` (as the workers wrote them), else itself."""

        _groups = None

        def _split_scope(self, nodeid):
            if self._groups is None:
                with open(config.t320_groups_file, encoding="utf-8") as fh:
                    self._groups = json.load(fh)
            return self._groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)


def _write_groups(config, items):
    """On a worker: {node id: "@" + group} of the grouped tests, for the controller."""
    path = getattr(config, "workerinput", {}).get("t320_groups_file")
    if not path:
        return
    groups = {}
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names:
            groups[item.nodeid] = "@" + "_".join(names)
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(groups, fh)
    os.replace(tmp, path)  # every worker writes the same map: the last one stays, whole


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


# Started first on the workers (make test: ``--no-loadscope-reorder`` keeps this order): the
# longest tests and shared batches of the last full run (docs/performance.md section 4), so
# that none of them starts last and leaves one worker running alone at the end.
SLOW_FIRST = (
    "tests/test_semester.py",
    "tests/test_pipeline.py::test_hostile",  # the hostile batch (its group: test_trusted_tests)
    "tests/test_pipeline.py::test_source_gets_full_marks",  # every notebook graded
    "tests/hostile/test_output_flood.py",
    "tests/hostile/test_trusted_tests.py::test_attacks_are_real",  # the in-kernel batch
    "tests/test_install_cell.py",
    "tests/browser/test_jupyterlab.py",
    "tests/test_partial_credit.py",
    "tests/hub/test_class_cycle.py",
    "tests/test_parallel_grade.py",
    "tests/hostile/test_slow_cells.py",
    "tests/hostile/test_unprivileged.py",
    "tests/test_pipeline.py::test_source_runs",  # every source run once (executed_source's group)
)


def _start_rank(item, grouped):
    for rank, prefix in enumerate(SLOW_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(SLOW_FIRST) + (0 if item in grouped else 1)


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
    # the slowest first, then the other groups, then the single tests that fill the gaps; a
    # group starts where its first test stands
    grouped = {item for item, _ in keyed}
    first = {}
    for item, key in keyed:
        rank = _start_rank(item, grouped)
        first[find(key)] = min(first.get(find(key), rank), rank)
    group_rank = {item: first[find(key)] for item, key in keyed}
    items.sort(key=lambda item: group_rank.get(item, _start_rank(item, grouped)))
    _write_groups(config, items)


# ----------------------------------------------------------------------------- executed sources
@pytest.fixture(scope="session")
def executed_source():
    """``executed_source(nb_id)``: a ``NotebookSession`` that ran the source of ``nb_id`` once in
    this session, as a student's Run All does (widgets and demos included; not graded). Its
    ``nb`` holds the outputs of that run. Shared by the tests that read those outputs
    (tests/test_pipeline.py: every cell ran; tests/test_exercise_rules.py: what a student reads
    above a question) and those that run code in the kernel and put back what they change
    (tests/test_final_check.py); each executed every notebook on its own before. The kernels
    end with the session."""
    from contextlib import ExitStack

    from notebook_session import NotebookSession, notebook_path

    sessions = {}
    with ExitStack() as kernels:
        def get(nb_id):
            if nb_id not in sessions:
                sessions[nb_id] = kernels.enter_context(
                    NotebookSession(notebook_path("solutions", nb_id), timeout=300))
            return sessions[nb_id]

        yield get


# ----------------------------------------------------------------------------- hostile batch
@pytest.fixture(scope="session")
def hostile_batch():
    """The whole hostile set of ``tests/hostile/make_hostile.py`` (crashes, loops, bombs, the
    attacks on the tests, the sandbox escapes) and the fixture's own solution as control
    (``controle``), graded ONCE in a scratch course through ``course.grading.driver.grade``
    with a short per-cell timeout, in the sandbox as root. tests/test_pipeline.py and
    tests/hostile/test_trusted_tests.py each read their own outcomes from it.

    Returns ``{"base", "results", "names", "seconds"}``; the course is removed at the end."""
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-hostile-")
    os.chmod(base, 0o711)  # the sandbox user must reach autograded/, as in a real course
    try:
        pairs = hostile_course(base, sandboxed=ROOT_USER)
        names = sorted(student[2:] for student, _ in pairs[1:])
        t0 = time.monotonic()
        res = grade(base, pairs=pairs, use_sandbox=ROOT_USER, **{"Execute.timeout": HOSTILE_TIMEOUT})
        seconds = time.monotonic() - t0
        print(f"autograde: {len(names)} hostile submissions in {seconds:.1f} s")
        yield {"base": base, "results": res, "names": names, "seconds": seconds}
    finally:
        shutil.rmtree(base, ignore_errors=True)
