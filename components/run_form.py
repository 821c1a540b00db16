"""Widgets for a run's settings: task, problem, strategy settings (generated from the strategy's
``Settings`` dataclass, so new strategies appear without page changes), budget and seed."""
from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

import streamlit as st

from reasoning.settings import Budget
from reasoning.strategies import STRATEGIES
from reasoning.tasks import TASKS, get_task

BUNDLED, TYPED = "Bundled puzzle", "Type my own"


def _concrete(hint: Any) -> Any:
    if isinstance(hint, type):
        return hint
    args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    return args[0] if args and isinstance(args[0], type) else str


def dataclass_inputs(cls: type, prefix: str) -> dict[str, Any]:
    """One input per dataclass field with the field's default; returns ``{field: value}``."""
    hints = get_type_hints(cls)
    out: dict[str, Any] = {}
    fields = dataclasses.fields(cls)
    cols = st.columns(min(3, max(1, len(fields))))
    for i, f in enumerate(fields):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        kind = _concrete(hints[f.name])
        key = f"{prefix}_{f.name}"
        with cols[i % len(cols)]:
            if kind is bool:
                out[f.name] = st.checkbox(f.name, value=bool(default), key=key)
            elif kind is int:
                out[f.name] = st.number_input(f.name, value=int(default or 0), step=1, key=key)
            elif kind is float:
                out[f.name] = st.number_input(f.name, value=float(default or 0.0), step=0.1,
                                              format="%g", key=key)
            else:
                out[f.name] = st.text_input(f.name, value="" if default is None else str(default),
                                            key=key)
    return out


def task_and_problem() -> tuple[str, str]:
    """(task name, problem text or bundled id) as the user chose them."""
    names = list(TASKS)
    task_name = st.selectbox("Task", names, format_func=lambda n: TASKS[n].title, key="live_task")
    task = get_task(task_name)
    problems = task.problems()
    how = st.radio("Problem", [BUNDLED, TYPED] if problems else [TYPED], horizontal=True,
                   key=f"live_problem_how_{task_name}", label_visibility="collapsed")
    if how == BUNDLED:
        by_id = {p.id: p for p in problems}
        pid = st.selectbox(f"Puzzle ({len(problems)} bundled; type to search)", list(by_id),
                           index=min(len(problems) - 1, 949), key=f"live_problem_{task_name}",
                           format_func=lambda i: f"rank {i}: {by_id[i].text}")
        return task_name, pid
    text = st.text_input("Your problem", key=f"live_problem_text_{task_name}",
                         placeholder="e.g. 4 5 6 10")
    return task_name, text


def strategy_settings() -> tuple[str, dict[str, Any]]:
    names = list(STRATEGIES)
    name = st.selectbox("Strategy", names, format_func=lambda n: STRATEGIES[n].title,
                        key="live_strategy")
    with st.expander(f"{STRATEGIES[name].title} settings", expanded=True):
        params = dataclass_inputs(STRATEGIES[name].Settings, f"live_param_{name}")
    return name, params


def budget_and_seed() -> tuple[dict[str, Any], int]:
    with st.expander("Budget and seed", expanded=False):
        budget = dataclass_inputs(Budget, "live_budget")
        seed = st.number_input("seed", min_value=0, max_value=2**31 - 1, value=0, step=1,
                               key="live_seed")
    return budget, int(seed)
