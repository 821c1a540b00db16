"""The evaluator interface and the score it returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..engine import SearchContext
from ..figures import Figure


@dataclass(frozen=True)
class Score:
    value: float                 # on the evaluator's own scale (ToT: 0.003 .. 60)
    norm: float                  # the same, mapped to 0..1
    details: dict[str, Any] = field(default_factory=dict)


class Evaluator:
    name: ClassVar[str]
    title: ClassVar[str]
    default_threshold: ClassVar[float]
    # optional: a dataclass of settings (flags ``--<name>-<field>``); then ``__init__(settings)``
    Settings: ClassVar[type | None] = None
    # True when a value below ``default_threshold`` is a proof, not a guess (the oracle): a
    # search may then drop the node for good instead of keeping it for want of better ones
    exact: ClassVar[bool] = False
    # figures an evaluator adds to run_finished.metrics (reasoning.figures.Figure), if any
    figures: ClassVar[tuple[Figure, ...]] = ()

    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        raise NotImplementedError

    def metrics(self) -> dict[str, Any]:
        """Figures for the run's ``run_finished.metrics`` (declare each in ``figures``)."""
        return {}

    @property
    def max_value(self) -> float:
        return 1.0


def terminal_score(ctx: SearchContext, node_id: int, top: float) -> Score | None:
    """A terminal state is judged by the verifier, whatever the evaluator: ``top`` or 0."""
    state = ctx.states.get(node_id)
    if state is None or not ctx.task.is_terminal(state):
        return None
    verdict = ctx.task.verify(ctx.problem, state)
    if verdict.correct is None:
        return None
    value = top if verdict.correct else 0.0
    return Score(value, value / top if top else 0.0,
                 {"source": "verifier", "verdict": verdict.reason})
