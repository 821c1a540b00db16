"""Where each node of the tree is drawn: pure Python, no plotly, no Streamlit.

(It lives in ``reasoning/`` so the run view — :mod:`reasoning.run_view` — and the drawing code
both use it. Strategies give their growth hint as plain
data, :mod:`reasoning.growth`, and never import this module.)

Both layouts put the root on top (y = -depth), at least one unit between neighbours on a level,
siblings left to right in creation order, and never cross edges:

* :func:`tidy_layout` — a tidy tree (after Reingold & Tilford, 1981): each subtree is laid out
  on its own, siblings are pushed right until their contours (leftmost / rightmost x at every
  depth) keep apart, and a parent sits midway between its first and last child slot. It is a
  function of the whole tree, so one new node can shift many others: right for a finished tree
  (a replay draws every frame at the final tree's positions, so nothing moves there).
* :class:`StableLayout` — for a tree that is still growing: drawn nodes keep their place unless a
  new node has no room near its parent; then the smallest enclosing subtree is redrawn.

:class:`~reasoning.growth.Growth` tells both how a strategy's tree grows (room to keep for a family, and a spare
unit between neighbouring families where families grow one child at a time); each strategy class
gives its own through ``layout_hint(params)``. :func:`motion`
measures what a refresh moved; ``benchmarks/bench_layout.py`` reports it.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from .growth import Growth
from .strategies import STRATEGIES  # the drawing side reads the registry, never the reverse
from .tree import Node, Tree

Positions = dict[int, tuple[float, float]]


# -- how a strategy's tree grows ---------------------------------------------------------------
def growth_of(info: Mapping) -> Growth:
    """From the run's strategy settings (``run_started``'s ``strategy`` and ``params``): the
    strategy class's ``layout_hint``; a strategy without one (a plug-in, an unknown name) gets
    no kept slots and a spare unit between families."""
    params = info.get("params") if isinstance(info.get("params"), Mapping) else {}
    strategy = STRATEGIES.get(str(info.get("strategy") or ""))
    hint = getattr(strategy, "layout_hint", None)
    growth = hint(params) if hint is not None else None
    return growth if isinstance(growth, Growth) else Growth(None, 2.0)


def _leafy(node: Node) -> bool:
    return node.role in ("rollout", "reflection", "collapsed")


# -- tidy --------------------------------------------------------------------------------------
def tidy_layout(tree: Tree, growth: Growth | None = None) -> Positions:
    """Positions ``{node_id: (x, y)}`` with y = -depth; x >= 0, parents centred over their
    children (over their kept slots, with a ``growth`` that keeps room for families)."""
    if tree.root_id is None or tree.root_id not in tree.nodes:
        return {}
    growth = growth or Growth()
    rel = _relative_offsets(tree, growth.family, growth.family_gap)
    pos: Positions = {}
    stack = [(tree.root_id, 0.0, 0)]
    while stack:
        nid, x, level = stack.pop()
        pos[nid] = (x, -float(level))
        for c in tree.nodes[nid].children:
            stack.append((c, x + rel[c], level + 1))
    lo = min(x for x, _ in pos.values())
    return {nid: (x - lo, y) for nid, (x, y) in pos.items()}


def _relative_offsets(tree: Tree, family, family_gap: float) -> dict[int, float]:
    """x of every node relative to its parent. Each subtree is laid out with its root at x=0 and
    described by contours (leftmost / rightmost x per level below it); siblings are pushed right
    until their contours keep apart (one unit for the siblings themselves, ``family_gap`` below
    them), and the parent is centred over its first and last child slot (empty slots kept for
    ``family`` count). Post-order without recursion, so any depth works."""
    rel: dict[int, float] = {}
    contours: dict[int, tuple[dict[int, float], dict[int, float]]] = {}
    order: list[int] = []
    stack = [tree.root_id]
    while stack:  # pre-order; reversed it visits every child before its parent
        nid = stack.pop()
        order.append(nid)
        stack.extend(tree.nodes[nid].children)
    for nid in reversed(order):
        children = tree.nodes[nid].children
        if not children:
            contours[nid] = ({0: 0.0}, {0: 0.0})
            continue
        offsets: list[float] = []
        left: dict[int, float] = {}
        right: dict[int, float] = {}
        node = tree.nodes[nid]
        extra = 0 if family is None or _leafy(node) else max(0, family(tree, node) - len(children))
        for c in list(children) + [None] * extra:
            c_left, c_right = contours.pop(c) if c is not None else ({0: 0.0}, {0: 0.0})
            off = 0.0 if not offsets else offsets[-1] + 1.0
            for lvl, x in c_left.items():  # push right until every level clears the placed siblings
                if lvl in right:
                    off = max(off, right[lvl] + (1.0 if lvl == 0 else family_gap) - x)
            offsets.append(off)
            for lvl, x in c_left.items():
                left[lvl] = min(left.get(lvl, math.inf), x + off)
            for lvl, x in c_right.items():
                right[lvl] = max(right.get(lvl, -math.inf), x + off)
        mid = (offsets[0] + offsets[-1]) / 2.0
        for c, off in zip(children, offsets, strict=False):
            rel[c] = off - mid
        contours[nid] = ({0: 0.0, **{lvl + 1: x - mid for lvl, x in left.items()}},
                         {0: 0.0, **{lvl + 1: x - mid for lvl, x in right.items()}})
    return rel


# -- stable ------------------------------------------------------------------------------------
class ViewRange:
    """An x range for the chart that only changes when a node would fall outside it, and then
    grows by at least ``grow`` of its width on that side, so the picture rescales seldom instead
    of on every widening (a rescale moves every node on screen)."""

    def __init__(self) -> None:
        self.x_range: tuple[float, float] | None = None

    def fit(self, pos: Positions, margin: float = 0.7, grow: float = 0.25) -> tuple[float, float]:
        if not pos:
            return (-1.0, 1.0)
        lo = min(x for x, _ in pos.values()) - margin
        hi = max(x for x, _ in pos.values()) + margin
        if self.x_range is None:
            self.x_range = (lo, hi)
            return self.x_range
        r0, r1 = self.x_range
        extra = grow * (r1 - r0)
        if lo < r0:
            r0 = lo - extra
        if hi > r1:
            r1 = hi + extra
        self.x_range = (r0, r1)
        return self.x_range


class StableLayout:
    """Positions for a tree that is still growing; call :meth:`update` with each newer tree.

    Every refresh with new nodes computes the tidy layout ``T`` of the new tree (with the run's
    :class:`Growth`) and then changes as little of the previous drawing as it can, per new node in
    creation order:

    1. the node goes where ``T`` puts it relative to its parent, if that is free (within
       ``tol`` units, between its neighbours on the level) — nothing else moves;
    2. else the smallest subtree around it (its parent's, then the grandparent's, ...) is redrawn
       as in ``T``, anchored at its root's current x, if that fits between the nodes beside it on
       every level — only that subtree moves;
    3. else the whole tree is redrawn as ``T``, shifted by the offset most drawn nodes agree on.

    Counters ``placed`` / ``local`` / ``whole`` tell how often each case happened, ``fresh`` how
    often the drawing started over (first draw, or a view whose levels differ, e.g. a focus). ``positions``
    seeds the drawing: a replay passes the final tree's, so its frames never move.

    :class:`reasoning.run_view.Placement` drives one of these through a run's events so that the
    positions are a function of the event log alone (live, replay and compare agree)."""

    def __init__(self, tol: float = 2.0, growth: Growth | None = None,
                 positions: Positions | None = None) -> None:
        self.tol = tol
        self.growth = growth            # None: from each tree's run settings
        self.pos: Positions = dict(positions or {})
        self.placed = self.local = self.whole = self.fresh = 0
        self.range = ViewRange()

    def view_range(self, pos: Positions, margin: float = 0.7, grow: float = 0.25) -> tuple[float, float]:
        """The chart's x range for ``pos`` (see :class:`ViewRange`)."""
        return self.range.fit(pos, margin, grow)

    @property
    def x_range(self) -> tuple[float, float] | None:
        return self.range.x_range

    def update(self, tree: Tree) -> Positions:
        if tree.root_id is None or tree.root_id not in tree.nodes:
            self.pos = {}
            return {}
        prev = {k: v for k, v in self.pos.items() if k in tree.nodes}
        if len(prev) == len(tree.nodes) and tree.root_id in prev:
            self.pos = prev  # nothing new to place (only states or texts changed)
            return dict(prev)
        growth = self.growth or growth_of(tree.info)
        target = tidy_layout(tree, growth)
        if not prev or tree.root_id not in prev or any(prev[k][1] != target[k][1] for k in prev):
            self.pos = target  # first draw, or a different projection of the tree
            self.range = ViewRange()
            self.fresh += 1
            return dict(target)
        _Placer(tree, target, prev, self, growth).run()
        self.pos = prev
        return dict(prev)


class _Placer:
    """One refresh of :class:`StableLayout`: places the nodes of ``target`` missing in ``pos``."""

    def __init__(self, tree: Tree, target: Positions, pos: Positions, owner: StableLayout,
                 growth: Growth) -> None:
        self.tree, self.target, self.pos, self.owner, self.growth = tree, target, pos, owner, growth
        rows: dict[float, list[int]] = {}
        for k, (_, y) in target.items():
            rows.setdefault(y, []).append(k)
        for row in rows.values():
            row.sort(key=lambda k: target[k][0])
        self.rows = rows
        self.rank = {k: i for row in rows.values() for i, k in enumerate(row)}

    def run(self) -> None:
        new = sorted((k for k in self.target if k not in self.pos), key=_creation_order)
        for k in new:
            if k in self.pos:  # placed with a redrawn subtree
                continue
            if not self._fits_alone(k) and not self._redraw_subtree(k):
                self._redraw_all()
                return

    def _neighbours(self, y: float, lo_rank: int, hi_rank: int) -> tuple[float, float]:
        """How far a run of entries from rank ``lo_rank`` to ``hi_rank`` on level y may reach:
        the x of the nearest drawn node on the left plus the slots its family keeps (unless it
        is the run's own family), and the x of the nearest drawn node on the right."""
        row = self.rows[y]
        left, right = -math.inf, math.inf
        for i in range(lo_rank - 1, -1, -1):
            if row[i] in self.pos:
                left = self.pos[row[i]][0]
                if self.tree.nodes[row[i]].parent_id != self.tree.nodes[row[lo_rank]].parent_id:
                    left += self._slots_after(row[i])
                break
        for i in range(hi_rank + 1, len(row)):
            if row[i] in self.pos:
                right = self.pos[row[i]][0]
                break
        return left, right

    def _fits_alone(self, k: int) -> bool:
        parent = self.tree.nodes[k].parent_id
        if parent is None or parent not in self.pos:
            return False
        x_t, y = self.target[k]
        want = self.pos[parent][0] + x_t - self.target[parent][0]
        left, right = self._neighbours(y, self.rank[k], self.rank[k])
        lo, hi = left + 1.0, right - 1.0 - self._slots_after(k)
        if lo > hi:
            return False
        x = min(max(want, lo), hi)
        # a folded marker has no place of its own to keep: the nearest free slot will do, so
        # folding a view never moves the nodes it still shows
        if abs(x - want) > self.owner.tol and self.tree.nodes[k].role != "collapsed":
            return False
        self.pos[k] = (x, y)
        self.owner.placed += 1
        return True

    def _slots_after(self, k: int) -> int:
        """Empty slots the family of ``k`` keeps right of it (they must stay free too)."""
        if k == self.tree.root_id:
            return 0
        parent = self.tree.nodes[self.tree.nodes[k].parent_id]
        if self.growth.family is None or _leafy(parent):
            return 0
        return max(0, self.growth.family(self.tree, parent) - 1 - parent.children.index(k))

    def _redraw_subtree(self, k: int) -> bool:
        anchor = self.tree.nodes[k].parent_id
        while anchor is not None:
            if anchor in self.pos and self._try_anchor(anchor):
                self.owner.local += 1
                return True
            anchor = self.tree.nodes[anchor].parent_id
        return False

    def _try_anchor(self, a: int) -> bool:
        span: dict[float, list[int]] = {}   # level -> [lowest rank, highest rank] in a's subtree
        members: list[int] = []
        stack = [a]
        while stack:
            n = stack.pop()
            if n not in self.target:
                continue
            members.append(n)
            y, r = self.target[n][1], self.rank[n]
            s = span.setdefault(y, [r, r])
            s[0], s[1] = min(s[0], r), max(s[1], r)
            stack.extend(self.tree.nodes[n].children)
        # the shift most of the subtree's drawn nodes already have, else the one keeping its root
        for dx in dict.fromkeys((_common_shift(self.pos, self.target, members),
                                 self.pos[a][0] - self.target[a][0])):
            if self._fits(span, dx):
                for n in members:
                    self.pos[n] = (self.target[n][0] + dx, self.target[n][1])
                return True
        return False

    def _fits(self, span: dict[float, list[int]], dx: float) -> bool:
        for y, (lo_r, hi_r) in span.items():
            left, right = self._neighbours(y, lo_r, hi_r)
            row = self.rows[y]
            keep = self._slots_after(row[hi_r])
            if self.target[row[lo_r]][0] + dx < left + 1.0 or \
                    self.target[row[hi_r]][0] + dx + keep > right - 1.0:
                return False
        return True

    def _redraw_all(self) -> None:
        dx = _common_shift(self.pos, self.target, list(self.pos))
        self.pos.clear()
        self.pos.update({k: (x + dx, y) for k, (x, y) in self.target.items()})
        self.owner.whole += 1


def _common_shift(pos: Positions, target: Positions, ids) -> float:
    """The x offset (drawn minus target) shared by most of ``ids`` that are drawn."""
    shifts = Counter(pos[k][0] - target[k][0] for k in ids if k in pos)
    return shifts.most_common(1)[0][0] if shifts else 0.0


def _creation_order(k: int) -> tuple[bool, int]:
    """Nodes in creation order (ids), folded markers (negative ids) after the real nodes."""
    return (k < 0, abs(k))


# -- measuring -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Motion:
    existing: int       # nodes drawn before and after
    moved: int          # of those, how many changed position
    mean_shift: float   # mean |dx| over the existing nodes, in units (one unit = neighbour spacing)
    max_shift: float


def motion(before: Positions, after: Positions, eps: float = 1e-9) -> Motion:
    common = [k for k in before if k in after]
    shifts = [abs(after[k][0] - before[k][0]) for k in common]
    moved = sum(1 for s in shifts if s > eps)
    return Motion(len(common), moved, sum(shifts) / len(shifts) if shifts else 0.0,
                  max(shifts, default=0.0))


def off_centre(tree: Tree, pos: Positions) -> float:
    """Mean distance, in units, between a parent and the middle of its children's span."""
    gaps = []
    for n in tree.nodes.values():
        xs = [pos[c][0] for c in n.children if c in pos]
        if xs and n.id in pos:
            gaps.append(abs(pos[n.id][0] - (min(xs) + max(xs)) / 2.0))
    return sum(gaps) / len(gaps) if gaps else 0.0
