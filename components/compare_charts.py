"""Drawing for the Compare and Experiments pages (pure plotly, no Streamlit).

* :func:`side_by_side` — two tree figures at the same scale (axis ranges and height from the
  larger of the two *complete* runs, and every node at its place in its complete run — the run
  view's positions, the same as live and in replay — so nothing moves while a slider moves),
  with the divergence node of each marked by a star and a short note. When one scale would
  crowd the drawings (under ``MIN_SHARED_PX`` per column of nodes: a 6-chain best-of-N beside a
  236-node MCTS squeezed its chains into one line), each keeps its own x range; depth and
  height stay shared.
* :func:`scaling_figure` — the accuracy-vs-compute curve: x = mean generated tokens per problem
  (log scale), y = solved rate with its 95 % interval; one line per strategy, the shortcut
  (greedy) as points only.
"""
from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from reasoning.layout import Positions
from reasoning.run_facts import is_shortcut
from reasoning.tree import Tree

from .tree_figure import PLOT_WIDTH_PX, tidy_layout, tree_figure

DIVERGENCE_COLOR = "#ffbf00"
HALF_PLOT_WIDTH_PX = PLOT_WIDTH_PX / 2 - 20   # one of two columns
MIN_SHARED_PX = 40.0     # px per column of nodes below which the two trees get their own x range


def from_zero(pos: Positions) -> Positions:
    """The drawing shifted so its leftmost node is at x = 0 (two runs then share one x range;
    a stable layout may have placed nodes left of 0). Nothing moves relative to anything else."""
    lo = min((x for x, _ in pos.values()), default=0.0)
    return {k: (x - lo, y) for k, (x, y) in pos.items()}


def _extent(pos: Positions) -> tuple[float, float]:
    width = max((x for x, _ in pos.values()), default=0.0) + 1
    depth = max((-y for _, y in pos.values()), default=0.0)
    return width, depth


def mark_node(fig: go.Figure, tree: Tree, node_id: int | None, note: str,
              positions: Positions | None = None) -> bool:
    """Put a star and a note on ``node_id`` if it is drawn; True when it was."""
    pos = positions if positions is not None else tidy_layout(tree)
    if node_id is None or node_id not in pos or node_id not in tree.nodes:
        return False
    x, y = pos[node_id]
    fig.add_trace(go.Scatter(
        x=[x], y=[y], mode="markers", name="divergence", hoverinfo="text",
        hovertext=[html.escape(note)], customdata=[[node_id]],
        marker={"symbol": "star", "size": 30, "color": DIVERGENCE_COLOR,
                "line": {"color": "#000000", "width": 1.5}}))
    fig.add_annotation(x=x, y=y, text=html.escape(note[:60]), showarrow=True, arrowhead=2,
                       ax=40, ay=-34, bgcolor="#fff6d5", bordercolor=DIVERGENCE_COLOR,
                       font={"size": 12})
    return True


def side_by_side(tree_a: Tree, tree_b: Tree, pos_a: Positions, pos_b: Positions,
                 marks: tuple[int | None, int | None] = (None, None), note: str = "",
                 uirevision: str = "compare") -> tuple[go.Figure, go.Figure]:
    """Figures for the replayed trees ``tree_a`` / ``tree_b`` at one scale set by the complete
    runs' positions ``pos_a`` / ``pos_b`` (each run view's), every node at its place there
    (each drawing shifted to start at x = 0, see :func:`from_zero`)."""
    pos_a, pos_b = from_zero(pos_a), from_zero(pos_b)
    (wa, da), (wb, db) = _extent(pos_a), _extent(pos_b)
    width, depth = max(wa, wb, 1.0), max(da, db)
    shared = HALF_PLOT_WIDTH_PX / width >= MIN_SHARED_PX
    widths = (width, width) if shared else (max(wa, 1.0), max(wb, 1.0))
    figs = []
    for side, (tree, mark, pos, w) in enumerate(zip((tree_a, tree_b), marks, (pos_a, pos_b), widths,
                                                    strict=True)):
        # one scale for both while it keeps them readable: the same x range and height, labels
        # placed for half a page
        fig = tree_figure(tree, uirevision=f"{uirevision}-{side}-{tree.run_id}", positions=pos,
                          x_range=(-0.7, w - 0.3), width_px=HALF_PLOT_WIDTH_PX,
                          depth_units=depth)
        if mark is not None and note:
            mark_node(fig, tree, mark, note, pos)
        figs.append(fig)
    return figs[0], figs[1]


def scaling_figure(curve: dict[str, list[dict[str, Any]]], budget_kind: str = "tokens",
                   x_title: str = "mean generated tokens per problem") -> go.Figure:
    """Accuracy vs compute from :func:`runner.experiments.curve_points` (the table's figures)."""
    fig = go.Figure()
    for label, pts in curve.items():
        shortcut = is_shortcut(label)
        fig.add_trace(go.Scatter(
            x=[p["x"] for p in pts], y=[p["y"] for p in pts], name=label,
            mode="markers" if shortcut else "lines+markers",
            marker={"size": 14 if shortcut else 9, "symbol": "diamond" if shortcut else "circle"},
            error_y={"type": "data", "symmetric": False,
                     "array": [p["ci_high"] - p["y"] for p in pts],
                     "arrayminus": [p["y"] - p["ci_low"] for p in pts], "thickness": 1},
            customdata=[[p["budget"], p["n"], p["ci_low"], p["ci_high"]] for p in pts],
            hovertemplate=(f"<b>{html.escape(label)}</b><br>budget %{{customdata[0]}} {budget_kind}"
                           f"<br>{html.escape(x_title)} %{{x:.4g}}<br>solved %{{y:.0%}} of "
                           "%{customdata[1]}"
                           "<br>95% CI %{customdata[2]:.0%}–%{customdata[3]:.0%}<extra></extra>")))
    fig.update_layout(
        height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"type": "log", "title": f"{x_title} (log scale)"},
        yaxis={"title": "solved rate", "range": [-0.03, 1.03], "tickformat": ".0%"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0})
    return fig
