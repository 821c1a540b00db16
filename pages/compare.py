"""Compare: two stored runs side by side — the shortcut against an exploration.

Pick any two runs (default: the two newest; ``?a=ID&b=ID`` opens a given pair). Both trees are
drawn at one scale with replay sliders that can be locked together by event count or by elapsed
time; the metrics table and the divergence (the first step where the shortcut's chain leaves the
exploration's solved path) come from :mod:`reasoning.compare`, the divergence starred in both."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.compare_figures import side_by_side
from components.context import get_store
from components.status import status_text
from components.tree_view import PLOTLY_CONFIG
from reasoning.compare import compare, locked_seqs
from reasoning.tree import fold

store = get_store()
st.title("Thinktree · compare")

runs = store.list_runs()
if len(runs) < 2:
    st.info("Compare needs two stored runs. Run the same problem with greedy and with an "
            "exploratory strategy on the Live run page (or `python cli.py experiment …`).")
    st.stop()
by_id = {int(r["id"]): r for r in runs}
ids = list(by_id)


def _label(i: int) -> str:
    r = by_id[i]
    return f"#{i} · {r['strategy']} · {r['problem']} · {r['outcome'] or r['status']}"


def _default(param: str, fallback: int) -> None:
    key = f"cmp_{param}"
    if key in st.session_state:
        return
    wanted = st.query_params.get(param)
    st.session_state[key] = int(wanted) if wanted and wanted.isdigit() and int(wanted) in by_id \
        else fallback


_default("a", ids[1])   # the last pair: the older of the two newest runs on the left
_default("b", ids[0])
ca, cb = st.columns(2)
run_a = ca.selectbox("Run A", ids, key="cmp_a", format_func=_label)
run_b = cb.selectbox("Run B", ids, key="cmp_b", format_func=_label)
st.query_params.update({"a": str(run_a), "b": str(run_b)})

events_a, events_b = store.events(run_a), store.events(run_b)
if not events_a or not events_b:
    st.info("One of these runs has no events yet.")
    st.stop()
full_a, full_b = fold(events_a), fold(events_b)
result = compare(full_a, full_b)
div = result["divergence"]

# -- replay controls ------------------------------------------------------------------------------
c1, c2 = st.columns([1, 2])
locked = c1.toggle("Lock the sliders together", value=True, key="cmp_lock")
by = c2.radio("Lock by", ["step", "elapsed time"], horizontal=True, key="cmp_by",
              disabled=not locked, help="step: the same number of events in both runs; elapsed "
              "time: what each run had done after the same number of seconds")
pair = f"{run_a}_{run_b}"
if locked and by == "step":
    n = st.slider("Events", 1, max(len(events_a), len(events_b)),
                  max(len(events_a), len(events_b)), key=f"cmp_step_{pair}")
    seq_a, seq_b = locked_seqs(events_a, events_b, n, "step")
elif locked:
    t_max = max(events_a[-1].t, events_b[-1].t, 0.01)
    t = st.slider("Elapsed seconds", 0.0, float(t_max), float(t_max), step=max(0.01, t_max / 200),
                  key=f"cmp_time_{pair}", format="%.2f")
    seq_a, seq_b = locked_seqs(events_a, events_b, t, "time")
else:
    seq_a = ca.slider("Run A events", 1, len(events_a), len(events_a), key=f"cmp_sa_{pair}")
    seq_b = cb.slider("Run B events", 1, len(events_b), len(events_b), key=f"cmp_sb_{pair}")

tree_a, tree_b = fold(events_a[:seq_a]), fold(events_b[:seq_b])
shortcut_is_a = result["shortcut_run"] == run_a
marks = (None, None)
note = ""
if div["found"]:
    s_node, e_node = div["shortcut_node"], div["explore_node"]
    marks = (s_node, e_node) if shortcut_is_a else (e_node, s_node)
    note = f"diverges at step {div['step']}"
fig_a, fig_b = side_by_side(tree_a, tree_b, full_a, full_b, marks, note, uirevision=pair)
for col, tree, fig, seq, total, side in ((ca, tree_a, fig_a, seq_a, len(events_a), "a"),
                                         (cb, tree_b, fig_b, seq_b, len(events_b), "b")):
    with col:
        st.text(status_text(tree, running=False))
        st.caption(f"event {seq}/{total} · t = {tree.t:.2f} s")
        st.plotly_chart(fig, key=f"cmp_chart_{side}", config=PLOTLY_CONFIG)

# -- metrics and divergence ----------------------------------------------------------------------
st.subheader("Metrics")
names = {"outcome": "outcome", "answer": "answer", "nodes": "nodes", "model_calls": "model calls",
         "prompt_tokens": "prompt tokens", "completion_tokens": "completion tokens",
         "cost": "cost", "seconds": "wall time (s)", "solution_depth": "solution depth (steps)",
         "first_correct_s": "first correct answer at (s)"}
m_a, m_b = result["runs"]


def _cell(v) -> str:
    return "—" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


table = pd.DataFrame({
    f"A · #{run_a} {m_a['strategy']}": [_cell(m_a[k]) for k in names],
    f"B · #{run_b} {m_b['strategy']}": [_cell(m_b[k]) for k in names],
}, index=list(names.values()))
st.dataframe(table)

st.subheader("Divergence")
st.caption(f"shortcut: run #{result['shortcut_run']} · exploration: run #{result['explore_run']} "
           "(the greedy run is the shortcut; otherwise run A)")
st.text(div["reason"])
if div["found"]:
    rows = [{"run": f"shortcut #{result['shortcut_run']}", "node": div["shortcut_node"],
             "step": div["shortcut_step"] or "(stopped)",
             "scores": ", ".join(f"{k} {v}" for k, v in div["shortcut_score"].items()) or "—"},
            {"run": f"exploration #{result['explore_run']}", "node": div["explore_node"],
             "step": div["explore_step"] or "(ended)",
             "scores": ", ".join(f"{k} {v}" for k, v in div["explore_score"].items()) or "—"}]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"step {div['step']}; {div['shared_steps']} step(s) in common before it. The ★ "
               "marks the two nodes in the trees (once the replay has reached them).")
