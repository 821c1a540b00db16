"""A user's verdict on a terminal node, after the run: the ``node_marked`` event.

Tasks without a verifier (free questions) end on *answered* nodes; the user may mark one correct
or wrong, and verified nodes may be overruled the same way. The mark is one more event appended
to the run, so replay and every view fold it like any other.

A mark on the run's *answer node* also settles the run row's outcome (``answered`` becomes
``solved`` or ``failed``; a verifier's verdict is overruled the same way), because experiments
count solved cells from the run rows: a marked answer then counts as verified there, as it
already does in exports (which read the folded node states).
"""
from __future__ import annotations

from reasoning import events as ev
from reasoning.events import Event
from reasoning.marks import MARKS, answer_and_marks, can_mark, marks
from reasoning.rules import is_answer_node
from storage import Store

from .views import final_tree

__all__ = ["MARKS", "SETTLED_BY_MARK", "answer_and_marks", "can_mark", "mark_node", "marks",
           "settle_outcome"]

SETTLED_BY_MARK = ("answered", "solved", "failed")  # run outcomes a mark on the answer may change


def mark_node(store: Store, run_id: int, node_id: int, mark: str) -> Event:
    """Store the user's ``mark`` ("correct" / "wrong") on a terminal node of a finished run.

    Raises ValueError naming what is wrong: unknown mark, no such run, run still running, no
    such node, node not terminal (or pruned).
    """
    if mark not in MARKS:
        raise ValueError(f"mark: must be 'correct' or 'wrong', got {mark!r}")
    run = store.get_run(int(run_id))
    if run is None:
        raise ValueError(f"run_id: no run {run_id}")
    if run["status"] == "running":
        raise ValueError(f"run {run_id} is still running; mark its nodes when it has finished")
    tree = final_tree(store, int(run_id))
    node = tree.nodes.get(int(node_id))
    if node is None:
        raise ValueError(f"node_id: run {run_id} has no node {node_id}")
    if not is_answer_node(node, tree):
        raise ValueError(f"node {node_id} is not a terminal node with an answer; only those "
                         "can be marked correct or wrong")
    event = store.add_event(int(run_id), ev.NODE_MARKED, node.id, ev.NodeMarked(mark=mark).to_payload())
    settle_outcome(store, int(run_id))
    return event


def settle_outcome(store: Store, run_id: int) -> str | None:
    """Set the run row's outcome from a mark on the run's answer node (if any); returns it."""
    run = store.get_run(run_id)
    tree = final_tree(store, run_id)
    node = tree.nodes.get(tree.answer_node) if tree.answer_node is not None else None
    if run is None or node is None or node.mark is None or run["outcome"] not in SETTLED_BY_MARK:
        return None if run is None else run["outcome"]
    outcome = "solved" if node.mark == "correct" else "failed"
    store.finish_run(run_id, {**run, "outcome": outcome})
    return outcome

