"""Evaluators: how a search scores a node (a partial solution) before deciding what to keep.

Five are offered (plus plug-ins, added by :func:`reasoning.plugins.ensure`), selectable per run
(``EVALUATORS`` maps a name to its class):

* ``value_prompt`` — Tree-of-Thoughts: ask the model whether the remaining state can still reach
  the goal (sure / likely / impossible), several samples, scores summed (20 / 1 / 0.001);
* ``rollout`` — Monte-Carlo: n rollouts from the node to a terminal answer, value = fraction
  verified correct (hard label = any correct, soft label = the fraction);
* ``verifier`` — exact verdict on a terminal state, neutral on any other;
* ``prm`` — a process reward model behind an OpenAI-compatible endpoint grades each step (its
  own ``--prm-base-url`` / ``--prm-model``, so a small policy can be guided by a larger grader);
* ``oracle`` — a baseline: exact solvability from the task's solver (1 or 0), no model call.

An evaluator may declare a ``Settings`` dataclass: its fields become ``--<name>-<field>`` flags
and form widgets, and reach the evaluator through the strategy's params (``prm_model=…``).

An evaluator computes a :class:`Score`; :func:`score` records it as one ``node_scored`` event with,
where the task can decide it exactly (``Task.solvable``), the ground ``truth`` beside the value.
Values keep their native scale (ToT sums up to 60); ``Score.norm`` maps them to 0..1 for strategies
that mix values (MCTS), and ``default_threshold`` is the pruning line on the native scale.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..engine import SearchContext
from ..settings import from_dict
from .base import Evaluator, Score, terminal_score
from .oracle import OracleEvaluator
from .prm import PRMEvaluator
from .rollout import RolloutEvaluator
from .value_prompt import ValuePromptEvaluator
from .verifier import VerifierEvaluator

BUILTIN_EVALUATORS: dict[str, type[Evaluator]] = {
    cls.name: cls for cls in (ValuePromptEvaluator, RolloutEvaluator, VerifierEvaluator,
                              PRMEvaluator, OracleEvaluator)}
EVALUATORS: dict[str, type[Evaluator]] = dict(BUILTIN_EVALUATORS)


def make_evaluator(name: str, settings: Any = None, **params: Any) -> Evaluator:
    """Build evaluator ``name``; one with a ``Settings`` class gets ``settings`` (or its
    defaults), the others get ``params`` as keyword arguments."""
    try:
        cls = EVALUATORS[name]
    except KeyError:
        raise ValueError(f"evaluator: unknown evaluator {name!r}; choose one of "
                         f"{', '.join(EVALUATORS)}") from None
    if cls.Settings is not None:
        return cls(settings if settings is not None else from_dict(cls.Settings, params))
    return cls(**params)


def evaluator_settings(name: str, given: dict[str, Any]) -> Any:
    """Evaluator ``name``'s settings object from ``given`` (strings welcome), or None when the
    evaluator has no ``Settings``; a ValueError names the flat key (``prm_model``)."""
    cls = EVALUATORS.get(name)
    if cls is None or cls.Settings is None:
        return None
    try:
        return from_dict(cls.Settings, given)
    except ValueError as e:
        raise ValueError(f"{name}_{e}") from None


def evaluator_setting_keys() -> dict[str, tuple[str, str]]:
    """Flat setting keys of every evaluator with settings: ``{"prm_model": ("prm", "model")}``."""
    out = {}
    for name, cls in EVALUATORS.items():
        if cls.Settings is not None:
            for f in dataclasses.fields(cls.Settings):
                out[f"{name}_{f.name}"] = (name, f.name)
    return out


def check_evaluator(name: str, field: str = "evaluator", allow_none: bool = False) -> None:
    """Settings validation: ``name`` must be a registered evaluator (or "" when allowed)."""
    if allow_none and name in ("", "none"):
        return
    if name not in EVALUATORS:
        extra = " (or none)" if allow_none else ""
        raise ValueError(f"{field}: must be one of {', '.join(EVALUATORS)}{extra}, got {name!r}")


def score(ctx: SearchContext, evaluator: Evaluator, node_id: int) -> Score:
    """Score ``node_id`` and record one ``node_scored`` event (value, details, truth)."""
    result = evaluator.evaluate(ctx, node_id)
    truth = ctx.task.solvable(ctx.states[node_id]) if node_id in ctx.states else None
    ctx.score(node_id, result.value, evaluator.name,
              {**result.details, "norm": round(result.norm, 6)},
              truth=None if truth is None else bool(truth))
    return result


def prune_if_dead(ctx: SearchContext, evaluator: Evaluator, node_id: int, result: Score) -> bool:
    """Prune ``node_id`` as a "dead end" when an *exact* evaluator (the oracle) scored it below
    its threshold — a proof, so no search keeps it for want of better nodes. True when pruned."""
    if not (evaluator.exact and result.value < evaluator.default_threshold):
        return False
    ctx.rejected.add(node_id)
    ctx.prune(node_id, f"dead end ({evaluator.name}: {result.value:g})", result.value,
              kind="threshold")
    return True


def solution_found(ctx: SearchContext, result: Score) -> int | None:
    """A verified solution the evaluator itself reached (a rollout), or None."""
    return next((r for r in result.details.get("rollouts", []) if ctx.is_solved(r)), None)


__all__ = ["BUILTIN_EVALUATORS", "EVALUATORS", "Evaluator", "evaluator_setting_keys",
           "evaluator_settings", "Score", "check_evaluator", "make_evaluator", "prune_if_dead", "score",
           "solution_found", "terminal_score"]
