"""Greedy chain of thought: the shortcut. One chain, temperature 0, no backtracking."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import Result, SearchContext
from ..growth import Growth
from ..settings import check_range
from .base import Strategy


@dataclass
class GreedySettings:
    temperature: float = 0.0

    def __post_init__(self) -> None:
        check_range("temperature", self.temperature, 0.0, 2.0)


class Greedy(Strategy):
    name = "greedy"
    title = "Greedy chain of thought (shortcut)"
    Settings = GreedySettings

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth:
        return Growth(None, 1.0)  # one chain

    def run(self, ctx: SearchContext) -> Result:
        node = ctx.root()
        for _ in range(ctx.task.max_depth):
            child = ctx.propose(node, temperature=self.settings.temperature)
            if child is None:
                return Result("failed", detail="no legal step left")
            if child.step is None:
                outcome = "error" if child.error else "failed"
                return Result(outcome, detail=f"the chain broke: {child.reason}")
            if child.terminal:  # no verifier (correct is None): "answered", not failed
                outcome = {True: "solved", False: "failed", None: "answered"}[child.correct]
                return Result(outcome, ctx.answer_of(child.node_id), child.node_id, child.reason)
            node = child.node_id
        return Result("failed", detail="depth limit reached without an answer")
