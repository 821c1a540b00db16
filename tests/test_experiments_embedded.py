"""Experiments and compare end to end on the REAL embedded model server and a real SQLite file."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning import events as ev
from reasoning.compare import compare
from reasoning.tasks import get_task
from reasoning.tree import GENERATING, fold
from runner import experiments as exp
from storage import experiments as repo
from tests.invariants import check_run

pytestmark = pytest.mark.embedded
ROOT = Path(__file__).resolve().parents[1]


def test_small_experiment_end_to_end(embedded_url, store):
    """2 problems × (greedy, MCTS with 3 simulations) × 1 token budget, the default model path.

    Experiment cells run anytime by default (MCTS would then spend the whole budget); the
    label's anytime=false keeps the 3 simulations this test is about."""
    config = exp.ExperimentConfig(problems="901-902", strategies="greedy,mcts:simulations=3,anytime=false",
                                  budgets="1500", seeds="0")
    eid = exp.create_experiment(config, store)
    seen = []
    done = exp.run_experiment(eid, store, progress=seen.append)
    assert done.status == "finished" and (done.done, done.total) == (4, 4)
    assert seen[-1].done == 4 and any(p.current for p in seen)
    runs = repo.cell_runs(store, eid)
    assert len(runs) == 4 and all(exp.is_finished(r) for r in runs)
    assert sorted(r["cell_key"] for r in runs) == sorted(c.key for c in exp.cells(config))
    for r in runs:   # every cell is an ordinary, replayable run on the embedded model
        tree = fold(store.events(r["id"]))
        assert tree.info["model"]["kind"] == "embedded" and tree.info["budget"]["max_tokens"] == 1500
        assert tree.outcome == r["outcome"] and tree.tokens == r["tokens"] > 0
        assert all(n.state != GENERATING for n in tree.nodes.values())
        task = get_task("game24")   # legal steps, verified answers, events that fold to totals
        check_run(task, task.resolve_problem(tree.info["problem"]), store.events(r["id"]))
    rows = exp.results(store, eid)
    assert [(r.strategy, r.total) for r in rows] == [("greedy", 2), ("mcts:anytime=false,simulations=3", 2)]
    greedy_runs = [r for r in runs if r["strategy"] == "greedy"]
    assert rows[0].solved == sum(r["outcome"] == "solved" for r in greedy_runs)
    assert rows[0].mean_tokens == pytest.approx(sum(r["tokens"] for r in greedy_runs) / 2, abs=1e-3)
    curve = exp.curve_points(rows)
    assert [(p["x"], p["y"]) for p in curve["greedy"]] == [(rows[0].mean_tokens, rows[0].rate)]
    # compare the two runs of problem 901: the greedy run is the shortcut in either order
    g, m = (fold(store.events(r["id"])) for r in runs[:2])
    out = compare(m, g)
    assert out["shortcut_run"] == runs[0]["id"] and out["runs"][1]["strategy"] == "greedy"
    assert out["runs"][1]["model_calls"] >= 1
    assert isinstance(out["divergence"]["found"], bool)


def _cli(*args, db):
    env = dict(os.environ)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args, "--db", db],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)


def test_cli_experiment_resume_and_compare(embedded_url, db_path):
    p = _cli("experiment", "--problems", "903", "--strategies", "greedy,mcts:simulations=2,anytime=false",
             "--budgets", "800", db=db_path)
    assert p.returncode == 0, p.stderr
    line = json.loads(p.stdout.strip().splitlines()[-1])
    assert line["cells"] == 2 and {r["strategy"] for r in line["results"]} == {"greedy", "mcts:anytime=false,simulations=2"}
    assert all(set(r) >= {"strategy", "budget", "solved", "total", "mean_tokens", "mean_seconds"}
               for r in line["results"])
    assert all(r["budget"] == 800 and r["total"] == 1 for r in line["results"])
    assert "2/2" in p.stderr    # the progress bar
    eid = line["experiment_id"]
    # resume: nothing left to run, the same figures
    again = _cli("experiment", "--resume", str(eid), db=db_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1]) == line
    from storage import open_store
    store = open_store(db_path)
    runs = repo.cell_runs(store, eid)
    assert len(runs) == 2
    # compare the two runs
    c = _cli("compare", str(runs[0]["id"]), str(runs[1]["id"]), db=db_path)
    assert c.returncode == 0, c.stderr
    out = json.loads(c.stdout.strip().splitlines()[-1])
    assert [r["run_id"] for r in out["runs"]] == [runs[0]["id"], runs[1]["id"]]
    assert out["runs"][0]["completion_tokens"] == runs[0]["tokens"]
    assert "divergence" in c.stderr and "reason" in out["divergence"]
    events = store.events(runs[1]["id"])
    assert events[-1].type == ev.RUN_FINISHED
    bad = _cli("compare", str(runs[0]["id"]), "99999", db=db_path)
    assert bad.returncode == 2 and "no run 99999" in bad.stderr and "Traceback" not in bad.stderr
