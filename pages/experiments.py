"""Experiments: problems × strategies × budgets × seeds, in the background.

Configure and start; the experiment runs in a worker thread (:mod:`runner.experiments`), which
writes only to the database. This page polls the database, so a reload (or a CLI experiment in
another process) shows the same progress. Results: the table, the accuracy-vs-compute curve (the
table's figures), the per-problem matrix whose cells open that run's replay, CSV downloads."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from components import run_form
from components.compare_figures import scaling_figure
from components.context import get_store, model_config
from reasoning.tasks import TASKS, ensure_plugins
from runner import experiments as exp
from runner.run_figures import figure_columns
from storage import experiments as repo

POLL_SECONDS = 1.5
SESSIONS_PAGE = "pages/sessions.py"

store = get_store()
st.title("Thinktree · experiments")
st.caption("When does exploring beat the shortcut, and what does it cost? Each cell is one run: a "
           "problem, a strategy, a budget and a seed.")

# -- new experiment -------------------------------------------------------------------------------
experiments = repo.list_experiments(store)
with st.expander("New experiment", expanded=not experiments):
    ensure_plugins()   # plug-in tasks are offered here as on the Live page
    # the task is chosen outside the form so the problems box can speak of that task's problems
    task = st.selectbox("Task", list(TASKS), format_func=lambda n: TASKS[n].title, key="exp_task")
    default_ids, ids_help = run_form.problem_ids_hint(task)
    with st.form("exp_form"):
        c1, c2, c3 = st.columns(3)
        problems = c1.text_input("Problems", default_ids, key=f"exp_problems_{task}", help=ids_help)
        task_file = c1.text_input("Task file (JSONL, optional)", "", key="exp_task_file")
        strategies = c2.text_input(
            "Strategies", "greedy,mcts", key="exp_strategies",
            help=run_form.strategies_help())
        budgets = c2.text_input("Budgets", "4000", key="exp_budgets", help="comma separated")
        kind = c2.radio("Budget counts", list(exp.BUDGET_KINDS), horizontal=True, key="exp_kind",
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
    if submitted:
        cfg = model_config()
        if cfg is None:
            st.error("model: fix the model settings in the sidebar first.")
        else:
            try:
                config = exp.ExperimentConfig(
                    task=task, problems=problems, task_file=task_file.strip(),
                    strategies=strategies, budgets=budgets, budget_kind=kind, seeds=seeds,
                    concurrency=int(concurrency), max_seconds=float(max_seconds),
                    model=cfg.describe(), name=name.strip(), protocol=protocol)
                eid = exp.create_experiment(config, store)
                exp.start_experiment(eid, store)
            except ValueError as e:
                st.error(str(e))
            else:
                st.session_state["exp_pick"] = eid
                st.query_params["experiment"] = str(eid)
                st.rerun()

experiments = repo.list_experiments(store)
if not experiments:
    st.info("No experiments yet: configure one above.")
    st.stop()
by_id = {int(e["id"]): e for e in experiments}
wanted = st.query_params.get("experiment")
if "exp_pick" not in st.session_state or st.session_state["exp_pick"] not in by_id:
    st.session_state["exp_pick"] = int(wanted) if wanted and wanted.isdigit() and \
        int(wanted) in by_id else next(iter(by_id))
eid = st.selectbox("Experiment", list(by_id), key="exp_pick", format_func=lambda i: (
    f"#{i} · {by_id[i]['name']} · {by_id[i]['status']} · "
    f"{datetime.fromtimestamp(by_id[i]['created_at']).strftime('%Y-%m-%d %H:%M')}"))
st.query_params["experiment"] = str(eid)


def controls(eid: int, status: str, p: exp.Progress) -> None:
    here = exp.is_active(eid)
    b1, b2, _ = st.columns([1, 1, 6])
    if b1.button("Stop", key="exp_stop", disabled=not here):
        exp.stop_experiment(eid)
        st.toast(f"Stopping experiment {eid}: the running cells end as cancelled.")
    can_resume = not here and status != "running" and p.done < p.total
    if b2.button("Resume", key="exp_resume", disabled=not can_resume):
        try:
            exp.start_experiment(eid, store)
        except ValueError as e:
            st.error(str(e))
        st.rerun()
    if status == "running" and not here:
        st.caption("Running in another process (e.g. the command line); stop it there.")
    err = exp.last_error(eid)
    if err:
        st.error(f"The experiment stopped: {err}")


def _eta(p: exp.Progress) -> str:
    if p.done >= p.total:
        return "done"
    if p.eta_s is None:
        return "ETA after the first cell"
    return f"ETA {int(p.eta_s // 60)} min {int(p.eta_s % 60):02d} s"


def matrix_grid(eid: int) -> None:
    columns, rows = exp.matrix(store, eid)
    head = st.columns([1] + [2] * len(columns))
    head[0].markdown("**problem**")
    for c, label in zip(head[1:], columns, strict=True):
        c.text(label)
    for row in rows:
        cols = st.columns([1] + [2] * len(columns))
        cols[0].text(row["problem"])
        for c, label in zip(cols[1:], columns, strict=True):
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
            c.page_link(SESSIONS_PAGE, label=text, icon=icon, query_params={"run": str(cell["run_id"])},
                        help=f"open run {cell['run_id']} ({cell['outcome']}) in Sessions & replay")


def results_view(eid: int) -> None:
    row = repo.get_experiment(store, eid)
    p = exp.db_progress(store, eid)
    status = row["status"]
    if exp.is_active(eid):
        status = "running"
    st.progress(p.fraction, text=f"{status} · {p.done}/{p.total} cells · solved {p.solved} · {_eta(p)}"
                + (f" · {p.errors} error(s), rerun on resume" if p.errors else ""))
    if p.current:
        st.text("now: " + "; ".join(p.current))
    controls(eid, status, p)
    config = exp.ExperimentConfig.from_dict(row["config"])
    st.caption((f"task file {config.task_file}" if config.task_file else config.task)
               + f" · problems {config.problems} · protocol {config.protocol}"
               + f" · strategies {', '.join(config.strategies)} · budgets "
               f"{', '.join(map(str, config.budgets))} {config.budget_kind} · seeds "
               f"{', '.join(map(str, config.seeds))} · concurrency {config.concurrency} · model "
               f"{config.model.get('kind', 'embedded')} {config.model.get('model', '')}")
    rows = exp.results(store, eid)
    extra = figure_columns([r.figures for r in rows])
    table = pd.DataFrame([{
        "strategy": r.strategy, "budget": r.budget, "solved": r.solved, "total": r.total,
        "solved rate": r.rate, "95% CI": f"{r.ci_low:.0%}–{r.ci_high:.0%}" if r.total else "—",
        "mean tokens": r.mean_tokens, "mean seconds": r.mean_seconds,
        "cells": r.cells, "errors": r.errors,
        **{label: r.figures.get(k) for k, label in extra.items()}} for r in rows])
    st.subheader("Results")
    st.dataframe(table, hide_index=True)
    curve = exp.curve_points(rows)
    if curve:
        st.plotly_chart(scaling_figure(curve, config.budget_kind), key="exp_curve")
    d1, d2 = st.columns(2)
    d1.download_button("Results CSV", exp.results_csv(rows), f"experiment-{eid}-results.csv",
                       "text/csv", key="exp_csv_results")
    d2.download_button("Cells CSV (one line per run)", exp.cells_csv(store, eid),
                       f"experiment-{eid}-cells.csv", "text/csv", key="exp_csv_cells")
    st.subheader("Per problem")
    st.caption("Click a cell to open that run's replay.")
    matrix_grid(eid)
    was = st.session_state.get("exp_was_running")
    st.session_state["exp_was_running"] = status == "running"
    if was and status != "running":
        st.rerun()   # a full rerun: polling stops and the buttons update


running = exp.is_active(eid) or by_id[eid]["status"] == "running"
st.fragment(results_view, run_every=POLL_SECONDS if running else None)(eid)
