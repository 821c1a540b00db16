"""The evaluator against ground truth: false prunes (split by why), false keeps, and its AUC.

Where a task can decide exactly whether a state can still be solved (``Task.solvable``; Game of
24 has a small solver), every scored node carries that ``truth`` beside the evaluator's value.
Two questions are then answered per run (and, pooled, per experiment):

* **Did the search cut good nodes?** A cut node that was still solvable is a *false prune*, and
  there are two different reasons to cut: the evaluator said no (``threshold``: DFS below its
  threshold, reflect's rejection) or the node was merely outside a full beam while better-valued
  nodes were kept (``capacity``) — a perfect evaluator makes the first kind impossible, not the
  second. A kept node that was hopeless is a *false keep*.
* **Does the value rank states right?** The AUC of the value against solvability: the chance that
  a solvable state gets a higher value than an unsolvable one (ties count one half). Terminal
  states scored by the verifier are left out (exact by construction, they would flatter it).

``value_truth`` is the compact form kept in ``run_finished``: ``[value, solvable, unsolvable]``
per distinct value, from which the AUC of any set of runs is computed exactly (:func:`auc_of`).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .figures import Figure
from .tree import PRUNED


def truth_counts(tree: Any, rejected: set[int], capacity: set[int] | None = None) -> dict[str, Any]:
    """False prunes / keeps over scored nodes with known solvability, and the value's AUC.

    ``rejected``: nodes a strategy cut (pruned or rejected by reflect); ``capacity``: those of
    them cut only for room (outside the beam). Empty when nothing has truth.
    """
    # cut for room: what the strategy said in-process, or what the stored prune says (a log
    # written elsewhere, e.g. by the thinktree recorder, is counted the same way)
    capacity = set(capacity or ()) | {n.id for n in tree.nodes.values()
                                      if getattr(n, "prune_kind", None) == "capacity"}
    judged = [n for n in tree.nodes.values() if n.truth is not None and n.evaluator]
    if not judged:
        return {}
    cut = [n for n in judged if n.id in rejected or n.state == PRUNED]
    kept = [n for n in judged if not (n.id in rejected or n.state == PRUNED)]
    by_room = sum(1 for n in cut if n.truth and n.id in capacity)
    by_verdict = sum(1 for n in cut if n.truth and n.id not in capacity)
    hist = value_truth(judged)
    out: dict[str, Any] = {"scored_with_truth": len(judged),
                           "false_prunes": by_room + by_verdict,
                           "false_prunes_threshold": by_verdict,
                           "false_prunes_capacity": by_room,
                           "false_keeps": sum(1 for n in kept if not n.truth)}
    if hist:
        out["value_truth"] = hist
        out["auc"] = auc_of(hist)
    return out


def value_truth(nodes: Iterable[Any]) -> list[list[float]]:
    """``[[value, solvable, unsolvable], …]`` by value, over nodes an evaluator (not the verifier
    on a terminal state) scored and whose truth is known."""
    hist: dict[float, list[int]] = {}
    for n in nodes:
        if n.truth is None or n.value is None or not n.evaluator:
            continue
        if (n.score_details or {}).get("source") == "verifier":
            continue
        hist.setdefault(float(n.value), [0, 0])[0 if n.truth else 1] += 1
    return [[v, pos, neg] for v, (pos, neg) in sorted(hist.items())]


def merge_value_truth(parts: Iterable[list[list[float]] | None]) -> list[list[float]]:
    """Pool several runs' ``value_truth`` histograms (same evaluator scale)."""
    hist: dict[float, list[int]] = {}
    for part in parts:
        for v, pos, neg in part or []:
            cur = hist.setdefault(float(v), [0, 0])
            cur[0] += int(pos)
            cur[1] += int(neg)
    return [[v, pos, neg] for v, (pos, neg) in sorted(hist.items())]


def auc_of(hist: list[list[float]]) -> float | None:
    """AUC from a ``value_truth`` histogram: P(value of a solvable state > value of an unsolvable
    one) + ½ P(equal). None when one class is missing (the AUC is undefined)."""
    total_pos = sum(int(p) for _, p, _ in hist)
    total_neg = sum(int(q) for _, _, q in hist)
    if not total_pos or not total_neg:
        return None
    wins = 0.0
    neg_below = 0
    for _, pos, neg in sorted(hist):   # ascending value: negatives seen so far are lower
        wins += pos * (neg_below + neg / 2)
        neg_below += neg
    return round(wins / (total_pos * total_neg), 4)


def _pooled_auc(runs: list[dict[str, Any]]) -> float | None:
    """The AUC over every scored state of a group (its runs' histograms merged, not averaged)."""
    judged = [r.get("value_truth") for r in runs if r.get("value_truth")]
    return auc_of(merge_value_truth(judged)) if judged else None


# what truth_counts adds to every run whose scored nodes have a known solvability (any strategy,
# any evaluator): reasoning.figures.Figure declarations
FIGURES = (
    Figure("auc", "the evaluator's AUC against exact solvability (a group: over all its scored "
           "states)", _pooled_auc, "{:.3f}", "evaluator AUC"),
    Figure("scored_with_truth", "scored states whose solvability is known", "sum",
           label="scored with truth"),
    Figure("false_prunes", "solvable states the search cut (both reasons)", "sum",
           label="false prunes"),
    Figure("false_prunes_threshold", "solvable states cut because the evaluator said no", "sum",
           label="false prunes: threshold"),
    Figure("false_prunes_capacity", "solvable states cut only for room (outside the beam)", "sum",
           label="false prunes: capacity"),
    Figure("false_keeps", "hopeless states the search kept", "sum", label="false keeps"),
    Figure("value_truth", "[value, solvable, unsolvable] per distinct value (for the AUC)",
           hidden=True),
)
