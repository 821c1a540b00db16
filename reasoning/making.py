"""The makers of search events: the only code that builds them.

:class:`EventMaker` is mixed into :class:`~reasoning.engine.SearchContext`, so strategies and
evaluators say what happened (``ctx.prune(node, reason)``, ``ctx.score(...)``) and never spell an
event's fields. :func:`run_started` and :func:`run_finished` build the two run-level payloads for
every run, whoever starts it (the engine, a model that failed to start, a plug-in check).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from . import events as ev


class EventMaker:
    """Typed search events through ``self.rec`` (a :class:`~reasoning.recorder.Recorder`)."""

    rec: Any

    def new_node(self, parent_id: int, role: str = "thought") -> int:  # provided by the context
        raise NotImplementedError

    def complete(self, node_id: int, text: str, step: str | None = None, **fields: Any) -> None:
        """The node's generation ended (text, parsed step, tokens, finish reason, label …)."""
        self.rec.emit(ev.NodeCompleted(text=text, step=step,
                                       **typed_split(ev.NodeCompleted, fields)), node_id)

    def prune(self, node_id: int, reason: str, value: float | None = None,
              kind: str | None = None, duplicate_of: int | None = None) -> None:
        """Cut the node: ``kind`` says why in one word (threshold, capacity, invalid, duplicate)."""
        self.rec.emit(ev.NodePruned(reason=reason, value=value, kind=kind,
                                    duplicate_of=duplicate_of), node_id)

    def backtrack(self, node_id: int, reason: str, value: float | None = None) -> None:
        """The search returns from the node (dead end, children exhausted, rejected)."""
        self.rec.emit(ev.NodeBacktracked(reason=reason, value=value), node_id)

    def solve(self, node_id: int, answer: str | None, reason: str = "") -> None:
        """The verifier (or the strategy's own check) accepted the node's answer."""
        self.rec.emit(ev.NodeSolved(reason=reason, answer=answer), node_id)

    def fail(self, node_id: int, reason: str, answer: str | None = None) -> None:
        """The node is failed: the verifier rejected it, or its generation failed."""
        self.rec.emit(ev.NodeFailed(reason=reason, answer=answer), node_id)

    def score(self, node_id: int, value: float | None, evaluator: str,
              details: dict[str, Any] | None = None, truth: bool | None = None,
              reason: str | None = None, **fields: Any) -> None:
        """An evaluator's value for the node (native scale) and, where known, the exact truth."""
        self.rec.emit(ev.NodeScored(value=value, evaluator=evaluator, details=details or {},
                                    truth=truth, reason=reason,
                                    **typed_split(ev.NodeScored, fields)), node_id)

    def backprop(self, leaf_id: int, reward: float, path: list[int],
                 updates: list[list[float]]) -> None:
        """One MCTS backpropagation: ``updates`` = [node, visits, value_sum] along ``path``."""
        self.rec.emit(ev.MctsBackprop(reward=reward, path=path, updates=updates), leaf_id)

    def note(self, parent_id: int, text: str, role: str, label: str = "",
             meta: dict[str, Any] | None = None) -> int:
        """A node that is not a step (e.g. a written note): created and completed at once."""
        nid = self.new_node(parent_id, role)
        self.complete(nid, text, label=label or role, **(meta or {}))
        return nid


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
