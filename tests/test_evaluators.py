"""The three evaluators on a scripted model: values, details, truth, caching, token accounting."""
from __future__ import annotations

import pytest

from reasoning import events as ev
from reasoning.engine import SearchContext
from reasoning.evaluators import EVALUATORS, make_evaluator, score
from reasoning.evaluators.value_prompt import parse_verdict
from reasoning.models.scripted import ScriptedModel
from reasoning.recorder import Recorder
from reasoning.settings import Budget
from reasoning.tasks import get_task
from reasoning.tree import FAILED, SOLVED
from tests.test_strategies import Letters

WORDS = {"sure": 20.0, "likely": 1.0, "impossible": 0.001}


def context(task, respond, constraint: str | None = "grammar", problem=None):
    model = ScriptedModel(respond)
    model.capabilities["constraint"] = constraint
    problem = problem or task.problems()[0]
    ctx = SearchContext(task, problem, model, Recorder(1), Budget())
    return ctx, model


def child(ctx, node, step):
    """Add a node for ``step`` by hand (a scripted propose)."""
    nid = ctx.new_node(node)
    s, state = ctx.task.apply_step(ctx.problem, ctx.states[node], step)
    ctx.complete(nid, step, s)
    ctx.states[nid] = state
    return nid


def test_registry_and_unknown_name():
    assert set(EVALUATORS) == {"value_prompt", "rollout", "verifier", "prm", "oracle"}
    with pytest.raises(ValueError, match="^evaluator: unknown evaluator 'psychic'"):
        make_evaluator("psychic")
    with pytest.raises(ValueError, match="^samples:"):
        make_evaluator("value_prompt", samples=0)


@pytest.mark.parametrize("text,want", [
    ("sure", "sure"), ("10 + 14 = 24\nsure", "sure"), ("not sure, impossible", "impossible"),
    ("Likely.", "likely"), ("unsure", None), ("", None),
])
def test_parse_verdict_takes_the_last_whole_word(text, want):
    assert parse_verdict(text, WORDS) == want


def test_value_prompt_sums_three_constrained_samples_and_records_truth():
    answers = iter(["sure", "likely", "impossible"])
    ctx, model = context(Letters(), lambda r: next(answers))
    a = child(ctx, ctx.root(), "a")
    result = score(ctx, make_evaluator("value_prompt"), a)
    assert result.value == pytest.approx(21.001) and result.norm == pytest.approx(21.001 / 60)
    assert [r.choices for r in model.requests] == [["sure", "likely", "impossible"]] * 3
    assert all(r.temperature == 0.7 for r in model.requests)
    assert len({r.seed for r in model.requests}) == 3
    node = ctx.tree.nodes[a]
    assert node.value == pytest.approx(21.001) and node.evaluator == "value_prompt"
    assert node.truth is True
    assert node.score_details["verdicts"] == ["sure", "likely", "impossible"]
    assert node.score_details["counts"] == {"sure": 1, "likely": 1, "impossible": 1}
    # scripted usage is len(text) // 4 (at least 1): sure 1 + likely 1 + impossible 2
    # value calls are not nodes; their tokens reach the tree through the node_scored details
    assert ctx.eval_tokens == 4 and ctx.tree.tokens == 4
    assert all(n.completion_tokens == 0 for n in ctx.tree.nodes.values())
    assert node.score_details["tokens"] == 4


def test_value_prompt_caches_per_prompt_within_a_run():
    ctx, model = context(Letters(), lambda r: "likely")
    ev_ = make_evaluator("value_prompt")
    a = child(ctx, ctx.root(), "a")
    score(ctx, ev_, a)
    again = score(ctx, ev_, a)
    assert len(model.requests) == 3 and again.details["cached"] is True
    assert again.value == pytest.approx(3.0)


def test_value_prompt_without_constraints_reads_free_text():
    ctx, model = context(Letters(), lambda r: "b is far from the target, so impossible\n",
                         constraint=None)
    a = child(ctx, ctx.root(), "b")
    result = score(ctx, make_evaluator("value_prompt", samples=2), a)
    assert result.value == pytest.approx(0.002)
    assert all(r.choices is None and r.stop == ["\n\n"] for r in model.requests)
    assert ctx.tree.nodes[a].truth is False


def test_value_prompt_on_a_terminal_state_asks_the_verifier_not_the_model():
    ctx, model = context(Letters(), lambda r: "sure")
    a = child(ctx, ctx.root(), "a")
    ab = child(ctx, a, "b")
    assert score(ctx, make_evaluator("value_prompt"), ab).value == 60.0
    assert model.requests == []


def test_value_prompt_on_game24_uses_the_task_prompt():
    task = get_task("game24")
    ctx, model = context(task, lambda r: "sure", problem=task.resolve_problem("4 5 6 10"))
    n = child(ctx, ctx.root(), "10 - 4 = 6 (left: 5 6 6)")
    score(ctx, make_evaluator("value_prompt"), n)
    assert model.requests[0].prompt.rstrip().endswith("5 6 6")
    assert ctx.tree.nodes[n].truth is True                   # 5 * 6 - 6 = 24


def test_rollout_evaluator_fraction_hard_and_soft_labels():
    moves = iter(["b", "c", "b", "a"])
    ctx, model = context(Letters(target="ab"), lambda r: next(moves))
    a = child(ctx, ctx.root(), "a")
    result = score(ctx, make_evaluator("rollout", n=4), a)
    assert result.value == 0.5
    d = ctx.tree.nodes[a].score_details
    assert (d["n"], d["correct"], d["hard"], d["soft"]) == (4, 2, True, 0.5)
    kids = ctx.tree.nodes[a].children
    assert [ctx.tree.nodes[k].role for k in kids] == ["rollout"] * 4
    assert [ctx.tree.nodes[k].state for k in kids] == [SOLVED, FAILED, SOLVED, FAILED]
    assert d["rollouts"] == kids


def test_rollout_evaluator_all_wrong_is_a_zero_hard_label():
    ctx, _ = context(Letters(target="ab"), lambda r: "c")
    a = child(ctx, ctx.root(), "a")
    result = score(ctx, make_evaluator("rollout", n=2), a)
    assert result.value == 0.0 and result.details["hard"] is False


def test_verifier_evaluator_exact_on_terminal_neutral_otherwise():
    ctx, model = context(Letters(target="ab"), lambda r: "x")
    ver = make_evaluator("verifier")
    a = child(ctx, ctx.root(), "a")
    ab, ac = child(ctx, a, "b"), child(ctx, a, "c")
    assert score(ctx, ver, a).value == 0.5
    assert score(ctx, ver, ab).value == 1.0
    assert score(ctx, ver, ac).value == 0.0
    assert ctx.tree.nodes[ac].truth is False and model.requests == []
    assert ver.default_threshold == 0.5   # never prunes an unfinished state


def test_no_truth_when_the_task_cannot_decide():
    class NoTruth(Letters):
        def solvable(self, state):
            return None
    ctx, _ = context(NoTruth(), lambda r: "likely")
    a = child(ctx, ctx.root(), "a")
    score(ctx, make_evaluator("value_prompt"), a)
    payload = [e.payload for e in ctx.rec.events if e.type == ev.NODE_SCORED][0]
    assert "truth" not in payload and ctx.tree.nodes[a].truth is None


def test_value_prompt_samples_is_a_setting_every_scored_state_follows():
    """``--value-prompt-samples 1``: one value call a state (the cheaper check), recorded in the
    run's params and in every score's details; the default stays ToT's 3."""
    from reasoning.engine import run_search
    from reasoning.models.random_policy import RandomPolicy
    from reasoning.settings import Budget
    from reasoning.strategies import make_strategy
    from reasoning.tasks import get_task
    task = get_task("game24")
    for samples in (1, 3):
        params = {"value_prompt_samples": samples} if samples != 3 else {}
        strategy = make_strategy("beam", params)
        assert strategy.params()["value_prompt_samples"] == samples
        _, rec = run_search(strategy, task, task.problem_by_id("901"), RandomPolicy(tokens="estimate"),
                            run_id="v", seed=0, budget=Budget(max_nodes=60, max_tokens=100_000))
        scored = [e.payload["details"] for e in rec.events if e.type == "node_scored"
                  and e.payload["details"].get("source") == "value prompt"
                  and not e.payload["details"].get("cached")]
        assert scored and all(len(d["verdicts"]) == d["samples"] == samples for d in scored)
        fin = rec.events[-1].payload
        assert fin["calls_by_purpose"]["value"] == samples * len(scored)
