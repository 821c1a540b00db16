"""Experiments: problems × strategies × budgets × seeds, run in a worker thread that writes only
to the database; this page polls it, so a reload (or a CLI experiment elsewhere) shows the same
progress. Results: table, accuracy-vs-compute curve, per-problem matrix (cells open the replay), CSV."""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from app_context import get_store, model_config
from components import run_form
from components.compare_charts import scaling_figure
from components.experiment_form import new_experiment_form
from components.experiment_view import matrix_grid, progress_bar, results_table, settings_caption
from components.run_table import PICKER_LIMIT, searchable_pick
from reasoning.tasks import TASKS
from runner import experiments as exp
from runner.run_figures import figure_columns

POLL_SECONDS = 1.5
SESSIONS_PAGE = "pages/sessions.py"

store = get_store()
st.title("Thinktree · experiments")
st.caption("When does exploring beat the shortcut, and what does it cost? Each cell is one run: a "
           "problem, a strategy, a budget and a seed.")

# -- new experiment -------------------------------------------------------------------------------
with st.expander("New experiment", expanded=not store.experiments.find(limit=1)):
    typed = new_experiment_form(TASKS, run_form.strategies_help(), run_form.problem_ids_hint,
                                exp.BUDGET_KINDS)
    if typed is not None:
        cfg = model_config()
        if cfg is None:
            st.error("model: fix the model settings in the sidebar first.")
        else:
            try:
                eid = exp.create_experiment(exp.ExperimentConfig(**typed, model=cfg.describe()),
                                            store)
                exp.start_experiment(eid, store)
            except ValueError as e:
                st.error(str(e))
            else:
                st.session_state["exp_pick"] = eid
                st.query_params["experiment"] = str(eid)
                st.rerun()

if not (newest := store.experiments.find(limit=1)):
    st.info("No experiments yet: configure one above.")
    st.stop()
if "exp_pick" not in st.session_state or store.experiments.get(st.session_state["exp_pick"]) is None:
    wanted = st.query_params.get("experiment") or ""
    st.session_state["exp_pick"] = int(wanted) if wanted.isdigit() and \
        store.experiments.get(int(wanted)) is not None else int(newest[0]["id"])
eid = searchable_pick("Experiment", "exp_pick", lambda q: store.experiments.find(q, PICKER_LIMIT),
                      lambda i: store.experiments.get(i), lambda e: (
                          f"#{e['id']} · {e['name']} · {e['status']} · "
                          f"{datetime.fromtimestamp(e['created_at']).strftime('%Y-%m-%d %H:%M')}"))
if eid is None:
    st.stop()
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


def results_view(eid: int) -> None:
    row = store.experiments.get(eid)
    p = exp.db_progress(store, eid)
    status = row["status"]
    if exp.is_active(eid):
        status = "running"
    progress_bar(p, status)
    controls(eid, status, p)
    config = exp.ExperimentConfig.from_dict(row["config"])
    settings_caption(config)
    rows = exp.results(store, eid)
    st.subheader("Results")
    st.dataframe(results_table(rows, figure_columns([r.figures for r in rows])), hide_index=True)
    x = st.radio("Curve x axis", list(exp.CURVE_X), horizontal=True, key="exp_curve_x",
                 help="the compute each strategy really used, per problem: generated tokens, "
                      "prompt tokens, both, model calls, or $ (priced runs)")
    curve = exp.curve_points(rows, x)
    if curve:
        st.plotly_chart(scaling_figure(curve, config.budget_kind, exp.CURVE_X[x]), key="exp_curve")
    d1, d2 = st.columns(2)
    d1.download_button("Results CSV", exp.results_csv(rows), f"experiment-{eid}-results.csv",
                       "text/csv", key="exp_csv_results")
    d2.download_button("Cells CSV (one line per run)", exp.cells_csv(store, eid),
                       f"experiment-{eid}-cells.csv", "text/csv", key="exp_csv_cells")
    st.subheader("Per problem")
    st.caption("Click a cell to open that run's replay.")
    matrix_grid(*exp.matrix(store, eid), SESSIONS_PAGE)
    was = st.session_state.get("exp_was_running")
    st.session_state["exp_was_running"] = status == "running"
    if was and status != "running":
        st.rerun()   # a full rerun: polling stops and the buttons update


running = exp.is_active(eid) or store.experiments.get(eid)["status"] == "running"
st.fragment(results_view, run_every=POLL_SECONDS if running else None)(eid)
