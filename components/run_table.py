"""The runs list's widgets: filters, the page table, paging, and a picker with a search box.

Drawing only: the page passes the filter choices and the rows it read (``storage.run_list``
queries them), and gets back plain values: the filters as a dict, the cursor of the page to read.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

ANY = "any"
PICKER_LIMIT = 20   # a picker lists this many matches (search to find others)


def filter_controls(choices: dict[str, list[str]], experiments: list[tuple[int, str]],
                    key: str = "runs") -> dict[str, Any]:
    """Search problem text, task, strategy, outcome, model, date range, experiment."""
    c = st.columns([3, 2, 2, 2, 2, 3, 2])
    values: dict[str, Any] = {"text": c[0].text_input("Search problem", key=f"{key}_text",
                                                      placeholder="e.g. 4 5 6 10")}
    for col, name in zip(c[1:4], ("task", "strategy", "outcome"), strict=True):
        got = col.selectbox(name.capitalize(), [ANY, *choices.get(name, [])], key=f"{key}_{name}")
        values[name] = None if got == ANY else got
    values["model"] = c[4].text_input("Model", key=f"{key}_model", placeholder="name or URL part")
    span = c[5].date_input("Dates", value=(), key=f"{key}_dates", format="YYYY-MM-DD")
    days = [d for d in (span if isinstance(span, tuple | list) else [span]) if isinstance(d, date)]
    if days:
        values["since"] = datetime.combine(days[0], time()).timestamp()
        values["until"] = datetime.combine(days[-1] + timedelta(days=1), time()).timestamp()
    names = dict(experiments)
    exp = c[6].selectbox("Experiment", [None, *names], key=f"{key}_experiment",
                         format_func=lambda i: ANY if i is None else f"#{i} {names[i]}"[:40])
    values["experiment_id"] = exp
    return values


def page_cursor(key: str, filters: dict[str, Any]) -> int | None:
    """The ``before_id`` of the page on screen (newest page first; other filters: first page)."""
    stamp = repr(sorted(filters.items()))
    if st.session_state.get(f"{key}_filters") != stamp:
        st.session_state[f"{key}_filters"] = stamp
        st.session_state[f"{key}_cursors"] = [None]
    return st.session_state[f"{key}_cursors"][-1]


def pager(key: str, next_before: int | None, shown: int, total: int) -> None:
    """Newer / Older buttons (keyset paging: each page starts below the last id of the one before)."""
    cursors: list = st.session_state[f"{key}_cursors"]
    b1, b2, info = st.columns([1, 1, 6], vertical_alignment="center")
    if b1.button("Newer", key=f"{key}_newer", disabled=len(cursors) <= 1):
        cursors.pop()
        st.rerun()
    if b2.button("Older", key=f"{key}_older", disabled=next_before is None):
        cursors.append(next_before)
        st.rerun()
    info.caption(f"page {len(cursors)} · {shown} of {total:,} matching runs, newest first")


def runs_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{
        "id": r["id"], "task": r["task"], "problem": r["problem"], "strategy": r["strategy"],
        "outcome": r["outcome"] or r["status"], "nodes": r["nodes"], "tokens": r["tokens"],
        "seconds": round(r["seconds"] or 0.0, 1),
        "date": datetime.fromtimestamp(r["created_at"]).strftime("%Y-%m-%d %H:%M:%S"),
    } for r in rows], columns=["id", "task", "problem", "strategy", "outcome", "nodes", "tokens",
                                "seconds", "date"])


def run_label(r: dict[str, Any]) -> str:
    return f"#{r['id']} · {r['strategy']} · {r['problem']} · {r['outcome'] or r['status']}"


def searchable_pick(label: str, key: str, find: Callable[[str], list[dict[str, Any]]],
                    get: Callable[[int], dict[str, Any] | None], fmt: Callable[[dict], str],
                    column=st) -> int | None:
    """A selectbox over the first matches of a search box (not every stored item): the search
    finds by id (``#12``) or text; the current choice stays listed whatever the search."""
    query = column.text_input(f"Find {label.lower()}", key=f"{key}_find",
                              placeholder="#id or text", label_visibility="collapsed")
    rows = {int(r["id"]): r for r in find(query)}
    current = st.session_state.get(key)
    if current is not None and current not in rows:
        row = get(current)
        if row is not None:
            rows = {current: row, **rows}
    if not rows:
        column.caption(f"No match for {query!r}.")
        return None
    if current is not None and current not in rows:
        st.session_state.pop(key, None)
    return column.selectbox(label, list(rows), key=key, format_func=lambda i: fmt(rows[i]))
