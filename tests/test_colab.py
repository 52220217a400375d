"""Colab and Binder entry points (issue 8): badges and install cell generated from the one
repository URL in pyproject.toml, the README's list, the Binder configuration.

``test_student_notebook_has_colab_cells`` checks the committed student versions: it fails
until ``course/release/generate.py`` calls ``course.release.colab.add_colab_cells_to_file`` and ``make release``
has run. ``test_readme_lists_notebooks`` fails until README.md holds the generated section.
"""

import ast
import contextlib
import io
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions

import nbformat
import pytest

from course.release import colab
from paths import ROOT

URL = colab.repository_url()
DEPS = colab.runtime_dependencies()
NOTEBOOKS = colab.student_notebooks()


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_repository_url_is_github_and_homepage_agrees():
    project = tomllib.load(open(os.path.join(ROOT, "pyproject.toml"), "rb"))["project"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", URL)
    homepage = project["urls"].get("Homepage")
    assert homepage is None or homepage.rstrip("/") == URL, \
        f"Homepage {homepage!r} and Repository {URL!r} disagree"


def test_url_not_hard_coded_elsewhere():
    """The slug lives only in pyproject.toml; code and binder files derive it."""
    slug = colab.github_slug(URL)
    for folder in ("course", "binder", "nnlib"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                if f.endswith((".py", ".txt", "postBuild", ".cfg", ".toml")):
                    text = open(os.path.join(dirpath, f), encoding="utf-8").read()
                    assert slug not in text, f"{os.path.join(dirpath, f)} hard-codes {slug}"


def test_notebooks_found():
    assert any(p.startswith("lectures/") for p in NOTEBOOKS)
    assert any(p.startswith("assignments/") for p in NOTEBOOKS)


@pytest.mark.parametrize("repo_path", NOTEBOOKS)
def test_student_notebook_has_colab_cells(repo_path):
    nb = nbformat.read(os.path.join(ROOT, repo_path), as_version=4)
    badge, install = nb.cells[0], nb.cells[1]
    assert badge.cell_type == "markdown" and badge.get("id") == colab.BADGE_ID, \
        f"{repo_path}: no Colab badge cell first (is course.release.generate hooked to course.release.colab?)"
    assert badge.source == colab.badges(repo_path, URL), f"{repo_path}: stale badge"
    assert f"https://colab.research.google.com/github/{colab.github_slug(URL)}/blob/main/" \
           f"{repo_path}" in badge.source
    assert install.cell_type == "code" and install.get("id") == colab.INSTALL_ID
    assert install.source == colab.install_source(URL, DEPS, colab.notebook_optional(repo_path)), \
        f"{repo_path}: stale install cell"
    assert f"git+{URL}'" in install.source
    assert "nbgrader" not in install.metadata, "the install cell must not be graded"
    assert not install.outputs and install.execution_count is None


def test_aula06_install_cell_completes_the_torch_extra_only_where_torch_is(monkeypatch):
    """Colab ships torch and Keras, not skorch: aula06's install cell installs what is missing
    of the torch extra when torch is importable, and nothing of it when torch is not."""
    assert colab.notebook_optional("lectures/aula06_custo_frameworks/aula06_custo_frameworks.ipynb") \
        == ["torch", "skorch", "keras"]
    assert colab.notebook_optional("lectures/aula01_online_batch_minibatch/x.ipynb") == []
    source = colab.install_source(URL, DEPS, ["torch", "skorch", "keras"])
    assert "EXTRA_TORCH" not in colab.install_source(URL, DEPS)
    import importlib.util
    for present, want in [({"torch", "keras"}, [["skorch"]]), (set(), [])]:
        calls = []
        monkeypatch.setattr(subprocess, "run", lambda cmd, **k: calls.append(cmd))
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name: object() if name in present else None)
        monkeypatch.setitem(sys.modules, "nnlib", type(sys)("nnlib"))
        sys.modules["nnlib"].__version__ = "0.1.0"
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, "<install cell>", "exec"), {})
        assert [c[c.index("--quiet") + 1:] for c in calls[2:]] == want
        monkeypatch.undo()


def _sample_nb():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Aula"), nbformat.v4.new_code_cell("x = 1")]
    return nb


def test_add_colab_cells_is_idempotent_and_follows_the_url():
    nb = colab.add_colab_cells(_sample_nb(), "lectures/a/a.ipynb",
                               url="https://github.com/outro/curso", deps=["numpy"])
    once = nbformat.writes(nb)
    colab.add_colab_cells(nb, "lectures/a/a.ipynb", url="https://github.com/outro/curso",
                          deps=["numpy"])
    assert nbformat.writes(nb) == once
    assert [c.get("id") for c in nb.cells[:2]] == [colab.BADGE_ID, colab.INSTALL_ID]
    assert len(nb.cells) == 4 and nb.cells[2].source == "# Aula"
    assert "colab.research.google.com/github/outro/curso/blob/main/lectures/a/a.ipynb" \
        in nb.cells[0].source
    assert "git+https://github.com/outro/curso'" in nb.cells[1].source
    nbformat.validate(nb)
    # a new URL replaces the old cells instead of adding more
    colab.add_colab_cells(nb, "lectures/a/a.ipynb", url="https://github.com/novo/curso",
                          deps=["numpy"])
    assert len(nb.cells) == 4 and "outro" not in nbformat.writes(nb)


@pytest.mark.parametrize("bad", ["/abs/a.ipynb", "lectures\\a.ipynb", "a.py", None])
def test_add_colab_cells_rejects_bad_paths(bad):
    with pytest.raises(ValueError, match="repo_path"):
        colab.add_colab_cells(_sample_nb(), bad, url=URL, deps=[])


def test_repository_url_rejects_non_github(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.urls]\nRepository = "https://gitlab.com/a/b"\n')
    with pytest.raises(ValueError, match="gitlab.com/a/b"):
        colab.repository_url(str(tmp_path))


def test_install_cell_does_nothing_where_nnlib_is_installed(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError(f"the install cell ran {a}")

    monkeypatch.setattr(subprocess, "run", forbidden)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(colab.install_source(URL, DEPS), "<install cell>", "exec"), {})
    assert out.getvalue() == ""


def _third_party_imports(sources):
    mods = set()
    for src in sources:
        tree = ast.parse(src)
        for node in tree.body:  # top level only: guarded optional imports are inside try/if
            if isinstance(node, ast.Import):
                mods.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods.add(node.module.split(".")[0])
    return {m for m in mods if m not in sys.stdlib_module_names and m != "nnlib"}


def _with_requirements(names):
    """``names`` and, transitively, the unconditional requirements they declare."""
    from importlib.metadata import PackageNotFoundError, requires

    seen, todo = set(), [_norm(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            reqs = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [_norm(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in reqs if ";" not in r]
    return seen


def test_runtime_dependencies_cover_what_notebooks_and_nnlib_import():
    """Colab gets only DEPENDENCIAS: everything nnlib and the student notebooks import at top
    level must come from one of them."""
    sources = []
    for f in os.listdir(os.path.join(ROOT, "nnlib")):
        if f.endswith(".py"):
            sources.append(open(os.path.join(ROOT, "nnlib", f), encoding="utf-8").read())
    for repo_path in NOTEBOOKS:
        nb = nbformat.read(os.path.join(ROOT, repo_path), as_version=4)
        for c in nb.cells:
            if c.cell_type == "code":
                sources.append("\n".join(l for l in c.source.splitlines()
                                         if not l.lstrip().startswith(("%", "!"))))
    mods = _third_party_imports(sources)
    assert {"numpy", "matplotlib"} <= mods
    dists = packages_distributions()
    allowed = _with_requirements(DEPS)  # e.g. threadpoolctl comes with scikit-learn
    for m in sorted(mods):
        assert {_norm(d) for d in dists.get(m, [m])} & allowed, \
            f"{m} is imported but its distribution is not in {DEPS}"
    assert not {_norm(t) for t in colab.COURSE_TOOLS} & {_norm(d) for d in DEPS}


def test_readme_lists_notebooks():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert colab.readme_section() in readme, \
        "README.md's notebook list is missing or stale: paste `python -m course.release.colab --readme`"


def test_readme_section_lists_every_student_notebook():
    text = colab.readme_section()
    for repo_path in NOTEBOOKS:
        assert f"]({repo_path})" in text and colab.colab_url(repo_path, URL) in text


def test_binder_configuration():
    runtime = open(os.path.join(ROOT, "binder", "runtime.txt")).read().strip()
    m = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert m, runtime
    requires = tomllib.load(open(os.path.join(ROOT, "pyproject.toml"), "rb"))["project"][
        "requires-python"]
    low = tuple(int(x) for x in re.search(r">=\s*(\d+)\.(\d+)", requires).groups())
    assert (int(m.group(1)), int(m.group(2))) >= low
    post = os.path.join(ROOT, "binder", "postBuild")
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = open(post).read()
    # the course with the optional torch extra, PyTorch's CPU wheels from PyTorch's index
    assert re.search(r'^python -m pip install --no-cache-dir "\.\[torch\]" '
                     r'--extra-index-url "\$TORCH_CPU_INDEX"$', text, re.M)
    assert re.search(r"^TORCH_CPU_INDEX=https://download\.pytorch\.org/whl/cpu$", text, re.M)
    assert subprocess.run(["bash", "-n", post]).returncode == 0
