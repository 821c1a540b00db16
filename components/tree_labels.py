"""Node labels of the tree figure: what each label says, and where it goes without overlapping.

**What a label says** (:func:`label_text`): with ``mode="steps"`` (the default) the label a
producer gave — a ``Trace(...).step(..., label=...)`` or an ingested ``label`` — when the run was
recorded from outside (:func:`reasoning.provenance.recorded_by`); for Thinktree's own searches (whose
``label`` is the task's state description, ``left: 4 6``) the task's short step, the first line
of the step with Game of 24's ``(left: …)`` tail cut. Whitespace is kept (runs of it become one
space) and long text is cut with ``…``. ``mode="values"`` shows the search's numbers instead:
MCTS visits and mean value (``n 12 · q 0.61``) or the evaluator's value (``v 0.83``).

**Where it goes** (:func:`place_labels`): under its node, centred; if that box would touch a
label already placed, the label is moved beside the node (its box starting at, or ending at,
the node), else dropped (its text stays on hover). Labels are placed by priority — the problem,
the solved path, the selected node and its path, search hits, nodes being written, answers, then
shallow before deep (most visited / best valued first within a depth) — so the telling ones win
the room. A box that would run past the plot's left or right edge is shifted inside it.

**Label boxes in data units** (:class:`LabelScale`): labels use an 11 px *monospace* font, so a
label of ``n`` characters is ``n * LABEL_CHAR_PX + LABEL_PAD_PX`` pixels wide (monospace glyphs
are 0.6 em: 6.6 px at 11 px in DejaVu Sans Mono, Liberation Mono, Menlo; rounded up; the pad is
the white box around the text) and ``LABEL_LINE_PX`` high. The plot area is taken as ``PLOT_WIDTH_PX`` wide (the chart's width in the app's
wide layout at a 1440 px window, checked in Chromium by ``tests/test_browser_labels.py``) and the
figure's height less its margins and the legend row (``PLOT_CHROME_PX``) high; pixels per data
unit are these sizes over the axis ranges. A box is ``(x0, x1, y0, y1)`` in data units, so the
same numbers place labels and let a test check the drawn figure (:func:`drawn_label_boxes`).
"""
from __future__ import annotations

import bisect
import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reasoning.provenance import recorded_by
from reasoning.tree import GENERATING, PRUNED, Node, Tree

PLOT_WIDTH_PX = 960      # the plot area's width in the app's wide layout (1440 px window, measured)
PLOT_CHROME_PX = 50      # figure height not used by the plot: margins (10 + 10) and the legend row
LABEL_FONT_PX = 11
LABEL_FONT = "DejaVu Sans Mono, Liberation Mono, Menlo, Consolas, monospace"
LABEL_CHAR_PX = 6.7      # one monospace character at 11 px (0.6 em, rounded up)
LABEL_PAD_PX = 4.0       # the label's white box: 1 px pad and its edge on each side
LABEL_LINE_PX = 16.0     # one line of label text with its pad
LABEL_GAP_PX = 6.0       # white kept between two labels
LABEL_EDGE_PX = 3.0      # a label keeps this far from the plot's left and right edges
LABEL_MAX_CHARS = 24     # longer labels are cut with "…"
PROBLEM_MAX_CHARS = 30
MAX_LABELS = 160         # more annotations slow plotly down; hover has every node's text
LABEL_MODES = ("steps", "values")
NAME_PREFIX = "label-"   # annotation name of a node label: "label-<node id>"


# -- what a label says -------------------------------------------------------------------------
def _cut(text: str, limit: int) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    s = " ".join(lines[0].split()) if lines else ""
    return s if len(s) <= limit else s[:limit - 1].rstrip() + "…"


def label_text(node: Node, outside: bool = False, mode: str = "steps") -> str:
    """The text under ``node``: see the module docstring. ``outside``: the run was recorded by
    another program (its ``label`` is the producer's own short label)."""
    if mode == "values":
        if node.visits:
            return f"n {node.visits} · q {node.mean_value:.2f}"
        return f"v {node.value:.3g}" if node.value is not None else ""
    if node.role == "collapsed":
        return node.label
    if node.role == "rollout":
        lines = [ln for ln in node.text.splitlines() if ln.strip()]
        return f"rollout ({len(lines)})"
    if outside and node.label.strip():
        return _cut(node.label, LABEL_MAX_CHARS if node.parent_id is not None else PROBLEM_MAX_CHARS)
    if node.role == "problem" or node.parent_id is None:
        return _cut(node.text, PROBLEM_MAX_CHARS)
    text = (node.step or node.text or "").strip()
    first = text.splitlines()[0] if text else ""
    return _cut(first.split("(left", 1)[0], LABEL_MAX_CHARS)


def label_order(tree: Tree, on_path: set[int], selected: int | None = None,
                highlight: Iterable[int] = ()) -> list[int]:
    """Who gets a label first: the problem, the solved path, the selected node and its path,
    search hits, nodes being written, answers; then shallow before deep, the most visited / best
    valued first within a depth; pruned nodes, rollouts and folded markers last."""
    chosen = set(tree.path_to(selected)) if selected in tree.nodes else set()
    hits = set(highlight)

    def rank(n: Node) -> tuple:
        tier = (0 if n.parent_id is None else 1 if n.id in on_path else 2 if n.id in chosen
                else 3 if n.id in hits else 4 if n.state == GENERATING
                else 5 if n.answer is not None or n.id == tree.answer_node
                else 7 if n.state == PRUNED or n.role in ("rollout", "collapsed") else 6)
        return (tier, n.depth, -n.visits, -(n.value or 0.0), n.id)
    return [n.id for n in sorted(tree.nodes.values(), key=rank)]


# -- where it goes -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelScale:
    """The axis ranges and the plot area's size in pixels: pixels per data unit both ways."""
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width_px: float = PLOT_WIDTH_PX
    height_px: float = 400.0

    @property
    def px_x(self) -> float:
        return self.width_px / max(self.x_range[1] - self.x_range[0], 1e-9)

    @property
    def px_y(self) -> float:
        return self.height_px / max(self.y_range[1] - self.y_range[0], 1e-9)

    @classmethod
    def of_figure(cls, fig: Any) -> LabelScale:
        """The scale of a figure made by :func:`components.tree_figure.tree_figure`."""
        lay = fig.layout
        return cls(tuple(lay.xaxis.range), tuple(lay.yaxis.range), PLOT_WIDTH_PX,
                   float(lay.height) - PLOT_CHROME_PX)


def text_width_px(text: str) -> float:
    """The width of a label's white box: its characters and the box's pad."""
    return len(text) * LABEL_CHAR_PX + LABEL_PAD_PX


def label_box(text: str, x: float, y: float, scale: LabelScale, anchor: str = "center",
              xshift: float = 0.0, yshift: float = 0.0) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` in data units of the label ``text`` drawn at ``(x, y)`` with plotly's
    ``xanchor`` / ``xshift`` / ``yshift`` (pixels; the text is centred vertically)."""
    w = text_width_px(text) / scale.px_x
    left = {"center": x - w / 2, "left": x, "right": x - w}[anchor] + xshift / scale.px_x
    half_h = LABEL_LINE_PX / 2 / scale.px_y
    cy = y + yshift / scale.px_y
    return (left, left + w, cy - half_h, cy + half_h)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
            gap_x: float = 0.0) -> bool:
    """Do two boxes overlap (closer than ``gap_x`` data units side by side)?"""
    return a[0] < b[1] + gap_x and b[0] < a[1] + gap_x and a[2] < b[3] and b[2] < a[3]


@dataclass(frozen=True)
class Placed:
    node_id: int
    text: str
    x: float
    y: float
    anchor: str
    xshift: float
    yshift: float


class _Rows:
    """Placed boxes by level, each level sorted by left edge, so a new box is checked only
    against the boxes that can reach it (a big tree has thousands of candidates)."""

    def __init__(self, widest: float, gap: float) -> None:
        self.widest, self.gap = widest, gap
        self.rows: dict[int, list[tuple[float, float, float, float]]] = {}

    def free(self, level: int, box: tuple[float, float, float, float]) -> bool:
        for k in (level - 1, level, level + 1):   # labels hang under their node: one level apart
            row = self.rows.get(k, [])
            lo = bisect.bisect_left(row, (box[0] - self.widest - self.gap,))
            for b in row[lo:]:
                if b[0] > box[1] + self.gap:
                    break
                if overlap(box, b, self.gap):
                    return False
        return True

    def add(self, level: int, box: tuple[float, float, float, float]) -> None:
        bisect.insort(self.rows.setdefault(level, []), box)


def place_labels(texts: dict[int, str], order: Iterable[int], pos: dict[int, tuple[float, float]],
                 scale: LabelScale, yshift: dict[int, float] | None = None,
                 limit: int = MAX_LABELS) -> list[Placed]:
    """Labels for the nodes of ``order`` (in that priority) that fit: under the node, else
    beside it, never touching a label placed before. ``yshift``: pixels below each node."""
    px, py = scale.px_x, scale.px_y                       # (the arithmetic of label_box and
    widest = max((text_width_px(t) for t in texts.values()), default=0.0) / px   # _inside, inlined:
    rows = _Rows(widest, LABEL_GAP_PX / px)               # a big tree tries thousands of boxes)
    x_lo, x_hi = scale.x_range
    edge_lo, edge_hi = x_lo + LABEL_EDGE_PX / px, x_hi - LABEL_EDGE_PX / px
    half_h = LABEL_LINE_PX / 2 / py
    out: list[Placed] = []
    for nid in order:
        text = texts.get(nid, "")
        if not text or nid not in pos or not x_lo <= pos[nid][0] <= x_hi:
            continue   # no label for a node off the chart
        x, y = pos[nid]
        dy = (yshift or {}).get(nid, -20.0)
        w = text_width_px(text) / px
        cy = y + dy / py
        for anchor, nudge in (("center", 0.0), ("left", -6.0), ("right", 6.0)):
            left = (x - w / 2 if anchor == "center" else x if anchor == "left" else x - w) + nudge / px
            inward = edge_lo - left if left < edge_lo else edge_hi - (left + w) if left + w > edge_hi else 0.0
            box = (left + inward, left + inward + w, cy - half_h, cy + half_h)
            if rows.free(round(y), box):
                rows.add(round(y), box)
                out.append(Placed(nid, text, x, y, anchor, nudge + inward * px, dy))
                break
        if len(out) >= limit:
            break
    return out


def annotations(placed: Iterable[Placed]) -> list[dict[str, Any]]:
    """Plotly annotations for placed labels, on a white box so edges do not run through them."""
    return [{"x": p.x, "y": p.y, "text": html.escape(p.text), "showarrow": False,
             "xanchor": p.anchor, "yanchor": "middle", "xshift": p.xshift, "yshift": p.yshift,
             "font": {"size": LABEL_FONT_PX, "color": "#222", "family": LABEL_FONT},
             "bgcolor": "rgba(255,255,255,0.9)", "borderpad": 1, "name": f"{NAME_PREFIX}{p.node_id}"}
            for p in placed]


def drawn_label_boxes(fig: Any) -> dict[int, tuple[float, float, float, float]]:
    """The box of every node label drawn on ``fig`` (by node id), in data units: what a test
    checks for overlaps, computed from the figure alone."""
    scale = LabelScale.of_figure(fig)
    out = {}
    for a in fig.layout.annotations:
        if not (a.name or "").startswith(NAME_PREFIX):
            continue
        text = html.unescape(a.text)
        out[int(a.name[len(NAME_PREFIX):])] = label_box(text, a.x, a.y, scale, a.xanchor or "center",
                                                        a.xshift or 0.0, a.yshift or 0.0)
    return out


def tree_labels(tree: Tree, pos: dict[int, tuple[float, float]], scale: LabelScale, *,
                on_path: set[int], selected: int | None = None, highlight: Iterable[int] = (),
                mode: str = "steps", everything: bool = False,
                yshift: dict[int, float] | None = None) -> list[dict[str, Any]]:
    """The label annotations of ``tree`` drawn at ``pos`` on a plot of ``scale``; ``everything``
    labels every node (overlaps allowed: the user asked for all)."""
    if mode not in LABEL_MODES:
        raise ValueError(f"mode: must be one of {', '.join(LABEL_MODES)}, got {mode!r}")
    outside = recorded_by(tree.info) is not None
    texts = {n.id: label_text(n, outside, mode) for n in tree.nodes.values()}
    order = label_order(tree, on_path, selected, highlight)
    if everything:
        dy = yshift or {}
        placed = [Placed(i, texts[i], *pos[i], "center", 0.0, dy.get(i, -20.0))
                  for i in order if texts.get(i) and i in pos]
    else:
        placed = place_labels(texts, order, pos, scale, yshift)
    return annotations(placed)
