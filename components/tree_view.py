"""The tree figure with click-to-inspect, shared by the Live and Sessions pages.

A click on a node (plotly selection, ``customdata = [node_id]``) or the node selectbox chooses the
node shown in the inspector. The figure is rebuilt only when the tree or the view changed.

Positions come from the run's :class:`~reasoning.run_view.RunView` (one policy for live, replay and
compare), so a replay frame draws every node where the live view's last frame did."""
from __future__ import annotations

from typing import Any

import streamlit as st

from reasoning.layout import ViewRange
from reasoning.run_facts import solved_nodes
from reasoning.run_view import RunView
from reasoning.tree import Tree
from reasoning.view_model import (
    AUTO_COLLAPSE_NODES,
    AUTO_DEPTH,
    AUTO_DEPTH_NODES,
    DRAW_BUDGET,
    ViewOptions,
    automatic_depth,
    project,
)

from .inspector import MarkHandler, node_option_label, render_inspector
from .status import counts_text, generating_text, outcome_badge, status_text
from .tree_figure import tree_figure
from .tree_labels import LABEL_MODES

PICK_LIST_NODES = AUTO_COLLAPSE_NODES   # bigger trees pick the node to inspect by its id
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


def _positions(view: RunView, shown: Tree, key: str, opts: ViewOptions, live: bool):
    """Positions (the run view's one policy) and the chart's x range: a live chart keeps its
    range until a node falls outside; a replay frame uses the whole run's, so it never rescales."""
    lkey = _layout_opts(opts)
    pos = view.place(shown, lkey, lambda t, o=ViewOptions(*lkey): project(t, o)[0])
    if not live:
        return pos, view.full_range(pos, lkey)
    stamp = (view.run_id, lkey)
    kept = st.session_state.get(f"{key}_range")
    if kept is None or kept[0] != stamp:
        kept = (stamp, ViewRange())
        st.session_state[f"{key}_range"] = kept
    return pos, kept[1].fit(pos)


def _figure(view: RunView, tree: Tree, key: str, opts: ViewOptions, live: bool):
    # The figure does not depend on the selection: rebuilding it on every click would make the
    # chart re-render and drop plotly's own selection state.
    stamp = (id(view), view.last_seq, tree.last_seq, opts, live)
    cached = st.session_state.get(f"{key}_fig")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    shown, hits = project(tree, opts)
    pos, x_range = _positions(view, shown, key, opts, live)
    fig = tree_figure(shown, uirevision=f"{key}-{tree.run_id}-{opts.focus}", highlight=hits,
                      solved=solved_nodes(tree), positions=pos, x_range=x_range, label_mode=opts.labels)
    # which state of the run the chart draws (read by the browser benchmarks: a drawn refresh)
    fig.update_layout(meta={"run": tree.run_id, "tree_nodes": len(tree.nodes), "last_seq": tree.last_seq})
    st.session_state[f"{key}_fig"] = (stamp, fig)
    return fig


def view_controls(tree: Tree, key: str) -> ViewOptions:
    """Level of detail: search, depth limit, folding of pruned subtrees, focus on a subtree."""
    focus_key = f"{key}_focus"
    focus = st.session_state.get(focus_key)
    if focus not in tree.nodes:
        focus = None
    big = len(tree.nodes) > AUTO_COLLAPSE_NODES
    with st.expander(f"View · {len(tree.nodes):,} nodes" + (" (large: folded to fit)" if big else ""),
                     expanded=big or focus is not None):
        c1, c2, c3, c5, c4 = st.columns([3, 2, 2, 2, 2], vertical_alignment="bottom")
        search = c1.text_input("Search node text", key=f"{key}_search", placeholder="e.g. 10 - 4")
        depth = c2.number_input("Depth limit (0 = all)", min_value=0, max_value=1000, step=1,
                                value=AUTO_DEPTH if len(tree.nodes) > AUTO_DEPTH_NODES else 0,
                                key=f"{key}_depth")
        fold = c3.selectbox("Fold", ["auto", "yes", "no"], key=f"{key}_fold", help=FOLD_HELP)
        labels = c5.radio("Labels", LABEL_MODES, horizontal=True, key=f"{key}_labels",
                          format_func={"steps": "short steps", "values": "values / visits"}.get)
        if focus is not None and c4.button("Show whole tree", key=f"{key}_unfocus"):
            st.session_state[focus_key] = focus = None
        if focus is not None:
            st.caption(f"Showing the subtree of node {focus} (and its path from the root).")
    collapse = {"auto": None, "yes": True, "no": False}[fold]
    opts = ViewOptions(focus=focus, max_depth=int(depth) or None, collapse_pruned=collapse,
                       search=search or "", labels=labels)
    folded = folded_text(tree, opts)
    if folded:   # above the tree, where it shows even with the View box closed
        st.caption(folded)
    return opts


FOLD_HELP = (f"auto: past {AUTO_COLLAPSE_NODES:,} nodes pruned subtrees fold into one grey square, and a "
             f"tree that would still draw more than {DRAW_BUDGET:,} nodes folds the levels below the "
             "deepest one that fits (a square under a node stands for everything below it). yes: "
             "pruned subtrees only. no: nothing folded (a big tree draws slowly).")


def folded_text(tree: Tree, opts: ViewOptions) -> str:
    """What the view folds away, in words ("" when every node is drawn)."""
    shown, _ = project(tree, opts)
    drawn = sum(1 for k in shown.nodes if k >= 0)
    if drawn == len(tree.nodes):
        return ""
    auto = automatic_depth(tree, opts)
    why = f"; below depth {auto} folded to keep the drawing under {DRAW_BUDGET:,} nodes" if auto else ""
    return (f"Drawing {drawn:,} of {len(tree.nodes):,} nodes: squares stand for the folded ones "
            f"(their count on hover){why}. A depth limit, or Fold: no, shows more.")


def status_line(tree: Tree, running: bool) -> None:
    """An outcome badge and the status text (plain text: the answer comes from the model)."""
    label, color = outcome_badge(tree, running)
    badge, text = st.columns([2, 13], vertical_alignment="center")
    with badge:
        st.badge(label, color=color)
    with text:
        st.text(status_text(tree, running))


def tree_and_inspector(view: RunView, tree: Tree, key: str, live: bool = True,
                       on_mark: MarkHandler | None = None) -> int | None:
    """Draw ``tree`` (``view``'s live tree, or a replay frame of it when not ``live``), the
    streaming line, a node picker and the inspector; returns the node shown. ``on_mark``: store
    a user's mark on an answer node (the inspector then offers Mark correct / wrong)."""
    pick_key = f"{key}_node"
    if not tree.nodes:
        st.info("No nodes yet.")
        return None
    # one chart widget per run, so a selection made in another run's tree never carries over
    opts = view_controls(tree, key)
    event = st.plotly_chart(_figure(view, tree, key, opts, live), key=f"{key}_chart_{tree.run_id}", on_select="rerun",
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
    if st.session_state.get(pick_key) not in tree.nodes:
        st.session_state[pick_key] = None
    if len(tree.nodes) > PICK_LIST_NODES:   # a list this long is neither readable nor cheap to send
        node_id = st.number_input("Inspect node (id)", step=1, key=pick_key, value=None,
                                  placeholder="Click a node in the tree, or type its id")
        node_id = node_id if node_id in tree.nodes else None
    else:
        node_id = st.selectbox("Inspect node", sorted(tree.nodes), key=pick_key, index=None,
                               placeholder="Click a node in the tree, or pick one here",
                               format_func=lambda i: node_option_label(tree, i))
    render_inspector(tree, node_id, on_mark)
    if node_id is not None and tree.nodes[node_id].children and \
            st.button("Focus on this subtree", key=f"{key}_focus_btn"):
        st.session_state[f"{key}_focus"] = node_id
        st.rerun()
    return node_id
