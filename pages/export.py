"""Export: stored search trees as training data — preference pairs, step values, solved traces.

Choose runs (or an experiment), see the counts, preview the first rows as text, download JSONL
(or a dataset folder as a zip). Counts and previews only fold stored events: no model runs unless
you press the button that draws missing rollouts (its cost is shown first).
"""
from __future__ import annotations

import streamlit as st

from app_context import get_store
from components.export_controls import counts_caption, filter_settings
from reasoning.export import (
    KINDS,
    PROMPT_FORMATS,
    Filters,
    estimate_rollout_budget,
    export_trees,
    problem_keys,
    split_rows,
)
from runner.export import dataset_zip, draw_missing_rollouts, load_trees, row_as_text, to_jsonl

TITLES = {"pairs": "Preference pairs", "values": "Step values", "traces": "Solved traces"}
PREVIEW_ROWS = 3

store = get_store()
st.title("Thinktree · export training data")
st.caption("Pairs: on a solved path, the step taken (chosen) against each pruned, failed or "
           "backtracked sibling, or one whose rollouts all failed (rejected). Step values: the fraction of rollouts below a step "
           "that reached a right answer. Traces: the solved path as one clean chain.")

runs = store.list_runs()
if not runs:
    st.info("No runs stored yet. Start one on the Live run page.")
    st.stop()
by_id = {int(r["id"]): r for r in runs}


def _experiments() -> dict[int, str]:
    """Experiment id -> name; tolerates a database without the experiments table."""
    try:
        return {int(e["id"]): e.get("name") or "" for e in store.experiments.list()}
    except Exception:  # older schema: fall back to the runs' tags
        return {int(r["experiment_id"]): "" for r in runs if r.get("experiment_id") is not None}


experiments = _experiments()
sources = ["Runs", "Experiment"] if experiments else ["Runs"]
source = st.radio("Source", sources, horizontal=True, key="export_source")
if source == "Experiment":
    exp = st.selectbox("Experiment", list(experiments), key="export_experiment",
                       format_func=lambda i: f"#{i} {experiments[i]}".strip())
    ids = sorted(int(r["id"]) for r in store.list_runs(limit=1_000_000, experiment_id=exp))
    st.caption(f"{len(ids)} runs in experiment {exp}")
else:
    ids = st.multiselect("Runs", list(by_id), default=list(by_id)[:20], key="export_runs",
                         format_func=lambda i: f"#{i} · {by_id[i]['strategy']} · "
                                               f"{by_id[i]['problem']} · "
                                               f"{by_id[i]['outcome'] or by_id[i]['status']}")
if not ids:
    st.info("Choose at least one run.")
    st.stop()

settings, split = filter_settings(PROMPT_FORMATS)
try:
    filters = Filters(**settings)
except ValueError as e:
    st.error(str(e))
    st.stop()

trees = load_trees(store, ids)
results = {kind: export_trees(kind, trees, filters) for kind in KINDS}
universe = problem_keys(trees)  # one split for all three kinds
m = st.columns(3)
for col, kind, label in zip(m, KINDS, ("pairs", "steps", "traces"), strict=True):
    col.metric(f"{TITLES[kind]} ({label})", len(results[kind].rows))

for tab, kind in zip(st.tabs([TITLES[k] for k in KINDS]), KINDS, strict=True):
    res = results[kind]
    with tab:
        train, val = split_rows(res.rows, split, universe)
        counts_caption(res.counts(), len(train), len(val))
        for i, row in enumerate(res.rows[:PREVIEW_ROWS]):
            st.code(row_as_text(kind, row), language=None, wrap_lines=True)
            with st.expander(f"Row {i + 1} as JSON"):
                st.json(row)
        d1, d2, d3 = st.columns(3)
        d1.download_button(f"Download {kind}.jsonl", to_jsonl(train), f"{kind}.jsonl",
                           mime="application/jsonl", key=f"export_dl_{kind}",
                           disabled=not train)
        if split > 0:
            d2.download_button(f"Download {kind}.val.jsonl", to_jsonl(val), f"{kind}.val.jsonl",
                               mime="application/jsonl", key=f"export_dl_val_{kind}",
                               disabled=not val)
        d3.download_button("Dataset folder (.zip)", dataset_zip(kind, train, val),
                           f"thinktree-{kind}.zip", mime="application/zip",
                           key=f"export_dl_zip_{kind}", disabled=not res.rows)
        if kind == "values":
            n = st.number_input("Completions per step (N)", 1, 32, 4, key="export_rollouts_n",
                                help="Math-Shepherd: each step's value from N completions of "
                                "that step itself")
            est = estimate_rollout_budget(trees, int(n), filters)
            st.caption(f"{est['nodes']} steps have fewer than {int(n)} completions of their own: "
                       f"{est['rollouts']} "
                       f"rollouts, at most {est['max_model_calls']} model calls, "
                       f"~{est['est_seconds']:g} s at {est['seconds_per_step']:g} s per call "
                       f"({est['seconds_per_step_source']}).")
            if st.button(f"Draw {est['rollouts']} rollouts", key="export_draw",
                         disabled=not est["nodes"]):
                with st.spinner("Drawing rollouts on each run's model…"):
                    try:
                        drawn = draw_missing_rollouts(store, ids, int(n), filters)
                    except Exception as e:  # a model that cannot start: a message, not a crash
                        st.error(f"Could not draw rollouts: {e}")
                    else:
                        st.success(f"Stored {drawn['rollout_nodes']} rollouts in "
                                   f"{drawn['runs']} runs.")
                        st.rerun()
