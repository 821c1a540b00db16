"""Sessions & replay: every stored run; choose one (or open ``?run=ID``) and replay it event by
event. The tree is the run view's frame (the fold of events 1..k) drawn by the same figure as the
Live page, every node where the live view's last frame had it, so scrubbing never moves a node."""
from __future__ import annotations

import time

import streamlit as st

from app_context import RunFilter, get_store, mark_handler, run_view, through_app
from components.run_table import filter_controls, page_cursor, pager, run_label, runs_table
from components.session_tools import demo_offer, graph_downloads
from components.tree_view import status_line, tree_and_inspector
from runner.demo import load_demo

PLAY_TICK_SECONDS = 0.6
PLAY_STEPS = 60  # a replay plays in about this many ticks, whatever the run's length
PAGE_RUNS = 50   # runs per page of the list (keyset paging: any page costs the same)

through_app()
store = get_store()
st.title("Thinktree · sessions & replay")

total = store.count_runs()
if not total:
    demo_offer(lambda: load_demo(store))
    st.stop()

wanted = st.query_params.get("run")
if wanted is not None and "sessions_run" not in st.session_state:
    if not wanted.isdigit():
        st.warning(f"?run= must be a run id, got {wanted!r}")
    elif store.get_run(int(wanted)) is None:
        st.warning(f"Run {wanted} is not in this database.")
    else:
        st.session_state["sessions_run"] = int(wanted)

# with a run chosen, its replay is the page: the list folds away (open it to pick another)
with st.expander(f"All runs ({total:,})", expanded=st.session_state.get("sessions_run") is None):
    filters = filter_controls(store.run_choices(), [(int(e["id"]), e["name"]) for e in
                                                    store.experiments.list()])
    flt = RunFilter.of(filters)
    page = store.runs_page(flt, page_cursor("sessions", filters), PAGE_RUNS)
    picked = st.dataframe(runs_table(page.rows), hide_index=True, on_select="rerun",
                          selection_mode="single-row", key="sessions_table")
    pager("sessions", page.next_before, len(page.rows),
          total if flt == RunFilter() else store.count_runs(flt))
ids = [int(r["id"]) for r in page.rows]
rows = (picked or {}).get("selection", {}).get("rows", []) if picked is not None else []
if rows and rows[0] < len(ids) and ids[rows[0]] != st.session_state.get("sessions_last_row"):
    st.session_state["sessions_last_row"] = ids[rows[0]]
    st.session_state["sessions_run"] = ids[rows[0]]

by_id = {int(r["id"]): r for r in page.rows}
chosen = st.session_state.get("sessions_run")
if chosen is not None and chosen not in by_id and (row := store.get_run(chosen)) is not None:
    by_id = {chosen: row, **by_id}   # the run on screen stays pickable on any page
elif chosen is not None and chosen not in by_id:
    st.session_state.pop("sessions_run")
run_id = st.selectbox("Replay run", list(by_id), key="sessions_run", index=None,
                      placeholder="Pick a run in the table or here",
                      format_func=lambda i: run_label(by_id[i]))
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
