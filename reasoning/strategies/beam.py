"""Beam search over steps — Tree-of-Thoughts BFS (Yao et al., 2023).

At each depth every kept node proposes ``proposals`` distinct next steps (steps already proposed
from the same node are excluded, so constrained sampling gives new ones); the evaluator scores all
candidates; the best ``beam_width`` are kept (ties broken by node id, i.e. creation order) and the
rest are pruned with reason "outside beam" and their value. A verified solution ends the search
at once. ToT's Game of 24 setting: beam 5, value prompt with 3 samples.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import events as ev
from ..engine import Child, Result, SearchContext
from ..evaluators import check_evaluator, make_evaluator, score, solution_found
from ..settings import check_range
from . import tot
from .base import Strategy


@dataclass
class BeamSettings:
    beam_width: int = 5
    proposals: int = 5
    temperature: float = 0.7
    evaluator: str = "value_prompt"
    protocol: Literal["constrained", "tot"] = "constrained"   # tot: the paper's (Game of 24)

    def __post_init__(self) -> None:
        check_range("beam_width", self.beam_width, 1, 1000)
        check_range("proposals", self.proposals, 1, 1000)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_evaluator(self.evaluator)
        tot.check_settings(self.protocol, self.evaluator)


def propose_children(ctx: SearchContext, node: int, k: int,
                     temperature: float) -> tuple[list[Child], Child | None]:
    """Up to ``k`` distinct valid children of ``node``; stops early on a verified solution.

    Returns (non-terminal children in creation order, the solved child or None). Invalid and
    duplicate proposals are pruned by the engine; failed terminals stay failed.
    """
    taken: set[str] = set()
    kids: list[Child] = []
    for i in range(k):
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


def rank(values: dict[int, float]) -> list[int]:
    """Node ids best first; equal values keep creation order (lower id first)."""
    return sorted(values, key=lambda nid: (-values[nid], nid))


class Beam(Strategy):
    name = "beam"
    title = "Beam search (Tree-of-Thoughts BFS)"
    Settings = BeamSettings

    def run(self, ctx: SearchContext) -> Result:
        if self.settings.protocol == "tot":
            return self._run_tot(ctx)
        evaluator = make_evaluator(self.settings.evaluator)
        frontier = [ctx.root()]
        for depth in range(ctx.task.max_depth):
            candidates: list[int] = []
            for node in frontier:
                kids, solved = propose_children(ctx, node, self.settings.proposals,
                                                self.settings.temperature)
                if solved is not None:
                    return Result("solved", ctx.answer_of(solved.node_id), solved.node_id,
                                  f"verified solution at depth {depth + 1}")
                candidates += [c.node_id for c in kids]
            if not candidates:
                return Result("failed", detail=f"no open candidate at depth {depth + 1}")
            values = {}
            for nid in candidates:
                result = score(ctx, evaluator, nid)
                values[nid] = result.value
                found = solution_found(ctx, result)
                if found is not None:
                    return Result("solved", ctx.answer_of(found), found,
                                  "verified solution found by an evaluator rollout")
            frontier = self._keep(ctx, values)
        for node in frontier:
            ctx.rec.emit(ev.NODE_BACKTRACKED, node, reason="depth limit")
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
                    ctx.rec.emit(ev.NODE_PRUNED, node, reason=why)
                    continue
                candidates += [c.node_id for c in
                               tot.propose_lines(ctx, node, self.settings.temperature)]
            values = {nid: tot.score(ctx, evaluator, nid) for nid in candidates}
            frontier = self._keep(ctx, values)
            if not frontier:
                break
        finals = [n for n in frontier if ctx.tree.nodes[n].role == "answer"]
        return tot.judge_final(ctx, finals, f"beam width {self.settings.beam_width}")

    def _keep(self, ctx: SearchContext, values: dict[int, float]) -> list[int]:
        order = rank(values)
        b = self.settings.beam_width
        for r, nid in enumerate(order[b:], start=b + 1):
            ctx.rejected.add(nid)
            ctx.capacity_cut.add(nid)  # better nodes took the room: not the evaluator's 'no'
            ctx.rec.emit(ev.NODE_PRUNED, nid, value=values[nid],
                         reason=f"outside beam (value {values[nid]:g}, rank {r} of {len(order)}, "
                                f"beam width {b})")
        return order[:b]
