"""Greedy and MCTS on a scripted model: exact shapes, states, stopping, and UCT."""
import math
import threading

import pytest

from reasoning import events as ev
from reasoning.engine import run_search
from reasoning.models.base import ModelBadResponse, ModelConnectError
from reasoning.models.scripted import ScriptedModel
from reasoning.run_facts import solved_nodes
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.strategies.mcts import uct
from reasoning.tasks import get_task
from reasoning.tree import FAILED, OPEN, PRUNED, SOLVED, fold
from tests.helpers import pick_by_seed, pick_first


def run(strategy, params, model, puzzle="3 3 8 8", budget=None, cancel=None):
    task = get_task("game24")
    return run_search(make_strategy(strategy, params), task, task.resolve_problem(puzzle), model,
                      run_id=1, budget=budget or Budget(), cancel=cancel)


def test_greedy_solves_a_chain():
    m = ScriptedModel(["8 / 3 = 8/3 (left: 3 8 8/3)", "3 - 8/3 = 1/3 (left: 1/3 8)", "8 / 1/3 = 24"])
    result, rec = run("greedy", {}, m)
    tree = fold(rec.events)
    assert result.outcome == "solved" and result.answer == "8 / (3 - (8 / 3)) = 24"
    assert [n.state for n in tree.nodes.values()] == [OPEN, OPEN, OPEN, SOLVED]
    assert [n.parent_id for n in tree.nodes.values()] == [None, 0, 1, 2]
    assert all(r.temperature == 0.0 for r in m.requests)
    assert solved_nodes(tree) == {0, 1, 2, 3}
    # constrained: every request offered the legal steps of its state
    assert all(r.choices for r in m.requests)


def test_greedy_stops_at_an_invalid_step_without_backtracking():
    m = ScriptedModel(["4 + 5 = 13"])
    m.capabilities = {}  # a server without grammar support: free text, checked by the task
    result, rec = run("greedy", {}, m, puzzle="4 5 6 10")
    tree = fold(rec.events)
    assert result.outcome == "failed" and "wrong arithmetic" in result.detail
    assert tree.nodes[1].state == PRUNED and "invalid step" in tree.nodes[1].reason
    assert len(tree.nodes) == 2 and m.requests[0].choices is None


def test_greedy_wrong_final_answer_is_failed():
    result, rec = run("greedy", {}, ScriptedModel(pick_first), puzzle="1 1 1 1")
    tree = fold(rec.events)
    assert result.outcome == "failed"
    assert tree.nodes[3].state == FAILED and "not 24" in tree.nodes[3].reason


def test_run_always_ends_with_one_run_finished_and_gapless_seq():
    _, rec = run("mcts", {"simulations": 5}, ScriptedModel(pick_by_seed), puzzle="4 5 6 10")
    seqs = [e.seq for e in rec.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e.type for e in rec.events].count(ev.RUN_FINISHED) == 1
    assert rec.events[-1].type == ev.RUN_FINISHED


def test_tokens_are_batched_not_one_event_per_chunk():
    m = ScriptedModel(["8 / 3 = 8/3 (left: 3 8 8/3)", "3 - 8/3 = 1/3 (left: 1/3 8)", "8 / 1/3 = 24"], chunk=1)
    _, rec = run("greedy", {}, m)
    n_chunks = sum(len(r) for r in ["8 / 3 = 8/3 (left: 3 8 8/3)", "3 - 8/3 = 1/3 (left: 1/3 8)",
                                    "8 / 1/3 = 24"])
    n_token_events = sum(e.type == ev.TOKENS for e in rec.events)
    assert n_token_events < n_chunks / 5


def test_mcts_tree_shape_first_simulations():
    """Width 2, first-legal-step policy: expansion order is root's children, then UCT descent."""
    result, rec = run("mcts", {"simulations": 3, "width": 2, "c_uct": 1.0, "stop_on_solution": False},
                      ScriptedModel(pick_first), puzzle="1 1 1 1")
    tree = fold(rec.events)
    thoughts = [n for n in tree.nodes.values() if n.role == "thought"]
    rollouts = [n for n in tree.nodes.values() if n.role == "rollout"]
    # sim 1: expand root -> child A + rollout; sim 2: expand root -> child B + rollout (distinct step);
    # sim 3: root full (width 2) -> UCT picks A (tie on value 0, lower id) -> expand A -> child + rollout
    assert [n.parent_id for n in thoughts] == [0, 0, thoughts[0].id]
    assert thoughts[0].step != thoughts[1].step
    assert len(rollouts) == 3 and all(r.state == FAILED for r in rollouts)
    assert tree.nodes[0].visits == 3
    assert thoughts[0].visits == 2 and thoughts[1].visits == 1
    assert result.outcome == "failed"  # 1 1 1 1 has no solution


def test_mcts_stops_at_first_verified_solution_and_reports_it():
    result, rec = run("mcts", {"simulations": 200, "width": 4}, ScriptedModel(pick_by_seed),
                      puzzle="4 5 6 10")
    tree = fold(rec.events)
    assert result.outcome == "solved"
    node = tree.nodes[result.answer_node]
    assert node.state == SOLVED and node.answer.endswith("= 24")
    assert result.answer_node in solved_nodes(tree)
    assert tree.nodes[0].visits < 200


def test_mcts_backprop_counts_add_up():
    _, rec = run("mcts", {"simulations": 12, "stop_on_solution": False}, ScriptedModel(pick_by_seed),
                 puzzle="1 1 1 1")
    tree = fold(rec.events)
    for n in tree.nodes.values():
        kids = [tree.nodes[c] for c in n.children if tree.nodes[c].role == "thought"]
        if kids and n.visits:
            # a node's visits = the visits through each child + the visits that stopped at it
            assert n.visits >= sum(k.visits for k in kids)
    assert tree.nodes[0].visits == sum(1 for e in rec.events if e.type == ev.MCTS_BACKPROP)


def test_uct_formula():
    assert uct(0.0, 0, 10, 1.4) == math.inf
    assert uct(3.0, 4, 10, 1.4) == pytest.approx(0.75 + 1.4 * math.sqrt(math.log(10) / 4))
    assert uct(1.0, 1, 1, 2.0) == pytest.approx(1.0)


def test_budget_max_nodes_ends_with_budget_outcome():
    result, rec = run("mcts", {"simulations": 100, "stop_on_solution": False},
                      ScriptedModel(pick_by_seed), puzzle="1 1 1 1", budget=Budget(max_nodes=7))
    assert result.outcome == "budget"
    assert len(fold(rec.events).nodes) == 7


def test_cancel_mid_run_is_clean():
    cancel = threading.Event()
    calls = []

    def policy(req):
        calls.append(1)
        if len(calls) == 4:
            cancel.set()
        return req.choices[0]
    result, rec = run("mcts", {"simulations": 50}, ScriptedModel(policy), puzzle="1 1 1 1", cancel=cancel)
    tree = fold(rec.events)
    assert result.outcome == "cancelled"
    assert all(n.state != "generating" for n in tree.nodes.values())
    assert rec.events[-1].payload["outcome"] == "cancelled"


def test_model_error_fails_the_node_and_keeps_partial_text():
    err = ModelBadResponse("invalid JSON in chunk", partial="8 / 3 =")
    m = ScriptedModel([err, err, err])
    result, rec = run("mcts", {"simulations": 5}, m)
    tree = fold(rec.events)
    assert result.outcome == "error"
    failed = [n for n in tree.nodes.values() if n.state == FAILED]
    assert failed and failed[0].text == "8 / 3 =" and "bad response" in failed[0].reason


def test_dead_endpoint_ends_the_run_with_error_at_once():
    result, rec = run("greedy", {}, ScriptedModel([ModelConnectError("connection refused")]))
    assert result.outcome == "error" and "cannot connect" in result.detail


def test_settings_errors_name_the_field():
    with pytest.raises(ValueError, match="simulations"):
        make_strategy("mcts", {"simulations": "-3"})
    with pytest.raises(ValueError, match="strategy: unknown"):
        make_strategy("astar", {})
    with pytest.raises(ValueError, match="c_uct"):
        make_strategy("mcts", {"c_uct": "abc"})
