"""The baselines that bound a search (random legal moves, the oracle evaluator) and compute by
purpose (calls, prompt and generated tokens, cost) — deterministic, no server."""
from __future__ import annotations

from collections import Counter

import pytest

from reasoning.engine import SearchContext, run_search
from reasoning.evaluators import make_evaluator
from reasoning.evaluators.oracle import check_oracle
from reasoning.models.base import GenRequest
from reasoning.models.config import ModelConfig, make_model
from reasoning.models.random_policy import NO_TEXT, RandomPolicy, check_task
from reasoning.models.scripted import ScriptedModel
from reasoning.recorder import Recorder
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import fold
from tests.test_search_maths import Spell, first_allowed

G24 = get_task("game24")


def _run(strategy: str, params: dict, model, task=G24, problem: str = "4 5 6 10", seed: int = 0,
         budget: Budget | None = None, info: dict | None = None):
    p = task.parse_problem(problem) if task is G24 else task.problems()[0]
    result, rec = run_search(make_strategy(strategy, params), task, p, model, run_id=1,
                             budget=budget or Budget(max_nodes=5000, max_tokens=10**7), seed=seed,
                             info=info)
    return result, fold(rec.events), rec.events[-1].payload


# -- the random policy -----------------------------------------------------------------------------
def test_random_policy_is_uniform_over_the_legal_steps():
    legal = G24.legal_steps(G24.initial_state(G24.parse_problem("4 5 6 10")))
    model = RandomPolicy()
    picks = Counter(model.generate(GenRequest("p", seed=s, choices=legal)).text
                    for s in range(200 * len(legal)))
    assert set(picks) == set(legal)                 # every legal step is drawn …
    expected = 200
    chi2 = sum((c - expected) ** 2 / expected for c in picks.values())
    assert chi2 < 2 * len(legal), chi2              # … about equally often (fixed seeds: exact)


def test_random_policy_counts_tokens_as_the_embedded_model_would():
    """A budget binds the baseline where it binds Gemma writing the same step: Gemma's tokenizer
    splits numbers into digits, 23 tokens where 4 characters a token says 8."""
    step = "12 + 12 = 24 (left: 12 12 24)"
    req = GenRequest("Input: 12 12 12 12", seed=3, choices=[step])
    gemma = RandomPolicy()              # the model's packages are installed here (CI installs them)
    assert gemma.tokens == "gemma" and gemma.describe()["tokens"] == "gemma"
    out = gemma.generate(req)
    assert (out.completion_tokens, out.usage_estimated) == (23, False)
    assert out.prompt_tokens == 14      # "Input", ":", then " ", "1", "2" for each 12
    est = RandomPolicy(tokens="estimate").generate(req)
    assert (est.completion_tokens, est.usage_estimated) == (8, True)
    with pytest.raises(ValueError, match="tokens: one of"):
        RandomPolicy(tokens="words")


def test_random_policy_gives_random_verdicts_and_no_free_text():
    model = RandomPolicy(tokens="estimate")
    words = ["sure", "likely", "impossible"]
    verdicts = Counter(model.generate(GenRequest("v", seed=s, choices=words)).text
                       for s in range(900))
    assert set(verdicts) == set(words) and min(verdicts.values()) > 250  # chance, not judgment
    out = model.generate(GenRequest("write a reflection", seed=1))
    assert out.text == NO_TEXT and out.usage_estimated
    assert out.prompt_tokens == 5 and out.completion_tokens == len(NO_TEXT) // 4 + 1


def test_random_policy_runs_are_seeded():
    trees = [_run("best_of_n", {"n": 4}, RandomPolicy(), seed=s)[1] for s in (3, 3, 4)]
    steps = [[n.step for n in t.nodes.values()] for t in trees]
    assert steps[0] == steps[1] and steps[0] != steps[2]
    assert all(s in (None, *G24.legal_steps(G24.initial_state(G24.parse_problem("4 5 6 10"))))
               for s in steps[0][:2])


def test_random_policy_is_a_model_config_and_needs_legal_steps():
    cfg = ModelConfig(kind="random")
    model = make_model(cfg)
    assert isinstance(model, RandomPolicy) and model.describe()["title"].startswith("baseline")
    with pytest.raises(ValueError, match="^model kind:"):
        ModelConfig(kind="dice")
    gsm = get_task("gsm8k")
    with pytest.raises(ValueError, match="^model: the random baseline needs a task with legal"):
        check_task(gsm, gsm.problems()[0])
    check_task(G24, G24.parse_problem("4 5 6 10"))


# -- the oracle evaluator --------------------------------------------------------------------------
def test_oracle_values_are_exact_solvability_with_no_model_call():
    result, tree, fin = _run("beam", {"evaluator": "oracle"}, RandomPolicy())
    scored = [n for n in tree.nodes.values() if n.evaluator == "oracle"]
    assert scored and all(n.value == (1.0 if n.truth else 0.0) for n in scored)
    assert fin["metrics"]["false_prunes"] == 0   # (hopeless states still fill a beam with too few good ones)
    assert "value" not in fin["calls_by_purpose"]
    assert fin["model_calls"] == fin["calls_by_purpose"]["proposal"] == len(tree.nodes) - 1
    # the perfect evaluator keeps a solvable candidate whenever one was proposed: 4 5 6 10 solved
    assert result.outcome == "solved"


def test_dfs_with_the_oracle_never_descends_into_a_hopeless_state():
    result, tree, _ = _run("dfs", {"evaluator": "oracle"}, RandomPolicy(), seed=1)
    for n in tree.nodes.values():
        if n.children and n.parent_id is not None:
            assert n.truth is True
    assert result.outcome == "solved"


def test_oracle_needs_an_exact_solver():
    gsm = get_task("gsm8k")
    with pytest.raises(ValueError, match="^evaluator: oracle needs a task with an exact solver"):
        check_oracle(gsm, "oracle")
    check_oracle(gsm, "value_prompt")
    check_oracle(G24, "oracle")
    assert make_evaluator("oracle").default_threshold == 0.5


# -- compute by purpose ----------------------------------------------------------------------------
def test_beam_compute_by_purpose_adds_up():
    model = ScriptedModel(first_allowed)
    _, tree, fin = _run("beam", {"beam_width": 2, "proposals": 3}, model, task=Spell("ccc", "abc"),
                        info={"price_in": 1.0, "price_out": 2.0})
    calls = fin["calls_by_purpose"]
    thoughts = len(tree.nodes) - 1
    scored = sum(1 for n in tree.nodes.values() if n.evaluator == "value_prompt"
                 and not n.score_details.get("cached") and n.score_details.get("source")
                 == "value prompt")
    assert calls == {"proposal": thoughts, "value": 3 * scored}
    assert fin["model_calls"] == len(model.requests) == thoughts + 3 * scored
    by = fin["tokens_by_purpose"]
    assert fin["prompt_tokens"] == sum(v["prompt"] for v in by.values())
    assert fin["prompt_tokens"] == sum(len(str(r.prompt)) // 4 for r in model.requests)
    assert fin["completion_tokens"] == fin["tokens"] == sum(v["completion"] for v in by.values())
    assert fin["cost"] == pytest.approx((fin["prompt_tokens"] + 2 * fin["tokens"]) / 1e6)
    assert set(fin["cost_by_purpose"]) == {"proposal", "value"}


def test_rollouts_and_reflections_are_their_own_purposes():
    _, tree, fin = _run("mcts", {"simulations": 3}, ScriptedModel(first_allowed),
                        task=Spell("ab", "ab"))
    rollout_steps = sum(len(n.text.splitlines()) for n in tree.nodes.values() if n.role == "rollout")
    assert fin["calls_by_purpose"]["rollout"] == rollout_steps > 0
    _, tree, fin = _run("reflect", {"max_reflections": 2}, ScriptedModel(
        lambda r: "likely" if str(r.prompt).startswith("value:") else
        (r.choices[0] if r.choices else "no")), task=Spell("cb", "abc"))
    assert fin["calls_by_purpose"]["reflection"] == sum(
        1 for n in tree.nodes.values() if n.role == "reflection") == 2


def test_unpriced_runs_have_no_cost():
    _, _, fin = _run("greedy", {}, RandomPolicy())
    assert "cost" not in fin and fin["calls_by_purpose"] == {"proposal": 3}
    assert fin["prompt_tokens"] > 10 * fin["completion_tokens"] > 0


@pytest.mark.parametrize("strategy,params", [("beam", {"beam_width": 2, "proposals": 3}),
                                             ("mcts", {"simulations": 6, "batch": 2})])
def test_parallel_calls_count_the_same_compute(strategy, params):
    """Calls made N at a time (reasoning.parallel) are counted by purpose like sequential ones."""
    figures = []
    for n in (1, 3):
        model = ScriptedModel(first_allowed)
        model.capabilities = {**model.capabilities, "parallel": n}
        _, tree, fin = _run(strategy, params, model, task=Spell("ccc", "abc"))
        figures.append((fin["calls_by_purpose"], fin["tokens_by_purpose"], fin["model_calls"],
                        len(model.requests)))
    assert figures[0] == figures[1]
    calls, _, total, requests = figures[1]
    assert sum(calls.values()) == total == requests and "other" not in calls


def test_calls_counted_only_by_bumping_model_calls_are_other():
    task = get_task("game24")
    ctx = SearchContext(task, task.problems()[0], ScriptedModel(lambda req: ""), Recorder(1), Budget())
    ctx.compute.call("proposal")
    ctx.model_calls += 2          # what code that predates purposes does
    assert ctx.model_calls == 3 and ctx.compute.calls == {"proposal": 1, "other": 2}


def test_a_prompt_count_that_failed_is_asked_again():
    """Prompt tokens come from the server's tokenizer where streams carry no usage; a count that
    failed (a busy server) reads 0 for that call but is not remembered as the prompt's size."""
    from benchmarks.fault_server import FaultServer
    from reasoning.models.openai_client import OpenAIModel
    with FaultServer(count_tokens=False) as s:
        model = OpenAIModel(s.url, "ok", capabilities={"token_count": True}, timeout=5)
        assert model.generate(GenRequest(prompt="four five six ten", max_tokens=20)).prompt_tokens == 0
        s.count_tokens = True                      # the counter answers again
        again = model.generate(GenRequest(prompt="four five six ten", max_tokens=20))
        assert again.prompt_tokens == 4 and s.hits["count"] == 1


def test_the_status_line_shows_compute_by_purpose():
    pytest.importorskip("streamlit")
    from components.status import status_text
    _, tree, fin = _run("beam", {"beam_width": 2, "proposals": 3}, ScriptedModel(first_allowed),
                        task=Spell("ccc", "abc"))
    line = status_text(tree, running=False)
    calls = fin["calls_by_purpose"]
    assert (f"prompt tokens {fin['prompt_tokens']} · calls {fin['model_calls']} "
            f"(proposal {calls['proposal']}, value {calls['value']})") in line


def test_beam_never_expands_a_node_the_oracle_proved_dead():
    """ToT's beam keeps the best b whatever their value; with an exact evaluator a 0 is a proof,
    so such a node is pruned ("dead end") and never gets children. Rank 915 (1 5 10 11: 3 of 36
    first steps can still reach 24), random proposer, 3,000 tokens: solved (it used the whole
    budget below dead nodes before)."""
    task = get_task("game24")
    problem = task.problem_by_id("915")
    result, rec = run_search(make_strategy("beam", {"anytime": True, "evaluator": "oracle"}), task,
                             problem, RandomPolicy(), run_id="dead", seed=0,
                             budget=Budget(max_tokens=3000, max_nodes=1_000_000))
    assert result.outcome == "solved"
    values = {e.node_id: e.payload["value"] for e in rec.events if e.type == "node_scored"}
    parents = {e.payload.get("parent_id") for e in rec.events if e.type == "node_created"}
    expanded = [n for n in parents if n not in (None, 0)]
    assert expanded and all(values[n] == 1.0 for n in expanded)
    dead = [e for e in rec.events if e.type == "node_pruned" and "dead end" in e.payload["reason"]]
    assert dead and all(values[e.node_id] == 0.0 for e in dead)
    assert all(e.payload["kind"] == "threshold" for e in dead)


def test_mcts_treats_a_node_the_oracle_proved_dead_as_a_known_loss():
    """MCTS (value from the oracle only) prunes a leaf the oracle scores 0 and never expands it;
    rank 905 is solved at 3,000 tokens (the budget ran out before: every rollout-free
    simulation kept widening dead nodes)."""
    task = get_task("game24")
    params = {"anytime": True, "width": 0, "evaluator": "oracle", "rollout_weight": 0.0}
    result, rec = run_search(make_strategy("mcts", params), task, task.problem_by_id("905"),
                             RandomPolicy(), run_id="dead", seed=0,
                             budget=Budget(max_tokens=3000, max_nodes=1_000_000))
    assert result.outcome == "solved"
    values = {e.node_id: e.payload["value"] for e in rec.events if e.type == "node_scored"}
    dead = {e.node_id for e in rec.events if e.type == "node_pruned"
            and e.payload["reason"].startswith("dead end")}
    assert dead and all(values[n] == 0.0 for n in dead)
    parents = {e.payload.get("parent_id") for e in rec.events if e.type == "node_created"}
    assert not dead & parents                                      # none of them got a child
    assert all(v == 1.0 for n, v in values.items() if n in parents and n != 0)
