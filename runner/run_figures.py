"""The figures a group of runs gives beyond its solved rate, from their ``run_finished`` payloads.

An experiment's results table has one row per strategy × budget; this module adds what those
runs say about themselves:

* ``protocol`` — how steps were asked for and valued (``constrained`` / ``tot``; ``mixed`` if the
  group's runs differ);
* ``chains`` / ``chains_correct`` / ``chain_rate`` (best_of_n) — the mean success of ONE sampled
  chain (Σ correct / Σ chains): what Tree-of-Thoughts reports as its CoT baseline, as opposed to
  the best-of-N answer (the row's solved rate) and to greedy at temperature 0. Only runs with a
  fixed n count (``anytime=false``): drawing until a chain is right biases the ratio upwards;
  such runs are counted in ``chain_runs_until_correct`` instead;
* ``correct_any_rate`` / ``correct_top1_rate`` (``--protocol tot``) — the paper's two metrics over
  the group's finished runs, and ``correct_first_valid_rate`` (how the authors scored their runs);
* ``auc`` — the evaluator's AUC against exact solvability, pooled over every scored state of the
  group (from each run's ``value_truth`` counts, so it is exact, not a mean of per-run AUCs), with
  the false prunes split by why (``false_prunes_threshold`` / ``false_prunes_capacity``) and
  ``false_keeps``.

A figure the group has no data for is absent (not 0).
"""
from __future__ import annotations

from typing import Any

from reasoning.truth import auc_of, merge_value_truth

FIGURE_COLUMNS = ("protocol", "chains", "chains_correct", "chain_rate", "correct_any_rate",
                  "correct_top1_rate", "correct_first_valid_rate", "auc", "scored_with_truth", "false_prunes_threshold",
                  "false_prunes_capacity", "false_keeps")


# what the results table shows, under these headings (a column only when some row has it)
FIGURE_LABELS = {"protocol": "protocol", "chain_rate": "mean per-chain success (CoT)",
                 "correct_any_rate": "correct any (ToT)", "correct_top1_rate": "correct top-1 (ToT)",
                 "auc": "evaluator AUC", "false_prunes_threshold": "false prunes: threshold",
                 "false_prunes_capacity": "false prunes: capacity"}


def figure_columns(figures: list[dict[str, Any]]) -> dict[str, str]:
    """The labelled figures some group has (so a table shows no empty columns)."""
    return {k: label for k, label in FIGURE_LABELS.items() if any(k in f for f in figures)}


def run_protocol(params: dict[str, Any] | None) -> str:
    """A run's protocol from its stored parameters (runs before protocols existed: constrained)."""
    return str((params or {}).get("protocol") or "constrained")


def group_figures(payloads: list[dict[str, Any]], protocols: list[str]) -> dict[str, Any]:
    """The figures of one group: ``payloads`` are its finished runs' ``run_finished`` payloads,
    ``protocols`` the protocol of each of its runs."""
    out: dict[str, Any] = {}
    if protocols:
        out["protocol"] = protocols[0] if len(set(protocols)) == 1 else "mixed"
    out.update(_chains(payloads))
    out.update(_tot_metrics(payloads))
    out.update(_truth(payloads))
    return out


def _chains(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [p for p in payloads if p.get("chains") and p.get("chains_correct") is not None]
    # chains drawn until one was right (anytime) over-state a chain's success: not in the mean
    fixed = [p for p in judged if not p.get("chains_anytime")]
    out: dict[str, Any] = {}
    if len(fixed) < len(judged):
        out["chain_runs_until_correct"] = len(judged) - len(fixed)
    if fixed:
        n = sum(int(p["chains"]) for p in fixed)
        k = sum(int(p["chains_correct"]) for p in fixed)
        out.update(chains=n, chains_correct=k, chain_rate=round(k / n, 4))
    return out


def _tot_metrics(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    tot = [p for p in payloads if "correct_any" in p]
    if not tot:
        return {}
    def rate(key: str) -> float:
        return round(sum(bool(p.get(key)) for p in tot) / len(tot), 4)
    return {"correct_any_rate": rate("correct_any"), "correct_top1_rate": rate("correct_top1"),
            "correct_first_valid_rate": rate("correct_first_valid")}


def _truth(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [p for p in payloads if p.get("scored_with_truth")]
    if not judged:
        return {}
    out: dict[str, Any] = {k: sum(int(p.get(k) or 0) for p in judged)
                           for k in ("scored_with_truth", "false_prunes_threshold",
                                     "false_prunes_capacity", "false_keeps")}
    auc = auc_of(merge_value_truth(p.get("value_truth") for p in judged))
    if auc is not None:
        out["auc"] = auc
    return out
