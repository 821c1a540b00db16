"""The strategy registry: one signature, listed by the page and dispatched by the CLI."""
from __future__ import annotations

from typing import Any

from .base import Strategy
from .beam import Beam
from .best_of_n import BestOfN
from .dfs import DFS
from .greedy import Greedy
from .mcts import MCTS
from .reflect import Reflect

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Greedy, BestOfN, Beam, DFS, MCTS, Reflect)}


def make_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"strategy: unknown strategy {name!r}; choose one of "
                         f"{', '.join(STRATEGIES)}") from None
    return cls.from_params(params)


__all__ = ["STRATEGIES", "Strategy", "make_strategy"]
