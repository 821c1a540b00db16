"""Live run: choose a task, problem, strategy and budget; watch the tree grow; inspect nodes.

Before any run the page shows what a run will look like (the last stored run, or a bundled demo
run). A run recorded by another program (``thinktree.Trace``, ``cli.py ingest``) is shown as
recorded: no form, no Run buttons, its producer named (:mod:`components.live_start`)."""
from __future__ import annotations

import streamlit as st

from app_context import get_store, mark_handler, model_config, otlp_endpoint, run_view, through_app
from components import live_start, run_form
from components.tree_view import status_line, tree_and_inspector
from reasoning.tree import Tree
from runner import RunSpec, active_runs, start_run, stop_run
from runner.views import final_tree, run_producer

POLL_SECONDS = 0.4

through_app()
store = get_store()
st.title("Thinktree · live run")


def live_tree(run_id: int) -> Tree:
    """The run's tree, brought up to date with the events not yet read (the run view's tail)."""
    view = run_view(run_id, "live")
    view.poll()
    return view.tree


def is_running(run_id: int | None) -> bool:
    if run_id is None:
        return False
    # ask the runner first: its thread leaves the active list only after writing run_finished,
    # so reading the events afterwards can never miss the end of a run
    if run_id in active_runs():
        return live_tree(run_id).outcome is None
    # a run of another process (``cli.py run``, an experiment worker) is followed live too
    row = store.get_run(run_id)
    return row is not None and row["status"] == "running" and live_tree(run_id).outcome is None


wanted = st.query_params.get("run")
if "live_run_id" not in st.session_state and wanted:   # ?run=ID: a reloaded page keeps its run
    if wanted.isdigit() and store.get_run(int(wanted)) is not None:
        st.session_state["live_run_id"] = int(wanted)
        run_form.prefill_from_run(store.get_run(int(wanted)))  # its own settings
    else:
        live_start.missing_run(wanted)
run_id = st.session_state.get("live_run_id")
running = is_running(run_id)
shown = store.get_run(run_id) if run_id is not None else None
producer = run_producer(store, run_id) if shown is not None else None
if producer is not None and live_start.recorded_notice(run_id, producer):
    for key in ("live_run_id", "live_pair", "live_node"):
        st.session_state.pop(key, None)
    st.query_params.pop("run", None)
    st.rerun()
if producer is None:
    # once a run is on screen the tree is the page: the settings fold into one line (open to change)
    with (st.expander("Settings · " + run_form.settings_summary(shown), expanded=False)
          if shown is not None else st.container()):
        task_name, problem, strategy, params, budget, seed = run_form.run_settings()
    b1, b2, b3, _ = st.columns([1, 1, 3, 4])
    run_clicked = b1.button("Run", type="primary", disabled=running, key="live_run")
    stop_clicked = b2.button("Stop", disabled=not running, key="live_stop")
    both_clicked = b3.button("Run both: shortcut + this", disabled=running or strategy == "greedy",
                             key="live_both", help="The same problem, model, budget and seed with "
                             "greedy (the shortcut) and with the strategy chosen above; then compare.")
    if stop_clicked and run_id is not None:
        stop_run(run_id)
        st.toast(f"Stopping run {run_id}…")
    if run_clicked or both_clicked:
        cfg = model_config()
        if cfg is None:
            st.error("model: fix the model settings in the sidebar first.")
        else:
            spec = RunSpec(task=task_name, problem=problem, strategy=strategy, params=params,
                           budget=budget, seed=seed, model=cfg, otlp_endpoint=otlp_endpoint())
            try:
                spec.prepare()  # validate before anything starts
                shortcut = None
                if both_clicked:
                    shortcut = start_run(RunSpec(task=task_name, problem=problem, strategy="greedy",
                                                 budget=budget, seed=seed, model=cfg,
                                                 otlp_endpoint=otlp_endpoint()), store)
                run_id = start_run(spec, store)
            except ValueError as e:
                st.error(str(e))
            else:
                st.session_state["live_pair"] = (shortcut, run_id) if shortcut is not None else None
                st.session_state["live_run_id"] = run_id
                st.query_params["run"] = str(run_id)
                st.session_state.pop("live_node", None)
                st.rerun()  # redraw the buttons (Run off, Stop on) and start polling


def live_view(run_id: int, polling: bool) -> None:
    tree = live_tree(run_id)
    finished = tree.outcome is not None
    status_line(tree, running=not finished)
    tree_and_inspector(run_view(run_id, "live"), tree, key="live", on_mark=mark_handler(run_id))
    if polling and finished:
        st.rerun()  # a full rerun: the fragment stops polling and the buttons update


pair = st.session_state.get("live_pair")
if pair and pair[1] == run_id:
    st.page_link("pages/compare.py", label=f"Compare the shortcut (run {pair[0]}) with this run "
                 f"(run {run_id})", icon=":material/compare:",
                 query_params={"a": str(pair[0]), "b": str(run_id)})
if run_id is not None:
    st.fragment(live_view, run_every=POLL_SECONDS if running else None)(run_id, running)
else:
    runs = store.list_runs(limit=1)
    live_start.preview(runs[0] if runs else None, lambda i: final_tree(store, i))
