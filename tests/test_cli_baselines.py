"""The CLI with the baselines and compute by purpose: `--model random` (no server), `--evaluator
oracle`, budgets in calls / prompt tokens, and the summary's compute fields (run and show)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_KEYS = {"run_id", "outcome", "answer", "nodes", "tokens", "events", "seconds",
                "prompt_tokens", "completion_tokens", "model_calls", "calls_by_purpose",
                "tokens_by_purpose", "protocol", "answer_node", "marks", "metrics"}


def _cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "THINKTREE_EMBEDDED_URL": "http://127.0.0.1:9/v1"}  # unused
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env)


def _run(tmp_path, *args: str) -> dict:
    out = _cli(tmp_path, "run", "--db", str(tmp_path / "t.db"), "--quiet", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_random_mcts_reports_its_solution_and_its_compute(tmp_path):
    last = _run(tmp_path, "--model", "random", "--strategy", "mcts", "--simulations", "50",
                "--stop-on-solution", "false", "--problem", "4 5 6 10")
    assert set(last) == SUMMARY_KEYS
    assert last["outcome"] == "solved" and last["answer"].endswith("= 24")
    assert last["protocol"] == "constrained" and last["completion_tokens"] == last["tokens"] > 0
    assert last["model_calls"] == sum(last["calls_by_purpose"].values())
    by = last["tokens_by_purpose"]
    assert sum(v["prompt"] for v in by.values()) == last["prompt_tokens"]
    assert sum(v["completion"] for v in by.values()) == last["completion_tokens"]
    assert set(last["calls_by_purpose"]) == {"proposal", "rollout"}
    assert last["prompt_tokens"] > last["completion_tokens"]
    show = _cli(tmp_path, "show", str(last["run_id"]), "--db", str(tmp_path / "t.db"))
    assert json.loads(show.stdout) == last


def test_random_is_seeded_and_oracle_needs_no_calls(tmp_path):
    a = _run(tmp_path, "--model", "random", "--strategy", "beam", "--evaluator", "oracle",
             "--seed", "5")
    b = _run(tmp_path, "--model", "random", "--strategy", "beam", "--evaluator", "oracle",
             "--seed", "5")
    assert {k: a[k] for k in ("outcome", "answer", "nodes", "model_calls")} == \
        {k: b[k] for k in ("outcome", "answer", "nodes", "model_calls")}
    assert a["calls_by_purpose"] == {"proposal": a["model_calls"]}


@pytest.mark.parametrize("flag,value,field", [("--max-calls", "12", "model_calls"),
                                              ("--max-prompt-tokens", "3000", "prompt_tokens"),
                                              ("--max-total-tokens", "3000", None)])
def test_budgets_in_calls_and_tokens(tmp_path, flag, value, field):
    last = _run(tmp_path, "--model", "random", "--strategy", "best_of_n", "--n", "1000",
                "--problem", "1 1 1 1", flag, value)   # 1 1 1 1 has no solution: runs to the limit
    assert last["outcome"] == "budget"
    used = last[field] if field else last["prompt_tokens"] + last["completion_tokens"]
    assert int(value) <= used <= int(value) + (0 if field == "model_calls" else 200)


@pytest.mark.parametrize("args,message", [
    (["--model", "random", "--task", "gsm8k"], "model: the random baseline needs a task with legal"),
    (["--task", "gsm8k", "--strategy", "beam", "--evaluator", "oracle", "--model", "random"],
     "model: the random baseline"),
    (["--task", "gsm8k", "--strategy", "beam", "--evaluator", "oracle"],
     "evaluator: oracle needs a task with an exact solver"),
    (["--model", "gemma"], "model: 'gemma' needs --base-url"),
    (["--model", "random", "--strategy", "beam", "--protocol", "tot"],
     "model: the random baseline picks one legal step per call; the tot protocol"),
    (["--max-calls", "0", "--model", "random"], "max_calls: must be between"),
    (["--max-prompt-tokens", "many", "--model", "random"], "max_prompt_tokens: expected a whole"),
])
def test_bad_baseline_input_is_one_line(tmp_path, args, message):
    out = _cli(tmp_path, "run", "--db", str(tmp_path / "x.db"), *args)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().startswith("error: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind,field", [("calls", "max_calls"), ("prompt_tokens", "max_prompt_tokens"),
                                        ("total_tokens", "max_total_tokens"), ("tokens", "max_tokens"),
                                        ("nodes", "max_nodes")])
def test_experiment_budgets_in_any_unit(kind, field):
    from reasoning.settings import Budget, from_dict
    from runner.experiments import ExperimentConfig
    budget = from_dict(Budget, ExperimentConfig(budget_kind=kind, budgets="30").budget_dict(30))
    assert getattr(budget, field) == 30
    others = {"max_calls", "max_prompt_tokens", "max_total_tokens"} - {field}
    assert all(getattr(budget, f) is None for f in others)


def test_experiment_with_the_random_baseline_in_calls(tmp_path):
    out = _cli(tmp_path, "experiment", "--problems", "901-903", "--strategies", "greedy,dfs",
               "--budgets", "20,60", "--budget-kind", "calls", "--model", "random", "--quiet",
               "--db", str(tmp_path / "e.db"))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["budget_kind"] == "calls" and summary["cells"] == 12
    rows = {(r["strategy"], r["budget"]): r for r in summary["results"]}
    assert set(rows) == {("greedy", 20), ("greedy", 60), ("dfs", 20), ("dfs", 60)}
    # greedy makes its 3 calls whatever the budget: the same run at 20 and 60 calls
    assert rows[("greedy", 20)]["mean_tokens"] == rows[("greedy", 60)]["mean_tokens"]
    assert rows[("dfs", 20)]["mean_tokens"] < rows[("dfs", 60)]["mean_tokens"]
    # every unit of compute is in the results, and the curve can use any of them as x
    assert rows[("greedy", 20)]["mean_calls"] == 3 and rows[("dfs", 60)]["mean_calls"] <= 60
    assert rows[("dfs", 20)]["mean_prompt_tokens"] > rows[("dfs", 20)]["mean_tokens"]
    from runner import experiments as exp
    from storage import open_store
    store = open_store(str(tmp_path / "e.db"))
    result_rows = exp.results(store, summary["experiment_id"])
    for x in exp.CURVE_X:
        curve = exp.curve_points(result_rows, x)
        if x == "cost":          # unpriced runs: no cost, no points
            assert curve == {}
            continue
        (pt,) = [p for p in curve["greedy"] if p["budget"] == 20]
        want = {"tokens": "mean_tokens", "calls": "mean_calls", "prompt_tokens": "mean_prompt_tokens",
                "total_tokens": "mean_total_tokens"}[x]
        assert pt["x"] == rows[("greedy", 20)][want]
    with pytest.raises(ValueError, match="^x: must be one of"):
        exp.curve_points(result_rows, "watts")
