"""The search maths, pinned: each test here fails when one piece of it is broken on purpose.

The breaks they were checked against (each applied, the test seen failing, then restored):

* beam keeps ``beam_width + 1`` nodes             -> test_beam_keeps_exactly_the_beam_width
* MCTS selection ignores Q (exploration term only) -> test_mcts_selection_follows_the_value
* the final answer follows the least-visited path  -> test_mcts_final_answer_is_the_most_visited_path
* ``pw_alpha`` ignored (always ``width`` children) -> test_progressive_widening_limits_children
* ``stop_on_solution`` ignored (either way)         -> test_stop_on_solution_stops_at_the_first
* a solution found before the budget cut dropped   -> test_a_solution_survives_the_budget_cut
* ``c_uct`` not used in selection (0 instead)       -> test_mcts_exploration_follows_c_uct
* idle simulations write their own events again    -> test_anytime_mcts_simulations_that_learn_nothing_write_nothing_and_are_bounded
* anytime c_uct 0 spins on a solved path           -> test_anytime_mcts_with_c_uct_0_ends_when_selection_can_only_repeat_itself

All runs are deterministic: a scripted policy on a toy task (spell a word one letter a step), or
the seeded random policy on Game of 24.
"""
from __future__ import annotations

import pytest

from reasoning import events as ev
from reasoning.engine import run_search
from reasoning.models.base import GenRequest
from reasoning.models.random_policy import RandomPolicy
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy, mcts
from reasoning.tasks import get_task
from reasoning.tasks.base import InvalidStep, Problem, Task, Verdict
from reasoning.tree import PRUNED, SOLVED, fold


class Spell(Task):
    """Spell ``target`` one letter per step from ``letters``; solvable = a prefix of the target."""
    name = "spell"
    title = "Spell (test task)"

    def __init__(self, target: str, letters: str) -> None:
        self.target, self.letters, self.max_depth = target, letters, len(target)

    def problems(self) -> list[Problem]:
        return [Problem("1", self.target)]

    def parse_problem(self, text: str) -> Problem:
        return Problem(text, text)

    def initial_state(self, problem: Problem) -> str:
        return ""

    def prompt(self, problem: Problem, state: str, mode: str) -> str:
        return f"state:{state}"

    def apply_step(self, problem: Problem, state: str, text: str) -> tuple[str, str]:
        if text not in self.letters:
            raise InvalidStep(f"invalid step: {text!r}")
        return text, state + text

    def is_terminal(self, state: str) -> bool:
        return len(state) == self.max_depth

    def verify(self, problem: Problem, state: str) -> Verdict:
        ok = state == self.target
        return Verdict(ok, "spelled" if ok else "misspelled", answer=state)

    def describe(self, state: str) -> str:
        return state or "-"

    def legal_steps(self, state: str) -> list[str]:
        return list(self.letters)

    def solvable(self, state: str) -> bool:
        return self.target.startswith(state)

    def value_prompt(self, problem: Problem, state: str, mode: str) -> str:
        return f"value:{state}"


def first_allowed(req: GenRequest) -> str:
    """Steps: the first allowed letter (alphabetical); value prompts: always "likely"."""
    return "likely" if str(req.prompt).startswith("value:") else req.choices[0]


def run(strategy: str, params: dict, task: Task, model=None, budget: Budget | None = None,
        seed: int = 0):
    model = model or ScriptedModel(first_allowed)
    result, rec = run_search(make_strategy(strategy, params), task, task.problems()[0], model,
                             run_id=1, budget=budget or Budget(max_nodes=10_000), seed=seed)
    return result, fold(rec.events), rec


def word(tree, nid: int) -> str:
    return "".join(tree.nodes[p].step or "" for p in tree.path_to(nid))


# -- beam ------------------------------------------------------------------------------------------
def test_beam_keeps_exactly_the_beam_width():
    # every candidate scores the same, so the beam is the first b by creation order
    _, tree, rec = run("beam", {"beam_width": 2, "proposals": 3}, Spell("ccc", "abc"))
    for depth in (1, 2):
        scored = [n for n in tree.nodes.values() if n.depth == depth]
        kept = [n for n in scored if n.state != PRUNED]
        assert len(kept) == 2, f"depth {depth}: {len(kept)} kept of {len(scored)}"
        expanded = {n.parent_id for n in tree.nodes.values() if n.depth == depth + 1}
        assert expanded == {n.id for n in kept}
    assert len([n for n in tree.nodes.values() if n.depth == 1]) == 3
    assert len([n for n in tree.nodes.values() if n.depth == 2]) == 6


# -- mcts ------------------------------------------------------------------------------------------
def _mcts(params: dict, task: Task, budget: Budget | None = None):
    base = {"width": 2, "c_uct": 1.0, "stop_on_solution": False}
    return run("mcts", base | params, task, budget=budget)


def test_mcts_selection_follows_the_value():
    # rollouts pick "a" first, so every all-"a" prefix rolls out to the target; "b" never does
    result, tree, _ = _mcts({"simulations": 30}, Spell("aaa", "ab"))
    a, b = (next(c for c in tree.nodes[0].children if tree.nodes[c].step == s) for s in "ab")
    assert tree.nodes[a].visits >= 3 * tree.nodes[b].visits, (tree.nodes[a].visits,
                                                             tree.nodes[b].visits)
    assert tree.nodes[a].mean_value > 0.5 and tree.nodes[b].mean_value == 0.0
    assert result.outcome == "solved"


def test_mcts_exploration_follows_c_uct():
    # rollouts pick "a" first: "a" is worth 1, "b" 0. With c 0 selection only exploits, so "b"
    # keeps its one first visit; the UCT bonus c·sqrt(ln N / n) sends more visits to "b" the
    # larger c is (exact counts: the runs are deterministic)
    visits = {}
    for c in (0.0, 1.0, 2.0):
        _, tree, _ = _mcts({"simulations": 30, "c_uct": c}, Spell("aaa", "ab"))
        a, b = (next(k for k in tree.nodes[0].children if tree.nodes[k].step == s) for s in "ab")
        visits[c] = (tree.nodes[a].visits, tree.nodes[b].visits)
    assert visits == {0.0: (29, 1), 1.0: (27, 3), 2.0: (18, 7)}


def _anytime_1234(params: dict):
    task = get_task("game24")
    result, rec = run_search(make_strategy("mcts", {"anytime": True, "stop_on_solution": False,
                                                    **params}),
                             task, task.parse_problem("1 2 3 4"), RandomPolicy(), run_id=1,
                             budget=Budget(max_nodes=100_000), seed=0)
    tree = fold(rec.events)
    calls = rec.events[-1].payload["model_calls"]
    backprops = sum(e.type == ev.MCTS_BACKPROP for e in rec.events)
    assert result.outcome == "solved" and calls > 50
    assert len(rec.events) < 20 * calls, (len(rec.events), calls)
    # one event per simulation that made a node (and one last event for the rest)
    assert backprops <= len(tree.nodes) + 1
    sims = int(result.detail.split(" after ")[1].split(" simulations")[0])
    assert tree.nodes[0].visits == sims
    for n in tree.nodes.values():   # a node's visits = its children's + the ones that ended at it
        kids = [tree.nodes[c].visits for c in n.children if tree.nodes[c].role == "thought"]
        assert n.visits >= sum(kids)
    return result, sims


def test_anytime_mcts_with_c_uct_0_ends_when_selection_can_only_repeat_itself():
    """c 0 with stop_on_solution off: once a verified path leads, selection would re-visit it for
    ever (no model call, no new node; issue 29: tens of thousands of events). The first such
    simulation ends the run."""
    result, sims = _anytime_1234({"c_uct": 0.0})
    assert result.detail.endswith("with c_uct 0 every later simulation would re-visit the same "
                                  "known leaf (nothing more to learn), so the search stopped")
    assert sims == 66


def test_anytime_mcts_simulations_that_learn_nothing_write_nothing_and_are_bounded(monkeypatch):
    """c 1.4, width 4: UCT re-visits the solved path thousands of times before it tries anything
    new. Those simulations write no event of their own; IDLE_LIMIT of them in a row end the run."""
    monkeypatch.setattr(mcts, "IDLE_LIMIT", 500)
    result, sims = _anytime_1234({"c_uct": 1.4, "width": 4})
    assert result.detail.endswith("the last 500 simulations only re-visited known leaves (no model "
                                  "call, no new node), so the search stopped")
    assert sims > 500


def _most_visited_end(tree) -> int:
    node = tree.root_id
    while True:
        kids = [c for c in tree.nodes[node].children if tree.nodes[c].role != "rollout"]
        if not kids:
            return node
        node = max(kids, key=lambda c: (tree.nodes[c].visits, tree.nodes[c].value_sum, -c))


def test_mcts_final_answer_is_the_most_visited_path():
    result, tree, rec = _mcts({"simulations": 30}, Spell("aaa", "ab"))
    end = _most_visited_end(tree)
    assert word(tree, end) == "aaa" and tree.nodes[end].state == SOLVED
    assert result.answer_node == end and result.answer == "aaa"
    assert result.detail.startswith("the most-visited path ends in a verified solution")
    fin = rec.events[-1].payload
    assert fin["outcome"] == "solved" and fin["answer_node"] == end


def test_mcts_reports_a_solution_off_the_most_visited_path_as_solved():
    # target "ba", rollouts prefer "a": simulation 1 expands "a" (its rollout "aa" fails), 2
    # expands "b" whose rollout "ba" is verified. One visit each: the most-visited path ends at
    # "b" (tie on visits, higher value), a thought that is not itself solved -- the rollout is.
    result, tree, _ = _mcts({"simulations": 2}, Spell("ba", "ab"))
    end = _most_visited_end(tree)
    assert word(tree, end) == "b" and tree.nodes[end].state != SOLVED
    solved = [n.id for n in tree.nodes.values() if n.state == SOLVED]
    assert len(solved) == 1 and tree.nodes[solved[0]].role == "rollout"
    assert result.outcome == "solved" and result.answer == "ba"
    assert result.answer_node == solved[0]
    assert result.detail == (f"verified solution at node {solved[0]}; the most-visited path "
                             f"(to node {end}) does not end in one after 2 simulations")


def test_progressive_widening_limits_children():
    # alpha 0.5: the root may have ceil(N^0.5) children after N visits -> 2 after 4 simulations
    _, wide, _ = _mcts({"simulations": 4, "width": 4, "pw_alpha": 0.0}, Spell("aaaa", "abcd"))
    _, narrow, _ = _mcts({"simulations": 4, "width": 4, "pw_alpha": 0.5}, Spell("aaaa", "abcd"))
    thoughts = lambda t: [c for c in t.nodes[0].children if t.nodes[c].role != "rollout"]  # noqa: E731
    assert len(thoughts(wide)) == 4
    assert len(thoughts(narrow)) == 2
    _, nine, _ = _mcts({"simulations": 9, "width": 4, "pw_alpha": 0.5}, Spell("aaaa", "abcd"))
    assert len(thoughts(nine)) == 3          # ceil(8 ** 0.5) = 3 before the 9th simulation


def test_stop_on_solution_stops_at_the_first():
    task = Spell("aa", "ab")
    result, tree, rec = _mcts({"simulations": 20, "stop_on_solution": True}, task)
    backprops = [e for e in rec.events if e.type == ev.MCTS_BACKPROP]
    assert result.outcome == "solved" and result.detail == "verified solution found"
    first = min(n.id for n in tree.nodes.values() if n.state == SOLVED)
    assert result.answer_node == first and len(backprops) == 1  # the first rollout solves it
    _, _, rec = _mcts({"simulations": 20, "stop_on_solution": False}, task)
    assert len([e for e in rec.events if e.type == ev.MCTS_BACKPROP]) > 1


# -- budgets ----------------------------------------------------------------------------------------
def test_a_solution_survives_the_budget_cut():
    # MCTS goes on after its solution (stop_on_solution False) until the node budget ends it
    result, tree, rec = _mcts({"simulations": 1000, "width": 3}, Spell("aaa", "abc"),
                              Budget(max_nodes=12))
    assert len(tree.nodes) <= 12
    assert result.outcome == "solved" and result.detail == "solved before: max_nodes 12 reached"
    assert tree.nodes[result.answer_node].state == SOLVED and result.answer == "aaa"
    assert rec.events[-1].payload["outcome"] == "solved"
    # best-of-N too: its chains step in lockstep; chain 1 is verified at depth 2, then the budget
    # (9 nodes: the root, 5 first steps, 3 second steps) ends the wave
    result, tree, _ = run("best_of_n", {"n": 5}, Spell("aa", "ab"), budget=Budget(max_nodes=9))
    assert result.outcome == "solved" and result.answer == "aa" and len(tree.nodes) == 9
    assert result.detail.startswith("solved before: max_nodes 9")


def test_random_policy_mcts_on_4_5_6_10_reports_its_verified_solution():
    """The issue's reproduction: 4 5 6 10 with stop_on_solution off was reported failed."""
    task = get_task("game24")
    problem = task.parse_problem("4 5 6 10")
    for sims in (50, 200):
        result, rec = run_search(make_strategy("mcts", {"simulations": sims,
                                                        "stop_on_solution": False}),
                                 task, problem, RandomPolicy(), run_id=1,
                                 budget=Budget(max_nodes=100_000, max_tokens=10**7), seed=0)
        tree = fold(rec.events)
        assert any(n.state == SOLVED for n in tree.nodes.values())
        assert result.outcome == "solved", (sims, result.detail)
        assert tree.nodes[result.answer_node].state == SOLVED
        assert result.answer.endswith("= 24")


@pytest.mark.parametrize("limit,field", [({"max_calls": 7}, "model_calls"),
                                         ({"max_prompt_tokens": 20}, "prompt_tokens")])
def test_budget_in_calls_and_prompt_tokens(limit, field):
    result, tree, rec = run("beam", {"beam_width": 2, "proposals": 3}, Spell("ccc", "abc"),
                            budget=Budget(max_nodes=10_000, **limit))
    fin = rec.events[-1].payload
    assert result.outcome == "budget" and result.detail == f"{next(iter(limit))} " \
        f"{next(iter(limit.values()))} reached"
    bound = next(iter(limit.values()))
    # checked before each call: calls never pass the limit; prompt tokens by one call at most
    assert fin[field] <= bound + (0 if field == "model_calls" else 2)


# -- reflect feeds its reflections back ------------------------------------------------------------
def test_reflect_feeds_the_reflections_so_far_into_later_prompts():
    def respond(req: GenRequest) -> str:
        prompt = str(req.prompt)
        if prompt.startswith("value:"):
            return "impossible" if prompt == "value:a" else "likely"
        if req.choices is None:
            return f"dead end {prompt.count('Step:')}"        # a reflection
        return req.choices[0]
    model = ScriptedModel(respond)
    result, tree, rec = run("reflect", {}, Spell("cb", "abc"), model=model)
    refl = [n.id for n in tree.nodes.values() if n.role == "reflection"]
    assert result.outcome == "solved" and len(refl) >= 2
    steps = [r for r in model.requests if r.choices is not None]
    assert "Dead ends" not in str(steps[0].prompt)            # nothing rejected yet
    for n in tree.nodes.values():
        if n.role == "thought":
            before = [i for i in refl if i < n.id]
            assert n.notes == before, (n.id, n.notes, before)   # all reflections so far
    # the prompt of the last step holds every reflection's text, each with its step
    last = str(steps[-1].prompt)
    assert last.endswith("state:c") and last.startswith("Dead ends found so far")
    for i in refl:
        assert tree.nodes[i].text.strip() in last
    assert "- a (a): This leads nowhere because dead end" in last


def test_notes_reach_chat_prompts_and_plug_in_tasks_without_an_override():
    class Chat(Spell):
        def prompt(self, problem, state, mode):
            return [{"role": "system", "content": "spell"}, {"role": "user", "content": state}]
    task = Chat("ab", "ab")
    p = task.problems()[0]
    out = task.prompt_with_notes(p, "a", "chat", ["x is a dead end"])
    assert out[0] == {"role": "system", "content": "spell"}
    assert out[1]["content"].startswith("Dead ends found so far") and out[1]["content"].endswith("a")
    assert task.prompt(p, "a", "chat")[1]["content"] == "a"      # the task's own prompt unchanged
    assert task.prompt_with_notes(p, "a", "chat", []) == task.prompt(p, "a", "chat")


def test_inspector_lists_the_reflections_in_a_nodes_prompt():
    pytest.importorskip("streamlit")
    from components.inspector import facts, notes_text
    def respond(req: GenRequest) -> str:
        if str(req.prompt).startswith("value:"):
            return "impossible" if str(req.prompt) == "value:a" else "likely"
        return req.choices[0] if req.choices else "no way on"
    _, tree, _ = run("reflect", {}, Spell("cb", "abc"), model=ScriptedModel(respond))
    node = next(n for n in tree.nodes.values() if n.notes)
    row = next(line for line in facts(node).splitlines() if line.startswith("reflections"))
    assert row.split()[-len(node.notes):] == [f"#{i}," for i in node.notes[:-1]] + \
        [f"#{node.notes[-1]}"]
    assert notes_text(tree, node).startswith(f"#{node.notes[0]}: This leads nowhere because no way on")
