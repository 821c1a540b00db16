"""Beam search over steps — Tree-of-Thoughts BFS (Yao et al., 2023).

At each depth every kept node proposes ``proposals`` distinct next steps (steps already proposed
from the same node are excluded, so constrained sampling gives new ones); the evaluator scores all
candidates; the best ``beam_width`` are kept (ties broken by node id, i.e. creation order) and the
rest are pruned with reason "outside beam" and their value. A verified solution ends the search
(once the batch it came in is back). ToT's Game of 24 setting: beam 5, value prompt with 3 samples.

Proposals go round-robin over the kept nodes (the first proposal of every kept node, then the
second …), one batch each, and all candidates of a depth are scored in one batch: with
``--parallel N`` that many calls are in flight, and the tree is the same for every N
(:mod:`reasoning.parallel`). A state another candidate already reached (the task's ``state_key``)
is pruned as a duplicate (``transpositions``). A candidate an *exact* evaluator (the oracle)
proves a dead end is pruned instead of kept for want of better ones. ``anytime``: when a round reaches the depth limit
without a solution, a new round starts from the root with first steps not tried before, until a
solution, the budget, or no untried first step is left.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..engine import Child, Result, SearchContext
from ..evaluators import check_evaluator, prune_if_dead, score, solution_found
from ..growth import Growth, int_setting
from ..parallel import Ask, prefetch_scores, propose_many
from ..settings import check_range
from . import tot
from .base import Strategy
from .transpose import Transpositions


@dataclass
class BeamSettings:
    beam_width: int = 5
    proposals: int = 5
    temperature: float = 0.7
    evaluator: str = "value_prompt"
    protocol: Literal["constrained", "tot"] = "constrained"   # tot: the paper's (Game of 24)
    anytime: bool = False         # new rounds from the root until a solution or the budget
    transpositions: bool = True   # prune a candidate whose state another node already reached

    def __post_init__(self) -> None:
        check_range("beam_width", self.beam_width, 1, 1000)
        check_range("proposals", self.proposals, 1, 1000)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_evaluator(self.evaluator)
        tot.check_settings(self.protocol, self.evaluator, self.anytime)


def propose_children(ctx: SearchContext, node: int, k: int, temperature: float,
                     taken: set[str] | None = None, k0: int = 0) -> tuple[list[Child], Child | None]:
    """Up to ``k`` distinct valid children of ``node``; stops early on a verified solution.

    Returns (non-terminal children in creation order, the solved child or None). Invalid and
    duplicate proposals are pruned by the engine; failed terminals stay failed. ``taken``: steps
    proposed from ``node`` before (kept up to date); ``k0``: the first proposal's seed index.
    """
    taken = set() if taken is None else taken
    kids: list[Child] = []
    for i in range(k0, k0 + k):
        child = ctx.propose(node, temperature, exclude=taken, seed_k=i)
        if child is None:
            break  # every legal step already proposed
        if child.step is None:
            continue
        taken.add(child.step)
        if child.terminal:
            if child.correct:
                return kids, child
            continue
        kids.append(child)
    return kids, None


def propose_round_robin(ctx: SearchContext, nodes: list[int], k: int, temperature: float,
                        taken: dict[int, set[str]], k0: int = 0
                        ) -> tuple[list[Child], Child | None]:
    """Up to ``k`` distinct children of each node: proposal i of every node is one batch.

    Returns (non-terminal children in creation order, the first solved child or None); a batch
    that brings a solution is the last one."""
    kids: list[Child] = []
    live = list(nodes)
    for i in range(k0, k0 + k):
        if not live:
            break
        got = propose_many(ctx, [Ask(n, temperature, exclude=taken[n], seed_k=i) for n in live])
        solved = None
        for node, child in zip(list(live), got, strict=True):
            if child is None:
                live.remove(node)  # every legal step of this node already proposed
            elif child.step is not None:
                taken[node].add(child.step)
                if not child.terminal:
                    kids.append(child)
                elif child.correct and solved is None:
                    solved = child
        if solved is not None:
            return kids, solved
    return kids, None


def rank(values: dict[int, float]) -> list[int]:
    """Node ids best first; equal values keep creation order (lower id first)."""
    return sorted(values, key=lambda nid: (-values[nid], nid))


class Beam(Strategy):
    name = "beam"
    title = "Beam search (Tree-of-Thoughts BFS)"
    Settings = BeamSettings
    figures = tot.FIGURES   # --protocol tot: the paper's metrics (reasoning.figures)

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth:
        # a node's proposals arrive together: keep room for all of them
        return Growth.every_family(int_setting(params, "proposals", BeamSettings.proposals))

    def run(self, ctx: SearchContext) -> Result:
        if self.settings.protocol == "tot":
            return self._run_tot(ctx)
        evaluator = self.make_evaluator()
        root = ctx.root()
        seen = Transpositions(self.settings.transpositions)
        seen.add(ctx, root)
        taken: dict[int, set[str]] = defaultdict(set)
        kept: dict[int, dict[int, float]] = defaultdict(dict)   # depth -> kept nodes, values
        for r in itertools.count():
            before = sum(len(t) for t in taken.values())
            result = self._round(ctx, root, evaluator, seen, taken, kept, r * self.settings.proposals)
            if result.outcome == "solved" or not self.settings.anytime:
                return result
            if sum(len(t) for t in taken.values()) == before:
                return Result("failed", detail=f"{result.detail}; no untried step left "
                                                f"after {r + 1} rounds")

    def _round(self, ctx: SearchContext, root: int, evaluator, seen: Transpositions,
               taken: dict[int, set[str]], kept: dict[int, dict[int, float]], k0: int) -> Result:
        """One pass from the root. A later (anytime) round draws new steps from every node it
        keeps and ranks them with the nodes kept at that depth before, so it widens the beam's
        best nodes instead of starting over; on a tie the newer node wins (measured: with a
        chance-level evaluator, older-first starves new first steps)."""
        frontier = [root]
        for depth in range(ctx.task.max_depth):
            kids, solved = propose_round_robin(ctx, frontier, self.settings.proposals,
                                               self.settings.temperature, taken, k0)
            if solved is not None:
                return Result("solved", ctx.answer_of(solved.node_id), solved.node_id,
                              f"verified solution at depth {depth + 1}")
            candidates = [c.node_id for c in kids if seen.duplicate(ctx, c.node_id) is None]
            if not candidates and not kept[depth + 1]:
                return Result("failed", detail=f"no open candidate at depth {depth + 1}")
            prefetch_scores(ctx, evaluator, candidates)
            values = dict(kept[depth + 1])
            for nid in candidates:
                result = score(ctx, evaluator, nid)
                found = solution_found(ctx, result)
                if found is not None:
                    return Result("solved", ctx.answer_of(found), found,
                                  "verified solution found by an evaluator rollout")
                # a proven dead end never takes a beam slot: ToT keeps the best b whatever their
                # value, which with an exact evaluator spends rounds below dead nodes
                if prune_if_dead(ctx, evaluator, nid, result):
                    continue
                values[nid] = result.value
            frontier = self._keep(ctx, values, newer_first=bool(k0))
            kept[depth + 1] = {n: values[n] for n in frontier}
        for node in frontier:
            ctx.backtrack(node, "depth limit")
        return Result("failed", detail=f"depth limit {ctx.task.max_depth} reached without a solution")

    def _run_tot(self, ctx: SearchContext) -> Result:
        """ToT's BFS: one proposal call per kept node, all candidates valued, the best b kept,
        for three steps and the answer step; never stopped early by the verifier."""
        evaluator = tot.evaluator()
        frontier = [ctx.root()]
        for _depth in range(ctx.task.max_depth + 1):   # three steps, then "Answer: …"
            candidates: list[int] = []
            for node in frontier:
                why = tot.dead_end(ctx, node)
                if why:
                    ctx.prune(node, why, kind="threshold")
                    continue
                candidates += [c.node_id for c in
                               tot.propose_lines(ctx, node, self.settings.temperature)]
            values = {nid: tot.score(ctx, evaluator, nid) for nid in candidates}
            frontier = self._keep(ctx, values)
            if not frontier:
                break
        finals = [n for n in frontier if ctx.tree.nodes[n].role == "answer"]
        return tot.judge_final(ctx, finals, f"beam width {self.settings.beam_width}")

    def _keep(self, ctx: SearchContext, values: dict[int, float],
              newer_first: bool = False) -> list[int]:
        order = sorted(values, key=lambda n: (-values[n], -n)) if newer_first else rank(values)
        b = self.settings.beam_width
        for r, nid in enumerate(order[b:], start=b + 1):
            ctx.rejected.add(nid)
            ctx.capacity_cut.add(nid)  # better nodes took the room: not the evaluator's 'no'
            ctx.prune(nid, f"outside beam (value {values[nid]:g}, rank {r} of {len(order)}, "
                           f"beam width {b})", values[nid], kind="capacity")
        return order[:b]
