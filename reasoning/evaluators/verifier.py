"""The verifier as an evaluator: exact on a terminal state, neutral (0.5) on any other."""
from __future__ import annotations

from ..engine import SearchContext
from .base import Evaluator, Score, terminal_score

NEUTRAL = 0.5


class VerifierEvaluator(Evaluator):
    name = "verifier"
    title = "Verifier (exact on terminal states, neutral otherwise)"
    default_threshold = NEUTRAL  # never prunes an unfinished state

    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        done = terminal_score(ctx, node_id, 1.0)
        if done is not None:
            return done
        return Score(NEUTRAL, NEUTRAL, {"source": "neutral", "why": "not a terminal state"})
