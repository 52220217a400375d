"""Smoke test of ``make lab`` itself (no browser): the README's command starts a server that
answers ``/api/status``, lists the lectures and stops cleanly.

``make lab`` runs ``pip install -e .`` first (a few seconds when nothing changed), then
``jupyter lab --notebook-dir=. --config=course/browser/jupyter_server_config.py [--allow-root] $(LAB_ARGS)``
(the config enables ``course.browser.student_files``: students' files served without script). The
test passes a port and a token in ``LAB_ARGS``, reads the URL from the log (a busy port
silently moves), checks that the extension loaded, and stops the server with
``POST /api/shutdown``, expecting make to exit 0 within the timeout.
"""

import os
import secrets
import shutil
import socket
import urllib.error
import urllib.request

import pytest


import labserver  # noqa: E402

REPO = labserver.REPO
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def test_make_lab_starts_lists_lectures_and_stops(tmp_path):
    token = secrets.token_hex(16)
    port = labserver.free_port()
    args = " ".join(labserver.lab_args(port, token))
    env = dict(os.environ)
    env.pop("MAKEFLAGS", None)
    log = os.path.join(labserver.artifacts_dir(), "make-lab.log")
    cmd = ["make", "--no-print-directory", "-C", REPO, "lab", f"LAB_ARGS={args}"]
    overrides = labserver.lab_overrides_path(os.path.join(REPO, ".venv"))
    if os.path.exists(overrides):
        os.remove(overrides)  # make lab must write it (no news pop-up)
    server = labserver.LabServer(REPO, log, cmd=cmd, env=env, token=token)
    server.start(timeout=240)  # includes make's `pip install -e .`
    try:
        status = server.api("GET", "api/status")
        assert status["kernels"] == 0 and "started" in status, status
        listing = server.api("GET", "api/contents/lectures")
        assert listing["type"] == "directory"
        shown = sorted(item["name"] for item in listing["content"] if item["type"] == "directory")
        expected = sorted(d for d in os.listdir(os.path.join(REPO, "lectures"))
                          if os.path.isdir(os.path.join(REPO, "lectures", d)))
        assert shown == expected and shown, f"server lists {shown}, lectures/ holds {expected}"
        # without the token the server refuses (it is not open to anyone on the machine)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.base + "api/contents/lectures", timeout=10)
        assert err.value.code == 403
    finally:
        code = server.stop(timeout=30)
    text = open(log, encoding="utf-8").read()
    assert code == 0, f"make lab exited with {code}; log: {log}\n{text[-2000:]}"
    assert "Shutting down on /api/shutdown request" in text, text[-2000:]
    assert "served with Content-Security-Policy: sandbox" in text, \
        "make lab's server did not load course.browser.student_files (course/browser/jupyter_server_config.py)"
    with pytest.raises(OSError):  # the port is closed
        socket.create_connection(("127.0.0.1", int(server.base.rstrip("/").rsplit(":", 1)[1])),
                                 timeout=2).close()
    assert labserver.read_lab_overrides(os.path.join(REPO, ".venv")) == labserver.LAB_OVERRIDES, \
        f"make lab did not write {overrides} (turns off JupyterLab's news pop-up)"
