"""best_of_n, beam, dfs, mcts (evaluator mix) and reflect on a scripted model: exact tree shapes,
expansion order, prunes and backtracks with their reasons, stop conditions and chosen answers.

Most cases use a toy task (spell a target word letter by letter) so each tree can be checked by
hand; the scripted policy picks the first allowed letter in a preference order, and the value
prompt's verdict is looked up per state.
"""
from __future__ import annotations

import math
from typing import Any

import pytest

from reasoning import events as ev
from reasoning.engine import run_search, truth_counts
from reasoning.models.base import GenRequest
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import STRATEGIES, make_strategy
from reasoning.strategies.beam import rank
from reasoning.strategies.best_of_n import majority_vote
from reasoning.strategies.mcts import uct
from reasoning.tasks.base import InvalidStep, Problem, Task, Verdict
from reasoning.tree import BACKTRACKED, FAILED, OPEN, PRUNED, SOLVED, fold


class Letters(Task):
    """Spell ``target`` one letter per step; states are the letters so far (a word of ``depth``).

    ``solvable`` is exact (the target starts with the state), so false prunes / keeps are known.
    ``verifier=False`` gives a task without a verifier (answers are voted on).
    """
    name = "letters"
    title = "Letters (test task)"

    def __init__(self, target: str = "ab", letters: str = "abc", verifier: bool = True) -> None:
        self.target, self.letters, self.verifier = target, letters, verifier
        self.max_depth = len(target)

    def problems(self) -> list[Problem]:
        return [Problem("1", self.target)]

    def parse_problem(self, text: str) -> Problem:
        return Problem(text, text)

    def initial_state(self, problem: Problem) -> str:
        return ""

    def prompt(self, problem: Problem, state: str, mode: str) -> str:
        return f"state:{state}"

    def apply_step(self, problem: Problem, state: str, text: str) -> tuple[str, str]:
        step = text.strip()
        if step not in self.letters or len(step) != 1:
            raise InvalidStep(f"invalid step: {step!r} is not a letter")
        return step, state + step

    def is_terminal(self, state: str) -> bool:
        return len(state) == self.max_depth

    def verify(self, problem: Problem, state: str) -> Verdict:
        if not self.verifier:
            return Verdict(None, "no verifier", answer=state[0])
        ok = state == self.target
        return Verdict(ok, "spells the target" if ok else f"{state} is not {self.target}",
                       answer=state)

    def describe(self, state: str) -> str:
        return f"at {state or '-'}"

    def legal_steps(self, state: str) -> list[str]:
        return list(self.letters)

    def solvable(self, state: str) -> bool:
        return self.target.startswith(state)

    def value_prompt(self, problem: Problem, state: str, mode: str) -> str:
        return f"value:{state}"


def policy(prefs: dict[str, str] | None = None, verdicts: dict[str, str] | None = None,
           default_verdict: str = "likely"):
    """A scripted model: steps = first allowed letter in ``prefs[state]`` (default: alphabetical),
    value verdict = ``verdicts[state]``; anything else (a reflection) gets a fixed sentence."""
    prefs, verdicts = prefs or {}, verdicts or {}

    def respond(req: GenRequest) -> str:
        prompt = str(req.prompt)
        if prompt.startswith("value:"):
            return verdicts.get(prompt[6:], default_verdict)
        if "state:" in prompt:  # reflect puts its notes before the task's prompt
            order = prefs.get(prompt.split("state:")[-1], "abcdefgh")
            return next(ch for ch in order if ch in req.choices)
        return "the letters cannot spell the target"
    return respond


def run(strategy: str, params: dict[str, Any], respond, task: Task | None = None,
        budget: Budget | None = None, seed: int = 0):
    task = task or Letters()
    model = ScriptedModel(respond)
    result, rec = run_search(make_strategy(strategy, params), task, task.problems()[0], model,
                             run_id=1, budget=budget or Budget(), seed=seed)
    return result, fold(rec.events), model, rec


def of_type(rec, type_: str) -> list[tuple[int, str]]:
    return [(e.node_id, e.payload.get("reason", "")) for e in rec.events if e.type == type_]


def words(tree) -> dict[int, str]:
    return {nid: "".join(tree.nodes[p].step or "" for p in tree.path_to(nid)) for nid in tree.nodes}


# -- registry and settings ------------------------------------------------------------------------
def test_all_six_strategies_are_registered():
    assert set(STRATEGIES) == {"greedy", "best_of_n", "beam", "dfs", "mcts", "reflect"}


@pytest.mark.parametrize("name,params,field", [
    ("beam", {"beam_width": 0}, "beam_width"), ("beam", {"proposals": "x"}, "proposals"),
    ("beam", {"evaluator": "psychic"}, "evaluator"), ("dfs", {"threshold": "high"}, "threshold"),
    ("best_of_n", {"n": 0}, "n"), ("best_of_n", {"temperature": 3}, "temperature"),
    ("reflect", {"max_reflections": -1}, "max_reflections"),
    ("mcts", {"rollout_weight": 1.5}, "rollout_weight"), ("mcts", {"evaluator": "x"}, "evaluator"),
])
def test_bad_settings_name_the_field(name, params, field):
    with pytest.raises(ValueError) as e:
        make_strategy(name, params)
    assert str(e.value).startswith(field + ":")


def test_settings_from_strings_as_the_cli_gives_them():
    s = make_strategy("dfs", {"threshold": "0.5", "proposals": "3", "evaluator": "rollout"}).settings
    assert (s.threshold, s.proposals, s.evaluator) == (0.5, 3, "rollout")
    assert make_strategy("dfs", {}).settings.threshold is None


# -- best_of_n ------------------------------------------------------------------------------------
def test_majority_vote_and_its_tie_rule():
    assert majority_vote(["x", "y", "y"]) == ("y", {"x": 1, "y": 2})
    assert majority_vote(["x", "y", "y", "x"])[0] == "x"          # tie: first seen wins
    assert majority_vote(["y", "x", "x", "y", None])[0] == "y"
    assert majority_vote([None, "", None]) == (None, {})


def by_seed_at_root(req: GenRequest) -> str:
    """Root requests (prompt 'state:') pick by seed (chain index); deeper ones pick 'a'."""
    if req.prompt == "state:":
        return req.choices[req.seed % len(req.choices)]
    return "a"


def test_best_of_n_runs_n_chains_and_answers_by_verifier():
    result, tree, model, _ = run("best_of_n", {"n": 3}, by_seed_at_root, Letters(target="ba"))
    # the chains advance in lockstep (one batch per step): first steps 1-3, then second steps 4-6
    assert [n.parent_id for n in tree.nodes.values()] == [None, 0, 0, 0, 1, 2, 3]
    assert words(tree)[4] == "aa" and words(tree)[5] == "ba" and words(tree)[6] == "ca"
    assert [tree.nodes[i].state for i in (4, 5, 6)] == [FAILED, SOLVED, FAILED]
    assert result.outcome == "solved" and result.answer == "ba" and result.answer_node == 5
    assert "chain 2 of 3" in result.detail
    root_seeds = [r.seed for r in model.requests if r.prompt == "state:"]
    assert len(set(root_seeds)) == 3                       # distinct seed per chain
    assert all(r.temperature == 0.8 for r in model.requests)


def test_best_of_n_without_verifier_votes_but_claims_no_verdict():
    task = Letters(target="aa", verifier=False)           # answer = first letter of the word
    result, tree, _, rec = run("best_of_n", {"n": 5}, by_seed_at_root, task)
    ends = [nid for nid, n in tree.nodes.items() if n.depth == 2]
    assert [words(tree)[e][0] for e in ends] == ["a", "b", "c", "a", "b"]
    # a:2, b:2, c:1 -> tie between a and b; a appeared first (chain 1)
    assert result.outcome == "answered" and result.answer == "a" and result.answer_node == ends[0]
    # nothing was checked: no answer is solved (green) or failed (red), each says how it voted
    assert [tree.nodes[e].state for e in ends] == [OPEN] * 5
    assert "chosen by majority vote: 2 of 5 chains" in tree.nodes[ends[0]].reason
    assert "lost the majority vote: 2 vs 2 of 5" in tree.nodes[ends[1]].reason
    assert tree.nodes[ends[0]].value == pytest.approx(0.4)
    assert tree.nodes[ends[2]].value == pytest.approx(0.2)


def test_best_of_n_all_wrong_is_failed_with_the_most_frequent_answer():
    result, tree, _, _ = run("best_of_n", {"n": 2}, policy(), Letters(target="cc"))
    assert result.outcome == "failed" and result.answer == "aa"
    assert all(tree.nodes[i].state == FAILED for i in (3, 4))


# -- beam -----------------------------------------------------------------------------------------
def test_rank_is_stable_by_node_id():
    assert rank({5: 1.0, 3: 2.0, 4: 1.0, 1: 1.0}) == [3, 1, 4, 5]


def test_beam_keeps_the_top_b_and_prunes_the_rest_with_value():
    verdicts = {"a": "likely", "b": "sure", "c": "likely"}
    result, tree, model, rec = run("beam", {"beam_width": 2, "proposals": 3}, policy(verdicts=verdicts))
    # depth 1: a(1) b(2) c(3); values a=3, b=60, c=3 -> keep b, then a (tie with c: lower id)
    assert [tree.nodes[i].value for i in (1, 2, 3)] == [3.0, 60.0, 3.0]
    pruned = of_type(rec, ev.NODE_PRUNED)
    assert [p[0] for p in pruned] == [3] and pruned[0][1].startswith("outside beam")
    assert "value 3" in pruned[0][1] and "rank 3 of 3" in pruned[0][1]
    assert [e.payload["value"] for e in rec.events if e.type == ev.NODE_PRUNED] == [3.0]
    # depth 2: round-robin over the beam, best first (b, then a); the batch that brings the
    # first verified solution is the last
    assert {i: words(tree)[i] for i in range(4, 8)} == {4: "ba", 5: "aa", 6: "bb", 7: "ab"}
    assert [tree.nodes[i].state for i in range(4, 8)] == [FAILED] * 3 + [SOLVED]
    assert result.outcome == "solved" and result.answer == "ab" and len(tree.nodes) == 8
    # distinct proposals per node: the second request from a node excludes the first step
    root_reqs = [r for r in model.requests if r.prompt == "state:"]
    assert [len(r.choices) for r in root_reqs] == [3, 2, 1]
    # evaluator against truth: c (pruned) is hopeless, b (kept) is hopeless -> 0 / 1
    fin = rec.events[-1].payload
    assert (fin["metrics"]["false_prunes"], fin["metrics"]["false_keeps"], fin["metrics"]["scored_with_truth"]) == (0, 1, 3)
    assert tree.nodes[2].truth is False and tree.nodes[1].truth is True


def test_beam_counts_a_false_prune():
    # the only good first letter (a) is judged impossible and falls outside a beam of 1
    verdicts = {"a": "impossible", "b": "likely", "c": "likely"}
    result, tree, _, rec = run("beam", {"beam_width": 1, "proposals": 3}, policy(verdicts=verdicts))
    assert [i for i, _ in of_type(rec, ev.NODE_PRUNED)] == [3, 1]     # in rank order: c (3), a
    assert result.outcome == "failed"
    assert rec.events[-1].payload["metrics"]["false_prunes"] == 1


def test_beam_value_calls_are_constrained_sampled_and_counted_in_tokens():
    _, tree, model, rec = run("beam", {"beam_width": 1, "proposals": 1}, policy())
    value_reqs = [r for r in model.requests if str(r.prompt).startswith("value:")]
    assert len(value_reqs) == 3                               # one scored node, 3 samples
    assert all(r.choices == ["sure", "likely", "impossible"] for r in value_reqs)
    assert len({r.seed for r in value_reqs}) == 3
    fin = rec.events[-1].payload
    # value calls are not nodes, but the fold counts their tokens (live view = run summary)
    node_tokens = sum(n.completion_tokens for n in tree.nodes.values())
    assert fin["eval_tokens"] == 3 and fin["tokens"] == tree.tokens == node_tokens + 3
    assert tree.nodes[1].score_details["verdicts"] == ["likely"] * 3


# -- dfs ------------------------------------------------------------------------------------------
def test_dfs_prunes_below_threshold_and_visits_best_first():
    verdicts = {"a": "sure", "b": "impossible", "c": "likely"}
    result, tree, _, rec = run("dfs", {"proposals": 3}, policy(verdicts=verdicts),
                               Letters(target="cb"))
    assert [n.parent_id for n in tree.nodes.values()] == [None, 0, 0, 0, 1, 1, 1, 3, 3]
    assert of_type(rec, ev.NODE_PRUNED) == [(2, "below threshold (value 0.003 < 1)")]
    assert of_type(rec, ev.NODE_BACKTRACKED) == [(1, "dead end")]
    assert result.outcome == "solved" and result.answer == "cb" and result.answer_node == 8
    assert tree.nodes[7].state == FAILED and tree.nodes[8].state == SOLVED


def test_dfs_backtracks_in_the_right_order():
    task = Letters(target="bab", letters="ab")
    result, tree, _, rec = run("dfs", {"proposals": 2}, policy(), task)
    # a -> aa -> {aaa, aab} fail: back from aa; ab -> {aba, abb} fail: back from ab; back from a
    assert of_type(rec, ev.NODE_BACKTRACKED) == [(3, "dead end"), (4, "dead end"),
                                                 (1, "children exhausted")]
    assert [words(tree)[i] for i in (3, 4, 9, 10)] == ["aa", "ab", "ba", "bb"]
    assert result.answer == "bab" and result.answer_node == 12 and len(tree.nodes) == 13
    assert tree.nodes[1].state == BACKTRACKED and tree.nodes[0].state == OPEN


def test_dfs_with_an_explicit_threshold_and_exhausted_space():
    result, tree, _, rec = run("dfs", {"proposals": 2, "threshold": 100}, policy(),
                               Letters(target="ab"))
    assert [i for i, _ in of_type(rec, ev.NODE_PRUNED)] == [1, 2]
    assert "value 3 < 100" in tree.nodes[1].reason
    assert result.outcome == "failed" and "exhausted" in result.detail
    assert rec.events[-1].payload["metrics"]["false_prunes"] == 1        # a was still solvable


# -- mcts ------------------------------------------------------------------------------------------
def test_uct_formula():
    assert uct(3.0, 4, 10, 1.4) == pytest.approx(0.75 + 1.4 * math.sqrt(math.log(10) / 4))
    assert uct(0.0, 0, 5, 1.4) == math.inf
    assert uct(2.0, 2, 2, 0.0) == 1.0


def test_mcts_evaluator_only_value_skips_rollouts():
    params = {"simulations": 1, "width": 1, "evaluator": "value_prompt", "rollout_weight": 0}
    _, tree, _, rec = run("mcts", params, policy(verdicts={"a": "sure"}))
    assert [n.role for n in tree.nodes.values()] == ["problem", "thought"]
    bp = [e.payload for e in rec.events if e.type == ev.MCTS_BACKPROP]
    assert bp[0]["reward"] == pytest.approx(1.0) and bp[0]["updates"] == [[0, 1, 1.0], [1, 1, 1.0]]


def test_mcts_mixes_rollout_and_evaluator():
    params = {"simulations": 1, "width": 1, "evaluator": "value_prompt", "rollout_weight": 0.5}
    _, tree, _, rec = run("mcts", params, policy(prefs={"a": "a"}))
    assert [n.role for n in tree.nodes.values()] == ["problem", "thought", "rollout"]
    assert tree.nodes[2].state == FAILED                      # rollout "aa" is not "ab"
    bp = [e.payload for e in rec.events if e.type == ev.MCTS_BACKPROP][0]
    assert bp["reward"] == pytest.approx(0.5 * 0 + 0.5 * 3 / 60)
    assert tree.nodes[1].truth is True and tree.nodes[1].evaluator == "value_prompt"


def test_mcts_default_is_rollouts_only():
    _, tree, model, _ = run("mcts", {"simulations": 3}, policy())
    assert not any(str(r.prompt).startswith("value:") for r in model.requests)
    assert all(n.evaluator == "" for n in tree.nodes.values())


# -- reflect --------------------------------------------------------------------------------------
def test_reflect_backtracks_writes_reflections_and_continues_from_the_parent():
    verdicts = {"a": "impossible", "b": "likely", "c": "likely"}
    result, tree, model, rec = run("reflect", {}, policy(verdicts=verdicts), Letters(target="cb"))
    roles = {nid: n.role for nid, n in tree.nodes.items()}
    refl = [nid for nid, r in roles.items() if r == "reflection"]
    # a rejected -> reflect; b kept -> ba, bb, bc fail -> 3 reflections; b exhausted; c -> ca, cb
    assert refl == [2, 5, 7, 9, 12]
    assert [tree.nodes[r].parent_id for r in refl] == [1, 4, 6, 8, 11]
    assert of_type(rec, ev.NODE_BACKTRACKED) == [(1, "rejected: value 0.003 < threshold 1"),
                                                 (3, "children exhausted")]
    assert tree.nodes[2].text == "This leads nowhere because the letters cannot spell the target"
    assert result.outcome == "solved" and result.answer == "cb" and result.answer_node == 13
    refl_reqs = [r for r in model.requests if r.choices is None]
    assert len(refl_reqs) == 5
    assert all(r.temperature == 0.0 and r.max_tokens == 40 and r.stop == ["\n"] for r in refl_reqs)
    assert "Step: a" in refl_reqs[0].prompt and "Before the step: at -" in refl_reqs[0].prompt
    assert rec.events[-1].payload["metrics"]["false_prunes"] == 0


def test_reflect_gives_up_after_max_reflections():
    result, tree, _, _ = run("reflect", {"max_reflections": 2}, policy(), Letters(target="cb"))
    assert result.outcome == "failed" and "after 2 reflections" in result.detail
    assert [n.role for n in tree.nodes.values()].count("reflection") == 2


# -- budgets and seeds ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["best_of_n", "beam", "dfs", "mcts", "reflect"])
def test_every_strategy_honours_the_node_budget(name):
    result, tree, _, rec = run(name, {}, policy(default_verdict="sure"),
                               Letters(target="ccc", letters="ab"), budget=Budget(max_nodes=5))
    assert result.outcome == "budget" and len(tree.nodes) <= 5
    assert rec.events[-1].type == ev.RUN_FINISHED


@pytest.mark.parametrize("name", ["best_of_n", "beam", "dfs", "mcts", "reflect"])
def test_every_strategy_honours_the_token_budget(name):
    result, tree, _, rec = run(name, {}, policy(default_verdict="sure"),
                               Letters(target="cccc", letters="ab"), budget=Budget(max_tokens=4))
    assert result.outcome == "budget"
    assert rec.events[-1].payload["tokens"] <= 4 + 3   # one call may overshoot before the check


@pytest.mark.parametrize("name", ["best_of_n", "beam", "mcts"])
def test_same_seed_same_requests(name):
    from tests.helpers import pick_by_seed
    seeds = []
    for _ in range(2):
        _, _, model, _ = run(name, {}, lambda r: pick_by_seed(r) if r.choices else "x",
                             Letters(target="abc", letters="abc"), budget=Budget(max_nodes=20),
                             seed=7)
        seeds.append([(r.seed, r.prompt) for r in model.requests])
    assert seeds[0] == seeds[1]


def test_truth_counts_helper():
    from reasoning.tree import Node, Tree
    t = Tree()
    specs = [(1, PRUNED, True), (2, PRUNED, False), (3, OPEN, False), (4, BACKTRACKED, True),
             (5, OPEN, None)]
    for nid, state, truth in specs:
        t.nodes[nid] = Node(nid, None, 1, state=state, truth=truth, evaluator="value_prompt")
    assert truth_counts(t, {4}) == {"scored_with_truth": 4, "false_prunes": 2, "false_keeps": 1,
                                    "false_prunes_threshold": 2, "false_prunes_capacity": 0}
    assert truth_counts(Tree(), set()) == {}


@pytest.mark.parametrize("name", ["beam", "dfs", "reflect"])
def test_a_solution_found_by_an_evaluator_rollout_ends_the_search(name):
    params = {"evaluator": "rollout"} | ({"proposals": 1} if name != "reflect" else {})
    result, tree, _, _ = run(name, params, policy(prefs={"a": "b"}), Letters(target="ab"))
    assert result.outcome == "solved" and result.answer == "ab"
    assert tree.nodes[result.answer_node].role == "rollout"
    assert [tree.nodes[k].role for k in tree.nodes[1].children] == ["rollout"] * 3
    assert tree.nodes[1].score_details["hard"] is True and len(tree.nodes) == 5
