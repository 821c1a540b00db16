"""The Compare page's two run pickers (a search box and the first matches each, never a list of
every stored run), opened on the pair a link names (``?a=ID&b=ID``)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from components.run_table import run_label, searchable_pick


def _from_query(param: str, get: Any, fallback: int) -> None:
    """Put the run ``?param=ID`` names into its picker — when the page is opened with a pair
    it has not shown yet (a link from Live or Experiments in the same session), not on every
    rerun, so a choice made in the picker stands. A missing run is said, not ignored."""
    key, seen = f"cmp_{param}", f"cmp_{param}_query"
    wanted = st.query_params.get(param)
    if wanted is not None and wanted != st.session_state.get(seen):
        st.session_state[seen] = wanted
        if wanted.isdigit() and get(int(wanted)) is not None:
            st.session_state[key] = int(wanted)
            return
        st.warning(f"Run {wanted!r} (?{param}=) is not in this database; showing another run.")
    current = st.session_state.get(key)
    if current is None or get(current) is None:
        st.session_state[key] = fallback


def pick_pair(store: Any, newest: list[dict[str, Any]], find: Any) -> tuple[int, int] | None:
    """Run A and run B (default: the two newest, the older on the left), from the URL or the
    pickers (``find(text)``: the first runs matching a search); the URL follows the pickers so a
    pair can be shared. None while a search matches nothing."""
    _from_query("a", store.get_run, int(newest[1]["id"]))
    _from_query("b", store.get_run, int(newest[0]["id"]))
    ca, cb = st.columns(2)
    run_a = searchable_pick("Run A", "cmp_a", find, store.get_run, run_label, ca)
    run_b = searchable_pick("Run B", "cmp_b", find, store.get_run, run_label, cb)
    if run_a is None or run_b is None:
        return None
    st.query_params.update({"a": str(run_a), "b": str(run_b)})
    st.session_state["cmp_a_query"], st.session_state["cmp_b_query"] = str(run_a), str(run_b)
    return run_a, run_b
