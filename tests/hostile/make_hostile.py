"""Hostile submissions for the autograde round trip, built from a source notebook.

``build(source_path) -> {name: bytes}``: each value is the file a cheating or broken
student would submit for that notebook. They assume the answer cells of the example
assignment (``relu`` and ``norma_gradiente``) but only touch cells by nbgrader metadata.
"""

import copy
import json

ANSWERS = {
    "loop_infinito": "while True:\n    pass",
    "loop_sem_sigint": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                        "while True:\n    pass"),
    "os_exit": "import os\nos._exit(3)",
    "sys_exit": "import sys\nsys.exit(0)",
    "200k_linhas": ("for i in range(200000):\n    print('linha', i)\n"
                    "def relu(z):\n    return z\n"
                    "def norma_gradiente(g):\n    return 0.0"),
    "eq_sempre_true": ("class Sempre:\n    def __eq__(self, other):\n        return True\n"
                       "    __array_priority__ = 1000\n"
                       "    def __getattr__(self, name):\n        return self\n"
                       "    def __call__(self, *a, **k):\n        return self\n"
                       "    def __float__(self):\n        return 5.0\n"
                       "def relu(z):\n    return Sempre()\n"
                       "def norma_gradiente(g):\n    return Sempre()"),
    "monkeypatch_numpy": ("import math\nimport numpy.testing\n"
                          "np.testing.assert_allclose = lambda *a, **k: None\n"
                          "numpy.testing.assert_array_equal = lambda *a, **k: None\n"
                          "np.allclose = lambda *a, **k: True\n"
                          "np.isclose = lambda *a, **k: True\n"
                          "np.array_equal = lambda *a, **k: True\n"
                          "math.isclose = lambda *a, **k: True\n"
                          "def relu(z):\n    return z * 0.0 + 1.0\n"
                          "def norma_gradiente(g):\n    return 1.0"),
    "le_solucoes": (
        "import json, os\n"
        "achado = None\n"
        "d = os.getcwd()\n"
        "for _ in range(6):\n"
        "    d = os.path.dirname(d)\n"
        "    for alvo in ('solutions/lista00_exemplo/lista00_exemplo.ipynb', 'gradebook.db'):\n"
        "        p = os.path.join(d, alvo)\n"
        "        if os.path.exists(p):\n"
        "            dados = open(p, 'rb').read()\n"
        "            if p.endswith('.ipynb'):\n"
        "                achado = json.loads(dados)\n"
        "if achado is None:\n"
        "    raise RuntimeError('nada encontrado')\n"
        "for c in achado['cells']:\n"
        "    if c['metadata'].get('nbgrader', {}).get('solution') and c['cell_type'] == 'code':\n"
        "        exec(''.join(c['source']))"),
    "bomba_memoria": "blocos = []\nwhile True:\n    blocos.append(bytearray(2**28))",
    "bomba_fork": ("import os\nwhile True:\n    try:\n        os.fork()\n"
                   "    except OSError:\n        pass"),
}

SANDBOX_ONLY = {"bomba_memoria", "bomba_fork"}


def _nbg(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def build(source_path, sandboxed=True):
    """Hostile submissions derived from the source notebook at ``source_path``."""
    with open(source_path, encoding="utf-8") as fh:
        src = json.load(fh)
    out = {}
    for name, code in ANSWERS.items():
        if name in SANDBOX_ONLY and not sandboxed:
            continue
        nb = copy.deepcopy(src)
        first = True
        for cell in nb["cells"]:
            if _nbg(cell).get("solution") and cell["cell_type"] == "code":
                cell["source"] = code if first else "pass"
                first = False
        out[name] = json.dumps(nb, indent=1).encode()
    # test cells edited to always pass, answers wrong
    nb = copy.deepcopy(src)
    for cell in nb["cells"]:
        m = _nbg(cell)
        if m.get("grade") and cell["cell_type"] == "code":
            cell["source"] = "print('tudo certo')"
        elif m.get("solution") and cell["cell_type"] == "code":
            cell["source"] = "def relu(z):\n    return z\ndef norma_gradiente(g):\n    return 0.0"
    out["testes_editados"] = json.dumps(nb, indent=1).encode()
    # test cells deleted, answers correct
    nb = copy.deepcopy(src)
    nb["cells"] = [c for c in nb["cells"]
                   if not (_nbg(c).get("grade") and c["cell_type"] == "code")]
    out["testes_apagados"] = json.dumps(nb, indent=1).encode()
    out["nao_json"] = b"isto n\xc3\xa3o \xc3\xa9 um notebook {\n"
    return out
