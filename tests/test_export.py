"""Exports on hand-built trees with known structure: exact pairs, labels, traces; files; CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning import events as ev
from reasoning.export import (
    NO_OUTCOMES,
    NO_REJECTED,
    NO_SOLVED_PATH,
    NOT_SOLVED_FILTER,
    Filters,
    compute_rollouts,
    estimate_rollout_budget,
    export_trees,
    nodes_needing_rollouts,
    pairs_from_tree,
    split_rows,
    traces_from_tree,
    values_from_tree,
    whole_exploration,
)
from reasoning.models.scripted import ScriptedModel
from reasoning.tasks import Game24
from reasoning.tree import fold
from storage import reopen
from tests.helpers import EventLog, new_run, pick_first

ROOT = Path(__file__).resolve().parents[1]
S1 = "4 + 8 = 12 (left: 4 6 12)"
S2 = "4 * 4 = 16 (left: 6 8 16)"
S3 = "6 - 4 = 2 (left: 2 12)"
S4 = "4 * 6 = 24 (left: 12 24)"
S5 = "2 * 12 = 24 (left: 24)"
S6 = "2 + 12 = 14 (left: 14)"
ANSWER = "(6 - 4) * (4 + 8) = 24"


def step(log: EventLog, nid: int, parent: int, depth: int, text: str, valid: bool = True,
         role: str = "thought") -> None:
    log.add(ev.NODE_CREATED, nid, parent_id=parent, depth=depth, role=role)
    log.add(ev.NODE_COMPLETED, nid, text=text, step=text if valid else None, finish_reason="stop")


def solved_log(run_id: int = 1, problem: str = "4 4 6 8", problem_id: str | None = None):
    """root 0 ─ 1 (path) ─ 3 (path) ─ 5 SOLVED
                          │            └ 6 failed
                          ├ 4 backtracked, 7 pruned (invalid), 8 rollout solved
              └ 2 pruned (outside beam) ─ 9 rollout failed"""
    log = EventLog(run_id)
    log.add(ev.RUN_STARTED, task="game24", problem=problem, problem_id=problem_id or problem,
            strategy="beam", seed=0, model={"kind": "embedded"})
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem", label="left: 4 4 6 8")
    log.add(ev.NODE_COMPLETED, 0, text=problem, step=None, label="left: 4 4 6 8")
    step(log, 1, 0, 1, S1)
    log.add(ev.NODE_SCORED, 1, value=21.0, evaluator="value")
    step(log, 2, 0, 1, S2)
    log.add(ev.NODE_SCORED, 2, value=0.5, evaluator="value")
    log.add(ev.NODE_PRUNED, 2, reason="outside beam")
    step(log, 3, 1, 2, S3)
    step(log, 4, 1, 2, S4)
    log.add(ev.NODE_BACKTRACKED, 4, reason="dead end")
    step(log, 7, 1, 2, "4 + 5 = 13", valid=False)
    log.add(ev.NODE_PRUNED, 7, reason="invalid step: 5 is not among the numbers left (4 6 12)")
    step(log, 8, 1, 2, f"{S3}\n{S5}", valid=False, role="rollout")
    log.add(ev.NODE_SOLVED, 8, reason=ANSWER, answer=ANSWER)
    step(log, 9, 2, 2, "16 - 8 = 8 (left: 6 8)\n8 * 6 = 48 (left: 48)", valid=False, role="rollout")
    log.add(ev.NODE_FAILED, 9, reason="(16 - 8) * 6 = 48, not 24", answer="(16 - 8) * 6 = 48")
    step(log, 5, 3, 3, S5)
    log.add(ev.NODE_SOLVED, 5, reason=ANSWER, answer=ANSWER)
    step(log, 6, 3, 3, S6)
    log.add(ev.NODE_FAILED, 6, reason="(6 - 4) + (4 + 8) = 14, not 24", answer="x = 14")
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=5)
    return log.events


def failed_log(run_id: int = 2):
    log = EventLog(run_id)
    log.add(ev.RUN_STARTED, task="game24", problem="1 1 1 1", problem_id="1 1 1 1", strategy="greedy")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="1 1 1 1")
    step(log, 1, 0, 1, "1 + 1 = 2 (left: 1 1 2)")
    log.add(ev.RUN_FINISHED, outcome="failed", answer=None, answer_node=None)
    return log.events


def task_prompt(problem: str, steps: list[str]) -> str:
    g = Game24()
    p = g.parse_problem(problem)
    state = g.initial_state(p)
    for s in steps:
        _, state = g.apply_step(p, state, s)
    return g.prompt(p, state, "completions")


# -- preference pairs ----------------------------------------------------------------------------
def test_pairs_are_exactly_the_solved_path_against_its_dead_siblings():
    rows, why = pairs_from_tree(fold(solved_log()))
    assert why is None
    got = [(r["parent_node"], r["chosen_node"], r["rejected_node"]) for r in rows]
    assert got == [(0, 1, 2), (1, 3, 4), (1, 3, 7), (3, 5, 6)]
    by = {r["rejected_node"]: r for r in rows}
    assert by[2]["chosen"] == S1 and by[2]["rejected"] == S2
    assert by[7]["rejected"] == "4 + 5 = 13"          # the invalid text as the model wrote it
    assert by[6]["chosen"] == S5 and by[6]["rejected"] == S6
    assert by[2]["prompt"] == task_prompt("4 4 6 8", [])
    assert by[6]["prompt"] == task_prompt("4 4 6 8", [S1, S3])
    assert by[6]["prompt"].endswith(f"Input: 4 4 6 8\nSteps:\n{S1}\n{S3}\n")
    assert by[2]["rejected_reason"] == "pruned: outside beam"
    assert by[4]["rejected_reason"] == "backtracked: dead end"
    assert by[6]["rejected_state"] == "failed"
    assert by[2]["chosen_scores"]["value"] == 21.0 and by[2]["rejected_scores"]["value"] == 0.5
    assert by[6]["steps_so_far"] == [S1, S3] and by[6]["depth"] == 3
    assert {r["run_id"] for r in rows} == {1} and {r["problem_id"] for r in rows} == {"4 4 6 8"}


def test_every_solved_child_is_chosen_against_the_failed_siblings():
    log = EventLog()
    log.events = solved_log()[:-1]
    step(log, 11, 3, 3, "12 * 2 = 24 (left: 24)")
    log.add(ev.NODE_SOLVED, 11, reason=ANSWER, answer=ANSWER)
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=5)
    rows, _ = pairs_from_tree(fold(log.events))
    assert [(r["chosen_node"], r["rejected_node"]) for r in rows if r["parent_node"] == 3] == \
        [(5, 6), (11, 6)]


def test_plain_and_chat_prompt_formats():
    rows, _ = pairs_from_tree(fold(solved_log()), Filters(prompt_format="plain"))
    last = rows[-1]
    assert last["prompt"] == f"4 4 6 8\n{S1}\n{S3}\n" and last["prompt_format"] == "plain"
    rows, _ = pairs_from_tree(fold(solved_log()), Filters(prompt_format="chat"))
    last = rows[-1]
    assert last["prompt"][-1] == {"role": "user", "content": f"Input: 4 4 6 8\nSteps:\n{S1}\n{S3}\n"}
    assert last["chosen"] == [{"role": "assistant", "content": S5}]


def test_run_without_solved_path_gives_zero_pairs_and_says_why():
    rows, why = pairs_from_tree(fold(failed_log()))
    assert rows == [] and why == NO_SOLVED_PATH
    res = export_trees("pairs", [fold(solved_log()), fold(failed_log())])
    c = res.counts()
    assert c["rows"] == 4 and c["runs"] == 2 and c["runs_with_rows"] == 1
    assert c["reasons"] == {NO_SOLVED_PATH: 1}
    only = export_trees("pairs", [fold(failed_log())], Filters(only_solved=True)).counts()
    assert only["rows"] == 0 and only["reasons"] == {NOT_SOLVED_FILTER: 1}


def mcts_log():
    """MCTS-like: the answer is a rollout; the sibling step is open (never returned to)."""
    log = EventLog(3)
    log.add(ev.RUN_STARTED, task="game24", problem="4 4 6 8", problem_id="4 4 6 8", strategy="mcts")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="4 4 6 8")
    step(log, 1, 0, 1, S2)
    step(log, 2, 1, 2, "16 - 8 = 8 (left: 6 8)\n8 * 6 = 48 (left: 48)", valid=False, role="rollout")
    log.add(ev.NODE_FAILED, 2, reason="48, not 24", answer="48")
    step(log, 3, 0, 1, S1)
    step(log, 5, 0, 1, "8 - 6 = 2 (left: 2 4 4)")  # expanded, never rolled out
    step(log, 4, 3, 2, f"{S3}\n{S5}", valid=False, role="rollout")
    log.add(ev.NODE_SOLVED, 4, reason=ANSWER, answer=ANSWER)
    log.add(ev.MCTS_BACKPROP, 4, updates=[[0, 2, 1.0], [1, 1, 0.0], [3, 1, 1.0]])
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=4)
    return log.events


def test_open_siblings_lose_by_their_rollouts_untried_ones_only_on_request():
    tree = fold(mcts_log())
    rows, why = pairs_from_tree(tree)
    assert why is None and [(r["chosen_node"], r["rejected_node"]) for r in rows] == [(3, 1)]
    assert rows[0]["rejected_reason"] == "rollouts: none of the 1 outcome(s) below it was right"
    assert rows[0]["rejected_scores"]["visits"] == 1 and rows[0]["chosen_scores"]["mean_value"] == 1.0
    rows, _ = pairs_from_tree(tree, Filters(include_open=True))
    assert [(r["chosen_node"], r["rejected_node"]) for r in rows] == [(3, 1), (3, 5)]
    assert rows[1]["rejected_reason"].startswith("not chosen")


def test_no_losing_sibling_is_a_reason():
    log = EventLog()
    log.add(ev.RUN_STARTED, task="game24", problem="4 4 6 8", problem_id="4 4 6 8")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    step(log, 1, 0, 1, S1)
    step(log, 2, 1, 2, S3)
    step(log, 3, 2, 3, S5)
    log.add(ev.NODE_SOLVED, 3, reason=ANSWER, answer=ANSWER)
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=3)
    assert pairs_from_tree(fold(log.events)) == ([], NO_REJECTED)


def test_dedupe_drops_identical_pairs_across_runs():
    trees = [fold(solved_log(1)), fold(solved_log(5))]
    res = export_trees("pairs", trees)
    assert len(res.rows) == 4 and res.duplicates == 4
    assert len(export_trees("pairs", trees, Filters(dedupe=False)).rows) == 8


def test_depth_filters():
    trees = [fold(solved_log())]
    assert [r["depth"] for r in export_trees("pairs", trees, Filters(min_depth=2)).rows] == [2, 2, 3]
    res = export_trees("pairs", trees, Filters(max_depth=1))
    assert [r["depth"] for r in res.rows] == [1] and res.filtered == 3
    with pytest.raises(ValueError, match="min_depth"):
        Filters(min_depth=3, max_depth=1)


# -- step values ---------------------------------------------------------------------------------
def test_step_values_are_monte_carlo_counts_of_outcomes_below():
    rows, why = values_from_tree(fold(solved_log()))
    assert why is None
    got = {r["node"]: (r["n"], r["correct"], r["soft"], r["hard"]) for r in rows}
    assert got == {1: (3, 2, pytest.approx(2 / 3), 1), 2: (1, 0, 0.0, 0), 3: (2, 1, 0.5, 1),
                   5: (1, 1, 1.0, 1), 6: (1, 0, 0.0, 0)}
    by = {r["node"]: r for r in rows}
    assert by[3]["step"] == S3 and by[3]["prompt"] == task_prompt("4 4 6 8", [S1])
    assert by[3]["on_solved_path"] and not by[2]["on_solved_path"]


def test_model_errors_are_not_outcomes():
    log = EventLog()
    log.add(ev.RUN_STARTED, task="game24", problem="4 4 6 8", problem_id="4 4 6 8")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    step(log, 1, 0, 1, S1)
    log.add(ev.NODE_CREATED, 2, parent_id=1, depth=2, role="rollout")
    log.add(ev.NODE_COMPLETED, 2, text="6 -", step=None, finish_reason="aborted")
    log.add(ev.NODE_FAILED, 2, reason="stopped by the user while generating")
    log.add(ev.RUN_FINISHED, outcome="cancelled")
    rows, why = values_from_tree(fold(log.events))
    assert rows == [] and why == NO_OUTCOMES


def test_compute_rollouts_draws_n_below_each_unlabelled_step_and_extends_the_log():
    log = EventLog(3)
    log.events = mcts_log()[:-1]  # re-finish the run after one more step
    step(log, 5, 3, 2, S3)  # a step nobody rolled out from
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=4)
    tree = fold(log.events)
    assert nodes_needing_rollouts(tree) == [5]
    est = estimate_rollout_budget([tree], 1)
    assert est["nodes"] == 1 and est["rollouts"] == 1 and est["max_model_calls"] == 1
    # N = 2: every step gets two completions of its own; 1 and 3 have one rollout each already
    assert nodes_needing_rollouts(tree, n=2) == [1, 3, 5]
    est = estimate_rollout_budget([tree], 2)
    assert est["nodes"] == 3 and est["rollouts"] == 4 and est["max_model_calls"] == 6
    assert est["seconds_per_step_source"].startswith("default")  # the log has no model totals
    assert estimate_rollout_budget([tree], 2, seconds_per_step=1.5)["est_seconds"] == 9.0
    timed = fold(log.events[:-1] + [ev.Event(3, log.events[-1].seq, 9.0, ev.RUN_FINISHED, None,
                                             {"outcome": "solved", "model_calls": 4,
                                              "model_seconds": 2.0})])
    assert estimate_rollout_budget([timed], 2)["seconds_per_step"] == 0.5
    model = ScriptedModel(pick_first)
    new = compute_rollouts(tree, log.events, model, 2)
    assert new and new[0].seq == log.events[-1].seq + 1
    full = fold(log.events + new)
    kids = [full.nodes[c] for c in full.nodes[5].children]
    assert [k.role for k in kids] == ["rollout", "rollout"] and all(k.state in ("solved", "failed") for k in kids)
    # 2 x one step from "2 12" (node 5), one more rollout of two steps below nodes 1 and 3
    assert len(model.requests) == 6
    rows, _ = values_from_tree(full)
    assert {r["node"]: r["n"] for r in rows}[5] == 2
    assert {r["node"]: r["direct_n"] for r in rows} == {1: 2, 3: 2, 5: 2}
    assert nodes_needing_rollouts(full) == [] and nodes_needing_rollouts(full, n=2) == []


# -- traces --------------------------------------------------------------------------------------
def test_solved_trace_is_the_clean_chain():
    rows, why = traces_from_tree(fold(solved_log()))
    assert why is None and len(rows) == 1
    r = rows[0]
    assert r["prompt"] == task_prompt("4 4 6 8", [])
    assert r["completion"] == f"{S1}\n{S3}\n{S5}\nAnswer: {ANSWER}"
    assert r["steps"] == [S1, S3, S5] and r["answer"] == ANSWER and r["depth"] == 3


def test_trace_through_a_solved_rollout_uses_its_steps():
    rows, _ = traces_from_tree(fold(mcts_log()))
    assert rows[0]["steps"] == [S1, S3, S5]


def test_whole_exploration_writes_out_the_backtracks():
    tree = fold(solved_log())
    text = whole_exploration(tree, 5)
    lines = text.splitlines()
    assert lines[0] == S2 and lines[1] == "This does not work: outside beam."
    assert lines[2].startswith("Looking ahead: 16 - 8 = 8") and "It does not work" in lines[2]
    assert lines[3] == "Let me go back (left: 4 4 6 8)."
    assert lines[4] == S1
    assert "This leads nowhere: dead end." in lines and lines[-1] == S5
    assert lines.index(S6) < lines.index(S5)
    rows, _ = traces_from_tree(tree, Filters(whole=True))
    assert rows[0]["completion"] == text + f"\nAnswer: {ANSWER}"
    assert traces_from_tree(fold(failed_log()), Filters(whole=True)) == ([], NO_SOLVED_PATH)


# -- split ---------------------------------------------------------------------------------------
def test_split_never_puts_one_problem_on_both_sides():
    puzzles = [f"{a} {b} 6 8" for a in range(1, 11) for b in (1, 2, 3)]
    trees = [fold(solved_log(i, problem=p)) for i, p in enumerate(puzzles, start=1)]
    rows = export_trees("pairs", trees, Filters(prompt_format="plain")).rows
    train, val = split_rows(rows, 0.3)
    assert train and val and len(train) + len(val) == len(rows)
    assert not {r["problem_id"] for r in train} & {r["problem_id"] for r in val}
    again = split_rows(rows, 0.3)
    assert again == (train, val)
    assert split_rows(rows, 0.0) == (rows, [])
    two = [r for r in rows if r["problem_id"] in puzzles[:2]]
    for frac in (0.01, 0.99):  # with few problems neither side is left empty
        t, v = split_rows(two, frac)
        assert {r["problem_id"] for r in t} and {r["problem_id"] for r in v}
        assert not {r["problem_id"] for r in t} & {r["problem_id"] for r in v}


def test_a_puzzle_run_by_rank_and_by_text_is_on_one_side():
    """The split key is the problem text (spaces normalised), never the id it was run by: the same
    puzzle run as rank N and as its text (spaced differently) lands on one side."""
    from reasoning.export import problem_keys
    puzzles = [f"{a} {b} 6 8" for a in range(1, 11) for b in (1, 2, 3)]
    trees = []
    for i, p in enumerate(puzzles):
        trees.append(fold(solved_log(2 * i + 1, problem=p, problem_id=str(100 + i))))
        trees.append(fold(solved_log(2 * i + 2, problem=p.replace(" ", "  "), problem_id=p)))
    rows = export_trees("pairs", trees, Filters(prompt_format="plain")).rows
    train, val = split_rows(rows, 0.5, problem_keys(trees))
    side = lambda rs: {" ".join(r["problem"].split()) for r in rs}  # noqa: E731
    assert side(train) and side(val) and not side(train) & side(val)
    assert len(problem_keys(trees)) == len(puzzles)


# -- files and the command line ------------------------------------------------------------------
def fill_store(db_path: str) -> list[int]:
    from storage import open_store
    store = open_store(db_path)
    ids = []
    for log, exp in ((solved_log, 7), (failed_log, 7), (mcts_log, None)):
        rid = new_run(store, task="game24", problem="4 4 6 8", problem_id="4 4 6 8",
                               strategy="x", params={}, model={}, budget={}, seed=0,
                               experiment_id=exp)
        events = [ev.Event(rid, e.seq, e.t, e.type, e.node_id, e.payload) for e in log()]
        reopen(store, rid).append(events)
        ids.append(rid)
    return ids


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_cli_export_end_to_end(db_path, tmp_path):
    ids = fill_store(db_path)
    out = tmp_path / "pairs.jsonl"
    p = cli("export", "pairs", "--runs", ",".join(map(str, ids)), "--out", str(out),
            "--split", "0.5", "--db", db_path)
    assert p.returncode == 0, p.stderr
    counts = json.loads(p.stdout.strip().splitlines()[-1])
    # the MCTS run's one pair (S1 over S2 at the root) is the same as the first run's
    assert counts["rows"] == 4 and counts["runs"] == 3 and counts["duplicates"] == 1
    assert counts["reasons"] == {NO_SOLVED_PATH: 1}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    val = [json.loads(line) for line in (tmp_path / "pairs.val.jsonl").read_text().splitlines()]
    assert len(rows) + len(val) == 4 == counts["train"] + counts["val"]
    for r in rows + val:
        assert {"prompt", "chosen", "rejected", "run_id", "chosen_node", "rejected_node",
                "rejected_reason"} <= set(r)

    p = cli("export", "traces", "--experiment", "7", "--out", str(tmp_path / "t.jsonl"),
            "--only-solved", "--db", db_path, "--dataset-dir", str(tmp_path / "ds"))
    assert p.returncode == 0, p.stderr
    counts = json.loads(p.stdout.strip().splitlines()[-1])
    assert counts["rows"] == 1 and counts["runs"] == 2 and counts["reasons"] == {NOT_SOLVED_FILTER: 1}
    assert (tmp_path / "ds" / "data" / "train.jsonl").read_text() == (tmp_path / "t.jsonl").read_text()

    p = cli("export", "values", "--runs", str(ids[0]), "--out", str(tmp_path / "v.jsonl"),
            "--min-depth", "2", "--db", db_path)
    counts = json.loads(p.stdout.strip().splitlines()[-1])
    assert counts["rows"] == 3 and counts["filtered"] == 2


def test_cli_export_bad_input_is_a_message(db_path, tmp_path):
    fill_store(db_path)
    p = cli("export", "pairs", "--runs", "999", "--out", str(tmp_path / "x.jsonl"), "--db", db_path)
    assert p.returncode == 2 and "no run 999" in p.stderr and "Traceback" not in p.stderr
    p = cli("export", "pairs", "--runs", "1", "--out", str(tmp_path / "x.jsonl"), "--split", "2",
            "--db", db_path)
    assert p.returncode == 2 and "split" in p.stderr


def test_jsonl_loads_with_datasets(db_path, tmp_path):
    import datasets  # a dev requirement: a missing install fails here instead of skipping

    from runner.export import export_to_files
    from storage import open_store
    ids = fill_store(db_path)
    for kind in ("pairs", "values", "traces"):
        out = tmp_path / f"{kind}.jsonl"
        export_to_files(open_store(db_path), kind, ids, out)
        ds = datasets.load_dataset("json", data_files=str(out), split="train")
        assert len(ds) > 0


def test_export_page_counts_previews_and_downloads(db_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    ids = fill_store(db_path)
    monkeypatch.setenv("THINKTREE_DB", db_path)
    at = AppTest.from_file(str(ROOT / "pages" / "export.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # values 5 + 2 and traces 1 + 1, less one identical row each (same problem, same chain)
    assert metrics == {"Preference pairs (pairs)": "4", "Step values (steps)": "6",
                       "Solved traces (traces)": "1"}
    assert any("CHOSEN:   " + S1 in c.value and "REJECTED: " + S2 in c.value for c in at.code)
    assert any(j.value and "chosen" in str(j.value) for j in at.json)
    at.multiselect(key="export_runs").set_value([ids[1]]).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Preference pairs (pairs)"] == "0"
    assert any("no solved path" in str(j.value) for j in at.json)


def test_line_step_task_prompts_use_the_bundled_problem_and_the_answer_is_said_once():
    from reasoning.tasks import get_task
    task = get_task("gsm8k")
    prob = task.problems()[0]
    log = EventLog(9)
    log.add(ev.RUN_STARTED, task="gsm8k", problem=prob.text, problem_id=prob.id, strategy="greedy")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    step(log, 1, 0, 1, "16 - 3 - 4 = 9 eggs are sold.")
    step(log, 2, 1, 2, "9 * 2 = 18 dollars.")
    step(log, 3, 2, 3, "Answer: 18")
    log.add(ev.NODE_SOLVED, 3, reason="18 matches", answer="18")
    log.add(ev.RUN_FINISHED, outcome="solved", answer="18", answer_node=3)
    rows, _ = traces_from_tree(fold(log.events))
    state = task.initial_state(prob)
    assert rows[0]["prompt"] == task.prompt(prob, state, "completions")
    assert rows[0]["completion"] == "16 - 3 - 4 = 9 eggs are sold.\n9 * 2 = 18 dollars.\nAnswer: 18"


def test_one_split_for_all_kinds_of_the_same_runs():
    from reasoning.export import problem_key, problem_keys
    trees = [fold(solved_log(i, problem=p)) for i, p in enumerate(["4 4 6 8", "2 4 6 8"], 1)]
    trees += [fold(failed_log(3))]  # a problem with values but no pairs
    universe = problem_keys(trees)
    sides: dict[str, set[str]] = {}
    for kind in ("pairs", "values", "traces"):
        train, val = split_rows(export_trees(kind, trees).rows, 0.01, universe)
        for side, rows in (("train", train), ("val", val)):
            sides.setdefault(side, set()).update(problem_key(r) for r in rows)
    assert len(universe) == 3 and sides["train"] and not sides["train"] & sides["val"]


def test_duplicates_and_cut_off_siblings_are_never_rejected_nor_told():
    log = EventLog()
    log.events = solved_log()[:-1]
    step(log, 12, 3, 3, S5)
    log.add(ev.NODE_PRUNED, 12, reason="duplicate: same step as a sibling")
    log.add(ev.NODE_CREATED, 13, parent_id=3, depth=3)
    log.add(ev.NODE_COMPLETED, 13, text="2 *", step=None, finish_reason="error")
    log.add(ev.NODE_FAILED, 13, reason="model error: timeout")
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=5)
    tree = fold(log.events)
    rows, _ = pairs_from_tree(tree)
    assert [r["rejected_node"] for r in rows if r["parent_node"] == 3] == [6]
    text = whole_exploration(tree, 5)
    assert "duplicate" not in text and "timeout" not in text
