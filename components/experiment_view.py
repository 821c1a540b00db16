"""What the Experiments page shows of an experiment: progress line, settings, results table and
the per-problem matrix whose cells open a run's replay. Plain data in, widgets out."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st


def eta_text(done: int, total: int, eta_s: float | None) -> str:
    if done >= total:
        return "done"
    if eta_s is None:
        return "ETA after the first cell"
    return f"ETA {int(eta_s // 60)} min {int(eta_s % 60):02d} s"


def progress_bar(p: Any, status: str) -> None:
    """``p``: a ``runner.experiments.Progress``."""
    st.progress(p.fraction, text=f"{status} · {p.done}/{p.total} cells · solved {p.solved} · "
                f"{eta_text(p.done, p.total, p.eta_s)}"
                + (f" · {p.errors} error(s), rerun on resume" if p.errors else ""))
    if p.current:
        st.text("now: " + "; ".join(p.current))


def settings_caption(config: Any) -> None:
    """``config``: an ``ExperimentConfig``."""
    st.caption((f"task file {config.task_file}" if config.task_file else config.task)
               + f" · problems {config.problems} · protocol {config.protocol}"
               + f" · strategies {', '.join(config.strategies)} · budgets "
               f"{', '.join(map(str, config.budgets))} {config.budget_kind} · seeds "
               f"{', '.join(map(str, config.seeds))} · concurrency {config.concurrency} · model "
               f"{config.model.get('kind', 'embedded')} {config.model.get('model', '')}")
    st.caption(where_text(config.executor, config.ray_address, config.cluster))
    url = config.cluster.get("dashboard") or ""
    if url.startswith(("http://", "https://")):
        st.link_button("Ray dashboard", url)


def where_text(executor: str, address: str, cluster: dict[str, Any]) -> str:
    """Which executor and cluster an experiment runs (or last ran) on."""
    if executor != "ray":
        return "executor: local (a thread pool in the process that runs it)"
    where = cluster.get("gcs") or address or "a local Ray started on this machine"
    nodes = f" · {cluster['nodes']} node(s), {cluster.get('cpus', 0):g} CPUs" \
        if cluster.get("nodes") else " · not started yet"
    return f"executor: ray · cluster {where}{nodes}"


def results_table(rows: list[Any], extra: dict[str, str]) -> pd.DataFrame:
    """``rows``: ``runner.experiments.ResultRow`` objects; ``extra``: figure key -> column label
    (``runner.run_figures.figure_columns``)."""
    return pd.DataFrame([{
        "strategy": r.strategy, "budget": r.budget, "solved": r.solved, "total": r.total,
        "solved rate": r.rate, "95% CI": f"{r.ci_low:.0%}–{r.ci_high:.0%}" if r.total else "—",
        "mean tokens": r.mean_tokens, "mean seconds": r.mean_seconds,
        "cells": r.cells, "errors": r.errors,
        **{label: r.figures.get(k) for k, label in extra.items()}} for r in rows])


def matrix_grid(columns: list[str], rows: list[dict[str, Any]], replay_page: str,
                compare_page: str = "pages/compare.py") -> None:
    """Problems × strategies; a cell links to its run in ``replay_page``, and the last column
    opens the row's first strategy against each other one in ``compare_page`` (``?a=&b=``)."""
    widths = [1] + [2] * len(columns) + ([2] if len(columns) > 1 else [])
    head = st.columns(widths)
    head[0].markdown("**problem**")
    for c, label in zip(head[1:], columns, strict=False):
        c.text(label)
    if len(columns) > 1:
        head[-1].text("compare")
    for row in rows:
        cols = st.columns(widths)
        cols[0].text(row["problem"])
        for c, label in zip(cols[1:], columns, strict=False):
            cell = row.get(label)
            if cell is None:
                c.text("·")
                continue
            # words and Streamlit's own icon font: they render whatever fonts the machine has
            # (check marks and emoji showed as empty boxes in a headless browser)
            word, icon = ("solved", ":material/check_circle:") if cell["solved"] else \
                ("not solved", ":material/cancel:") if cell["n"] else ("running", ":material/pending:")
            text = f"{word} · #{cell['run_id']}" if cell["n"] <= 1 else \
                f"{cell['solved']}/{cell['n']} solved · #{cell['run_id']}"
            c.page_link(replay_page, label=text, icon=icon, query_params={"run": str(cell["run_id"])},
                        help=f"open run {cell['run_id']} ({cell['outcome']}) in Sessions & replay")
        if len(columns) > 1:
            _compare_links(cols[-1], columns, row, compare_page)


def _compare_links(col: Any, columns: list[str], row: dict[str, Any], compare_page: str) -> None:
    first = row.get(columns[0])
    for label in columns[1:]:
        other = row.get(label)
        if first is None or other is None:
            continue
        a, b = str(first["run_id"]), str(other["run_id"])
        col.page_link(compare_page, label=f"#{a} vs #{b}", icon=":material/compare:",
                      query_params={"a": a, "b": b},
                      help=f"open {columns[0]} (run {a}) and {label} (run {b}) on Compare")
