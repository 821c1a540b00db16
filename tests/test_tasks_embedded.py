"""Every task on the real embedded model: one greedy run each reaches a terminal outcome, and the
example plug-in runs end to end with greedy and MCTS (loaded from its folder, as a user would)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning.tree import fold
from runner import RunSpec, execute
from tests.invariants import check_run

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.embedded, pytest.mark.timeout(600)]


@pytest.fixture
def with_example_plugin(monkeypatch):
    from reasoning import plugins
    monkeypatch.setenv("THINKTREE_TASK_PATH", str(ROOT / "examples" / "tasks"))
    assert plugins.ensure(reload=True) == []
    yield
    monkeypatch.delenv("THINKTREE_TASK_PATH")
    plugins.ensure(reload=True)


def terminal_nodes(events):
    return [e.node_id for e in events if e.type == "node_completed" and e.payload.get("terminal")]


def run(store, **kw):
    # no tight time limit: on a loaded machine a 3-step greedy run took over 240 s (load 20 on
    # two cores), and a time limit must not decide these tests (the test timeout guards hangs)
    spec = RunSpec(strategy=kw.pop("strategy", "greedy"), params=kw.pop("params", {}),
                   budget={"max_nodes": 40, "max_seconds": 590}, **kw)
    run_id, result = execute(spec, store)
    events = store.events(run_id)
    # what holds on any build (tests/invariants.py): every step parses from its text in its
    # parent's state (and is legal where the task lists legal steps), every answer is the task's
    # verdict on the replayed state, the events fold to the run's totals, budgets hold
    task, problem, _, _ = spec.prepare()
    check_run(task, problem, events, budget=spec.budget)
    return run_id, result, events


# The answers are the model's free text, which differs by llama.cpp build, CPU and BLAS (a
# fresh install answered 4 5 6 10 differently, issue 23); even on one server free text at T=0 is
# not bit-stable across llama.cpp's prompt cache (math measured "1/6" and "1"). So no answer is
# pinned: the run ends on one terminal node, which the task's own verifier judged. Where the
# steps are free text (gsm8k, math) the chain may also run into the depth limit before the model
# writes an answer (a fresh build on 2026-12-02 did on gsm8k problem 2): then it fails, says so,
# and has no terminal node. Game of 24's grammar ends every chain on an answer after three steps.
@pytest.mark.parametrize("task,problem,outcomes,may_run_out", [
    ("game24", "4 5 6 10", {"solved", "failed"}, False),
    ("gsm8k", "2", {"solved", "failed"}, True),
    ("math", "1", {"solved", "failed"}, True),
    ("free", "What is the capital of France?", {"answered"}, False),
])
def test_greedy_reaches_a_terminal_outcome(embedded_url, store, task, problem, outcomes, may_run_out):
    run_id, result, events = run(store, task=task, problem=problem)
    assert result.outcome in outcomes, result.detail
    row = store.get_run(run_id)
    if result.answer_node is None and may_run_out:
        assert result.outcome == "failed" and result.detail == "depth limit reached without an answer"
        assert terminal_nodes(events) == [] and not result.answer
        assert row["outcome"] == "failed"
        return
    assert terminal_nodes(events) == [result.answer_node]
    assert result.answer
    assert row["outcome"] == result.outcome and row["answer"] == result.answer
    tree = fold(events)
    assert tree.nodes[result.answer_node].state == {"solved": "solved", "failed": "failed",
                                                    "answered": "open"}[result.outcome]


def test_greedy_on_a_task_file(embedded_url, store, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"question": "What is 6 times 7?", "answer": 42,
                                "checker": "numeric"}) + "\n")
    run_id, result, events = run(store, task="jsonl", problem="1", task_file=str(path))
    assert result.outcome in ("solved", "failed"), result.detail
    assert terminal_nodes(events) == [result.answer_node]
    # (run() checked that the file's numeric checker judged the answer the run reports)
    assert events[0].payload["task_file"] == str(path)


def test_example_plugin_greedy_and_mcts(embedded_url, store, with_example_plugin):
    _, result, events = run(store, task="countdown3", problem="1")
    assert result.outcome in ("solved", "failed"), result.detail
    assert len(terminal_nodes(events)) == 1       # constrained: two legal steps, then the end
    tree = fold(events)
    assert len(tree.nodes) == 3 and result.answer == tree.nodes[result.answer_node].answer
    # not asserted: the same chain twice. At T=0 the server is not bit-stable between calls
    # (a reused prompt cache shifts near-tied logits): CI saw 7 * 8 = 56 one call, 8 - 7 = 1 the
    # next. That greedy asks for T=0 is checked with the scripted model (test_search_spine).
    _, result, events = run(store, task="countdown3", problem="3 5 7 -> 22", strategy="mcts",
                            params={"simulations": 6, "width": 2})
    assert result.outcome in ("solved", "failed"), result.detail
    tree = fold(events)
    assert any(e.type == "mcts_backprop" for e in events)
    assert terminal_nodes(events)                 # rollouts or expansions reached the end
    if result.outcome == "solved":
        assert tree.nodes[result.answer_node].state == "solved"


def test_cli_runs_a_plugin_task(embedded_url, tmp_path, with_example_plugin):
    env = {"THINKTREE_TASK_PATH": str(ROOT / "examples" / "tasks"),
           "THINKTREE_EMBEDDED_URL": embedded_url, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "--task", "countdown3",
                          "--problem", "2", "--db", str(tmp_path / "p.db"), "--quiet"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["outcome"] in ("solved", "failed") and summary["nodes"] == 3
    # the summary is the stored run's, and that run is two legal steps the plug-in verified
    from storage import open_store
    events = open_store(str(tmp_path / "p.db")).events(summary["run_id"])
    task, problem, _, _ = RunSpec(task="countdown3", problem="2", strategy="greedy").prepare()
    tree = check_run(task, problem, events)
    assert (summary["outcome"], summary["answer"]) == (tree.outcome, tree.answer)
    assert summary["answer"] == tree.nodes[tree.answer_node].answer
