"""The Compare page's two run pickers, opened on the pair a link names (``?a=ID&b=ID``)."""
from __future__ import annotations

from typing import Any

import streamlit as st


def _from_query(param: str, by_id: dict[int, dict[str, Any]], fallback: int) -> None:
    """Put the run ``?param=ID`` names into its picker — when the page is opened with a pair
    it has not shown yet (a link from Live or Experiments in the same session), not on every
    rerun, so a choice made in the picker stands. A missing run is said, not ignored."""
    key, seen = f"cmp_{param}", f"cmp_{param}_query"
    wanted = st.query_params.get(param)
    if wanted is not None and wanted != st.session_state.get(seen):
        st.session_state[seen] = wanted
        if wanted.isdigit() and int(wanted) in by_id:
            st.session_state[key] = int(wanted)
            return
        st.warning(f"Run {wanted!r} (?{param}=) is not in this database; showing another run.")
    if st.session_state.get(key) not in by_id:
        st.session_state[key] = fallback


def pick_pair(runs: list[dict[str, Any]]) -> tuple[int, int]:
    """Run A and run B (default: the two newest, the older on the left), from the URL or the
    pickers; the URL follows the pickers so a pair can be shared."""
    by_id = {int(r["id"]): r for r in runs}
    ids = list(by_id)

    def label(i: int) -> str:
        r = by_id[i]
        return f"#{i} · {r['strategy']} · {r['problem']} · {r['outcome'] or r['status']}"

    _from_query("a", by_id, ids[1])
    _from_query("b", by_id, ids[0])
    ca, cb = st.columns(2)
    run_a = ca.selectbox("Run A", ids, key="cmp_a", format_func=label)
    run_b = cb.selectbox("Run B", ids, key="cmp_b", format_func=label)
    st.query_params.update({"a": str(run_a), "b": str(run_b)})
    st.session_state["cmp_a_query"], st.session_state["cmp_b_query"] = str(run_a), str(run_b)
    return run_a, run_b
