"""Monte-Carlo step value (as in OVM / Math-Shepherd): n rollouts from the node to a terminal
answer with the policy; value = fraction verified correct. Each rollout is a visible ``rollout``
node under the scored node; the hard label (any correct) and soft label (fraction) are stored in
the ``node_scored`` details."""
from __future__ import annotations

from ..engine import SearchContext, rollout
from ..settings import check_range
from .base import Evaluator, Score, terminal_score


class RolloutEvaluator(Evaluator):
    name = "rollout"
    title = "Monte-Carlo rollouts (fraction verified correct)"
    default_threshold = 0.01  # prune when no rollout reached a correct answer (hard label 0)

    def __init__(self, n: int = 3, temperature: float = 1.0) -> None:
        check_range("rollouts", n, 1, 1000)
        check_range("rollout_temperature", temperature, 0.0, 2.0)
        self.n, self.temperature = n, temperature

    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        done = terminal_score(ctx, node_id, 1.0)
        if done is not None:
            return done
        ids, correct = [], 0
        for _ in range(self.n):
            nid, ok, _answer = rollout(ctx, node_id, self.temperature)
            ids.append(nid)
            correct += bool(ok)
        soft = correct / self.n
        return Score(soft, soft, {"source": "rollouts", "n": self.n, "correct": correct,
                                  "hard": correct > 0, "soft": soft, "rollouts": ids})
