"""The Compare page's tables (pandas frames of plain strings: model text is never markup)."""
from __future__ import annotations

from typing import Any

import pandas as pd

METRIC_NAMES = {"outcome": "outcome", "answer": "answer", "nodes": "nodes",
                "model_calls": "model calls", "prompt_tokens": "prompt tokens",
                "completion_tokens": "completion tokens", "cost": "cost ($)",
                "seconds": "wall time (s)", "solution_depth": "solution depth (steps)",
                "first_correct_s": "first correct answer at (s)"}


def cell(v: Any) -> str:
    return "—" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


def metrics_table(result: dict[str, Any], run_a: int, run_b: int) -> pd.DataFrame:
    """One column per run, one row per metric of :func:`reasoning.compare.compare`."""
    m_a, m_b = result["runs"]
    return pd.DataFrame({
        f"A · #{run_a} {m_a['strategy']}": [cell(m_a[k]) for k in METRIC_NAMES],
        f"B · #{run_b} {m_b['strategy']}": [cell(m_b[k]) for k in METRIC_NAMES],
    }, index=list(METRIC_NAMES.values()))


def roles_caption(result: dict[str, Any], run_a: int, run_b: int) -> str:
    """Which run is which, in the words every sentence on the page uses."""
    if result.get("named_by_role", True):
        return (f"the shortcut: run #{result['shortcut_run']} (greedy) · the exploration: run "
                f"#{result['explore_run']}")
    mine, ref = result.get("names") or ["run A", "run B"]
    return (f"run A: #{run_a} · run B: #{run_b} · {mine}'s chain is held against {ref}'s solved "
            "path (one greedy run and one exploring run would be named by what they are)")


def divergence_table(result: dict[str, Any]) -> pd.DataFrame:
    """The two nodes where one run left the other's solved path, with their scores."""
    div = result["divergence"]
    mine, ref = result.get("names") or ["the shortcut", "the exploration"]

    def scores(d: dict[str, Any]) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "—"

    rows = [
        {"run": f"{mine.removeprefix('the ')} #{result['shortcut_run']}", "node": div["shortcut_node"],
         "step": div["shortcut_step"] or "(stopped)", "scores": scores(div["shortcut_score"])},
        {"run": f"{ref.removeprefix('the ')} #{result['explore_run']}", "node": div["explore_node"],
         "step": div["explore_step"] or "(ended)", "scores": scores(div["explore_score"])}]
    if mine == "run B":   # run A's row first
        rows.reverse()
    return pd.DataFrame(rows)
