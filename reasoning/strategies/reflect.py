"""Reflect: the o1-style pattern — one chain that notices a bad step, says why, and goes back.

The chain proposes one step at a time. When the evaluator rejects a step (value below
``threshold``) or the verifier rejects a final answer, the model writes a short reflection
("This leads nowhere because …", a node of role ``reflection`` under the rejected step, temperature
0, one line); the rejected step is marked backtracked (a failed answer stays failed) and the chain
continues from the step before it, never proposing the rejected step again. A node whose every
step has been rejected is itself backtracked and the chain returns one more step.

Reflections are fed back: every later step prompt carries the reflections so far, each with the
step it is about (``Task.prompt_with_notes``; by default a "dead ends found so far" block before
the task's own prompt), and each node records which reflections its prompt held (``notes`` in
``node_created``, shown by the inspector). The rejected step is also excluded from its parent, so
even a model that ignores the notes does not repeat it.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import Child, Result, SearchContext
from ..evaluators import check_evaluator, score, solution_found
from ..growth import Growth
from ..models.base import GenRequest
from ..settings import check_range
from .base import Strategy

REFLECTION_LEAD = "This leads nowhere because"
REFLECTION_MAX_TOKENS = 40
MAX_ATTEMPTS_PER_NODE = 12  # invalid proposals (unconstrained models) cannot loop forever


@dataclass
class ReflectSettings:
    threshold: float | None = None   # None: the evaluator's default (value_prompt: 1 = "likely")
    temperature: float = 0.7
    max_reflections: int = 8
    evaluator: str = "value_prompt"

    def __post_init__(self) -> None:
        if self.threshold is not None:
            check_range("threshold", self.threshold, -1e9, 1e9)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_range("max_reflections", self.max_reflections, 0, 10_000)
        check_evaluator(self.evaluator)


def reflection_prompt(before: str, step: str, after: str, why: str, mode: str):
    """A generic, task-agnostic request for a one-sentence reflection on a rejected step."""
    body = ("A step of a step-by-step solution was rejected.\n"
            f"Before the step: {before}\nStep: {step}\nAfter the step: {after}\n"
            f"Why it was rejected: {why}\n")
    if mode == "chat":
        return [{"role": "user", "content": body + "In one short sentence starting with "
                 f"'{REFLECTION_LEAD}', say why this step is a dead end."}]
    return body + "In one short sentence, say why this step is a dead end.\n" \
                  f"Reflection: {REFLECTION_LEAD}"


class Reflect(Strategy):
    name = "reflect"
    title = "Reflect and backtrack (one chain, o1-style)"
    Settings = ReflectSettings

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth:
        # attempts and reflections come one at a time: no kept slots, a spare unit between
        return Growth(None, 2.0)

    def run(self, ctx: SearchContext) -> Result:
        evaluator = self.make_evaluator()
        t = self.settings.threshold
        t = evaluator.default_threshold if t is None else t
        root = ctx.root()
        node = root
        excluded: dict[int, set[str]] = defaultdict(set)
        attempts: dict[int, int] = defaultdict(int)
        reflections = 0
        while True:
            child = None
            if ctx.depth(node) < ctx.task.max_depth and attempts[node] < MAX_ATTEMPTS_PER_NODE:
                child = ctx.propose(node, self.settings.temperature, exclude=excluded[node],
                                    seed_k=attempts[node])
                attempts[node] += 1
            if child is None:  # nothing left to try here: go back one step
                if node == root:
                    return Result("failed", detail="every first step was rejected")
                parent = ctx.tree.nodes[node].parent_id
                ctx.backtrack(node, "children exhausted" if ctx.depth(node) < ctx.task.max_depth
                              else "depth limit")
                node = parent
                continue
            if child.step is None:
                continue  # invalid or duplicate: pruned by the engine, try again
            excluded[node].add(child.step)
            if child.terminal:
                if child.correct:
                    return Result("solved", ctx.answer_of(child.node_id), child.node_id,
                                  f"verified after {reflections} reflections")
                if reflections >= self.settings.max_reflections:
                    return self._give_up(reflections)
                reflections += 1
                self._reflect(ctx, node, child, f"the final answer is wrong: {child.reason}")
                continue
            result = score(ctx, evaluator, child.node_id)
            found = solution_found(ctx, result)
            if found is not None:
                return Result("solved", ctx.answer_of(found), found,
                              "verified solution found by an evaluator rollout")
            value = result.value
            if value < t:
                ctx.rejected.add(child.node_id)
                ctx.backtrack(child.node_id, f"rejected: value {value:g} < threshold {t:g}", value)
                if reflections >= self.settings.max_reflections:
                    return self._give_up(reflections)
                reflections += 1
                self._reflect(ctx, node, child,
                              f"an evaluator judged that the goal cannot be reached from here "
                              f"(value {value:g} < {t:g})")
                continue
            node = child.node_id

    def _give_up(self, reflections: int) -> Result:
        return Result("failed", detail=f"a step was rejected after {reflections} reflections "
                                       f"(max_reflections {self.settings.max_reflections})")

    def _reflect(self, ctx: SearchContext, parent: int, child: Child, why: str) -> None:
        """A ``reflection`` node under the rejected step, written by the model."""
        task = ctx.task
        prompt = reflection_prompt(task.describe(ctx.states[parent]), child.step or "",
                                   task.describe(child.state), why, ctx.model.mode)
        nid = ctx.new_node(child.node_id, role="reflection")
        req = GenRequest(prompt=prompt, max_tokens=REFLECTION_MAX_TOKENS, temperature=0.0,
                         seed=ctx.request_seed(nid), stop=["\n"])
        out = ctx.generate(nid, req)
        if out is None:
            return  # the node is already marked failed with the model error
        text, meta = out
        full = text if ctx.model.mode == "chat" else f"{REFLECTION_LEAD} {text.strip()}"
        ctx.complete(nid, full, label="reflection", **meta)
        ctx.notes.append((nid, f"{child.step} ({task.describe(child.state)}): {full.strip()}"))
