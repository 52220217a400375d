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

WRONG = "def relu(z):\n    return z\ndef norma_gradiente(g):\n    return 0.0\n"

# Attacks on the tests themselves: in one process with the tests, each of these earns points
# with the wrong answers WRONG (tests/hostile/test_trusted_tests.py measures that with
# nbgrader's own Execute); with the tests in the trusted process they earn nothing.
TAMPERING = {
    "transformador_entrada": (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda linhas: [] if any('checks' in l for l in linhas) else linhas)\n" + WRONG),
    "transformador_ast": (
        "import ast\n"
        "class Esvazia(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        if 'checks' in ast.dump(node):\n"
        "            node.body = []\n"
        "        return node\n"
        "get_ipython().ast_transformers.append(Esvazia())\n" + WRONG),
    "run_cell_trocado": (
        "ip = get_ipython()\n"
        "_original = ip.run_cell\n"
        "def run_cell(raw_cell, *a, **k):\n"
        "    return _original('pass' if 'checks' in raw_cell else raw_cell, *a, **k)\n"
        "ip.run_cell = run_cell\n" + WRONG),
    "run_cell_na_classe": (
        "ip = get_ipython()\n"
        "_original = type(ip).run_cell\n"
        "def run_cell(self, raw_cell, *a, **k):\n"
        "    return _original(self, 'pass' if 'checks' in raw_cell else raw_cell, *a, **k)\n"
        "type(ip).run_cell = run_cell\n" + WRONG),
    "gancho_pre_run_cell": (  # also prints every cell it sees: hidden tests must not show up
        "import base64\n"
        "def espia(info):\n"
        "    print('CELULA', base64.b64encode(info.raw_cell.encode()).decode())\n"
        "    print(info.raw_cell)\n"
        "    if 'checks' in info.raw_cell:\n"
        "        get_ipython().ast_transformers.append(__import__('ast').NodeTransformer())\n"
        "get_ipython().events.register('pre_run_cell', espia)\n"
        "import ast\n"
        "class Esvazia(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        node.body = []\n"
        "        return node\n"
        "get_ipython().events.register('pre_run_cell', lambda info: 'checks' in info.raw_cell and\n"
        "    get_ipython().ast_transformers.append(Esvazia()))\n" + WRONG),
    "gancho_post_run_cell": (
        "def limpa(result):\n"
        "    result.error_in_exec = None\n"
        "get_ipython().events.register('post_run_cell', limpa)\n"
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n" + WRONG),
    "custom_exc": (
        "get_ipython().set_custom_exc((AssertionError, ValueError, TypeError),\n"
        "                             lambda self, etype, value, tb, tb_offset=None: None)\n" + WRONG),
    "settrace": (
        "import sys\n"
        "def pula(frame, event, arg):\n"
        "    if event == 'exception' and 'checks' in frame.f_code.co_filename:\n"
        "        return None\n"
        "    return pula\n"
        "sys.settrace(pula)\n"
        "sys.setprofile(None)\n" + WRONG),
    "builtins_trocados": (
        "import builtins\n"
        "class NuncaLevanta(BaseException):\n"
        "    pass\n"
        "builtins.AssertionError = NuncaLevanta\n"
        "builtins.isinstance = lambda *a: True\n"
        "builtins.float = lambda *a: 5.0\n"
        "builtins.print = lambda *a, **k: None\n" + WRONG),
    "checks_no_modulo": (
        "import nnlib.checks as _c\n"
        "for _n in dir(_c):\n"
        "    if _n.startswith('check'):\n"
        "        setattr(_c, _n, lambda *a, **k: a[0]() if a and callable(a[0]) else None)\n"
        + WRONG),
    "checks_renomeado": (
        "class Tudo:\n"
        "    def __getattr__(self, nome):\n"
        "        return lambda *a, **k: a[0]() if a and callable(a[0]) else None\n"
        "checks = Tudo()\n" + WRONG),
    "subclasse_numpy": (
        "class Igual(np.ndarray):\n"
        "    def __eq__(self, other):\n"
        "        return np.ones(np.shape(self), dtype=bool)\n"
        "    def __array_ufunc__(self, *a, **k):\n"
        "        return np.zeros(1).view(Igual)\n"
        "def relu(z):\n    return np.asarray(z, dtype=float).view(Igual)\n"
        "def norma_gradiente(g):\n    return np.float64(0.0)\n"),
    "erro_na_conversao": (
        "class Explode:\n"
        "    def __array__(self, *a, **k):\n        raise SystemExit('tchau')\n"
        "    def __float__(self):\n        raise SystemExit('tchau')\n"
        "    def __repr__(self):\n        raise SystemExit('tchau')\n"
        "def relu(z):\n    return Explode()\n"
        "def norma_gradiente(g):\n    return Explode()\n"),
    "resultado_enorme": (
        "def relu(z):\n    return np.zeros(30_000_000)\n"
        "def norma_gradiente(g):\n    return 'x' * 100_000_000\n"),
    "resultado_aninhado": (
        "def fundo(n):\n"
        "    x = 0.0\n"
        "    for _ in range(n):\n"
        "        x = [x]\n"
        "    return x\n"
        "def relu(z):\n    return fundo(100_000)\n"
        "def norma_gradiente(g):\n"
        "    d = {}\n"
        "    d['eu'] = d\n"
        "    return d\n"),
    "le_proprio_notebook": (  # nbgrader's copy of the submission holds the hidden tests
        "import glob\n"
        "for _p in glob.glob('*.ipynb') + glob.glob('../*/*.ipynb'):\n"
        "    print(open(_p, encoding='utf-8').read())\n" + WRONG),
    "canal_falso": (  # rewrites the grader's own kernel-side code to answer 0 to everything
        "def falsifica(linhas):\n"
        "    if any('t320' in l for l in linhas):\n"
        "        linhas = linhas + ['\\nimport sys as _s\\n',\n"
        "            \"_m = _s.modules.get('t320_channel')\\n\",\n"
        "            \"if _m: _m.Endpoint.answer = lambda self, msg: self.send({'op': 'reply', 'value': 5.0})\\n\"]\n"
        "    return linhas\n"
        "get_ipython().input_transformers_post.append(falsifica)\n" + WRONG),
}

# Attacks on the other students and on the machine (the sandbox answers these).
ESCAPES = {
    "le_colegas": (
        "import os\n"
        "vistos = []\n"
        "d = os.getcwd()\n"
        "for _ in range(4):\n"
        "    d = os.path.dirname(d)\n"
        "    for raiz, pastas, arquivos in os.walk(d):\n"
        "        for a in arquivos:\n"
        "            try:\n"
        "                vistos.append(open(os.path.join(raiz, a), errors='replace').read()[:200])\n"
        "            except OSError:\n"
        "                pass\n"
        "print('LIDOS', len(vistos))\n"
        "print('\\n'.join(vistos))\n" + WRONG),
    "daemon": (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        while True:\n"
        "            time.sleep(1)\n"
        "    os._exit(0)\n" + WRONG),
}

ANSWERS.update(TAMPERING)
ANSWERS.update(ESCAPES)

SANDBOX_ONLY = {"bomba_memoria", "bomba_fork", "daemon"}


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
