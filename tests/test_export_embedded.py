"""Exports from real MCTS runs on the embedded model: all three files are valid JSONL with the
required fields, and missing rollouts are drawn on the real model (library and CLI)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning.events import Event
from reasoning.export import KINDS, compute_rollouts, nodes_needing_rollouts, values_from_tree
from reasoning.models.config import ModelConfig
from reasoning.tasks import get_task
from reasoning.tree import fold
from runner import RunSpec, execute
from runner.export import export_to_files, val_path
from storage import reopen
from tests.helpers import new_run
from tests.invariants import check_run

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "pairs": {"prompt", "chosen", "rejected", "run_id", "problem_id", "chosen_node",
              "rejected_node", "rejected_reason", "chosen_scores", "rejected_scores"},
    "values": {"prompt", "step", "soft", "hard", "n", "correct", "run_id", "problem_id", "node"},
    "traces": {"prompt", "completion", "steps", "answer", "run_id", "problem_id"},
}

pytestmark = [pytest.mark.embedded, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def db_file(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("export") / "thinktree-test.db")


@pytest.fixture
def store(db_file):
    from storage import open_store
    return open_store(db_file)


@pytest.fixture(scope="module")
def mcts_runs(embedded_url, db_file):
    """Two small MCTS runs, made once for this module."""
    from storage import open_store
    store = open_store(db_file)
    ids, outcomes = [], {}
    for puzzle in ("4 4 6 8", "1 1 4 6"):
        rid, result = execute(RunSpec(task="game24", problem=puzzle, strategy="mcts",
                                      params={"simulations": 6}, seed=1), store)
        assert result.outcome in ("solved", "failed"), result
        task = get_task("game24")   # legal steps, verified answers, events that fold to totals
        check_run(task, task.resolve_problem(puzzle), store.events(rid))
        ids.append(rid)
        outcomes[rid] = result.outcome
    return ids, outcomes


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] \
        if path.exists() else []


def test_all_three_exports_are_valid_jsonl(mcts_runs, store, tmp_path):
    ids, outcomes = mcts_runs
    for kind in KINDS:
        out = tmp_path / f"{kind}.jsonl"
        counts = export_to_files(store, kind, ids, out, split=0.5)
        rows = read_jsonl(out) + read_jsonl(val_path(out))
        assert len(rows) == counts["rows"] == counts["train"] + counts["val"]
        for r in rows:
            assert REQUIRED[kind] <= set(r), (kind, set(REQUIRED[kind]) - set(r))
            assert isinstance(r["prompt"], str) and r["prompt"].startswith("Use the numbers")
        # every run either gave rows or is explained
        assert counts["runs_with_rows"] + sum(counts["reasons"].values()) >= counts["runs"] == 2
        if kind == "values":
            assert rows, "MCTS rollouts always give outcomes below the expanded steps"
            assert all(0 <= r["soft"] <= 1 and r["hard"] in (0, 1) and r["n"] >= 1 for r in rows)
        if kind == "traces":
            assert counts["rows"] == sum(o == "solved" for o in outcomes.values())
            for r in rows:
                assert r["completion"].endswith("= 24") and len(r["steps"]) == 3


def test_missing_rollouts_are_drawn_on_the_embedded_model(mcts_runs, store, embedded_model,
                                                          db_file, tmp_path):
    """Cut a real run just after its first step was written (before its rollout): that step has
    no outcome below it; draw 2 rollouts for it in the library, then 1 through the CLI."""
    events = store.events(mcts_runs[0][0])
    tree = fold(events)
    first = min(n.id for n in tree.nodes.values() if n.role == "thought" and n.step)
    cut = next(i for i, e in enumerate(events) if e.type == "node_completed" and e.node_id == first)
    prefix = events[:cut + 1]
    short = fold(prefix)
    assert nodes_needing_rollouts(short) == [first]
    new = compute_rollouts(short, prefix, embedded_model, 2)
    full = fold(prefix + new)
    kids = [full.nodes[c] for c in full.nodes[first].children]
    assert [k.role for k in kids] == ["rollout", "rollout"]
    assert all(k.state in ("solved", "failed") for k in kids)
    row = next(r for r in values_from_tree(full)[0] if r["node"] == first)
    assert row["n"] == 2 and row["soft"] in (0.0, 0.5, 1.0)

    rid = new_run(store, task="game24", problem=tree.info["problem"],
                           problem_id=tree.info["problem_id"], strategy="mcts", params={},
                           model=ModelConfig().describe(), budget={}, seed=1)
    reopen(store, rid).append([Event(rid, e.seq, e.t, e.type, e.node_id, e.payload) for e in prefix])
    out = tmp_path / "values.jsonl"
    p = subprocess.run([sys.executable, "cli.py", "export", "values", "--runs", str(rid), "--out",
                        str(out), "--compute-rollouts", "1", "--db", db_file], cwd=ROOT,
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    counts = json.loads(p.stdout.strip().splitlines()[-1])
    assert counts["rollouts"]["estimate"]["nodes"] == 1
    assert counts["rollouts"]["rollout_nodes"] == 1 and counts["rows"] >= 1
    assert "drawing rollouts: 1 rollouts for 1 steps" in p.stderr
    rows = read_jsonl(out)
    assert next(r for r in rows if r["node"] == first)["n"] == 1
    # stored in the run: a second export needs no model
    assert nodes_needing_rollouts(fold(store.events(rid))) == []
