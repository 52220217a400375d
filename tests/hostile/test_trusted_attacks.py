"""Attacks on the trusted test process from the kernel, graded through ``make grade``'s code.

One batch (``course.grading.driver.grade``, sandboxed, one worker so that submissions follow
each other in the same worker), beside an honest control:

- ``gadgets``: correct answers, plus a cell that patches ``json.dumps`` in its kernel so that
  every reply of its channel carries a gadget instead of the value: an nnlib-reachable class
  with a chosen ``__dict__`` (numpy's ``NpzFile``, ``DataSource`` aimed at the control's
  submitted folder), a function by name (``os.system``), a zero-stride view of 2**28
  elements. Before this wave such replies ran a shell command as root and deleted a
  classmate's folder.
- ``sinais``: correct answers, and a cell that looks for the trusted process and the grading
  process in ``/proc`` and sends SIGKILL, ``ptrace(ATTACH)`` and reads ``/proc/<pid>/mem`` to
  every process it can see but itself and its sandbox's init; its ``relu`` does the same
  again whenever a test calls it.
- ``vestigio`` then ``seguinte``: the first leaves files in its ``/tmp``, ``/dev/shm`` and the
  course's ``/tmp``; the second (graded next, by the same worker) looks for them.

Expected: the control's full marks; ``gadgets`` 0 (its replies are not data); ``sinais`` full
marks (it could reach nothing, so the tests ran); no marker file anywhere, the control's
submission intact, no trace seen by ``seguinte``.
"""

import json
import os
import shutil
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

from course.grading import sandbox  # noqa: E402

NB_ID = "lista00_exemplo"
SOURCE = os.path.join(HERE, NB_ID + ".ipynb")
MARKER = f"/tmp/t320-pwned-{os.getpid()}"

pytestmark = pytest.mark.skipif(sandbox.unsafe(), reason="UNSAFE runs have no sandbox")

_GADGETS = '''
import itertools, json as _json
_b64_8 = "AAAAAAAAAAA="
_GADGETS = [
    {{"t": "o", "k": 0, "cls": "nnlib.training:losses.np.lib.npyio.NpzFile",
      "v": [["zip", None], ["fid", None]]}},
    {{"t": "o", "k": 0, "cls": "nnlib.training:losses.np.lib.npyio.DataSource",
      "v": [["_destpath", {victim!r}], ["_istmpdest", True]]}},
    {{"t": "fn", "ref": "nnlib.training:losses.np.lib.npyio.os.system"}},
    {{"t": "v", "k": 1, "d": "<f8", "s": [268435456], "st": [0], "off": 0,
      "base": {{"t": "a", "k": 0, "d": "<f8", "s": [1], "b": _b64_8}}}},
    {{"t": "a", "k": 0, "d": "<f8", "s": [268435456], "b": _b64_8}},
]
_proximo = itertools.cycle(_GADGETS)
_dumps = _json.dumps
def _troca(obj, *a, **k):
    if isinstance(obj, dict) and obj.get("op") == "reply" and "value" in obj:
        obj = dict(obj, value=next(_proximo))
    return _dumps(obj, *a, **k)
_json.dumps = _troca
open({marker!r}, "w").close() if False else None
'''

_SIGNALS = '''
import ctypes, json, os, signal
def _ataca():
    meu = os.getpid()
    visto = {{}}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in (1, meu):
            continue
        pid = int(d)
        try:
            cmd = open(f"/proc/{{pid}}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:200]
        except OSError as e:
            cmd = type(e).__name__
        r = {{"cmd": cmd}}
        try:
            os.kill(pid, signal.SIGKILL)
            r["kill"] = "ok"
        except OSError as e:
            r["kill"] = type(e).__name__
        r["ptrace"] = ctypes.CDLL(None, use_errno=True).ptrace(16, pid, 0, 0)
        try:
            open(f"/proc/{{pid}}/mem", "rb").read(1)
            r["mem"] = "ok"
        except OSError as e:
            r["mem"] = type(e).__name__
        visto[pid] = r
    return visto
print("SONDA" + json.dumps(_ataca()))  # while the student's cells run (the trusted process is up)
_relu_honesto = relu
def relu(z):  # and again while a test runs
    _ataca()
    return _relu_honesto(z)
'''

_LEAVE = '''
import os, tempfile
for pasta in (tempfile.gettempdir(), "/tmp", "/dev/shm", os.path.expanduser("~")):
    try:
        open(os.path.join(pasta, "t320-vestigio"), "w").write("x")
    except OSError:
        pass
'''

_LOOK = '''
import json, os, tempfile
achados = []
for pasta in (tempfile.gettempdir(), "/tmp", "/dev/shm", os.path.expanduser("~")):
    try:
        achados += [os.path.join(pasta, n) for n in os.listdir(pasta) if "vestigio" in n]
    except OSError:
        pass
print("SONDA" + json.dumps(achados))
'''


def _with_cell(code):
    """The honest source with ``code`` appended to the last answer cell (answers kept)."""
    with open(SOURCE, encoding="utf-8") as fh:
        nb = json.load(fh)
    answers = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
               and c["cell_type"] == "code"]
    answers[-1]["source"] = "".join(answers[-1]["source"]) + "\n" + code
    return json.dumps(nb).encode()


@pytest.fixture(scope="module")
def graded():
    from course.grading.driver import grade

    base = tempfile.mkdtemp(prefix="t320-attacks-")
    os.chmod(base, 0o711)
    os.makedirs(os.path.join(base, "solutions", NB_ID))
    shutil.copy(SOURCE, os.path.join(base, "solutions", NB_ID, NB_ID + ".ipynb"))
    victim = os.path.join(base, "submitted", "controle")
    subs = {"controle": open(SOURCE, "rb").read(),
            "gadgets": _with_cell(_GADGETS.format(victim=victim, marker=MARKER)),
            "sinais": _with_cell(_SIGNALS.format()),
            "vestigio": _with_cell(_LEAVE),
            "seguinte": _with_cell(_LOOK)}
    for student, data in subs.items():
        d = os.path.join(base, "submitted", student, NB_ID)
        os.makedirs(d)
        with open(os.path.join(d, NB_ID + ".ipynb"), "wb") as fh:
            fh.write(data)
    before_tmp = set(os.listdir("/tmp"))
    trusted_uids = {sandbox.trusted_uid(u) for u in sandbox.UID_RANGE}
    results = grade(base, pairs=[(s, NB_ID) for s in subs], csv=False, feedback=False, jobs=1,
                    **{"Execute.timeout": 20})
    new_tmp = {}
    for name in set(os.listdir("/tmp")) - before_tmp:
        try:
            new_tmp[name] = os.lstat(os.path.join("/tmp", name)).st_uid
        except OSError:
            pass
    yield {"base": base, "results": {s: r for (s, _), r in results.items()},
           "new_tmp": new_tmp, "trusted_uids": trusted_uids}
    if not os.environ.get("T320_KEEP"):
        shutil.rmtree(base, ignore_errors=True)


def _score(graded, student):
    r = graded["results"][student]
    assert r["success"], f"{student}: AUTOGRADE FAILED\n{r['log'][-2000:]}"
    return r["score"], r["max_score"]


def _outputs(graded, student):
    path = os.path.join(graded["base"], "autograded", student, NB_ID, NB_ID + ".ipynb")
    with open(path, encoding="utf-8") as fh:
        return "\n".join("".join(o.get("text", "")) + json.dumps(o.get("evalue", ""), ensure_ascii=False)
                         for c in json.load(fh)["cells"] for o in c.get("outputs", []))


def test_the_control_gets_full_marks(graded):
    score, max_score = _score(graded, "controle")
    assert score == max_score == 5


def test_gadget_replies_earn_nothing_and_run_nothing(graded):
    assert _score(graded, "gadgets")[0] == 0
    assert "não é dado" in _outputs(graded, "gadgets") or \
        "limite do canal" in _outputs(graded, "gadgets")
    assert not os.path.exists(MARKER)
    victim = os.path.join(graded["base"], "submitted", "controle", NB_ID, NB_ID + ".ipynb")
    assert os.path.exists(victim), "the DataSource gadget deleted the control's submission"


def test_the_kernel_cannot_see_signal_or_trace_the_trusted_process(graded):
    score, max_score = _score(graded, "sinais")
    assert score == max_score, "the attacks stopped the tests: the trusted process was reached"
    out = _outputs(graded, "sinais")
    seen = json.loads(out.split("SONDA", 1)[1].splitlines()[0])
    for pid, r in seen.items():  # only processes of its own sandbox (none but itself, usually)
        assert "trusted_process" not in r["cmd"] and "course.grading" not in r["cmd"], (pid, r)
        assert "jupyter" not in r["cmd"] and "pytest" not in r["cmd"], (pid, r)


def test_a_submission_leaves_nothing_for_the_next(graded):
    assert _score(graded, "vestigio")[0] == 5
    out = _outputs(graded, "seguinte")
    found = json.loads(out.split("SONDA", 1)[1].splitlines()[0])
    assert found == [], f"the next submission saw {found}"
    assert not any("vestigio" in n for n in graded["new_tmp"])
    left = [n for n, uid in graded["new_tmp"].items() if uid in graded["trusted_uids"]]
    assert left == [], f"a trusted process left {left} in the host's /tmp"
