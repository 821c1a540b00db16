"""What every strategy shares: a name, a typed settings class, ``run(ctx)`` and a best effort
answer when a run is cut short. The registry in ``strategies/__init__`` maps names to classes so
the page lists them and the CLI dispatches without ``if`` chains.

A strategy names its evaluator in a setting called ``evaluator`` (or ``…_evaluator``); settings
of that evaluator (``prm_model`` …) travel with the strategy's params and ``make_evaluator``
builds it with them. The full, resolved evaluator settings are part of ``params()``, so a run
records exactly what graded it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from ..engine import Result, SearchContext
from ..evaluators import EVALUATORS, Evaluator, evaluator_settings, make_evaluator
from ..figures import Figure
from ..growth import Growth
from ..run_facts import solution_end
from ..settings import from_dict


class Strategy:
    name: ClassVar[str]
    title: ClassVar[str]
    Settings: ClassVar[type]
    # the figures this strategy adds to run_finished.metrics (its Result.extra), with their meaning
    # and how experiments pool them: reasoning.figures.Figure
    figures: ClassVar[tuple[Figure, ...]] = ()

    def __init__(self, settings: Any = None, **params: Any) -> None:
        self.settings = settings if settings is not None else from_dict(self.Settings, params)
        self.evaluator_settings: dict[str, Any] = {}   # evaluator name -> its Settings object
        self.set_evaluator_settings({})

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> Strategy:
        return cls(from_dict(cls.Settings, params))

    def evaluators_used(self) -> list[str]:
        """Evaluator names this run's settings choose (fields ``evaluator`` / ``…_evaluator``)."""
        out = []
        for f in dataclasses.fields(self.settings):
            value = getattr(self.settings, f.name)
            if f.name.endswith("evaluator") and isinstance(value, str) and value in EVALUATORS:
                out.append(value)
        return out

    def set_evaluator_settings(self, given: dict[str, dict[str, Any]]) -> None:
        """Validate evaluator settings (``{evaluator: {setting: value}}``) against the evaluators
        this strategy uses; a setting for an evaluator the run does not use is an error."""
        used = self.evaluators_used()
        for name, values in given.items():
            if name not in used and values:
                key = f"{name}_{next(iter(values))}"
                raise ValueError(f"{key}: applies to evaluator {name}, but this {self.name} run "
                                 f"uses {', '.join(used) or 'no evaluator'}")
        self.evaluator_settings = {}
        for name in used:
            resolved = evaluator_settings(name, given.get(name, {}))
            if resolved is not None:
                self.evaluator_settings[name] = resolved

    def make_evaluator(self, name: str | None = None) -> Evaluator | None:
        """The evaluator ``name`` (default: the ``evaluator`` setting) built with this run's
        settings for it; None for "" / "none"."""
        name = getattr(self.settings, "evaluator", "") if name is None else name
        if name in ("", "none", None):
            return None
        settings = self.evaluator_settings.get(name)
        made = make_evaluator(name) if settings is None else make_evaluator(name, settings=settings)
        self._made = [*getattr(self, "_made", []), made]
        return made

    def evaluator_metrics(self) -> dict[str, Any]:
        """What the evaluators made since the last call report for ``run_finished.metrics``
        (an evaluator's ``metrics()``, declared in its ``figures``), even for a run cut short."""
        out: dict[str, Any] = {}
        for made in getattr(self, "_made", []):
            out.update(getattr(made, "metrics", dict)())
        self._made: list[Evaluator] = []
        return out

    def params(self) -> dict[str, Any]:
        out = dataclasses.asdict(self.settings)
        for name, settings in self.evaluator_settings.items():
            out.update({f"{name}_{k}": v for k, v in dataclasses.asdict(settings).items()})
        return out

    @property
    def protocol(self) -> str:
        """How steps are asked for and valued: ``constrained`` (Thinktree's) or ``tot``."""
        return getattr(self.settings, "protocol", "constrained")

    def check_task(self, task: Any) -> None:
        """ValueError when the settings need something ``task`` lacks (the tot protocol)."""
        if self.protocol != "constrained" and self.protocol not in getattr(task, "protocols", ()):
            raise ValueError(f"protocol: {self.protocol} is defined for Game of 24 only, "
                             f"not for {task.name}")

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth | None:
        """How this strategy's tree grows, for the stable layout (see ``reasoning.layout``):
        room kept for a family and the gap between families. None: the layout's default."""
        return None

    def run(self, ctx: SearchContext) -> Result:
        raise NotImplementedError

    def best_effort(self, ctx: SearchContext, outcome: str, detail: str) -> Result:
        """The result when the run is cut short (budget, cancel): a found solution still counts."""
        first = first_solved(ctx)
        if first is not None:
            return Result("solved", ctx.answer_of(first), first, detail=f"solved before: {detail}")
        return Result(outcome, detail=detail)


def first_solved(ctx: SearchContext) -> int | None:
    """The node verified correct first (by completion time, then id), or None."""
    return solution_end(ctx.tree)  # one rule: reasoning.run_facts
