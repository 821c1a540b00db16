"""One rule for each question every view asks of a run.

Which nodes are on the solved path, which node is an answer a user may mark (and the marks it
got), what the run spent, what it cost, which run of a pair is the shortcut: each is decided here
once, and the tree figure, compare, export, marks, strategies and pages call these functions instead of
answering again in their own words. (Who recorded a run depends on the registries, which import
this module: :mod:`reasoning.provenance`.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import events as ev
from .events import Event
from .tree import PRUNED, SOLVED, Node, Tree

SHORTCUT_STRATEGY = "greedy"  # one chain at temperature 0, no backtracking


# -- the solved path ------------------------------------------------------------------------------
def solution_ends(tree: Tree) -> list[int]:
    """The solved nodes whose paths count, first one first.

    The run's answer node when it is solved (the strategy chose it); otherwise every solved
    node, ordered by when it was solved (then id).
    """
    if tree.answer_node in tree.nodes and tree.nodes[tree.answer_node].state == SOLVED:
        return [tree.answer_node]
    solved = [n for n in tree.nodes.values() if n.state == SOLVED]
    return [n.id for n in sorted(solved, key=lambda n: (n.t_completed or 0.0, n.id))]


def solution_end(tree: Tree) -> int | None:
    """The node that ends *the* solved path (the first of :func:`solution_ends`), or None."""
    ends = solution_ends(tree)
    return ends[0] if ends else None


def solved_path(tree: Tree) -> list[int]:
    """The ordered solved path, root first; ``[]`` when the run found no solution."""
    end = solution_end(tree)
    return tree.path_to(end) if end is not None else []


def solved_nodes(tree: Tree) -> set[int]:
    """Every node on a path to one of :func:`solution_ends` (what the figure draws bold green)."""
    out: set[int] = set()
    for end in solution_ends(tree):
        out.update(tree.path_to(end))
    return out


def every_solved_path(tree: Tree) -> set[int]:
    """Nodes on the path to ANY solved node, whichever the strategy chose.

    Training labels (``on_solved_path`` of step values) use this: a step that leads to a
    verified answer is good even when the run reported another one.
    """
    out: set[int] = set()
    for n in tree.nodes.values():
        if n.state == SOLVED:
            out.update(tree.path_to(n.id))
    return out


# -- answers ------------------------------------------------------------------------------------
def is_answer_node(node: Node, tree: Tree | None = None) -> bool:
    """A node that ended with an answer (what a user may mark correct or wrong).

    Flagged ``terminal`` when it completed, judged by the verifier with an answer, or the
    answer node ``tree`` reported; a pruned node never counts.
    """
    if node.state == PRUNED:
        return False
    if tree is not None and node.id == tree.answer_node:
        return True
    return node.terminal or node.answer is not None and node.state in (SOLVED, "failed")



# -- a user's marks on answer nodes (stored by runner.marks.mark_node as node_marked events) ---
MARKS = ev.MARKS


def marks(tree: Tree) -> dict[int, str]:
    """The user's marks in a folded run: ``{node id: "correct" | "wrong"}`` (the latest each)."""
    return {n.id: n.mark for n in tree.nodes.values() if n.mark}


def can_mark(tree: Tree, node_id: int | None) -> bool:
    """True for a node that ended with an answer (what the inspector offers marks for) once the
    run has finished; :func:`runner.marks.mark_node` checks the same against the events."""
    node = tree.nodes.get(node_id) if node_id is not None else None
    return node is not None and tree.outcome is not None and is_answer_node(node, tree)


def answer_and_marks(events: list[Event]) -> tuple[int | None, dict[str, str]]:
    """(the run's answer node, ``{node id as text: mark}``) read straight from the events, for the
    CLI's summary line (JSON object keys are strings)."""
    answer_node, out = None, {}
    for e in events:
        if e.type == ev.RUN_FINISHED:
            answer_node = e.payload.get("answer_node")
        elif e.type == ev.NODE_MARKED and e.node_id is not None:
            out[str(e.node_id)] = e.payload.get("mark")
    return answer_node, out

# -- totals and cost ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Totals:
    nodes: int
    generated_tokens: int    # nodes' completions + evaluator calls (the run's ``tokens``)
    prompt_tokens: int
    model_calls: int | None  # None for a run still going or written before calls were counted
    seconds: float


def totals(tree: Tree) -> Totals:
    """What the run spent. A finished run reports its own totals; a running one what the fold
    has seen so far (evaluator prompt tokens arrive only with ``run_finished``)."""
    fin = tree.finished or {}
    return Totals(
        nodes=len(tree.nodes),
        generated_tokens=int(fin.get("tokens", tree.tokens) or 0),
        prompt_tokens=int(fin.get("prompt_tokens", tree.prompt_tokens) or 0),
        model_calls=int(fin["model_calls"]) if fin.get("model_calls") is not None else None,
        seconds=float(fin.get("seconds", tree.t) or 0.0))


def prices(tree: Tree) -> tuple[float, float] | None:
    """($ per million prompt tokens, $ per million generated tokens) the run was started with."""
    info = tree.info or {}
    p_in, p_out = float(info.get("price_in") or 0), float(info.get("price_out") or 0)
    return (p_in, p_out) if (p_in or p_out) else None


def cost(tree: Tree, node_id: int | None = None,
         price: tuple[float, float] | None = None) -> float | None:
    """$ spent by the run (or one node) at ``price``, else at the run's own prices; None if unpriced."""
    price = price if price is not None else prices(tree)
    if price is None:
        return None
    p_in, p_out = price
    if node_id is not None:
        node = tree.nodes[node_id]
        return (node.prompt_tokens * p_in + node.completion_tokens * p_out) / 1e6
    t = totals(tree)
    return (t.prompt_tokens * p_in + t.generated_tokens * p_out) / 1e6


# -- the shortcut ---------------------------------------------------------------------------------
def is_shortcut(strategy: Any) -> bool:
    """True for the shortcut strategy: a name (``greedy`` or ``greedy:…`` settings), a tree, or
    a run row / run_started payload with a ``strategy`` key."""
    if isinstance(strategy, Tree):
        strategy = (strategy.info or {}).get("strategy", "")
    elif isinstance(strategy, dict):
        strategy = strategy.get("strategy", "")
    return str(strategy or "").split(":", 1)[0].strip() == SHORTCUT_STRATEGY


def shortcut_first(a: Tree, b: Tree) -> tuple[Tree, Tree, bool]:
    """(shortcut, exploratory, swapped): the shortcut run of the pair first; else ``a`` first."""
    if is_shortcut(b) and not is_shortcut(a):
        return b, a, True
    return a, b, False

