"""The figures a group of runs gives beyond its solved rate, from their ``run_finished`` payloads.

An experiment's results table has one row per strategy × budget; this module adds what those
runs say about themselves:

* ``protocol`` — how steps were asked for and valued (``constrained`` / ``tot``; ``mixed`` if the
  group's runs differ);
* every figure the group's strategy and evaluators declare (``reasoning.figures.Figure``, e.g.
  best-of-N's ``chain_rate``, ToT's ``correct_top1_rate``, the evaluator's ``auc``, a plug-in's
  own), pooled over the group's finished runs as its declaration says.

A figure the group has no data for is absent (not 0).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reasoning.figures import Figure, pool, upgrade_run_finished
from reasoning.strategies import figures_for

# the results CSV's figure columns, in this order, then any other declared figure a row has
FIGURE_COLUMNS = ("protocol", "chains", "chains_correct", "chain_rate", "correct_any_rate",
                  "correct_top1_rate", "correct_first_valid_rate", "auc", "scored_with_truth",
                  "false_prunes_threshold", "false_prunes_capacity", "false_keeps")


def figure_columns(figures: list[dict[str, Any]]) -> dict[str, str]:
    """Pooled figure key -> column heading, for the figures some group has (so a table shows no
    empty columns); ``protocol`` first, then in declaration order."""
    labels = {"protocol": "protocol", **{f.key: f.column for f in figures_for() if not f.hidden}}
    known = {k: label for k, label in labels.items() if any(k in f for f in figures)}
    rest = sorted({k for f in figures for k in f} - set(labels))
    return {**known, **{k: k for k in rest}}


def csv_columns(figures: list[dict[str, Any]]) -> list[str]:
    """The results CSV's figure columns: :data:`FIGURE_COLUMNS`, then the other keys rows have."""
    return [*FIGURE_COLUMNS, *(k for k in figure_columns(figures) if k not in FIGURE_COLUMNS)]


def run_protocol(params: dict[str, Any] | None) -> str:
    """A run's protocol from its stored parameters (runs before protocols existed: constrained)."""
    return str((params or {}).get("protocol") or "constrained")


def run_metrics(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``run_finished`` payload's metrics, whatever its format version."""
    metrics = upgrade_run_finished(payload)["metrics"]
    return metrics if isinstance(metrics, dict) else {}


def group_figures(payloads: list[dict[str, Any]], protocols: list[str],
                  figures: Sequence[Figure] | None = None) -> dict[str, Any]:
    """The figures of one group: ``payloads`` are its finished runs' ``run_finished`` payloads,
    ``protocols`` the protocol of each of its runs, ``figures`` the declarations to pool (default:
    every one known)."""
    out: dict[str, Any] = {}
    if protocols:
        out["protocol"] = protocols[0] if len(set(protocols)) == 1 else "mixed"
    out.update(pool(figures_for() if figures is None else figures,
                    [run_metrics(p) for p in payloads]))
    return out
