"""Level of detail for big trees: a pure projection ``Tree -> Tree`` drawn by the same figure.

* ``focus``: only the subtree of one node (its path from the root is kept as context).
* ``max_depth``: nodes deeper than this are folded into one marker per cut node ("+N below").
* ``collapse_pruned``: the pruned children of a node (with their subtrees) become one grey
  marker with a count — most of a big beam / MCTS tree is pruned.
* automatic folding (``collapse_pruned`` left ``None``, no depth limit, no focus): past
  ``AUTO_COLLAPSE_NODES`` pruned subtrees are folded, and when the tree to draw still has more
  than ``DRAW_BUDGET`` nodes, the levels below the deepest one that fits the budget are folded
  too (:func:`automatic_depth`). Past several hundred nodes a tree stops being readable on a
  screen and the browser spends most of a refresh drawing it (docs/benchmarks.md, "Live"); the
  depth limit, or "Fold: yes / no", shows more.
* ``search``: nodes whose text, step or label contains the string are kept visible (never folded)
  and returned as ``matches`` for highlighting.

Folded markers are synthetic nodes with role ``collapsed`` and negative ids that depend only on
the node they hang from (``marker_id``), so a marker keeps its id — and its place in a stable
layout — across refreshes; the inspector and clicks ignore them. The projection never mutates the
input tree.

It lives in ``reasoning/`` (the drawing code imports it from here) because a run's stored
positions are kept per way of drawing it (:func:`layout_key`), and the default way
(:func:`default_options`) is the one computed when a finished run is stored.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass

from .tree import PRUNED, Node, Tree

AUTO_COLLAPSE_NODES = 2_000   # above this many nodes, pruned subtrees are collapsed by default
AUTO_DEPTH_NODES = 5_000      # above this many, the view opens with a depth limit (the user can lift it)
AUTO_DEPTH = 4
DRAW_BUDGET = 700             # automatic folding keeps the drawn tree within this many nodes


@dataclass(frozen=True)
class ViewOptions:
    focus: int | None = None
    max_depth: int | None = None
    collapse_pruned: bool | None = None   # None: automatic (collapse past AUTO_COLLAPSE_NODES)
    search: str = ""
    labels: str = "steps"                 # node labels: short steps, or values / visits


def layout_key(opts: ViewOptions) -> tuple:
    """The options that change which nodes are drawn (a search only highlights): the name of a
    projection for :meth:`reasoning.run_view.RunView.place`."""
    return (opts.focus, opts.max_depth, opts.collapse_pruned)


def default_options(n_nodes: int) -> ViewOptions:
    """How a tree of ``n_nodes`` opens: pruned subtrees folded past AUTO_COLLAPSE_NODES (the
    automatic setting), a depth limit past AUTO_DEPTH_NODES."""
    return ViewOptions(max_depth=AUTO_DEPTH if n_nodes > AUTO_DEPTH_NODES else None)


def projector(key: tuple):
    """The projection named by a :func:`layout_key`."""
    opts = ViewOptions(*key)
    return lambda tree: project(tree, opts)[0]


def marker_id(parent: int, what: str) -> int:
    """The id of the folded marker under ``parent``: "below" (depth limit) or "pruned"."""
    return -(2 * parent + (1 if what == "below" else 2))


def subtree_size(tree: Tree, nid: int) -> int:
    n, stack = 0, [nid]
    while stack:
        cur = stack.pop()
        n += 1
        stack.extend(tree.nodes[cur].children)
    return n


def search_hits(tree: Tree, text: str) -> set[int]:
    text = text.strip().lower()
    if not text:
        return set()
    return {n.id for n in tree.nodes.values()
            if text in n.text.lower() or text in (n.step or "").lower() or text in n.label.lower()}


_last = threading.local()   # the last projection made in this thread (see project)


def project(tree: Tree, opts: ViewOptions) -> tuple[Tree, set[int]]:
    """The tree to draw and the ids matching ``opts.search`` (all in the projected tree).

    The same tree (object and last seq) projected the same way again gives the same result
    without recomputing it (a page asks for the figure's nodes and the positions' nodes); the
    result is shared, so callers must not change it."""
    return _projected(tree, opts)[:2]


def automatic_depth(tree: Tree, opts: ViewOptions) -> int | None:
    """The depth limit automatic folding put on ``tree`` drawn with ``opts`` (None: none): the
    deepest level (from the root) whose nodes, with one marker under each node of the last level
    that has children, fit ``DRAW_BUDGET``; at least 1."""
    return _projected(tree, opts)[2]


def _projected(tree: Tree, opts: ViewOptions) -> tuple[Tree, set[int], int | None]:
    key = (tree.last_seq, len(tree.nodes), opts.focus, opts.max_depth, opts.collapse_pruned, opts.search)
    kept = getattr(_last, "kept", None)
    if kept is not None and kept[0] is tree and kept[1] == key:
        return kept[2], set(kept[3]), kept[4]
    out, hits = _project(tree, opts)
    auto = None
    if opts.collapse_pruned is None and opts.max_depth is None and opts.focus is None \
            and len(out.nodes) > DRAW_BUDGET:
        auto = _depth_that_fits(out, DRAW_BUDGET)
        out, hits = _project(tree, dataclasses.replace(opts, max_depth=auto))
    _last.kept = (tree, key, out, frozenset(hits), auto)
    return out, hits, auto


def _depth_that_fits(shown: Tree, budget: int) -> int:
    """The deepest depth limit under which ``shown`` draws at most ``budget`` nodes (at least 1)."""
    at = Counter(n.depth for n in shown.nodes.values())
    parents = Counter(n.depth for n in shown.nodes.values() if n.children)
    top = shown.nodes[shown.root_id].depth
    best, total = 1, 0
    for d in sorted(at):
        total += at[d]
        if total > budget:
            break
        if d - top >= 1 and total + parents[d] <= budget:
            best = d - top
    return best


def _project(tree: Tree, opts: ViewOptions) -> tuple[Tree, set[int]]:
    if tree.root_id is None:
        return tree, set()
    collapse = opts.collapse_pruned if opts.collapse_pruned is not None else \
        len(tree.nodes) > AUTO_COLLAPSE_NODES
    hits = search_hits(tree, opts.search)
    keep_open = set()  # ancestors of hits and of the focus node must stay unfolded
    for h in hits | ({opts.focus} if opts.focus in tree.nodes else set()):
        keep_open.update(tree.path_to(h))
    if not collapse and opts.max_depth is None and opts.focus is None:
        return tree, hits

    out = Tree(run_id=tree.run_id, info=tree.info, root_id=tree.root_id, outcome=tree.outcome,
               answer=tree.answer, answer_node=tree.answer_node, finished=tree.finished,
               last_seq=tree.last_seq, t=tree.t, tokens=tree.tokens, prompt_tokens=tree.prompt_tokens)
    def copy(node: Node, children: list[int]) -> None:
        twin = object.__new__(Node)   # (what dataclasses.replace makes, a few times faster)
        twin.__dict__ = {**node.__dict__, "children": children}
        out.nodes[node.id] = twin

    def fold_marker(parent: int, ids: list[int], what: str, state: str) -> int:
        fid = marker_id(parent, "below" if what == "nodes below" else "pruned")
        count = sum(subtree_size(tree, i) for i in ids)
        depth = tree.nodes[parent].depth + 1
        out.nodes[fid] = Node(id=fid, parent_id=parent, depth=depth, role="collapsed", state=state,
                              text=f"{count} {what}", label=f"{count} {what}", reason="folded in this view")
        return fid

    focus = opts.focus if opts.focus in tree.nodes else None
    if focus is not None:  # the path root -> focus as a thin spine, then the focus subtree
        path = tree.path_to(focus)
        for a, b in zip(path, path[1:], strict=False):
            copy(tree.nodes[a], [b])
        start = focus
    else:
        start = tree.root_id
    base_depth = tree.nodes[start].depth
    stack = [start]
    while stack:
        nid = stack.pop()
        node = tree.nodes[nid]
        kids: list[int] = []
        pruned: list[int] = []
        deep = opts.max_depth is not None and node.depth - base_depth >= opts.max_depth
        if deep and node.children and nid not in keep_open:
            kids.append(fold_marker(nid, node.children, "nodes below", "open"))
        else:
            for c in node.children:
                child = tree.nodes[c]
                if collapse and child.state == PRUNED and c not in keep_open:
                    pruned.append(c)
                else:
                    kids.append(c)
                    stack.append(c)
            if pruned:
                kids.append(fold_marker(nid, pruned, "pruned", PRUNED))
        copy(node, kids)
    if focus is not None:
        out.nodes[focus] = dataclasses.replace(out.nodes[focus])
    return out, hits & set(out.nodes)
