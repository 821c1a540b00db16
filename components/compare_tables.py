"""The Compare page's tables (pandas frames of plain strings: model text is never markup)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from reasoning.figures import merge, shown
from reasoning.strategies import figures_for

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
    rows = figure_rows(m_a, m_b)
    return pd.DataFrame({
        f"A · #{run_a} {m_a['strategy']}": [cell(m_a[k]) for k in METRIC_NAMES] + [a for _, a, _ in rows],
        f"B · #{run_b} {m_b['strategy']}": [cell(m_b[k]) for k in METRIC_NAMES] + [b for _, _, b in rows],
    }, index=list(METRIC_NAMES.values()) + [label for label, _, _ in rows])


def figure_rows(m_a: dict[str, Any], m_b: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(heading, run A's value, run B's value) for every figure either run has, as its strategy
    or evaluator declared it (``reasoning.figures``); "—" where a run has none."""
    declared = merge(figures_for(m_a.get("strategy")), figures_for(m_b.get("strategy")),
                     figures_for())
    a, b = m_a.get("figures") or {}, m_b.get("figures") or {}
    figs = {f.name: f for f, _ in shown(declared, {**b, **a})}
    return [(f.heading, f.text(a.get(name)), f.text(b.get(name))) for name, f in figs.items()]


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
