"""REBASE-style reward-balanced search (after Wu et al., 2024, "Inference Scaling Laws"), as a
Thinktree strategy plug-in.

Beam search gives every kept node the same number of children and cuts the rest. REBASE keeps
the whole frontier and shares a fixed number of expansions per depth (``expansions``) among its
nodes in proportion to softmax(score / ``balance_temperature``): a strong node gets several
children, a weak one gets one or none (it is pruned, with its share in the reason). A low
temperature is close to greedy, a high one to an even split.

    THINKTREE_PLUGIN_PATH=examples/plugins python cli.py run --strategy rebase --expansions 6
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from reasoning.engine import Result, SearchContext
from reasoning.evaluators import check_evaluator, score
from reasoning.settings import check_range
from reasoning.strategies import Strategy


@dataclass
class RebaseSettings:
    expansions: int = 8                # children made per depth, shared by the whole frontier
    balance_temperature: float = 0.2   # softmax temperature over the scores (0..1 scale)
    temperature: float = 0.7           # sampling temperature of the policy
    evaluator: str = "value_prompt"

    def __post_init__(self) -> None:
        check_range("expansions", self.expansions, 1, 1000)
        check_range("balance_temperature", self.balance_temperature, 0.01, 10.0)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_evaluator(self.evaluator)


def allocate(scores: dict[int, float], total: int, temperature: float) -> dict[int, int]:
    """Split ``total`` expansions by softmax(score / temperature); largest remainders round up,
    ties go to the older node. Every share is a whole number and the shares sum to ``total``."""
    top = max(scores.values())
    weights = {n: math.exp((s - top) / temperature) for n, s in scores.items()}
    norm = sum(weights.values())
    exact = {n: total * w / norm for n, w in weights.items()}
    shares = {n: int(x) for n, x in exact.items()}
    left = total - sum(shares.values())
    for n in sorted(exact, key=lambda n: (-(exact[n] - shares[n]), n))[:left]:
        shares[n] += 1
    return shares


class Rebase(Strategy):
    name = "rebase"
    title = "REBASE (reward-balanced expansion)"
    Settings = RebaseSettings

    def run(self, ctx: SearchContext) -> Result:
        s = self.settings
        evaluator = self.make_evaluator()
        frontier = {ctx.root(): 1.0}           # node -> score on 0..1
        for depth in range(1, ctx.task.max_depth + 1):
            shares = allocate(frontier, s.expansions, s.balance_temperature)
            children: dict[int, float] = {}
            for node, k in shares.items():
                if k == 0:
                    ctx.rejected.add(node)     # counted in the evaluator-vs-truth figures
                    ctx.prune(node, f"REBASE: no expansion for score {frontier[node]:.3f}",
                              value=frontier[node], kind="capacity")
                    continue
                taken: set[str] = set()
                for i in range(k):
                    child = ctx.propose(node, s.temperature, exclude=taken, seed_k=i)
                    if child is None:
                        break                  # no new legal step from this node
                    if child.step is None:
                        continue               # invalid or duplicate: the engine pruned it
                    if child.terminal:         # the engine verified it: solved, failed or answered
                        if child.correct:
                            return Result("solved", ctx.answer_of(child.node_id), child.node_id,
                                          f"verified solution at depth {depth}")
                        continue
                    taken.add(child.step)
                    children[child.node_id] = score(ctx, evaluator, child.node_id).norm
            if not children:
                return Result("failed", detail=f"no open node left at depth {depth}")
            frontier = children
        return Result("failed", detail="depth limit reached without a solution")
