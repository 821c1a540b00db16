"""End to end on the REAL embedded model server into a real SQLite file."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning.tree import GENERATING, SOLVED, fold
from runner import RunSpec, execute
from tests.invariants import check_run

pytestmark = pytest.mark.embedded
ROOT = Path(__file__).resolve().parents[1]
# What the model writes differs by llama.cpp build, CPU and BLAS (issue 23: another build's
# greedy answer to 4 5 6 10 was a different wrong one), so these tests assert what holds on every
# build (tests/invariants.py): legal steps, a terminal outcome the task's verifier agrees with,
# events that fold to the tree, the same tree twice in one process, never the model's text.


def _task_problem(spec: RunSpec):
    task, problem, _, _ = spec.prepare()
    return task, problem


def _check_replay(store, run_id, live_events):
    stored = store.events(run_id)
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert stored == live_events
    replayed = fold(stored)
    assert repr(replayed) == repr(fold(live_events))
    assert all(n.state != GENERATING for n in replayed.nodes.values())
    return replayed


def test_greedy_run_end_to_end(embedded_url, store):
    seen = []
    spec = RunSpec(task="game24", problem="4 5 6 10", strategy="greedy")
    run_id, result = execute(spec, store, on_events=seen.extend)
    assert result.outcome in ("solved", "failed"), result.detail
    tree = _check_replay(store, run_id, seen)
    # grammar-constrained: the small model's every step is a legal, correctly computed move, and
    # the answer is the verifier's reading of the state the three steps reach
    check_run(*_task_problem(spec), seen, budget=spec.budget)
    thoughts = [n for n in tree.nodes.values() if n.role == "thought"]
    assert [n.depth for n in thoughts] == [1, 2, 3] and all(n.step for n in thoughts)
    assert thoughts[-1].terminal and result.answer_node == thoughts[-1].id
    assert result.answer == thoughts[-1].answer
    assert tree.finished["calls_by_purpose"] == {"proposal": 3}
    assert tree.info["model"]["kind"] == "embedded"
    assert tree.tokens > 0 and store.get_run(run_id)["tokens"] == tree.tokens
    # llama.cpp streams no usage: the prompt tokens come from its tokenizer, never 0
    assert tree.prompt_tokens > 0 and all(n.prompt_tokens > 0 for n in tree.nodes.values()
                                          if n.role == "thought" and n.completion_tokens)


def test_small_mcts_run_end_to_end(embedded_url, store):
    seen = []
    run_id, result = execute(RunSpec(task="game24", problem="950", strategy="mcts",
                                     params={"simulations": 6}, seed=3), store, on_events=seen.extend)
    assert result.outcome in ("solved", "failed", "budget"), result.detail
    tree = _check_replay(store, run_id, seen)
    check_run(*_task_problem(RunSpec(task="game24", problem="950", strategy="mcts")), seen)
    if result.outcome == "budget":
        # a loaded machine can reach the time limit first (measured: 600 s at load 15 on two
        # cores); never the other limits, and what was built still holds (checked above)
        assert result.detail.startswith("time limit"), result.detail
        assert sum(e.type == "mcts_backprop" for e in seen) <= 6
        return
    # sampled at T=1 the steps vary from run to run on this server even with a seed; what does
    # not vary: one expansion and one rollout per simulation, all 6 unless a solution stops it
    sims = sum(1 for e in seen if e.type == "mcts_backprop")
    assert sims == 6 if result.outcome == "failed" else 1 <= sims <= 6
    thoughts = [n for n in tree.nodes.values() if n.role == "thought"]
    rollouts = [n for n in tree.nodes.values() if n.role == "rollout"]
    assert len(thoughts) == sims and all(n.step for n in thoughts)
    assert tree.nodes[0].visits == sims and len(rollouts) in (sims, sims - 1)
    calls = tree.finished["calls_by_purpose"]
    assert calls["proposal"] == sims
    assert calls["rollout"] == sum(len(n.text.splitlines()) for n in rollouts)
    if result.outcome == "solved":
        assert tree.nodes[result.answer_node].state == SOLVED
        assert result.answer.endswith("= 24")


def test_greedy_twice_gives_two_legal_chains(embedded_url, store):
    """Greedy at T=0 with the grammar, twice on one server: each run is a legal chain of the
    puzzle's length with a verified outcome. Not asserted: that the two are the same chain — the
    server is not bit-stable between calls (a reused prompt cache shifts near-tied logits; CI saw a
    plug-in's greedy chain change between two calls). That greedy asks for T=0 is checked with
    the scripted model (test_search_spine)."""
    spec = RunSpec(task="game24", problem="1 1 4 6", strategy="greedy", seed=5)
    runs = [execute(spec, store)[0] for _ in range(2)]
    trees = [check_run(*_task_problem(spec), store.events(r)) for r in runs]
    for tree in trees:
        assert len(tree.nodes) == 4 and tree.outcome in ("solved", "failed")


def test_cli_run_and_show(embedded_url, tmp_path):
    db = tmp_path / "cli.db"
    env = dict(os.environ, THINKTREE_EMBEDDED_URL=embedded_url)
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "--task", "game24", "--problem",
                          "4 5 6 10", "--strategy", "greedy", "--db", str(db)],
                         capture_output=True, text=True, env=env, timeout=540, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    last = json.loads(out.stdout.strip().splitlines()[-1])
    # the original fields are all there (the line is only ever extended)
    assert {"run_id", "outcome", "answer", "nodes", "tokens", "events", "seconds"} <= set(last)
    assert last["protocol"] == "constrained"
    # the summary is the stored run's: its answer is the verifier's reading of its legal steps
    from storage import open_store
    events = open_store(str(db)).events(last["run_id"])
    tree = check_run(*_task_problem(RunSpec(task="game24", problem="4 5 6 10", strategy="greedy")),
                     events)
    assert last["outcome"] in ("solved", "failed") and last["nodes"] == len(tree.nodes) == 4
    assert (last["outcome"], last["answer"]) == (tree.outcome, tree.nodes[tree.answer_node].answer)
    assert last["tokens"] == tree.tokens and last["events"] == len(events)
    assert last["model_calls"] == 3 and last["calls_by_purpose"] == {"proposal": 3}
    assert last["completion_tokens"] == last["tokens"] > 0 and last["prompt_tokens"] > 0
    assert "step" in out.stderr  # progress lines
    show = subprocess.run([sys.executable, str(ROOT / "cli.py"), "show", str(last["run_id"]),
                           "--db", str(db)], capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(show.stdout) == last


@pytest.mark.parametrize("args,message", [
    (["--problem", "1 2 3"], "problem: Game of 24 needs four whole numbers"),
    (["--strategy", "astar"], "strategy: unknown strategy"),
    (["--max-nodes", "0"], "max_nodes: must be between"),
    (["--strategy", "mcts", "--simulations", "lots"], "simulations: expected a whole number"),
    (["--task", "chess"], "task: unknown task"),
    (["--base-url", "ftp://x", "--model", "m"], "base_url: must be an http(s) URL"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "--db", str(tmp_path / "x.db"),
                          *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: ") and message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_dead_endpoint_is_an_error_run_not_a_crash(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", "--db", str(tmp_path / "x.db"),
                          "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "--quiet"],
                         capture_output=True, text=True, timeout=120)
    assert "Traceback" not in out.stderr
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert last["outcome"] == "error"
