"""The demo recording's refusal rule (:func:`runner.demo.check_demo`) on synthetic records, one
missing piece at a time, and ``cli.py demo`` loading a file that carries an experiment and a
``Trace`` run (no model: scripted runs and the 6-queens example)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning.models.scripted import ScriptedModel
from reasoning.tree import fold
from runner import RunSpec, execute
from runner import experiments as exp
from runner.demo import FULL, QUICK, check_demo, run_record, write_demo
from storage import open_store
from tests.helpers import pick_first

ROOT = Path(__file__).resolve().parents[1]
MACHINE = {"cpu_count": 2, "load_start": 0.1, "load_end": 1.9, "llama_cpp": "0.3.36", "n_threads": 2}


def record(strategy: str, nodes: int = 3, *, pruned: bool = False, backtracked: bool = False,
           prompt_tokens: int = 100, kind: str = "embedded", params: dict | None = None,
           protocol: str | None = "constrained", experiment: str | None = None,
           problem_id: str = "1", note: str = "x", machine: dict | None = MACHINE) -> dict:
    """A demo record of a run with ``nodes`` nodes in a chain (the last one pruned / backtracked
    when asked)."""
    model = {"name": "m", "kind": kind, **({"machine": dict(machine)} if machine else {})}
    events = [[1, 0.0, "run_started", None, {"task": "game24", "problem": "1 1 4 6",
                                             "problem_id": problem_id, "strategy": strategy,
                                             "params": params or {}, "model": model,
                                             "protocol": protocol}]]
    for i in range(nodes):
        events.append([len(events) + 1, 0.1, "node_created", i,
                       {"parent_id": i - 1 if i else None, "depth": i, "role": "thought"}])
        events.append([len(events) + 1, 0.1, "node_completed", i, {"text": f"step {i}"}])
    if pruned:
        events.append([len(events) + 1, 0.2, "node_pruned", nodes - 1, {"reason": "outside beam"}])
    if backtracked:
        events.append([len(events) + 1, 0.2, "node_backtracked", nodes - 1, {"reason": "dead end"}])
    events.append([len(events) + 1, 0.3, "run_finished", None,
                   {"outcome": "failed", "nodes": nodes, "tokens": 10, "prompt_tokens": prompt_tokens}])
    return {"kind": "run", "note": note, "experiment": experiment, "cell_key": None, "events": events}


def complete() -> list[dict]:
    value = {"evaluator": "value_prompt"}
    recs = [{"kind": "experiment", "key": "e1", "name": "e", "config": {}}]
    recs += [record(s, experiment="e1", problem_id=str(p)) for p in range(1, 11)
             for s in ("greedy", "best_of_n", "mcts")]
    recs += [record("greedy"), record("best_of_n"),
             record("beam", pruned=True, params=value), record("dfs", backtracked=True, params=value),
             record("beam", protocol="tot", params=value), record("mcts", 200, params=value),
             record("backtracking (Trace)", kind="external", protocol=None, prompt_tokens=0)]
    return recs


def test_a_complete_set_passes_and_the_bundled_old_file_is_refused():
    assert check_demo(complete()) == []
    from runner.demo import read_demo
    assert check_demo(read_demo()) == []          # the bundled file, recorded 2026-12-02
    # the file it replaced (recorded 2026-12-01 on a loaded machine) is refused on every point
    old = "\n".join(check_demo(read_demo(Path(__file__).parent / "fixtures" / "demo_2026-12-01.jsonl")))
    for what in ("0 prompt tokens", "no machine facts", "scored by the oracle", "at least 200 nodes",
                 "best-of-N", "--protocol tot", "Trace run", "10 puzzles × 3 strategies"):
        assert what in old, what


def _without(recs: list[dict], pred) -> list[dict]:
    return [r for r in recs if not (r["kind"] == "run" and pred(r["events"][0][4], r))]


def _strategy(name: str):
    return lambda start, rec: start["strategy"] == name and not rec["experiment"]


@pytest.mark.parametrize("change, named", [
    (lambda r: _without(r, _strategy("mcts")) + [record("mcts", 199)], "MCTS run with at least 200"),
    (lambda r: _without(r, lambda s, rec: s["strategy"] == "beam" and s["protocol"] != "tot")
     + [record("beam")], "a beam run that pruned"),
    (lambda r: _without(r, _strategy("dfs")) + [record("dfs")], "a DFS run that backtracked"),
    (lambda r: _without(r, lambda s, rec: rec["experiment"] and s["problem_id"] == "10"),
     "experiment of at least 10 puzzles × 3 strategies (largest: 9 × 3)"),
    (lambda r: _without(r, lambda s, rec: rec["experiment"] and s["strategy"] == "mcts"),
     "(largest: 10 × 2)"),
    (lambda r: r + [record("greedy", prompt_tokens=0, note="zero")], "'zero'): 0 prompt tokens"),
    (lambda r: r + [record("greedy", machine=None, note="bare")], "no machine facts (cpu_count"),
    (lambda r: r + [record("greedy", machine={**MACHINE, "load_end": None}, note="half")],
     "no machine facts (load_end)"),
    (lambda r: _without(r, _strategy("best_of_n")), "a best-of-N run"),
    (lambda r: _without(r, lambda s, rec: s["protocol"] == "tot"), "a --protocol tot run"),
    (lambda r: _without(r, lambda s, rec: s["model"]["kind"] == "external"), "a Trace run"),
    (lambda r: r + [record("beam", pruned=True, params={"evaluator": "oracle"}, note="o")],
     "scored by the oracle, not the model"),
])
def test_each_missing_piece_is_named(change, named):
    missing = check_demo(change(copy.deepcopy(complete())))
    assert len(missing) == 1 and named in missing[0], missing


def test_a_labelled_baseline_may_use_the_oracle_and_quick_asks_less():
    recs = complete() + [record("beam", params={"evaluator": "oracle"}, note="oracle baseline")]
    assert check_demo(recs) == []
    small = _without(complete(), lambda s, rec: rec["experiment"] and s["problem_id"] != "1")
    small = _without(small, _strategy("mcts")) + [record("mcts", 3)]
    small = _without(small, _strategy("dfs")) + [record("dfs")]
    assert check_demo(small, QUICK) == [] and len(check_demo(small, FULL)) == 3


def test_cli_demo_loads_an_experiment_and_a_trace_run(tmp_path, monkeypatch):
    src = open_store(str(tmp_path / "src.db"))
    config = exp.ExperimentConfig(problems="1,2", strategies="greedy,best_of_n:n=2",
                                  budgets="200", name="demo x")
    eid = exp.create_experiment(config, src)
    exp.run_experiment(eid, src, model_factory=lambda: ScriptedModel(pick_first))
    execute(RunSpec(task="game24", problem="1", strategy="greedy"), src, model=ScriptedModel(pick_first))
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import trace_queens

    from thinktree import Trace
    with Trace(db=str(tmp_path / "src.db"), task="6-queens", problem="6 queens",
               strategy="backtracking (Trace)") as t:
        trace_queens.search(t, t.root("an empty 6x6 board", label="6x6 board"), [], 6, 0.0)
    cells = sorted(r["id"] for r in src.list_runs(experiment_id=eid))
    assert len(cells) == 4
    recs = [{"kind": "experiment", "key": "e1", "name": config.name, "config": config.to_dict()}]
    recs += [run_record(src, i, f"cell {i}", "e1") for i in cells]
    recs += [run_record(src, t.run_id, "queens")]
    path = write_demo(recs, tmp_path / "demo.jsonl")
    db = str(tmp_path / "fresh.db")
    p = subprocess.run([sys.executable, "cli.py", "demo", "--db", db, "--file", str(path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    made = json.loads(p.stdout.strip().splitlines()[-1])
    store = open_store(db)
    (new_eid,) = made["experiments"]
    assert store.experiments.get(new_eid)["name"] == "demo x"
    loaded = store.list_runs(experiment_id=new_eid)
    assert len(loaded) == 4 and all(exp.is_finished(r) for r in loaded)
    assert sum(r.total for r in exp.results(store, new_eid)) == 4
    queens = [r for r in store.list_runs() if r["task"] == "6-queens"]
    assert len(queens) == 1 and queens[0]["outcome"] == "solved"
    tree = fold(store.events(queens[0]["id"]))
    assert tree.counts()["backtracked"] > 0 and tree.info["model"]["kind"] == "external"
