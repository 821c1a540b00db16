"""A user's verdict on a terminal node, after the run: the ``node_marked`` event.

Tasks without a verifier (free questions) end on *answered* nodes; the user may mark one correct
or wrong, and verified nodes may be overruled the same way. The mark is one more event appended
to the run, so replay and every view fold it like any other.

A mark on the run's *answer node* also settles the run row's outcome (``answered`` becomes
``solved`` or ``failed``; a verifier's verdict is overruled the same way), because experiments
count solved cells from the run rows: a marked answer then counts as verified there, as it
already does in exports (which read the folded node states). The row follows the mark by itself:
it is a projection of the log (:mod:`storage.run_row`).
"""
from __future__ import annotations

from reasoning import events as ev
from reasoning.events import Event
from reasoning.run_facts import MARKS, answer_and_marks, can_mark, is_answer_node, marks
from storage import Store, reopen
from storage.run_row import SETTLED_BY_MARK

from .views import final_tree

__all__ = ["MARKS", "SETTLED_BY_MARK", "answer_and_marks", "can_mark", "mark_node", "marks"]


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
    # the row's outcome follows a mark on the answer node (storage.run_row: one projection)
    return reopen(store, int(run_id)).add(ev.NODE_MARKED, node.id,
                                          ev.NodeMarked(mark=mark).to_payload())

