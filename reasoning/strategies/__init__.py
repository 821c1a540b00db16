"""The strategy registry: one signature, listed by the page and dispatched by the CLI.

``STRATEGIES`` holds the built-ins plus plug-in strategies (added by the plug-in loader,
:func:`reasoning.plugins.ensure`, which the entry points call; this registry never imports it). A run's ``params`` are the strategy's settings plus, optionally, settings of the
evaluator it uses, named ``<evaluator>_<setting>`` (``prm_model``): see :func:`split_params`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .. import evaluator_accuracy
from ..evaluators import EVALUATORS, evaluator_setting_keys
from ..figures import Figure, merge
from .base import Strategy
from .beam import Beam
from .best_of_n import BestOfN
from .dfs import DFS
from .greedy import Greedy
from .mcts import MCTS
from .reflect import Reflect

BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Greedy, BestOfN, Beam, DFS, MCTS, Reflect)}
STRATEGIES: dict[str, type[Strategy]] = dict(BUILTIN_STRATEGIES)


def split_params(cls: type[Strategy], params: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the strategy's own settings, {evaluator: its settings}) from one flat ``params`` dict.

    A key that is not a strategy setting but ``<evaluator>_<setting>`` of an evaluator with a
    ``Settings`` class goes to that evaluator; anything else stays with the strategy (whose
    settings then reject it, naming the field)."""
    own = {f.name for f in dataclasses.fields(cls.Settings)}
    keys = evaluator_setting_keys()
    mine: dict[str, Any] = {}
    evals: dict[str, dict[str, Any]] = {}
    for k, v in params.items():
        if k not in own and k in keys:
            ev_name, field = keys[k]
            evals.setdefault(ev_name, {})[field] = v
        else:
            mine[k] = v
    return mine, evals


def make_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"strategy: unknown strategy {name!r}; choose one of "
                         f"{', '.join(STRATEGIES)}") from None
    mine, evals = split_params(cls, {k: v for k, v in (params or {}).items() if v is not None})
    strategy = cls.from_params(mine)
    strategy.set_evaluator_settings(evals)
    return strategy


def figures_for(strategy: str | None = None,
                params: Mapping[str, Any] | None = None) -> tuple[Figure, ...]:
    """The figures a run of ``strategy`` declares (``reasoning.figures``): its strategy's, those
    of the evaluators its ``params`` name (``evaluator``, ``…_evaluator``) and the truth figures
    every run may have. ``strategy=None``: every declaration known (built-ins and the plug-ins
    loaded). A strategy not loaded declares nothing (its metrics still show, undeclared)."""
    if strategy is None:
        return merge(*(c.figures for c in STRATEGIES.values()),
                     *(getattr(c, "figures", ()) for c in EVALUATORS.values()), evaluator_accuracy.FIGURES)
    cls = STRATEGIES.get(strategy)
    named = [v for k, v in (params or {}).items()
             if (k == "evaluator" or k.endswith("_evaluator")) and isinstance(v, str)]
    return merge(getattr(cls, "figures", ()),
                 *(getattr(EVALUATORS.get(n), "figures", ()) for n in named), evaluator_accuracy.FIGURES)


__all__ = ["BUILTIN_STRATEGIES", "EVALUATORS", "STRATEGIES", "Strategy", "figures_for",
           "make_strategy", "split_params"]
