"""Sessions & replay: every stored run; choose one (or open ``?run=ID``) and replay it event by
event. The tree is the run view's frame (the fold of events 1..k) drawn by the same figure as the
Live page, every node where the live view's last frame had it, so scrubbing never moves a node."""
from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import streamlit as st

from app_context import get_store, mark_handler, run_view, through_app
from components.session_tools import demo_offer, graph_downloads
from components.tree_view import status_line, tree_and_inspector
from runner.demo import load_demo

PLAY_TICK_SECONDS = 0.6
PLAY_STEPS = 60  # a replay plays in about this many ticks, whatever the run's length

through_app()
store = get_store()
st.title("Thinktree · sessions & replay")

runs = store.list_runs()
if not runs:
    demo_offer(lambda: load_demo(store))
    st.stop()

table = pd.DataFrame([{
    "id": r["id"], "task": r["task"], "problem": r["problem"], "strategy": r["strategy"],
    "outcome": r["outcome"] or r["status"], "nodes": r["nodes"], "tokens": r["tokens"],
    "seconds": round(r["seconds"] or 0.0, 1),
    "date": datetime.fromtimestamp(r["created_at"]).strftime("%Y-%m-%d %H:%M:%S"),
} for r in runs])
ids = [int(r["id"]) for r in runs]

wanted = st.query_params.get("run")
if wanted is not None and "sessions_run" not in st.session_state:
    try:
        if int(wanted) in ids:
            st.session_state["sessions_run"] = int(wanted)
        else:
            st.warning(f"Run {wanted} is not in this database.")
    except ValueError:
        st.warning(f"?run= must be a run id, got {wanted!r}")

# with a run chosen, its replay is the page: the table folds away (open it to pick another)
with st.expander(f"All runs ({len(runs)})", expanded=st.session_state.get("sessions_run") is None):
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="sessions_table")
rows = (picked or {}).get("selection", {}).get("rows", []) if picked is not None else []
if rows and ids[rows[0]] != st.session_state.get("sessions_last_row"):
    st.session_state["sessions_last_row"] = ids[rows[0]]
    st.session_state["sessions_run"] = ids[rows[0]]

by_id = {int(r["id"]): r for r in runs}
run_id = st.selectbox("Replay run", ids, key="sessions_run", index=None,
                      placeholder="Pick a run in the table or here",
                      format_func=lambda i: f"#{i} · {by_id[i]['strategy']} · {by_id[i]['problem']} · "
                                            f"{by_id[i]['outcome'] or by_id[i]['status']}")
if run_id is None:
    st.stop()
st.query_params["run"] = str(run_id)
last = store.last_seq(run_id)
if last == 0:
    st.info("This run has no events yet.")
    st.stop()


playing = st.session_state.get("replay_playing") == run_id
slider_key = f"replay_seq_{run_id}"
p1, p2 = st.columns([1, 9])
if p1.button("Pause" if playing else "Play", key="replay_play"):
    playing = not playing
    st.session_state["replay_playing"] = run_id if playing else None
    if playing and st.session_state.get(slider_key, last) >= last:
        st.session_state[slider_key] = 1  # play from the start
    st.session_state["replay_tick"] = time.monotonic()
    st.rerun()


def replay_view(run_id: int, last: int, playing: bool) -> None:
    st.session_state.setdefault(slider_key, last)
    if st.session_state.pop(slider_key + "_end", False):
        st.session_state[slider_key] = last
    if playing and time.monotonic() - st.session_state.get("replay_tick", 0.0) >= PLAY_TICK_SECONDS * 0.8:
        st.session_state["replay_tick"] = time.monotonic()
        st.session_state[slider_key] = min(last, st.session_state[slider_key] + max(1, last // PLAY_STEPS))
    k = st.slider("Event (seq)", 1, last, key=slider_key)
    view = run_view(run_id, "replay")
    tree = view.frame(k)
    e = view.event_at(k)
    what = f"seq {k}/{last}: {e.type}" + (f" · node {e.node_id}" if e.node_id is not None
                                          else "") if e else f"seq {k}/{last}"
    st.text(what + f" · t = {tree.t:.2f} s")
    status_line(tree, running=False)
    # after a mark the replay jumps to the end, where the mark is
    tree_and_inspector(view, tree, key="replay", live=False, on_mark=mark_handler(
        run_id, lambda: st.session_state.__setitem__(slider_key + "_end", True)))
    graph_downloads(view.final())
    if playing and k >= last:
        st.session_state["replay_playing"] = None
        st.rerun()


p2.caption("Play advances the slider through the run's events; drag the slider to scrub.")
st.fragment(replay_view, run_every=PLAY_TICK_SECONDS if playing else None)(run_id, last, playing)
