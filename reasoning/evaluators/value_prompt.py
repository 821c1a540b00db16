"""The Tree-of-Thoughts value prompt: "can these numbers still reach 24? sure / likely /
impossible", sampled ``samples`` times, verdict scores summed (20 / 1 / 0.001 for Game of 24).

Where the model supports constraints the verdict is forced to one of the task's verdict words (one
short call per sample); otherwise the model writes freely and the last verdict word in its text
counts (none: the sample scores 0). Value calls do not become nodes — a node per sample would bury
the thoughts under verdicts and eat the node budget — they are kept in the ``node_scored`` details
(verdicts, tokens) and their tokens count towards the run's token budget. Values are cached per
prompt within a run, as ToT does: the same numbers left by two paths are judged once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..engine import SearchContext
from ..models.base import GenRequest
from ..settings import check_range
from .base import Evaluator, Score, terminal_score

FREE_MAX_TOKENS = 48


@dataclass
class ValuePromptSettings:
    """``--value-prompt-samples``: calls a state (ToT's Game of 24 setting is 3). On the embedded
    model one call tells solvable states from dead ends as well as three (both at chance:
    ``benchmarks/bench_value_checks.py``), for a third of the value calls."""
    samples: int = 3
    temperature: float = 0.7

    def __post_init__(self) -> None:
        check_range("samples", self.samples, 1, 100)
        check_range("temperature", self.temperature, 0.0, 2.0)


class ValuePromptEvaluator(Evaluator):
    name = "value_prompt"
    title = "ToT value prompt (sure / likely / impossible)"
    default_threshold = 1.0  # at least one "likely" among the samples
    Settings = ValuePromptSettings

    def __init__(self, settings: ValuePromptSettings | None = None) -> None:
        settings = settings or ValuePromptSettings()
        self.samples, self.temperature = settings.samples, settings.temperature
        self._cache: dict[str, Score] = {}
        self._top = 20.0

    @property
    def max_value(self) -> float:
        return self.samples * self._top

    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        words = ctx.task.value_choices()
        self._top = max(words.values())
        done = terminal_score(ctx, node_id, self.max_value)
        if done is not None:
            return done
        prompt = ctx.task.value_prompt(ctx.problem, ctx.states[node_id], ctx.model.mode)
        if prompt is None:
            return Score(self.max_value / 2, 0.5, {"source": "neutral",
                                                    "why": "the task has no value prompt"})
        key = str(prompt)
        if key in self._cache:
            hit = self._cache[key]
            return Score(hit.value, hit.norm, {**hit.details, "cached": True, "tokens": 0})
        result = self._sample(ctx, node_id, prompt, words)
        self._cache[key] = result
        return result

    def plan(self, ctx: SearchContext, node_id: int) -> list[GenRequest]:
        """The calls :meth:`evaluate` will make for ``node_id`` (none when cached or terminal),
        so a parallel run can make them ahead of time (:mod:`reasoning.parallel`)."""
        state = ctx.states.get(node_id)
        if state is None or ctx.task.is_terminal(state):
            return []
        prompt = ctx.task.value_prompt(ctx.problem, state, ctx.model.mode)
        if prompt is None or str(prompt) in self._cache:
            return []
        return [self._request(ctx, node_id, prompt, ctx.task.value_choices(), k)
                for k in range(self.samples)]

    def _request(self, ctx: SearchContext, node_id: int, prompt: Any, words: dict[str, float],
                 k: int) -> GenRequest:
        constrained = bool(ctx.model.capabilities.get("constraint"))
        return GenRequest(prompt=prompt, temperature=self.temperature,
                          seed=ctx.request_seed(node_id, 1000 + k),
                          max_tokens=8 if constrained else FREE_MAX_TOKENS,
                          stop=[] if constrained else ["\n\n"],
                          choices=list(words) if constrained else None)

    def _sample(self, ctx: SearchContext, node_id: int, prompt: Any,
                words: dict[str, float]) -> Score:
        constrained = bool(ctx.model.capabilities.get("constraint"))
        verdicts: list[str | None] = []
        tokens = 0
        for k in range(self.samples):
            ctx.check()
            out = ctx.call(self._request(ctx, node_id, prompt, words, k))
            if out is None:
                verdicts.append(None)
                continue
            text, meta = out
            tokens += meta["completion_tokens"]
            verdicts.append(parse_verdict(text, words))
        value = sum(words[v] for v in verdicts if v is not None)
        counts = {w: verdicts.count(w) for w in words}
        details = {"source": "value prompt", "samples": self.samples, "verdicts": verdicts,
                   "counts": counts, "constrained": constrained, "tokens": tokens}
        return Score(round(value, 6), value / self.max_value if self.max_value else 0.0, details)


def parse_verdict(text: str, words: dict[str, float]) -> str | None:
    """The last verdict word in ``text`` (case-insensitive, whole word), or None."""
    found = None
    best = -1
    low = (text or "").lower()
    for w in words:
        for m in re.finditer(rf"\b{re.escape(w.lower())}\b", low):
            if m.start() > best:
                best, found = m.start(), w
    return found
