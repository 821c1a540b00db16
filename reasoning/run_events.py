"""The makers of the run-level events, and the split of loose fields into a typed payload.

Search events (``node_created`` … ``mcts_backprop``) are built only by
:class:`~reasoning.search_context.SearchContext`'s methods, so strategies and evaluators say what
happened (``ctx.prune(node, reason)``, ``ctx.score(...)``) and never spell an event's fields.
:func:`run_started` and :func:`run_finished` build the two run-level payloads for every run,
whoever starts it (the engine, a model that failed to start, a plug-in check).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from . import events as ev


def run_started(task: Any, problem: Any, strategy: Any, model: dict[str, Any], budget: Any,
                seed: int, info: dict[str, Any] | None = None) -> ev.RunStarted:
    """The one ``run_started`` payload: what was run (every run, whatever starts it)."""
    return ev.RunStarted(task=task.name, problem=problem.text, problem_id=problem.id,
                         strategy=strategy.name, params=strategy.params(), model=model,
                         budget=dict(budget.__dict__), seed=seed,
                         **typed_split(ev.RunStarted, info))


def run_finished(result: Any, metrics: dict[str, Any] | None = None,
                 **totals: Any) -> ev.RunFinished:
    """The one ``run_finished`` payload: outcome, answer, detail, the run's totals and the
    ``metrics`` of its strategy and evaluators (``Result.extra``, the truth counts). A metric
    named like a field of ``run_finished`` (``traceback``) is that field; one that is not a
    number, true/false or a list is kept beside the fields, as before."""
    fields = {"outcome": result.outcome, "answer": result.answer,
              "answer_node": result.answer_node, "detail": result.detail, **totals}
    names = {f.name for f in dataclasses.fields(ev.RunFinished)}
    figures: dict[str, Any] = {}
    for k, v in (metrics or {}).items():
        if k in names or not isinstance(v, (int, float, bool, list)):
            fields[k] = v
        else:
            figures[k] = v
    return ev.RunFinished(metrics=figures, **typed_split(ev.RunFinished, fields))


def typed_split(cls: type[ev.Payload], values: dict[str, Any] | None) -> dict[str, Any]:
    """Keyword arguments for ``cls``: its own fields by name, anything else in ``extra``."""
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    values = dict(values or {})
    out = {k: v for k, v in values.items() if k in names}
    rest = {k: v for k, v in values.items() if k not in names}
    return {**out, "extra": rest} if rest else out
