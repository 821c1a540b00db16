"""Compare: two stored runs side by side — the shortcut against an exploration, or any two runs.

Pick any two runs (default: the two newest; ``?a=ID&b=ID`` opens a given pair). Both trees are
drawn at one scale with replay sliders that can be locked together by event count or by elapsed
time, every node where the run's live view put it (the run view's positions); the metrics table
and the divergence (the first step where one run's chain leaves the other's solved path) come from
:mod:`reasoning.compare`, the divergence starred in both. The runs are called the shortcut and the
exploration only when exactly one is greedy; otherwise run A and run B."""
from __future__ import annotations

import streamlit as st

from app_context import get_store, run_view
from components.compare_charts import side_by_side
from components.compare_pick import pick_pair
from components.compare_tables import divergence_table, metrics_table, roles_caption
from components.run_table import PICKER_LIMIT
from components.status import status_text
from components.tree_view import PLOTLY_CONFIG
from reasoning.compare import compare, locked_seqs

store = get_store()
st.title("Thinktree · compare")

newest = store.runs_page(limit=2).rows
if len(newest) < 2:
    st.info("Compare needs two stored runs. Run the same problem with greedy and with an "
            "exploratory strategy on the Live run page (or `python cli.py experiment …`).")
    st.stop()
pair = pick_pair(store, newest, lambda q: store.find_runs(q, PICKER_LIMIT))
if pair is None:
    st.stop()
run_a, run_b = pair
ca, cb = st.columns(2)

view_a, view_b = run_view(run_a, "cmp_a"), run_view(run_b, "cmp_b")
full_a, full_b = view_a.final(), view_b.final()
len_a, len_b = view_a.last_seq, view_b.last_seq
if not len_a or not len_b:
    st.info("One of these runs has no events yet.")
    st.stop()
result = compare(full_a, full_b)   # each run's cost at its own prices (reasoning.run_facts.cost)
div = result["divergence"]

# -- replay controls ------------------------------------------------------------------------------
c1, c2 = st.columns([1, 2])
locked = c1.toggle("Lock the sliders together", value=True, key="cmp_lock")
by = c2.radio("Lock by", ["step", "elapsed time"], horizontal=True, key="cmp_by",
              disabled=not locked, help="step: the same number of events in both runs; elapsed "
              "time: what each run had done after the same number of seconds")
pair = f"{run_a}_{run_b}"
if locked and by == "step":
    n = st.slider("Events", 1, max(len_a, len_b), max(len_a, len_b), key=f"cmp_step_{pair}")
    seq_a, seq_b = locked_seqs(view_a.timeline, view_b.timeline, n, "step")
elif locked:
    t_max = max(view_a.timeline[-1].t, view_b.timeline[-1].t, 0.01)
    t = st.slider("Elapsed seconds", 0.0, float(t_max), float(t_max), step=max(0.01, t_max / 200),
                  key=f"cmp_time_{pair}", format="%.2f")
    seq_a, seq_b = locked_seqs(view_a.timeline, view_b.timeline, t, "time")
else:
    seq_a = ca.slider("Run A events", 1, len_a, len_a, key=f"cmp_sa_{pair}")
    seq_b = cb.slider("Run B events", 1, len_b, len_b, key=f"cmp_sb_{pair}")

tree_a, tree_b = view_a.frame(seq_a), view_b.frame(seq_b)
marks, note = (None, None), ""
if div["found"]:
    s_node, e_node = div["shortcut_node"], div["explore_node"]
    marks = (s_node, e_node) if result["shortcut_run"] == run_a else (e_node, s_node)
    note = f"diverges at step {div['step']}"
fig_a, fig_b = side_by_side(tree_a, tree_b, view_a.positions(), view_b.positions(), marks, note,
                            uirevision=pair)
for col, tree, fig, seq, total, side in ((ca, tree_a, fig_a, seq_a, len_a, "a"),
                                         (cb, tree_b, fig_b, seq_b, len_b, "b")):
    with col:
        st.text(status_text(tree, running=False))
        st.caption(f"event {seq}/{total} · t = {tree.t:.2f} s")
        st.plotly_chart(fig, key=f"cmp_chart_{side}", config=PLOTLY_CONFIG)

# -- metrics and divergence ----------------------------------------------------------------------
st.subheader("Metrics")
st.dataframe(metrics_table(result, run_a, run_b))
st.subheader("Divergence")
st.caption(roles_caption(result, run_a, run_b))
st.text(div["reason"])
if div["found"]:
    st.dataframe(divergence_table(result), hide_index=True)
    st.caption(f"step {div['step']}; {div['shared_steps']} step(s) in common before it. The ★ "
               "marks the two nodes in the trees (once the replay has reached them).")
