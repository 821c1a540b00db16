"""What every strategy shares: a name, a typed settings class, ``run(ctx)`` and a best effort
answer when a run is cut short. The registry in ``strategies/__init__`` maps names to classes so
the page lists them and the CLI dispatches without ``if`` chains."""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from ..engine import Result, SearchContext
from ..settings import from_dict
from ..tree import SOLVED


class Strategy:
    name: ClassVar[str]
    title: ClassVar[str]
    Settings: ClassVar[type]

    def __init__(self, settings: Any = None, **params: Any) -> None:
        self.settings = settings if settings is not None else from_dict(self.Settings, params)

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> Strategy:
        return cls(from_dict(cls.Settings, params))

    def params(self) -> dict[str, Any]:
        return dataclasses.asdict(self.settings)

    @property
    def protocol(self) -> str:
        """How steps are asked for and valued: ``constrained`` (Thinktree's) or ``tot``."""
        return getattr(self.settings, "protocol", "constrained")

    def check_task(self, task: Any) -> None:
        """ValueError when the settings need something ``task`` lacks (the tot protocol)."""
        if self.protocol != "constrained" and self.protocol not in getattr(task, "protocols", ()):
            raise ValueError(f"protocol: {self.protocol} is defined for Game of 24 only, "
                             f"not for {task.name}")

    def run(self, ctx: SearchContext) -> Result:
        raise NotImplementedError

    def best_effort(self, ctx: SearchContext, outcome: str, detail: str) -> Result:
        """The result when the run is cut short (budget, cancel): a found solution still counts."""
        solved = [n for n in ctx.tree.nodes.values() if n.state == SOLVED]
        if solved:
            first = min(solved, key=lambda n: n.t_completed or 0)
            return Result("solved", first.answer, first.id, detail=f"solved before: {detail}")
        return Result(outcome, detail=detail)
