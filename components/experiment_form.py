"""The Experiments page's "new experiment" form: widgets only, returns what the user typed."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st


def new_experiment_form(tasks: Mapping[str, Any], strategies_help: str,
                        problem_ids_hint: Callable[[str], tuple[str, str]],
                        budget_kinds: Sequence[str]) -> dict[str, Any] | None:
    """The form; on submit the settings (``ExperimentConfig`` fields except the model), else None.
    ``problem_ids_hint(task)``: (default ids, help) in the task's own words."""
    # the task is chosen outside the form so the problems box can speak of that task's problems
    task = st.selectbox("Task", list(tasks), format_func=lambda n: tasks[n].title, key="exp_task")
    default_ids, ids_help = problem_ids_hint(task)
    with st.form("exp_form"):
        c1, c2, c3 = st.columns(3)
        problems = c1.text_input("Problems", default_ids, key=f"exp_problems_{task}", help=ids_help)
        task_file = c1.text_input("Task file (JSONL, optional)", "", key="exp_task_file")
        chosen = c2.text_input("Strategies", "greedy,mcts", key="exp_strategies", help=strategies_help)
        budgets = c2.text_input("Budgets", "4000", key="exp_budgets", help="comma separated")
        kind = c2.radio("Budget counts", list(budget_kinds), horizontal=True, key="exp_kind",
                        help="tokens: generated tokens per run (default); nodes: tree nodes; "
                             "calls: model calls of every purpose; prompt_tokens: tokens read; "
                             "total_tokens: read + generated")
        seeds = c3.text_input("Seeds", "0", key="exp_seeds", help="comma separated")
        concurrency = c3.number_input("Concurrency", 1, 64, 1, key="exp_concurrency",
                                      help="cells run at once: 1 for the embedded model, more for "
                                      "servers that batch requests")
        protocol = c3.selectbox("Protocol (beam, dfs)", ["constrained", "tot"], key="exp_protocol",
                                help="constrained: Thinktree's (legal moves, forced verdicts); "
                                "tot: the Tree-of-Thoughts paper's prompts (Game of 24)")
        max_seconds = c3.number_input("Time limit per cell (s)", 1, 7 * 24 * 3600, 600,
                                      key="exp_max_seconds")
        name = st.text_input("Name (optional)", "", key="exp_name")
        submitted = st.form_submit_button("Start experiment", type="primary", key="exp_start")
    if not submitted:
        return None
    return {"task": task, "problems": problems, "task_file": task_file.strip(),
            "strategies": chosen, "budgets": budgets, "budget_kind": kind, "seeds": seeds,
            "concurrency": int(concurrency), "max_seconds": float(max_seconds),
            "name": name.strip(), "protocol": protocol}
