"""The search tree as a plotly figure: pure plotly, no Streamlit, takes a folded :class:`Tree`.

Positions come from :mod:`reasoning.layout`: the caller's (a live view keeps a
:class:`~reasoning.layout.StableLayout`, a replay the final tree's) or else a tidy layout.

One scatter trace per node state (colours: ``STATE_COLORS``) so the legend always lists all six
states; edges come in three styles, each drawn as one SVG path shape under the nodes: normal,
pruned (dashed grey) and the solved path (bold green). (Line traces with a gap between edges
drew each edge as its own element: a fifth of a 900-node redraw, docs/benchmarks.md.)
Every hover string is HTML-escaped because plotly renders tags in hover text.
"""
from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from reasoning.layout import Positions, tidy_layout
from reasoning.run_facts import solved_nodes
from reasoning.tree import BACKTRACKED, FAILED, GENERATING, NODE_STATES, OPEN, PRUNED, SOLVED, Node, Tree

from .tree_labels import LABEL_LINE_PX, PLOT_CHROME_PX, PLOT_WIDTH_PX, LabelScale, label_text, tree_labels

__all__ = ["PLOT_WIDTH_PX", "STATE_COLORS", "edge_groups", "hover_text", "short_step", "tidy_layout",
           "tree_figure"]

STATE_COLORS = {
    GENERATING: "#1f77b4",   # blue, drawn with a bold dark outline
    OPEN: "#9ecae1",         # light blue
    PRUNED: "#b0b0b0",       # grey (its edge is dashed)
    BACKTRACKED: "#ff7f0e",  # orange
    FAILED: "#d62728",       # red
    SOLVED: "#2ca02c",       # green; the path from the root is bold green
}
SOLVED_EDGE = "#1a7f1a"
EDGE_COLOR = "#9a9a9a"
ROLLOUT_SYMBOL = "diamond"
NODE_SYMBOL = "circle"
LEVEL_PX = 110        # vertical pixels per depth level (fewer for deep trees, down to MIN_LEVEL_PX)
MIN_LEVEL_PX = 56     # room for a node and its label
MAX_TREE_PX = 440     # levels share this height until they reach MIN_LEVEL_PX: a tree fits a screen
HOVER_TEXT_CHARS = 160
MIN_MARKER_PX, MAX_MARKER_PX = 6.0, 22.0
WEBGL_NODES = 3_000   # past this many nodes, traces are drawn with WebGL (Scattergl)
PACKED_NODES = 1_000  # past this many nodes, numbers go as binary arrays (SVG too: a lighter refresh)
COLLAPSED_SYMBOL = "square"
ANSWER_SYMBOL = "star"  # the answer of a run that no verifier could judge (outcome "answered")
HIGHLIGHT = "#c2185b"  # outline of nodes matching a search


# -- text ----------------------------------------------------------------------------------------
def short_step(node: Node, outside: bool = False) -> str:
    """The few characters printed under a node (``4 + 5 = 9`` for a Game-of-24 step): see
    :func:`components.tree_labels.label_text`."""
    return label_text(node, outside)


def hover_text(node: Node) -> str:
    """The hover box: short, every model- or task-supplied piece escaped."""
    e = html.escape
    head = f"<b>#{node.id}</b> {e(node.role)} · depth {node.depth} · <b>{e(node.state)}</b>"
    lines = [head]
    main = node.step or node.text.strip()
    if main:
        main = main if len(main) <= HOVER_TEXT_CHARS else main[:HOVER_TEXT_CHARS] + "…"
        lines.append(e(main).replace("\n", "<br>"))
    if node.label:
        lines.append(e(node.label))
    if node.reason:
        lines.append("why: " + e(node.reason[:HOVER_TEXT_CHARS]))
    facts = []
    if node.value is not None:
        facts.append(f"value {node.value:.3g}")
    if node.visits:
        facts.append(f"visits {node.visits}, mean {node.mean_value:.2f}")
    if facts:
        lines.append(" · ".join(facts))
    return "<br>".join(lines)


# -- figure ----------------------------------------------------------------------------------------
EDGE_STYLES = {  # edge group -> (name, colour, width, dash)
    "normal": ("edges", EDGE_COLOR, 1.6, "solid"),
    "pruned": ("pruned edges", EDGE_COLOR, 1.4, "dash"),
    "solved": ("solved path", SOLVED_EDGE, 5.0, "solid"),
}


def _edge_shape(segments: list, name: str, color: str, width: float, dash: str) -> dict:
    """Every edge of one style as one SVG path under the nodes (``M x0,y0 L x1,y1`` per edge)."""
    path = "".join(f"M{x0:.4f},{y0:.4f}L{x1:.4f},{y1:.4f}" for (x0, y0), (x1, y1) in segments)
    return {"type": "path", "path": path, "name": name, "xref": "x", "yref": "y", "layer": "below",
            "line": {"color": color, "width": width, "dash": dash}}


def edge_groups(tree: Tree, pos: dict[int, tuple[float, float]],
                on_path: set[int] | None = None) -> dict[str, list]:
    """Edges by style: ``solved`` (on the solved path), ``pruned`` (into a pruned node), ``normal``."""
    on_path = solved_nodes(tree) if on_path is None else on_path
    groups: dict[str, list] = {"normal": [], "pruned": [], "solved": []}
    for node in tree.nodes.values():
        if node.parent_id is None or node.parent_id not in pos:
            continue
        seg = (pos[node.parent_id], pos[node.id])
        if node.id in on_path and node.parent_id in on_path:
            groups["solved"].append(seg)
        elif node.state == PRUNED:
            groups["pruned"].append(seg)
        else:
            groups["normal"].append(seg)
    return groups


def base_size(width_units: float, width_px: float = PLOT_WIDTH_PX) -> float:
    """Marker diameter in px so neighbours (one layout unit apart) do not overlap on a plot about
    ``PLOT_WIDTH_PX`` wide; wide trees get smaller markers (zoom in to see them larger)."""
    return max(MIN_MARKER_PX, min(MAX_MARKER_PX, 0.7 * width_px / max(width_units, 1.0)))


def _marker_size(node: Node, base: float) -> float:
    size = max(5.5, base * 0.75) if node.role == "rollout" else base
    if node.role == "collapsed":
        return base * 1.15
    if node.visits:  # MCTS: area grows with visits, capped, in proportion to the base size
        size += min(0.6, 0.14 * math.sqrt(node.visits)) * base
    return size


def tree_figure(tree: Tree, *, selected: int | None = None, show_labels: bool | None = None,
                uirevision: str | int | None = None, highlight: set[int] | frozenset = frozenset(),
                webgl: bool | None = None, solved: set[int] | None = None,
                positions: Positions | None = None,
                x_range: tuple[float, float] | None = None, label_mode: str = "steps",
                width_px: float = PLOT_WIDTH_PX, depth_units: float | None = None) -> go.Figure:
    """The figure for ``tree``. ``customdata`` of every node point is ``[node_id]`` (for clicks;
    folded markers of :mod:`reasoning.view_model` have negative ids). ``highlight`` marks
    search hits; ``webgl`` (default: past ``WEBGL_NODES`` nodes) draws with Scattergl; ``solved``
    overrides the solved path (a projected view passes the full tree's); ``positions`` (for
    every node of ``tree``) replaces the tidy layout; ``x_range`` fixes the visible x range (and
    with it marker sizes and which labels fit). ``show_labels``: None (default) the labels that
    fit without overlapping, True all, False none; ``label_mode``: ``steps`` (short step labels)
    or ``values`` (values / visits), see :mod:`components.tree_labels`. ``width_px``: the plot
    area's width where the figure is shown (half a page on Compare); ``depth_units``: size the
    height for this many levels (two figures side by side share one)."""
    gl = webgl if webgl is not None else len(tree.nodes) > WEBGL_NODES
    scatter = go.Scattergl if gl else go.Scatter
    packed = gl or len(tree.nodes) > PACKED_NODES
    if positions is not None and all(k in positions for k in tree.nodes):
        pos = {k: positions[k] for k in tree.nodes}
    else:
        pos = tidy_layout(tree)
    x_min = min((x for x, _ in pos.values()), default=0.0)
    x_max = max((x for x, _ in pos.values()), default=0.0)
    if x_range is not None:
        x_min, x_max = x_range[0] + 0.7, x_range[1] - 0.7
    width_units = x_max - x_min + 1
    depth = max((-y for _, y in pos.values()), default=0.0)
    if depth_units is not None:
        depth = max(depth, depth_units)
    on_path = solved_nodes(tree) if solved is None else solved
    base = base_size(width_units, width_px)

    groups = edge_groups(tree, pos, on_path)
    edge_shapes = [_edge_shape(groups[g], *EDGE_STYLES[g]) for g in EDGE_STYLES if groups[g]]
    traces: list = []
    by_state: dict[str, list[Node]] = {state: [] for state in NODE_STATES}
    for n in tree.nodes.values():
        if n.id in pos:
            by_state[n.state].append(n)
    # an answer nobody could verify: a star in its state's colour (a user mark makes it solved)
    answer = tree.answer_node if tree.outcome == "answered" and tree.answer_node in pos and \
        tree.nodes[tree.answer_node].state not in (SOLVED, FAILED) else None
    for state in NODE_STATES:
        traces.append(_state_trace(state, by_state[state], pos, on_path, base, selected,
                                   highlight, scatter, answer, packed))
    for state in NODE_STATES:  # the legend: every state, always, drawn the same way
        traces.append(go.Scatter(
            x=[None], y=[None], mode="markers", name=state, legendgroup=state, hoverinfo="skip",
            marker={"color": STATE_COLORS[state], "size": 13, "symbol": NODE_SYMBOL,
                    "line": {"color": "#08306b" if state == GENERATING else "#ffffff",
                             "width": 3 if state == GENERATING else 1}}))
    # a legend-only entry explaining the rollout symbol
    traces.append(go.Scatter(x=[None], y=[None], mode="markers", name="rollout",
                             hoverinfo="skip", marker={"symbol": ROLLOUT_SYMBOL, "size": 11,
                                                       "color": "#ffffff",
                                                       "line": {"color": "#555", "width": 1.5}}))
    if answer is not None:
        traces.append(go.Scatter(x=[None], y=[None], mode="markers", name="answer (not verified)",
                                 hoverinfo="skip", marker={"symbol": ANSWER_SYMBOL, "size": 13,
                                                           "color": "#ffffff",
                                                           "line": {"color": "#555", "width": 1.5}}))
    if any(n.role == "collapsed" for n in tree.nodes.values()):
        traces.append(go.Scatter(x=[None], y=[None], mode="markers", name="folded (count in hover)",
                                 hoverinfo="skip", marker={"symbol": COLLAPSED_SYMBOL, "size": 11,
                                                           "color": "#ffffff",
                                                           "line": {"color": "#555", "width": 1.5}}))
    fig = go.Figure(traces, **_checks(scatter))
    # deep trees squeeze their levels (down to MIN_LEVEL_PX) so the whole tree stays on a screen
    height = int(max(320, min(LEVEL_PX * (depth + 1), max(MAX_TREE_PX, MIN_LEVEL_PX * (depth + 1))) + 120))
    px_y = (height - PLOT_CHROME_PX) / (depth + 1.05)
    # room under the deepest row for its labels (nothing clipped at the bottom edge)
    below = max(0.6, (MAX_MARKER_PX / 2 + 4 + LABEL_LINE_PX + 4) / px_y)
    y_range = (-depth - below, 0.45)
    x_range_shown = (x_min - 0.7, x_max + 0.7)
    if show_labels is not False:
        scale = LabelScale(x_range_shown, y_range, width_px, height - PLOT_CHROME_PX)
        sizes = {n.id: _marker_size(n, base) for n in tree.nodes.values()}
        under = {i: -(s / 2 + 3 + LABEL_LINE_PX / 2) for i, s in sizes.items()}
        fig.update_layout(annotations=tree_labels(
            tree, pos, scale, on_path=on_path, selected=selected, highlight=highlight,
            mode=label_mode, everything=bool(show_labels), yshift=under))
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff", hovermode="closest",
        clickmode="event+select", dragmode="pan",
        uirevision=str(uirevision if uirevision is not None else tree.run_id),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0,
                "itemclick": False, "itemdoubleclick": False, "font": {"size": 12},
                "itemsizing": "constant"},
        hoverlabel={"align": "left", "font": {"family": "monospace", "size": 12}},
        shapes=edge_shapes,
        xaxis={"visible": False, "range": list(x_range_shown)},
        yaxis={"visible": False, "range": list(y_range)},
        showlegend=True,
    )
    return fig


def _symbol(node: Node, answer: int | None = None) -> str:
    if node.id == answer:
        return ANSWER_SYMBOL
    if node.role == "rollout":
        return ROLLOUT_SYMBOL
    return COLLAPSED_SYMBOL if node.role == "collapsed" else NODE_SYMBOL


def _array(values: list, packed: bool) -> list | np.ndarray:
    """Numbers for a big (``packed``) trace as a numpy array: plotly checks each entry of a list,
    which cost most of a 10,000-node figure's build, and sends an array as compact binary."""
    return np.array(values, dtype=float) if packed else values


def _checks(scatter) -> dict:
    """Traces and the figure are built without plotly's per-value checks: they were most of a
    big figure's build time (a list of outline colours is checked colour by colour), and the
    values are this module's own. ``tests/test_big_figures.py`` checks that the JSON is the one
    a checked build gives, for small and WebGL figures alike."""
    return {"_validate": False}


def _state_trace(state: str, nodes: list[Node], pos, on_path: set[int], base: float,
                 selected: int | None, highlight=frozenset(), scatter=go.Scatter,
                 answer: int | None = None, packed: bool = False):
    color = STATE_COLORS[state]
    outline_colors, outline_widths = [], []
    for n in nodes:
        if n.id in highlight:
            outline_colors.append(HIGHLIGHT)
            outline_widths.append(4.0)
        elif n.id == selected:
            outline_colors.append("#000000")
            outline_widths.append(4.0)
        elif state == GENERATING:
            outline_colors.append("#08306b")
            outline_widths.append(4.0)
        elif n.id in on_path:
            outline_colors.append(SOLVED_EDGE)
            outline_widths.append(3.0)
        else:
            outline_colors.append("#ffffff" if state != OPEN else "#4a90c2")
            outline_widths.append(1.2)
    big = packed or scatter is go.Scattergl
    symbols = [_symbol(n, answer) for n in nodes]
    marker = {
        "color": color,
        "size": _array([_marker_size(n, base) * (1.5 if n.id == answer else 1.0) for n in nodes], big),
        "symbol": symbols[0] if big and len(set(symbols)) == 1 else symbols,
        "line": {"color": outline_colors, "width": _array(outline_widths, big)},
        "opacity": 1.0,
    }
    return scatter(
        x=_array([pos[n.id][0] for n in nodes], big), y=_array([pos[n.id][1] for n in nodes], big),
        mode="markers", name=state, legendgroup=state, showlegend=False, marker=marker,
        hovertext=[hover_text(n) for n in nodes], hoverinfo="text",
        # a big tree's ids go as one flat array (a click reads a number, not [id])
        customdata=np.array([n.id for n in nodes], dtype=np.int64) if big else [[n.id] for n in nodes],
        unselected={"marker": {"opacity": 0.75}},
        selected={"marker": {"opacity": 1.0}},
        **_checks(scatter),
    )
