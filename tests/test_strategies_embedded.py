"""One run per strategy on the real embedded model, stored in a real SQLite file: each reaches an
outcome, shows its own marks (prunes, backtracks, visits, reflections), and the events read back
from the database fold to the same tree the recorder built while running."""
from __future__ import annotations

import pytest

from reasoning import events as ev
from reasoning.models.config import ModelConfig
from reasoning.tree import fold
from runner import RunSpec, execute
from tests.invariants import check_run

pytestmark = pytest.mark.embedded

CASES = {
    "best_of_n": {"n": 3},
    "beam": {"beam_width": 2, "proposals": 2},
    "dfs": {"proposals": 2},
    "mcts": {"simulations": 4, "width": 2, "evaluator": "value_prompt"},
    "reflect": {"max_reflections": 3},
}


def shape(tree):
    return {nid: (n.parent_id, n.role, n.state, n.text, n.step, n.value, n.truth, n.visits)
            for nid, n in tree.nodes.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_strategy_on_the_embedded_model_replays_from_sqlite(name, embedded_url, store):
    seen: list = []
    spec = RunSpec(task="game24", problem="901", strategy=name, params=CASES[name],
                   budget={"max_nodes": 30, "max_seconds": 300}, seed=0, model=ModelConfig())
    run_id, result = execute(spec, store, on_events=seen.extend)
    assert result.outcome in ("solved", "failed", "budget"), result.detail
    live = fold(seen)
    stored = fold(store.events(run_id))
    assert shape(stored) == shape(live)
    assert stored.outcome == result.outcome and stored.last_seq == len(seen)
    assert stored.info["strategy"] == name and stored.info["params"] == \
        {**stored.info["params"], **CASES[name]}
    assert len(stored.nodes) <= 30
    # what holds on any build: legal steps, verified answers, events that fold to the totals
    task, problem, _, _ = spec.prepare()
    check_run(task, problem, store.events(run_id), budget=spec.budget)
    check = CHECKS[name]
    check(stored, store.events(run_id))


def _scored_have_truth(tree):
    scored = [n for n in tree.nodes.values() if n.evaluator == "value_prompt"]
    assert all(n.truth is not None for n in scored)
    if scored:
        assert "false_prunes" in tree.finished["metrics"] and "false_keeps" in tree.finished["metrics"]
    return scored


def check_best_of_n(tree, events):
    root = tree.nodes[tree.root_id]
    assert 1 <= len(root.children) <= 3
    assert all(len(tree.nodes[c].children) <= 1 for c in tree.nodes if c != tree.root_id)


def check_beam(tree, events):
    _scored_have_truth(tree)
    for n in tree.nodes.values():
        if n.state == "pruned" and n.value is not None:
            assert n.reason.startswith("outside beam")


def check_dfs(tree, events):
    _scored_have_truth(tree)
    reasons = {n.reason for n in tree.nodes.values() if n.state == "backtracked"}
    assert reasons <= {"dead end", "children exhausted", "depth limit"}


def check_mcts(tree, events):
    assert any(e.type == ev.MCTS_BACKPROP for e in events)
    assert tree.nodes[tree.root_id].visits >= 1
    _scored_have_truth(tree)


def check_reflect(tree, events):
    refl = [n for n in tree.nodes.values() if n.role == "reflection"]
    rejected = [n for n in tree.nodes.values()
                if n.state == "backtracked" and n.reason.startswith("rejected")]
    failed = [n for n in tree.nodes.values() if n.state == "failed" and n.role == "thought"]
    for n in refl:
        if n.state != "failed":      # a reflection cut by the budget is marked failed
            assert n.text.startswith("This leads nowhere because")
    assert len(refl) <= len(rejected) + len(failed)


CHECKS = {"best_of_n": check_best_of_n, "beam": check_beam, "dfs": check_dfs,
          "mcts": check_mcts, "reflect": check_reflect}
