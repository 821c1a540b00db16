"""``cli.py show`` in a process of its own knows a plug-in strategy's declared figures: the CLI
loads the plug-ins at start-up (``reasoning.plugins.ensure`` in ``runner/cli``), so a run of
``examples/plugins/restarts.py`` shows its figures as declared (declaration order, the declared
meaning and label reachable), not as undeclared metrics sorted by name."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "examples" / "plugins"
DECLARED = ["tries", "first_try", "chain_depths"]      # Restarts.figures, in order


def cli(tmp_path: Path, *args: str, plugin_path: str | None = str(PLUGINS)) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "THINKTREE_PLUGIN_PATH"}
    if plugin_path is not None:
        env["THINKTREE_PLUGIN_PATH"] = plugin_path
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def restarts_run(tmp_path, monkeypatch) -> tuple[str, int, dict]:
    """A run of the plug-in recorded in this process (so only ``show`` runs in a new one)."""
    from reasoning import plugins as loader
    from reasoning.models.config import ModelConfig
    from reasoning.tree import fold
    from runner.run import RunSpec, execute
    from storage import open_store
    monkeypatch.setenv("THINKTREE_PLUGIN_PATH", str(PLUGINS))
    assert loader.ensure(reload=True) == []
    db = str(tmp_path / "t.db")
    store = open_store(db)
    rid, result = execute(RunSpec(task="game24", problem="1 1 1 1", strategy="restarts",
                                  params={"tries": 3}, seed=2, model=ModelConfig(kind="random")),
                          store)
    metrics = fold(store.events(rid)).finished["metrics"]
    monkeypatch.delenv("THINKTREE_PLUGIN_PATH")
    loader.ensure(reload=True)
    yield db, rid, metrics


def test_show_in_a_new_process_lists_a_plugins_declared_figures(tmp_path, restarts_run):
    db, rid, metrics = restarts_run
    assert metrics["tries"] == 3 and metrics["first_try"] is False   # unsolvable: 3 chains
    shown = cli(tmp_path, "show", str(rid), "--db", db)
    assert list(shown["metrics"]) == DECLARED                # declared, in declaration order
    assert shown["metrics"] == metrics
    # without the plug-in the figures still show, undeclared: by name
    bare = cli(tmp_path, "show", str(rid), "--db", db, plugin_path="")
    assert list(bare["metrics"]) == sorted(DECLARED) and bare["metrics"] == metrics


def test_a_new_process_that_loads_the_plugins_finds_the_declared_labels():
    """The labels the run summary and the experiment tables print (the CLI line names figures
    by ``name``; a new process finds their labels after ``plugins.ensure()``, as the CLI does)."""
    code = ("from reasoning import plugins; plugins.ensure(); "
            "from reasoning.strategies import figures_for; "
            "print({f.name: f.label for f in figures_for('restarts', {})})")
    env = {**os.environ, "THINKTREE_PLUGIN_PATH": str(PLUGINS)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    assert "'tries': 'mean tries'" in out and "'first_try': 'solved by the first chain'" in out
