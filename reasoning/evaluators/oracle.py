"""The oracle: a perfect evaluator for tasks with an exact solver — a baseline, not a method.

Value 1 when the node's state can still reach a correct answer (``Task.solvable``), else 0; no
model call. It bounds a search from above: with a perfect evaluator, what is left of the gap to
100 % is the proposer's (or the search's) doing. Values 0/1 sit on both sides of every default
threshold (value prompt 1, rollout 0.01, this 0.5), so beam, DFS, MCTS and reflect use it as is.
A task without an exact solver cannot have an oracle: evaluating says so and the run ends with an
error (runs check this up front, see :func:`check_oracle`).
"""
from __future__ import annotations

from typing import Any

from ..engine import SearchContext
from .base import Evaluator, Score, terminal_score

TITLE = "baseline: oracle (exact solvability, no model call)"


class OracleEvaluator(Evaluator):
    name = "oracle"
    title = TITLE
    default_threshold = 0.5  # keeps solvable states (1), cuts hopeless ones (0)
    exact = True             # a 0 is a proof: no solution below this node

    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        done = terminal_score(ctx, node_id, 1.0)
        if done is not None:
            return done
        truth = ctx.task.solvable(ctx.states[node_id])
        if truth is None:
            raise ValueError(f"evaluator: oracle needs a task with an exact solver; "
                             f"{ctx.task.name} has none")
        value = 1.0 if truth else 0.0
        return Score(value, value, {"source": "oracle", "solvable": bool(truth), "tokens": 0})


def check_oracle(task: Any, evaluator: str) -> None:
    """ValueError when ``evaluator`` is the oracle and ``task`` has no exact solver."""
    if evaluator == OracleEvaluator.name and "solvable" not in task.features():
        raise ValueError(f"evaluator: oracle needs a task with an exact solver (solvable); "
                         f"{task.name} has none")
