"""Best-of-N: N independent chains from the root (temperature > 0, a distinct seed per chain).

The answer is chosen by the verifier when the task has one (the first verified chain, by chain
index), else by self-consistency: a majority vote over the chains' answers (:func:`majority_vote`;
a tie goes to the answer whose first chain finished earliest). Every chain stays in the tree; with
a vote, every answer node is scored with its share of the votes and says whether it won, but stays
open: nothing was verified (the run ends ``answered``; a user can mark the answer afterwards).

The chains advance in lockstep: step 1 of every chain, then step 2 of every chain still going …
(one batch per step, see :mod:`reasoning.parallel`), so with ``--parallel N`` up to N chains
stream at once and the tree is the same whatever N. ``anytime``: after the n chains, draw n more,
and again, until a chain is verified or the run's budget ends it (then the verified chain, else the
vote over the chains that finished, is the answer).
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import Result, SearchContext
from ..figures import Figure
from ..growth import Growth, int_setting
from ..parallel import Ask, propose_many
from ..settings import check_range
from ..tree import FAILED, PRUNED, SOLVED
from .base import Strategy


@dataclass
class BestOfNSettings:
    n: int = 8
    temperature: float = 0.8
    anytime: bool = False   # keep drawing rounds of n chains until a verified one or the budget

    def __post_init__(self) -> None:
        check_range("n", self.n, 1, 1000)
        check_range("temperature", self.temperature, 0.0, 2.0)


@dataclass
class _Chain:
    index: int
    end: int            # last node of the chain
    terminal: bool
    correct: bool | None
    answer: str | None
    why: str = ""


def majority_vote(answers: list[str | None]) -> tuple[str | None, dict[str, int]]:
    """The most frequent non-empty answer and the vote counts.

    Tie rule: among answers with the top count, the one that appears first in ``answers`` (the
    lowest chain index) wins — deterministic and independent of hashing.
    """
    counts = Counter(a for a in answers if a)
    if not counts:
        return None, {}
    top = max(counts.values())
    winner = next(a for a in answers if a and counts[a] == top)
    return winner, dict(counts)


def chain_stats(chains: list[_Chain], has_verifier: bool,
                anytime: bool = False) -> dict[str, int | bool | None]:
    """``chains`` drawn and ``chains_correct`` (verified right; None without a verifier).

    ``chains_correct / chains`` is what ToT calls the CoT baseline: the mean success of a single
    sampled chain, as opposed to the best-of-N answer (or greedy at temperature 0) — with a
    fixed n. ``chains_anytime``: the chains were drawn until one was right, a stopping rule that
    biases that ratio upwards, so experiments leave such runs out of the mean.
    """
    verdicts = [c.correct for c in chains if c.terminal]
    unjudged = not has_verifier or (verdicts and all(v is None for v in verdicts))
    return {"chains": len(chains),
            "chains_correct": None if unjudged else sum(v is True for v in verdicts),
            **({"chains_anytime": True} if anytime else {})}


def _ended_in_tree(ctx: SearchContext, done: list[_Chain]) -> list[_Chain]:
    """Chains that reached their end in the same batch of calls as the cut (so the strategy
    never recorded them): leaves with a verdict, or an invalid last step."""
    known = {c.end for c in done}
    out = []
    for node in ctx.tree.nodes.values():
        if node.id in known or node.children or node.parent_id is None:
            continue
        if node.state in (SOLVED, FAILED) and node.finish_reason not in ("error", "aborted"):
            out.append(_Chain(-1, node.id, True, node.state == SOLVED, node.answer))
        elif node.state == PRUNED and node.reason.startswith("invalid"):
            out.append(_Chain(-1, node.id, False, None, None, node.reason))
    return out


def _fixed(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs with judged chains drawn to a fixed n (drawing until one is right biases the ratio
    upwards: such runs are counted apart, in ``chain_runs_until_correct``)."""
    return [r for r in runs if r.get("chains") and r.get("chains_correct") is not None
            and not r.get("chains_anytime")]


def _until_correct(runs: list[dict[str, Any]]) -> int | None:
    n = sum(1 for r in runs if r.get("chains") and r.get("chains_correct") is not None
            and r.get("chains_anytime"))
    return n or None


def _sum_fixed(key: str):
    def pooled(runs: list[dict[str, Any]]) -> int | None:
        fixed = _fixed(runs)
        return sum(int(r[key]) for r in fixed) if fixed else None
    return pooled


def _chain_rate(runs: list[dict[str, Any]]) -> float | None:
    fixed = _fixed(runs)
    n = sum(int(r["chains"]) for r in fixed)
    return round(sum(int(r["chains_correct"]) for r in fixed) / n, 4) if n else None


# what chain_stats adds to a run's metrics (reasoning.figures); chain_rate is ToT's CoT baseline:
# the mean success of ONE sampled chain, pooled over chains (Σ correct / Σ chains), not over runs
FIGURES = (
    Figure("chains", "chains drawn to the end", _sum_fixed("chains")),
    Figure("chains_correct", "chains the verifier accepted", _sum_fixed("chains_correct"),
           label="chains correct"),
    Figure("chain_rate", "mean success of one sampled chain (a group: Σ correct / Σ chains over "
           "runs with a fixed n)", _chain_rate, "{:.0%}", "mean per-chain success (CoT)"),
    Figure("chains_anytime", "chains were drawn until one was right (left out of chain_rate)",
           _until_correct, pooled_as="chain_runs_until_correct"),
)


class BestOfN(Strategy):
    name = "best_of_n"
    title = "Best-of-N (verifier, else majority vote)"
    Settings = BestOfNSettings
    figures = FIGURES

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth:
        # the root's n samples, each a chain
        return Growth.root_family(int_setting(params, "n", BestOfNSettings.n))

    def run(self, ctx: SearchContext) -> Result:
        root = ctx.root()
        n = self.settings.n
        self._done: list[_Chain] = []   # chains drawn to the end (a budget cut keeps these)
        for wave in itertools.count():
            self._wave(ctx, root, range(wave * n, (wave + 1) * n))
            if not self.settings.anytime or any(c.correct for c in self._done):
                break
        result = self._choose(ctx, self._done)
        result.extra.update(chain_stats(self._done, ctx.task.has_verifier, self.settings.anytime))
        return result

    def _wave(self, ctx: SearchContext, root: int, indices: range) -> None:
        """Chains ``indices`` in lockstep; each finished chain goes to ``self._done``."""
        ends = {i: root for i in indices}
        for _ in range(ctx.task.max_depth):
            live = list(ends)
            if not live:
                return
            # seed_k = chain index: the chains' first requests differ; later nodes have own ids
            kids = propose_many(ctx, [Ask(ends[i], self.settings.temperature, seed_k=i)
                                      for i in live])
            for i, child in zip(live, kids, strict=True):
                if child is None:
                    self._end(_Chain(i, ends.pop(i), False, None, None, "no legal step left"))
                elif child.step is None:
                    ends.pop(i)
                    self._end(_Chain(i, child.node_id, False, None, None, child.reason))
                elif child.terminal:
                    ends.pop(i)
                    verdict = ctx.task.verify(ctx.problem, child.state)
                    self._end(_Chain(i, child.node_id, True, verdict.correct, verdict.answer,
                                     verdict.reason))
                else:
                    ends[i] = child.node_id
        for i, end in ends.items():
            self._end(_Chain(i, end, False, None, None, "depth limit reached"))

    def _end(self, chain: _Chain) -> None:
        self._done.append(chain)
        self._done.sort(key=lambda c: c.index)

    def best_effort(self, ctx: SearchContext, outcome: str, detail: str) -> Result:
        """Cut short (budget, cancel): a verified chain wins, else the chains that finished vote."""
        result = super().best_effort(ctx, outcome, detail)
        done = getattr(self, "_done", [])
        if result.outcome != "solved" and done:
            chosen = self._choose(ctx, done)
            result = Result("answered", chosen.answer, chosen.answer_node,
                            f"{chosen.detail}; {detail}") if chosen.outcome == "answered" else \
                Result(outcome, chosen.answer, chosen.answer_node, f"{detail}; {chosen.detail}")
        # a chain cut off by the budget is not a sample: count the chains that ended
        result.extra.update(chain_stats(done + _ended_in_tree(ctx, done), ctx.task.has_verifier,
                                        self.settings.anytime))
        return result

    def _choose(self, ctx: SearchContext, chains: list[_Chain]) -> Result:
        n = len(chains)
        verified = [c for c in chains if c.correct is True]
        if verified:
            best = verified[0]
            return Result("solved", best.answer, best.end,
                          f"verified: chain {best.index + 1} of {n} "
                          f"({len(verified)} chains correct)")
        done = [c for c in chains if c.terminal and c.answer]
        winner, counts = majority_vote([c.answer for c in done])
        if winner is None:
            return Result("failed", detail=f"none of the {n} chains reached an answer")
        first = next(c for c in done if c.answer == winner)
        if any(c.correct is False for c in done):  # a verifier exists and rejected them all
            return Result("failed", winner, first.end,
                          f"no chain verified; most frequent answer {counts[winner]} of {n}")
        self._mark_vote(ctx, done, winner, counts, n)
        return Result("answered", winner, first.end,  # no verifier: an answer, not a verified one
                      f"majority vote: {counts[winner]} of {n} chains (unverified)")

    def _mark_vote(self, ctx: SearchContext, done: list[_Chain], winner: str,
                   counts: dict[str, int], n: int) -> None:
        # no verifier: nothing is solved or failed (green would claim a check that never ran);
        # every answer stays open with its votes, and a user can mark it correct or wrong later
        for c in done:
            votes = counts[c.answer]
            reason = f"chosen by majority vote: {votes} of {n} chains" if c.answer == winner else \
                f"lost the majority vote: {votes} vs {counts[winner]} of {n}"
            ctx.score(c.end, votes / n, "majority_vote",
                      {"votes": votes, "chains": n, "answer": c.answer}, reason=reason)
