"""Exploration that spends its budget: anytime strategies, MCTS width, transpositions, and
parallel model calls that leave the tree unchanged. Scripted, seeded models only."""
from __future__ import annotations

import random
import threading
import time

import pytest

from reasoning import events as ev
from reasoning.engine import run_search
from reasoning.models.base import GenRequest
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import FAILED, PRUNED, SOLVED, fold
from tests.test_strategies import Letters, of_type, policy, words


def g24(strategy, params, model, puzzle="4 5 6 10", budget=None, seed=0):
    task = get_task("game24")
    result, rec = run_search(make_strategy(strategy, params), task, task.resolve_problem(puzzle),
                             model, run_id=1, budget=budget or Budget(max_nodes=2000), seed=seed)
    return result, rec, fold(rec.events)


def letters(strategy, params, respond, task, budget=None):
    model = ScriptedModel(respond)
    result, rec = run_search(make_strategy(strategy, params), task, task.problems()[0], model,
                             run_id=1, budget=budget or Budget())
    return result, fold(rec.events), model, rec


def seeded(req: GenRequest) -> str:
    """A seeded random policy: a legal step, or a value verdict, drawn from the request's seed."""
    return random.Random(req.seed).choice(req.choices)


# -- anytime --------------------------------------------------------------------------------------
def test_best_of_n_anytime_draws_more_rounds_until_a_chain_is_verified():
    once, _, t1 = g24("best_of_n", {"n": 2}, ScriptedModel(seeded), puzzle="1 2 3 4")
    more, rec, t2 = g24("best_of_n", {"n": 2, "anytime": True}, ScriptedModel(seeded), puzzle="1 2 3 4")
    assert once.outcome == "failed" and len(t1.nodes) == 7           # 2 chains of 3 steps
    assert more.outcome == "solved" and t2.nodes[more.answer_node].state == SOLVED
    chains = [n for n in t2.nodes.values() if n.depth == 1]
    assert len(chains) > 2 and len(chains) % 2 == 0                  # whole rounds of n = 2
    assert "verified: chain" in more.detail


def test_best_of_n_anytime_without_a_verifier_votes_when_the_budget_ends():
    task = Letters(target="aa", verifier=False)
    respond = lambda r: r.choices[r.seed % len(r.choices)] if r.prompt == "state:" else "a"  # noqa: E731
    result, tree, _, _ = letters("best_of_n", {"n": 2, "anytime": True}, respond, task,
                                 budget=Budget(max_nodes=12))
    ends = [n for n in tree.nodes.values() if n.depth == 2]
    assert len(ends) >= 4                                             # past the first round of 2
    assert result.outcome == "answered" and "majority vote" in result.detail
    assert "max_nodes" in result.detail


def test_beam_anytime_rounds_draw_new_steps_and_rank_them_with_the_kept_nodes():
    task = Letters(target="cb")
    respond = policy(prefs={"c": "b"}, verdicts={"c": "sure"})   # c is valued best
    one, _, _, _ = letters("beam", {"beam_width": 1, "proposals": 1}, respond, task)
    result, tree, _, rec = letters("beam", {"beam_width": 1, "proposals": 1, "anytime": True},
                                   respond, task)
    assert one.outcome == "failed"
    # round 2: b ties with the kept a and takes the beam (in a later round the newer node wins
    # a tie), then is widened: ba; round 3: c outranks b and is widened: cb
    assert [words(tree)[n] for n in tree.nodes] == ["", "a", "aa", "b", "ba", "c", "cb"]
    assert result.outcome == "solved" and result.answer == "cb"
    assert [(n, r.split(" (")[0]) for n, r in of_type(rec, ev.NODE_PRUNED)] == [
        (1, "outside beam"), (3, "outside beam")]


def test_beam_anytime_stops_when_no_step_is_left():
    result, tree, _, _ = letters("beam", {"beam_width": 1, "proposals": 1, "anytime": True},
                                 policy(), Letters(target="cc", letters="ab"))
    assert result.outcome == "failed" and "no untried step left after 4 rounds" in result.detail
    assert [words(tree)[n] for n in tree.nodes] == ["", "a", "aa", "b", "ba", "bb"]


def test_dfs_anytime_restarts_with_new_first_steps():
    task = Letters(target="cb")
    respond = policy(prefs={"c": "b"})
    one, _, _, _ = letters("dfs", {"proposals": 1}, respond, task)
    result, tree, _, _ = letters("dfs", {"proposals": 1, "anytime": True}, respond, task)
    assert one.outcome == "failed"
    assert [words(tree)[n.id] for n in tree.nodes.values() if n.depth == 1] == ["a", "b", "c"]
    assert result.outcome == "solved" and result.answer == "cb"


def test_dfs_anytime_rounds_widen_every_kept_node_not_only_the_root():
    # round 1: a -> aa fails; round 2 proposes b at the root AND a second step from a: ab
    result, tree, _, _ = letters("dfs", {"proposals": 1, "anytime": True}, policy(),
                                 Letters(target="ab"))
    assert result.outcome == "solved" and result.answer == "ab"
    assert tree.nodes[result.answer_node].parent_id == 1 and words(tree)[1] == "a"
    assert [words(tree)[n] for n in tree.nodes] == ["", "a", "aa", "b", "ab"]


def test_mcts_anytime_ignores_the_simulation_count():
    once, rec1, _ = g24("mcts", {"simulations": 2}, ScriptedModel(seeded), puzzle="1 2 3 4")
    result, rec, tree = g24("mcts", {"simulations": 2, "anytime": True}, ScriptedModel(seeded),
                            puzzle="1 2 3 4")
    sims = sum(e.type == ev.MCTS_BACKPROP for e in rec.events)
    assert sum(e.type == ev.MCTS_BACKPROP for e in rec1.events) == 2 and once.outcome == "failed"
    assert result.outcome == "solved" and sims > 2


def test_mcts_anytime_ends_with_the_budget():
    result, rec, _ = g24("mcts", {"anytime": True, "stop_on_solution": False}, ScriptedModel(seeded),
                         budget=Budget(max_tokens=300))
    # seeded: no verified solution within 300 tokens on this puzzle, so the budget ends it
    assert (result.outcome, result.detail) == ("budget", "max_tokens 300 reached")
    assert 300 <= rec.events[-1].payload["tokens"] <= 300 + 20


# -- MCTS width and transpositions ----------------------------------------------------------------
def test_mcts_width_0_opens_every_legal_move():
    task = get_task("game24")
    legal = task.legal_steps(task.initial_state(task.parse_problem("1 2 3 4")))
    params = {"simulations": 60, "width": 0, "stop_on_solution": False, "transpositions": False}
    _, _, tree = g24("mcts", params, ScriptedModel(seeded), puzzle="1 2 3 4")
    assert len(tree.nodes[0].children) == len(legal) == 36
    assert {tree.nodes[c].step for c in tree.nodes[0].children} == set(legal)
    _, _, narrow = g24("mcts", {**params, "width": 4}, ScriptedModel(seeded), puzzle="1 2 3 4")
    assert len(narrow.nodes[0].children) == 4


def test_mcts_progressive_widening_is_not_capped_by_width_0():
    params = {"simulations": 100, "width": 0, "pw_alpha": 0.5, "stop_on_solution": False}
    _, rec, tree = g24("mcts", params, ScriptedModel(seeded), puzzle="1 2 3 4")
    kids = [c for c in tree.nodes[0].children if tree.nodes[c].role == "thought"
            and tree.nodes[c].state != PRUNED]
    assert 6 < len(kids) <= 10                                        # ceil(100 ** 0.5) = 10


def _prefer(order):
    def respond(req):
        if "=" not in req.choices[0]:
            return "likely"
        return next((s for s in order if s in req.choices), req.choices[0])
    return respond


def test_a_state_reached_twice_is_pruned_as_a_duplicate_with_a_link():
    respond = _prefer(["2 + 2 = 4 (left: 4 4 4)", "2 * 2 = 4 (left: 4 4 4)", "4 + 4 = 8 (left: 4 8)"])
    _, rec, tree = g24("dfs", {"proposals": 2}, ScriptedModel(respond), puzzle="2 2 4 4")
    assert tree.nodes[2].step == "2 * 2 = 4 (left: 4 4 4)"
    assert tree.nodes[2].state == PRUNED and tree.nodes[2].reason == "duplicate state: same as node 1"
    pruned = next(e for e in rec.events if e.type == ev.NODE_PRUNED and e.node_id == 2)
    assert pruned.payload["duplicate_of"] == 1
    # the duplicate is neither scored nor searched: only node 1 has a value and children
    assert tree.nodes[2].value is None and not tree.nodes[2].children and tree.nodes[1].children
    _, _, off = g24("dfs", {"proposals": 2, "transpositions": False}, ScriptedModel(respond),
                    puzzle="2 2 4 4")
    assert off.nodes[2].state != PRUNED and off.nodes[2].children


def test_mcts_never_searches_a_transposition_twice():
    params = {"simulations": 150, "width": 0, "stop_on_solution": False}
    _, rec, tree = g24("mcts", params, ScriptedModel(seeded), puzzle="1 2 3 4")
    live = [n for n in tree.nodes.values() if n.role == "thought" and n.state != PRUNED]
    labels = [n.label for n in live if n.depth == 1]
    assert len(labels) == len(set(labels)) == 30                     # 36 moves, 30 distinct states
    dups = [e for e in rec.events if e.type == ev.NODE_PRUNED
            and e.payload["reason"].startswith("duplicate state")]
    assert len(dups) >= 6


# -- parallel model calls -------------------------------------------------------------------------
class SlowSeeded(ScriptedModel):
    """The seeded policy, taking ``delay`` seconds per call; records the most calls in flight."""

    def __init__(self, parallel: int, delay: float = 0.01) -> None:
        super().__init__(seeded)
        self.capabilities = {**self.capabilities, "parallel": parallel}
        self.delay, self.inflight, self.peak = delay, 0, 0
        self._lock = threading.Lock()

    def generate(self, req, on_chunk=None):
        with self._lock:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
        try:
            time.sleep(self.delay)
            return super().generate(req, on_chunk)
        finally:
            with self._lock:
                self.inflight -= 1


def shape(tree):
    return [(n.id, n.parent_id, n.role, n.text, n.step, n.state, n.value, n.reason)
            for n in tree.nodes.values()]


@pytest.mark.parametrize("name,params", [
    ("best_of_n", {"n": 8, "anytime": True}),
    ("beam", {"beam_width": 3, "proposals": 3, "anytime": True}),
    ("dfs", {"proposals": 3}),
    ("mcts", {"simulations": 30, "evaluator": "value_prompt"}),
])
def test_the_tree_is_the_same_whatever_n_and_the_log_has_no_gaps(name, params):
    runs = {}
    for n in (1, 4):
        model = SlowSeeded(n)
        result, rec, tree = g24(name, params, model, puzzle="1 2 3 4", seed=3,
                                budget=Budget(max_nodes=400))
        assert [e.seq for e in rec.events] == list(range(1, len(rec.events) + 1))
        fin = rec.events[-1].payload
        runs[n] = (shape(tree), result.outcome, result.answer_node, fin["tokens"],
                   fin["model_calls"], model.peak)
    assert runs[1][:5] == runs[4][:5]
    assert runs[1][5] == 1
    if name in ("best_of_n", "beam"):
        assert runs[4][5] > 1                                         # calls really overlapped


def test_parallel_best_of_n_is_faster_and_streams_several_nodes_at_once():
    times = {}
    for n in (1, 8):
        model = SlowSeeded(n, delay=0.05)
        t = time.perf_counter()
        _, rec, _ = g24("best_of_n", {"n": 8}, model, puzzle="1 1 1 1")
        times[n] = time.perf_counter() - t
    assert times[8] < times[1] / 3
    # tokens of different nodes interleave in the log while a batch streams
    _, rec, _ = g24("best_of_n", {"n": 8}, SlowSeeded(8, delay=0.05), puzzle="1 1 1 1")
    firsts = [e.node_id for e in rec.events if e.type == ev.NODE_CREATED][1:9]
    created = [e.seq for e in rec.events if e.type == ev.NODE_CREATED and e.node_id in firsts]
    completed = [e.seq for e in rec.events if e.type == ev.NODE_COMPLETED and e.node_id in firsts]
    assert max(created) < min(completed)                              # all 8 generating at once


def test_parallel_value_calls_are_counted_like_sequential_ones():
    fins = []
    for n in (1, 6):
        model = SlowSeeded(n)
        _, rec, tree = g24("beam", {"beam_width": 2, "proposals": 3}, model, seed=1)
        fins.append({k: rec.events[-1].payload.get(k) for k in ("tokens", "eval_tokens",
                                                                 "model_calls", "nodes")})
        fins[-1]["requests"] = len(model.requests)          # each value call made once
        fins[-1]["values"] = [(n.id, n.value, n.score_details.get("verdicts"))
                              for n in tree.nodes.values() if n.value is not None]
    assert fins[0] == fins[1] and fins[0]["eval_tokens"] > 0


def test_a_model_error_in_a_parallel_batch_fails_that_node_only():
    from reasoning.models.base import ModelBadResponse

    def respond(req):
        if req.seed is not None and req.prompt and req.seed % 8 == 3 and "Steps:\n" == str(
                req.prompt)[-7:]:
            return ModelBadResponse("boom")
        return seeded(req)
    model = ScriptedModel(respond)
    model.capabilities = {**model.capabilities, "parallel": 4}
    result, rec, tree = g24("best_of_n", {"n": 8}, model, puzzle="1 1 1 1")
    failed = [n for n in tree.nodes.values() if n.state == FAILED and "boom" in n.reason]
    assert failed and all(n.depth == 1 for n in failed)
    assert [e.seq for e in rec.events] == list(range(1, len(rec.events) + 1))
    assert result.outcome == "failed"        # 1 1 1 1 has no solution: no chain can be verified


def test_streaming_from_many_threads_keeps_one_numbering(monkeypatch):
    import sys

    from reasoning import recorder
    monkeypatch.setattr(recorder, "TOKEN_FLUSH_S", 0.0)   # an event per chunk: most contention
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    runs = []
    try:
        for _ in range(5):   # a race shows only sometimes: several tries make it show
            model = SlowSeeded(8, delay=0.0)
            model.chunk = 1
            runs.append(g24("best_of_n", {"n": 16}, model, puzzle="1 1 1 1"))
    finally:
        sys.setswitchinterval(old)
    for _, rec, tree in runs:
        assert [e.seq for e in rec.events] == list(range(1, len(rec.events) + 1))
        streamed: dict[int, str] = {}
        for e in rec.events:
            if e.type == ev.TOKENS:
                streamed[e.node_id] = streamed.get(e.node_id, "") + e.payload["text"]
        assert all(streamed[n.id] == n.text for n in tree.nodes.values() if n.depth)


# -- experiments spend their budgets ------------------------------------------------------------
def test_experiment_cells_run_anytime_unless_the_label_says_otherwise():
    from runner.experiments import ExperimentConfig, cell_spec, cells
    cfg = ExperimentConfig(problems="901", strategies="greedy,mcts,best_of_n:anytime=false,beam,dfs")
    specs = {c.strategy: cell_spec(cfg, c, None) for c in cells(cfg)}
    assert "anytime" not in specs["greedy"].params                    # nothing more to do
    assert specs["mcts"].params["anytime"] == "true"
    assert specs["beam"].params["anytime"] == specs["dfs"].params["anytime"] == "true"
    assert specs["best_of_n:anytime=false"].params["anytime"] == "false"
    assert specs["mcts"].prepare()[2].settings.anytime is True


# -- MCTS batches with virtual loss -------------------------------------------------------------
def test_virtual_loss_spreads_the_selections_of_one_batch():
    from reasoning.strategies.mcts import MCTS, _Stats
    mcts = MCTS.from_params({"width": 3})
    s = _Stats()
    mcts._add(s, 0)
    for c in (1, 2, 3):
        mcts._add(s, c, parent=0)
        s.visits[c], s.value[c] = 2, 1.0
    s.visits[0] = 6

    class Ctx:  # just what selection asks: depth and the task's depth limit
        task = type("T", (), {"max_depth": 3, "legal_steps": lambda self, st: None})()
        states = {0: None}

        def depth(self, n):
            return 0 if n == 0 else 1
    ctx = Ctx()
    plain = [mcts._select(ctx, s, 0)[-1] for _ in range(3)]
    spread = [mcts._select(ctx, s, 0, virtual=True)[-1] for _ in range(3)]
    assert plain == [1, 1, 1] and sorted(spread) == [1, 2, 3]


def test_mcts_batches_overlap_calls_and_keep_the_tree():
    trees = []
    for n in (1, 4):
        model = SlowSeeded(n)
        result, rec, tree = g24("mcts", {"simulations": 24, "batch": 4, "stop_on_solution": False},
                                model, puzzle="1 2 3 4", seed=5)
        assert [e.seq for e in rec.events] == list(range(1, len(rec.events) + 1))
        trees.append((shape(tree), rec.events[-1].payload["model_calls"]))
        if n == 4:
            assert model.peak > 1
    assert trees[0] == trees[1]
    backprops = sum(e.type == ev.MCTS_BACKPROP for e in rec.events)
    assert backprops == 24 and rec.tree.nodes[0].visits == 24
