"""The tree figure with click-to-inspect, shared by the Live and Sessions pages.

A click on a node (plotly selection, ``customdata = [node_id]``) or the node selectbox chooses the
node shown in the inspector. The figure is rebuilt only when the tree or the selection changed."""
from __future__ import annotations

from typing import Any

import streamlit as st

from reasoning.tree import Tree

from .inspector import node_option_label, render_inspector
from .status import counts_text, generating_text, outcome_badge, status_text
from .tree_figure import tree_figure

PLOTLY_CONFIG = {"displaylogo": False, "scrollZoom": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


def clicked_node(event: Any) -> int | None:
    """The node id of the first selected point, if any (from ``st.plotly_chart``'s return)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for p in points or []:
        data = p.get("customdata") if isinstance(p, dict) else None
        if isinstance(data, list | tuple) and data:
            data = data[0]
        if isinstance(data, int | float):
            return int(data)
    return None


def _figure(tree: Tree, key: str):
    # The figure does not depend on the selection: rebuilding it on every click would make the
    # chart re-render and drop plotly's own selection state.
    stamp = (id(tree), tree.last_seq)
    cached = st.session_state.get(f"{key}_fig")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    fig = tree_figure(tree, uirevision=f"{key}-{tree.run_id}")
    st.session_state[f"{key}_fig"] = (stamp, fig)
    return fig


def status_line(tree: Tree, running: bool) -> None:
    """An outcome badge and the status text (plain text: the answer comes from the model)."""
    label, color = outcome_badge(tree, running)
    badge, text = st.columns([2, 13], vertical_alignment="center")
    with badge:
        st.badge(label, color=color)
    with text:
        st.text(status_text(tree, running))


def tree_and_inspector(tree: Tree, key: str) -> int | None:
    """Draw ``tree``, the streaming line, a node picker and the inspector; returns the node shown."""
    pick_key = f"{key}_node"
    if not tree.nodes:
        st.info("No nodes yet.")
        return None
    # one chart widget per run, so a selection made in another run's tree never carries over
    event = st.plotly_chart(_figure(tree, key), key=f"{key}_chart_{tree.run_id}", on_select="rerun",
                            selection_mode="points", config=PLOTLY_CONFIG)
    click = clicked_node(event)
    # a click counts once: later reruns report the same selection, and the selectbox may have
    # chosen another node since
    if click is not None and (tree.run_id, click) != st.session_state.get(f"{key}_last_click"):
        st.session_state[f"{key}_last_click"] = (tree.run_id, click)
        st.session_state[pick_key] = click
    streaming = generating_text(tree)
    if streaming:
        st.text(streaming)
    st.caption(counts_text(tree))
    options = sorted(tree.nodes)
    if st.session_state.get(pick_key) not in options:
        st.session_state[pick_key] = None
    node_id = st.selectbox("Inspect node", options, key=pick_key, index=None,
                           placeholder="Click a node in the tree, or pick one here",
                           format_func=lambda i: node_option_label(tree, i))
    render_inspector(tree, node_id)
    return node_id
