"""Depth-first search over steps — Tree-of-Thoughts DFS (Yao et al., 2023).

From a node: propose ``proposals`` distinct children, score them, prune those below
``threshold`` ("below threshold (value v < t)"), then visit the rest best first (ties: creation
order). Returning from a node without a solution is a ``node_backtracked`` event with the reason:
"dead end" (no child survived), "children exhausted" (all were visited), "depth limit". The search
stops at the first verified solution or when the budget runs out.

A child whose state another node already reached (the task's ``state_key``) is pruned as a
duplicate (``transpositions``): a subtree is never searched twice. A node's children are scored in
one batch (concurrently with ``--parallel N``). ``anytime``: when the whole tree is exhausted
without a solution, the search goes round again from the root: every node it keeps proposes
``proposals`` more steps not tried there before, until a solution, the budget, or no untried
step is left anywhere.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..engine import Result, SearchContext
from ..evaluators import check_evaluator, score, solution_found
from ..growth import Growth, int_setting
from ..parallel import prefetch_scores
from ..settings import check_range
from . import tot
from .base import Strategy
from .beam import propose_children, rank
from .transpose import Transpositions


@dataclass
class DFSSettings:
    proposals: int = 5
    threshold: float | None = None   # None: the evaluator's default (value_prompt: 1 = "likely")
    temperature: float = 0.7
    evaluator: str = "value_prompt"
    protocol: Literal["constrained", "tot"] = "constrained"   # tot: the paper's (Game of 24)
    anytime: bool = False         # new rounds that widen every kept node, until the budget
    transpositions: bool = True   # prune a child whose state another node already reached

    def __post_init__(self) -> None:
        check_range("proposals", self.proposals, 1, 1000)
        if self.threshold is not None:
            check_range("threshold", self.threshold, -1e9, 1e9)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_evaluator(self.evaluator)
        tot.check_settings(self.protocol, self.evaluator, self.anytime)


class DFS(Strategy):
    name = "dfs"
    title = "Depth-first search with backtracking (Tree-of-Thoughts DFS)"
    Settings = DFSSettings
    figures = tot.FIGURES   # --protocol tot: the paper's metrics (reasoning.figures)

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth:
        # a node's proposals arrive together: keep room for all of them
        return Growth.every_family(int_setting(params, "proposals", DFSSettings.proposals))

    def run(self, ctx: SearchContext) -> Result:
        tot_protocol = self.settings.protocol == "tot"
        self._evaluator = tot.evaluator() if tot_protocol else self.make_evaluator()
        t = self.settings.threshold
        self._t = self._evaluator.default_threshold if t is None else t
        if tot_protocol:
            return self._run_tot(ctx)
        root = ctx.root()
        self._seen = Transpositions(self.settings.transpositions)
        self._seen.add(ctx, root)
        self._taken: dict[int, set[str]] = defaultdict(set)
        self._viable: dict[int, dict[int, float]] = defaultdict(dict)  # kept children, by node
        self._round = 0
        for restart in itertools.count():
            before = sum(len(t) for t in self._taken.values())
            solved = self._visit(ctx, root)
            if solved is not None:
                return Result("solved", ctx.answer_of(solved), solved, "verified solution")
            if not self.settings.anytime:
                break
            if sum(len(t) for t in self._taken.values()) == before:
                return Result("failed", detail=f"search space exhausted without a solution "
                                               f"after {restart + 1} rounds: no untried step left")
            self._round += 1  # the next round draws new steps (new seeds, earlier ones excluded)
        return Result("failed", detail="search space exhausted without a solution")

    def _visit(self, ctx: SearchContext, node: int) -> int | None:
        """Depth-first from ``node``; the solved node id, or None after backtracking.

        A round proposes ``proposals`` steps not proposed from ``node`` before; the children
        kept in earlier rounds are visited again with the new ones (best first), so an anytime
        restart widens every kept node, not only the root."""
        if ctx.depth(node) >= ctx.task.max_depth:
            return self._backtrack(ctx, node, "depth limit")
        k = self.settings.proposals
        kids, solved = propose_children(ctx, node, k, self.settings.temperature,
                                        self._taken[node], self._round * k)
        if solved is not None:
            return solved.node_id
        kids = [c for c in kids if self._seen.duplicate(ctx, c.node_id) is None]
        prefetch_scores(ctx, self._evaluator, [c.node_id for c in kids])
        values = {}
        for c in kids:
            result = score(ctx, self._evaluator, c.node_id)
            values[c.node_id] = result.value
            found = solution_found(ctx, result)
            if found is not None:
                return found
        self._viable[node].update(self._cut(ctx, values))
        viable = self._viable[node]
        for nid in rank(viable):
            found = self._visit(ctx, nid)
            if found is not None:
                return found
        return self._backtrack(ctx, node, "children exhausted" if viable else "dead end")

    def _run_tot(self, ctx: SearchContext) -> Result:
        """ToT's DFS: one proposal call per node, prune below the threshold, best first; it ends
        at the first node whose answers pass the last-step judge, never told by the verifier."""
        finals = self._visit_tot(ctx, ctx.root())
        return tot.judge_final(ctx, finals or [], f"threshold {self._t:g}")

    def _visit_tot(self, ctx: SearchContext, node: int) -> list[int] | None:
        why = tot.dead_end(ctx, node)
        if why:
            return self._backtrack(ctx, node, why)
        kids = tot.propose_lines(ctx, node, self.settings.temperature)
        values = {c.node_id: tot.score(ctx, self._evaluator, c.node_id) for c in kids}
        viable = self._cut(ctx, values)
        if kids and ctx.tree.nodes[kids[0].node_id].role == "answer":
            return rank(viable) or self._backtrack(ctx, node, "no answer passed the judge")
        for nid in rank(viable):
            found = self._visit_tot(ctx, nid)
            if found:
                return found
        return self._backtrack(ctx, node, "children exhausted" if viable else "dead end")

    def _cut(self, ctx: SearchContext, values: dict[int, float]) -> dict[int, float]:
        """Prune the children valued below the threshold; the rest, by id."""
        viable = {}
        for nid, v in values.items():
            if v < self._t:
                ctx.rejected.add(nid)
                ctx.prune(nid, f"below threshold (value {v:g} < {self._t:g})", v, kind="threshold")
            else:
                viable[nid] = v
        return viable

    def _backtrack(self, ctx: SearchContext, node: int, reason: str) -> None:
        if ctx.tree.nodes[node].parent_id is not None:  # the root is the problem, not a step
            ctx.backtrack(node, reason)
        return None
