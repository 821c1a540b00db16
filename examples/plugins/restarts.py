"""Random restarts, as a Thinktree strategy plug-in that declares figures of its own.

One chain at a time from the root, sampled at ``temperature``; a chain that fails (a wrong
answer, a broken step, a dead end) is left in the tree and the search starts again from the
root, up to ``tries`` chains. Unlike best-of-N, it stops at the first verified chain, so *how
many tries it took* is the interesting number. The strategy declares it, with two more, in
``figures`` (``reasoning.figures.Figure``); its ``Result.extra`` carries the values. That is
all it takes: the CLI's final JSON line (under ``metrics``), the run summary, Compare and the
experiment tables (pooled as declared: the mean number of tries, the share of runs solved by the
first chain) show them, and nothing outside this file changes.

    THINKTREE_PLUGIN_PATH=examples/plugins python cli.py run --strategy restarts --model random
"""
from __future__ import annotations

from dataclasses import dataclass

from reasoning.engine import Result, SearchContext
from reasoning.figures import Figure
from reasoning.settings import check_range
from reasoning.strategies import Strategy


@dataclass
class RestartsSettings:
    tries: int = 8             # chains drawn at most
    temperature: float = 0.8   # sampling temperature of every chain

    def __post_init__(self) -> None:
        check_range("tries", self.tries, 1, 1000)
        check_range("temperature", self.temperature, 0.0, 2.0)


class Restarts(Strategy):
    name = "restarts"
    title = "Random restarts (stop at the first verified chain)"
    Settings = RestartsSettings
    figures = (
        Figure("tries", "chains drawn, the last one included", "mean", "{:g}", "mean tries"),
        Figure("first_try", "the first chain was right", "rate", label="solved by the first chain"),
        Figure("chain_depths", "steps of each chain drawn, in order"),   # per run only
    )

    def run(self, ctx: SearchContext) -> Result:
        root = ctx.root()
        depths: list[int] = []
        last = "no chain drawn"
        for k in range(self.settings.tries):
            end, depth, why = self._chain(ctx, root, k)
            depths.append(depth)
            figures = {"tries": k + 1, "first_try": k == 0 and end is not None,
                       "chain_depths": list(depths)}
            if end is not None:
                return Result("solved", ctx.answer_of(end), end, f"chain {k + 1} verified",
                              extra=figures)
            last = why
        return Result("failed", detail=f"{self.settings.tries} chains, none right ({last})",
                      extra={"tries": len(depths), "first_try": False,
                             "chain_depths": depths})

    def _chain(self, ctx: SearchContext, root: int, k: int) -> tuple[int | None, int, str]:
        """One chain from the root: (its verified end or None, its steps, why it stopped)."""
        node = root
        for depth in range(1, ctx.task.max_depth + 1):
            child = ctx.propose(node, self.settings.temperature, seed_k=k)
            if child is None:
                return None, depth - 1, "no legal step left"
            if child.step is None:
                return None, depth, f"broken step: {child.reason}"
            if child.terminal:
                return (child.node_id if child.correct else None), depth, child.reason
            node = child.node_id
        return None, ctx.task.max_depth, "depth limit"
