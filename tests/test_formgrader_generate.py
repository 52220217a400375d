"""The formgrader's Generate button agrees with `make release` (issue 15, item 5).

A Jupyter server with the nbgrader extension runs in a scratch copy of the course; the test
sends what the Generate button sends (``POST /formgrader/api/assignment/<id>/assign``) for an
aula and a lista, and checks where the server wrote them and that they are the committed
student versions (Colab cells included). The server loads the course's nbgrader_config.py
as the formgrader in `make lab` does. (No browser: the button only makes this request.)
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from notebook_session import notebook_path
from paths import ROOT

AULA, LISTA = "aula02_sgd_passo_aprendizagem", "lista02_inicializacao_treinamento"
TOKEN = "t320-test-token"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("formgrader") / "course"
    for nb_id in (AULA, LISTA):
        shutil.copytree(os.path.join(ROOT, "solutions", nb_id), base / "solutions" / nb_id)
    shutil.copytree(os.path.join(ROOT, "course"), base / "course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy(os.path.join(ROOT, name), base / name)
    port = _free_port()
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    cmd = [os.path.join(bindir, "jupyter"), "server", "--no-browser", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
           "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={base}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(base.parent / "server.log", "w")
    proc = subprocess.Popen(cmd, cwd=str(base), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("jupyter server did not start: " + open(base.parent / "server.log").read()[-2000:])
    yield {"url": url, "base": str(base)}
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def generate(server, nb_id):
    req = urllib.request.Request(f"{server['url']}/formgrader/api/assignment/{nb_id}/assign",
                                 data=b"{}", method="POST",
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read())


def cells(path):
    return [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]


@pytest.mark.parametrize("nb_id,folder,other", [(AULA, "lectures", "assignments"),
                                                (LISTA, "assignments", "lectures")])
def test_generate_button_writes_the_committed_student_version(server, nb_id, folder, other):
    res = generate(server, nb_id)
    assert res["success"], res.get("log", "")[-3000:]
    out = os.path.join(server["base"], folder, nb_id, nb_id + ".ipynb")
    assert os.path.exists(out), f"Generate did not write {folder}/{nb_id}"
    assert not os.path.exists(os.path.join(server["base"], other, nb_id))
    assert cells(out) == cells(notebook_path(folder, nb_id))
    assert "colab.research.google.com" in cells(out)[0][1]


def test_formgrader_sees_the_course_local_exchange(server):
    req = urllib.request.Request(f"{server['url']}/formgrader/manage_assignments",
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        page = resp.read().decode()
    # manage_assignments.tpl shows "The exchange directory at <path> does not exist" when
    # nbgrader cannot list the exchange
    assert "Manage Assignments" in page
    assert "does not exist" not in page, "the formgrader warns about the exchange"
