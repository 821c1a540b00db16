"""Compute by purpose: what a run spent on which kind of model call.

Generated tokens alone make value-prompt searches look free (a forced verdict is 1–3 tokens, its
few-shot prompt hundreds), so every call is counted with its prompt tokens, generated tokens and
its *purpose*:

* ``proposal``   — a step proposed as a node (greedy, best-of-N chains, beam/DFS/MCTS children);
* ``value``      — an evaluator's value prompt (not a node);
* ``rollout``    — a step inside a rollout node (MCTS simulation, rollout evaluator);
* ``answer``     — a step that writes the final answer (a node of role ``answer``);
* ``reflection`` — a reflection written after a rejected step;
* ``other``      — calls counted only by bumping ``ctx.model_calls`` (code that predates purposes).

A call is counted when it is made (a failed call still cost a request); its tokens when it
returns. :meth:`Compute.over` names the first compute limit reached; the search context
(:meth:`~reasoning.search_context.SearchContext.check`) checks it with the other limits of
:class:`~reasoning.settings.Budget`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PURPOSES = ("proposal", "value", "rollout", "answer", "reflection")
_ROLE_PURPOSE = {"rollout": "rollout", "reflection": "reflection", "answer": "answer"}


class BudgetExhausted(Exception):
    """A budget limit was reached; the run ends with outcome ``budget``."""


def purpose_of_role(role: str) -> str:
    """The purpose of a call that writes a node of ``role`` (thoughts are proposals)."""
    return _ROLE_PURPOSE.get(role, "proposal")


@dataclass
class Compute:
    calls: dict[str, int] = field(default_factory=dict)
    prompt: dict[str, int] = field(default_factory=dict)
    completion: dict[str, int] = field(default_factory=dict)

    def call(self, purpose: str, n: int = 1) -> None:
        self.calls[purpose] = self.calls.get(purpose, 0) + n

    def used(self, purpose: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt[purpose] = self.prompt.get(purpose, 0) + int(prompt_tokens or 0)
        self.completion[purpose] = self.completion.get(purpose, 0) + int(completion_tokens or 0)

    @property
    def n_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def prompt_tokens(self) -> int:
        return sum(self.prompt.values())

    @property
    def completion_tokens(self) -> int:
        return sum(self.completion.values())

    def over(self, budget: Any) -> str | None:
        """The budget limit this compute has reached ("max_calls 40 reached"), or None.

        Generated tokens are checked by the caller against the tree (``max_tokens`` keeps its
        meaning); the limits here are the ones only the context can count."""
        limits = (("max_calls", getattr(budget, "max_calls", None), self.n_calls),
                  ("max_prompt_tokens", getattr(budget, "max_prompt_tokens", None),
                   self.prompt_tokens),
                  ("max_total_tokens", getattr(budget, "max_total_tokens", None),
                   self.prompt_tokens + self.completion_tokens))
        for name, limit, value in limits:
            if limit is not None and value >= limit:
                return f"{name} {limit} reached"
        return None

    def summary(self, prices: dict[str, float] | None = None) -> dict[str, Any]:
        """The ``run_finished`` fields: totals, by purpose, and the cost when priced."""
        used = [p for p in PURPOSES if p in self.calls] + sorted(set(self.calls) - set(PURPOSES))
        out: dict[str, Any] = {
            "completion_tokens": self.completion_tokens,
            "calls_by_purpose": {p: self.calls[p] for p in used},
            "tokens_by_purpose": {p: {"prompt": self.prompt.get(p, 0),
                                      "completion": self.completion.get(p, 0)} for p in used}}
        cost = price(prices, self.prompt_tokens, self.completion_tokens)
        if cost is not None:
            out["cost"] = cost
            out["cost_by_purpose"] = {p: price(prices, self.prompt.get(p, 0),
                                               self.completion.get(p, 0)) for p in used}
        return out


def price(prices: dict[str, float] | None, prompt_tokens: int, completion_tokens: int
          ) -> float | None:
    """$ for these tokens at ``prices`` ($ per million: price_in, price_out); None unpriced."""
    p_in = float((prices or {}).get("price_in") or 0)
    p_out = float((prices or {}).get("price_out") or 0)
    if not (p_in or p_out):
        return None
    return round((prompt_tokens * p_in + completion_tokens * p_out) / 1e6, 8)

