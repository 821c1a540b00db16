"""What a user does with stored runs: list them (``runs``), mark an answer correct or wrong
(``mark``; the summary of ``show`` reports ``answer_node`` and ``marks``; a marked answer counts as
verified in experiments and exports), and load demo sessions (``demo``)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning.engine import run_search
from reasoning.export import export_trees
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import SOLVED, fold
from runner import experiments as exp
from runner.demo import check_demo, load_demo, read_demo, run_record, write_demo
from runner.marks import can_mark, mark_node
from storage import reopen
from tests.helpers import new_run, pick_by_seed, pick_first

ROOT = Path(__file__).resolve().parents[1]
FREE_REPLIES = ["Water makes things wet.", "Answer: yes"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def last_json(p: subprocess.CompletedProcess) -> dict:
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def stored(store, task: str, problem: str, strategy: str, model, params=None, seed=0) -> int:
    t = get_task(task)
    prob = t.resolve_problem(problem)
    s = make_strategy(strategy, params or {})
    run_id = new_run(store, task=task, problem=prob.text, problem_id=prob.id, strategy=strategy,
                              params=s.params(), model={"kind": "scripted"}, budget={}, seed=seed)
    run_search(s, t, prob, model, run_id=run_id, budget=Budget(max_nodes=60), seed=seed,
               sink=reopen(store, run_id))
    return run_id


def free_run(store) -> int:
    return stored(store, "free", "Is water wet?", "greedy", ScriptedModel(list(FREE_REPLIES)))


# -- runs -----------------------------------------------------------------------------------------
def test_runs_lists_one_json_line_per_run(store, db_path):
    a = stored(store, "game24", "4 5 6 10", "greedy", ScriptedModel(pick_first))
    b = free_run(store)
    lines = [json.loads(x) for x in cli("runs", "--db", db_path).stdout.splitlines()]
    assert [x["run_id"] for x in lines] == [b, a]               # newest first
    row = store.get_run(a)
    assert lines[1] == {"run_id": a, "task": "game24", "problem": "4 5 6 10", "strategy": "greedy",
                        "outcome": row["outcome"], "nodes": row["nodes"], "tokens": row["tokens"],
                        "created": lines[1]["created"]}
    assert lines[1]["created"].endswith("Z") and lines[0]["outcome"] == "answered"
    assert [json.loads(x)["run_id"] for x in cli("runs", "--limit", "1", "--db", db_path)
            .stdout.splitlines()] == [b]


# -- marks -----------------------------------------------------------------------------------------
def test_cli_mark_answer_node_and_show_reports_it(store, db_path):
    run_id = free_run(store)
    shown = last_json(cli("show", str(run_id), "--db", db_path))
    answer = shown["answer_node"]
    assert shown["outcome"] == "answered" and answer is not None and shown["marks"] == {}
    out = last_json(cli("mark", str(run_id), str(answer), "correct", "--db", db_path))
    assert out == {"run_id": run_id, "node_id": answer, "mark": "correct", "outcome": "solved"}
    shown = last_json(cli("show", str(run_id), "--db", db_path))
    assert shown["marks"] == {str(answer): "correct"} and shown["outcome"] == "solved"
    # a change of mind settles the other way
    assert last_json(cli("mark", str(run_id), str(answer), "wrong", "--db", db_path))["outcome"] == "failed"


def test_cli_mark_refuses_a_node_without_an_answer(store, db_path):
    run_id = free_run(store)
    p = cli("mark", str(run_id), "1", "correct", "--db", db_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("error: node 1 is not a terminal node with an answer")
    assert store.get_run(run_id)["outcome"] == "answered" and p.stdout == ""


def test_can_mark_only_answer_nodes_of_finished_runs(store):
    tree = fold(store.events(free_run(store)))
    assert can_mark(tree, tree.answer_node)
    assert not can_mark(tree, tree.root_id) and not can_mark(tree, 1) and not can_mark(tree, None)
    tree.outcome = None                          # a run still going: nothing to mark yet
    assert not can_mark(tree, tree.answer_node)


def test_marked_answers_count_as_verified_in_experiments_and_exports(store):
    config = exp.ExperimentConfig(task="free", problems="1-2", strategies="greedy",
                                  budgets="500", seeds="0")
    eid = exp.create_experiment(config, store)
    exp.run_experiment(eid, store, model_factory=lambda: ScriptedModel(list(FREE_REPLIES)))
    runs = sorted(store.list_runs(experiment_id=eid), key=lambda r: r["id"])
    assert [r["outcome"] for r in runs] == ["answered", "answered"]
    assert exp.results(store, eid)[0].solved == 0
    trees = [fold(store.events(r["id"])) for r in runs]
    assert export_trees("traces", trees).rows == []               # nothing verified yet
    mark_node(store, runs[0]["id"], trees[0].answer_node, "correct")
    mark_node(store, runs[1]["id"], trees[1].answer_node, "wrong")
    row = exp.results(store, eid)[0]
    assert (row.solved, row.total) == (1, 2)
    trees = [fold(store.events(r["id"])) for r in runs]
    traces = export_trees("traces", trees).rows
    assert [t["run_id"] for t in traces] == [runs[0]["id"]]        # the marked-correct run only


# -- demo sessions ------------------------------------------------------------------------------------
def test_demo_records_load_and_replay_identically(store, tmp_path):
    a = stored(store, "game24", "4 5 6 10", "greedy", ScriptedModel(pick_first))
    b = stored(store, "game24", "4 5 6 10", "mcts", ScriptedModel(pick_by_seed),
               {"simulations": 8, "width": 3}, seed=2)
    c = free_run(store)
    mark_node(store, c, fold(store.events(c)).answer_node, "correct")
    path = write_demo([{"kind": "experiment", "key": "e1", "name": "demo x",
                        "config": exp.ExperimentConfig(problems="950").to_dict()},
                       run_record(store, a, "greedy"), run_record(store, b, "mcts", "e1"),
                       run_record(store, c, "marked")], tmp_path / "demo.jsonl")
    from storage import open_store
    other = open_store(str(tmp_path / "fresh.db"))
    made = load_demo(other, path)
    assert [r["note"] for r in made["runs"]] == ["greedy", "mcts", "marked"]
    for old, new in zip((a, b, c), (r["run_id"] for r in made["runs"]), strict=True):
        before, after = store.events(old), other.events(new)
        assert [(e.seq, e.t, e.type, e.node_id, e.payload) for e in before] == \
            [(e.seq, e.t, e.type, e.node_id, e.payload) for e in after]
        rb, ra = store.get_run(old), other.get_run(new)
        for k in ("task", "problem", "strategy", "outcome", "answer", "nodes", "tokens", "status"):
            assert rb[k] == ra[k], k
    assert other.get_run(made["runs"][2]["run_id"])["outcome"] == "solved"   # the mark settles it
    (eid,) = made["experiments"]
    assert [r["id"] for r in other.list_runs(experiment_id=eid)] == [made["runs"][1]["run_id"]]


def test_demo_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "d.jsonl"
    bad.write_text('{"kind": "run", "events": []}\nnot json\n')
    with pytest.raises(ValueError, match=r"d.jsonl:2: not JSON"):
        read_demo(bad)


# -- the bundled demo sessions (recorded from the embedded model by scripts/record_demo.py) ---------
def test_bundled_demo_has_what_the_readme_promises(tmp_path):
    """The bundled file passes the recording's own check (MCTS of a few hundred nodes, a beam
    that prunes, a DFS that backtracks, best-of-N, ToT, the 6-queens Trace run, a 10 x 3
    experiment, real prompt tokens, the machine facts) and loads as that into a database."""
    assert check_demo(read_demo()) == []
    db = str(tmp_path / "demo.db")
    made = last_json(cli("demo", "--db", db))
    from storage import open_store
    store = open_store(db)
    runs = {r["id"]: r for r in store.list_runs(limit=1000)}
    assert sorted(runs) == sorted(made["runs"]) and len(made["experiments"]) == 1
    trees = {i: fold(store.events(i)) for i in runs}
    kinds = {runs[i]["strategy"] for i in runs}
    assert {"greedy", "best_of_n", "beam", "dfs", "mcts"} <= kinds
    for i in runs:     # every run finished; the model runs on the embedded model's own tokens
        assert runs[i]["status"] == "finished" and trees[i].nodes
        if trees[i].info["model"].get("kind") == "embedded":
            assert trees[i].tokens > 0 and trees[i].finished.get("prompt_tokens", 0) > 0
    greedy = [runs[i] for i in made["runs"] if runs[i]["strategy"] == "greedy"
              and runs[i]["experiment_id"] is None]
    assert greedy and greedy[0]["outcome"] == "failed"    # the shortcut fails the demo's puzzle
    (eid,) = made["experiments"]
    cells = store.list_runs(experiment_id=eid, limit=1000)
    assert len(cells) >= 30 and all(exp.is_finished(r) for r in cells)
    assert sum(r.total for r in exp.results(store, eid)) == len(cells)
    listed = [json.loads(x)["run_id"] for x in cli("runs", "--db", db).stdout.splitlines()]
    assert sorted(listed) == sorted(runs)
    assert any(n.state == SOLVED for t in trees.values() for n in t.nodes.values())


def test_the_database_is_named_as_a_user_would(tmp_path, monkeypatch):
    """The sidebar's "Database:" line: no machine paths for a file where the app was started,
    never a password."""
    from storage.db import display_url, to_url
    monkeypatch.chdir(tmp_path)
    assert display_url(to_url("thinktree.db")) == "thinktree.db"
    assert display_url(to_url("runs/a.db")) == "runs/a.db"
    assert display_url(to_url("/elsewhere/b.db")) == "/elsewhere/b.db"
    shown = display_url("postgresql+psycopg://tt:s3cret@db.example/thinktree")
    assert "s3cret" not in shown and shown.endswith("@db.example/thinktree")
