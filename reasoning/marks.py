"""A user's marks on answer nodes, read from a folded tree or from events (pure: no storage).

The verdict itself is stored by :func:`runner.marks.mark_node` as a ``node_marked`` event.
"""
from __future__ import annotations

from . import events as ev
from .events import Event
from .rules import is_answer_node
from .tree import Tree

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
