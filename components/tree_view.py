"""The tree figure with click-to-inspect, shared by the Live and Sessions pages.

A click on a node (plotly selection, ``customdata = [node_id]``) or the node selectbox chooses the
node shown in the inspector. The figure is rebuilt only when the tree or the view changed.

Positions: a live view keeps one :class:`StableLayout` per run and view (drawn nodes stay put as
the tree grows); a replay passes the final tree, whose layout every frame reuses."""
from __future__ import annotations

from typing import Any

import streamlit as st

from reasoning.tree import Tree

from .inspector import MarkHandler, node_option_label, render_inspector
from .layout import Positions, StableLayout, tidy_layout
from .status import counts_text, generating_text, outcome_badge, status_text
from .tree_figure import tree_figure
from .tree_view_model import AUTO_COLLAPSE_NODES, AUTO_DEPTH, AUTO_DEPTH_NODES, ViewOptions, project

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


def _layout_opts(opts: ViewOptions) -> tuple:
    """The view options that change which nodes are drawn (a search only highlights)."""
    return (opts.focus, opts.max_depth, opts.collapse_pruned)


def _final_positions(final: Tree, key: str, opts: ViewOptions) -> Positions:
    stamp = (final.run_id, final.last_seq, _layout_opts(opts))
    cached = st.session_state.get(f"{key}_final_pos")
    if cached is None or cached[0] != stamp:
        cached = (stamp, tidy_layout(project(final, opts)[0]))
        st.session_state[f"{key}_final_pos"] = cached
    return cached[1]


def _positions(shown: Tree, key: str, opts: ViewOptions, final: Tree | None):
    """Positions and the chart's x range."""
    if final is not None:  # replay: the final tree's places; nodes it folds away are fitted in
        final_pos = _final_positions(final, key, opts)
        layout = StableLayout(positions=final_pos)
        layout.view_range(final_pos)
        pos = layout.update(shown)
        return pos, layout.view_range(pos)
    stamp = (shown.run_id, _layout_opts(opts))
    kept = st.session_state.get(f"{key}_layout")
    if kept is None or kept[0] != stamp:
        kept = (stamp, StableLayout())
        st.session_state[f"{key}_layout"] = kept
    pos = kept[1].update(shown)
    return pos, kept[1].view_range(pos)


def _figure(tree: Tree, key: str, opts: ViewOptions, final: Tree | None = None):
    # The figure does not depend on the selection: rebuilding it on every click would make the
    # chart re-render and drop plotly's own selection state.
    stamp = (id(tree), tree.last_seq, opts, None if final is None else (final.run_id, final.last_seq))
    cached = st.session_state.get(f"{key}_fig")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    shown, hits = project(tree, opts)
    pos, x_range = _positions(shown, key, opts, final)
    fig = tree_figure(shown, uirevision=f"{key}-{tree.run_id}-{opts.focus}", highlight=hits,
                      solved=tree.solved_path(), positions=pos, x_range=x_range)
    st.session_state[f"{key}_fig"] = (stamp, fig)
    return fig


def view_controls(tree: Tree, key: str) -> ViewOptions:
    """Level of detail: search, depth limit, folding of pruned subtrees, focus on a subtree."""
    focus_key = f"{key}_focus"
    focus = st.session_state.get(focus_key)
    if focus not in tree.nodes:
        focus = None
    big = len(tree.nodes) > AUTO_COLLAPSE_NODES
    with st.expander(f"View · {len(tree.nodes):,} nodes" + (" (large: pruned subtrees folded)" if big
                                                             else ""), expanded=big or focus is not None):
        c1, c2, c3, c4 = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
        search = c1.text_input("Search node text", key=f"{key}_search", placeholder="e.g. 10 - 4")
        depth = c2.number_input("Depth limit (0 = all)", min_value=0, max_value=1000, step=1,
                                value=AUTO_DEPTH if len(tree.nodes) > AUTO_DEPTH_NODES else 0,
                                key=f"{key}_depth")
        fold = c3.selectbox("Fold pruned subtrees", ["auto", "yes", "no"], key=f"{key}_fold")
        if focus is not None and c4.button("Show whole tree", key=f"{key}_unfocus"):
            st.session_state[focus_key] = focus = None
        if focus is not None:
            st.caption(f"Showing the subtree of node {focus} (and its path from the root).")
    collapse = {"auto": None, "yes": True, "no": False}[fold]
    return ViewOptions(focus=focus, max_depth=int(depth) or None, collapse_pruned=collapse,
                       search=search or "")


def status_line(tree: Tree, running: bool) -> None:
    """An outcome badge and the status text (plain text: the answer comes from the model)."""
    label, color = outcome_badge(tree, running)
    badge, text = st.columns([2, 13], vertical_alignment="center")
    with badge:
        st.badge(label, color=color)
    with text:
        st.text(status_text(tree, running))


def tree_and_inspector(tree: Tree, key: str, final: Tree | None = None,
                       on_mark: MarkHandler | None = None) -> int | None:
    """Draw ``tree``, the streaming line, a node picker and the inspector; returns the node shown.
    ``final`` (a replay): the run's whole tree, whose positions every frame keeps. ``on_mark``:
    store a user's mark on an answer node (the inspector then offers Mark correct / wrong)."""
    pick_key = f"{key}_node"
    if not tree.nodes:
        st.info("No nodes yet.")
        return None
    # one chart widget per run, so a selection made in another run's tree never carries over
    opts = view_controls(tree, key)
    event = st.plotly_chart(_figure(tree, key, opts, final), key=f"{key}_chart_{tree.run_id}", on_select="rerun",
                            selection_mode="points", config=PLOTLY_CONFIG)
    click = clicked_node(event)
    if click is not None and click < 0:  # a folded marker: nothing to inspect
        click = None
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
    render_inspector(tree, node_id, on_mark)
    if node_id is not None and tree.nodes[node_id].children and \
            st.button("Focus on this subtree", key=f"{key}_focus_btn"):
        st.session_state[f"{key}_focus"] = node_id
        st.rerun()
    return node_id
