"""A user's verdict on a terminal node, after the run: the ``node_marked`` event.

Tasks without a verifier (free questions) end on *answered* nodes; the user may mark one correct
or wrong, and verified nodes may be overruled the same way. The mark is one more event appended
to the run, so replay and every view fold it like any other.
"""
from __future__ import annotations

from reasoning import events as ev
from reasoning.events import Event
from reasoning.tree import PRUNED, fold
from storage import Store

MARKS = ("correct", "wrong")


def is_terminal_node(events: list[Event], node_id: int) -> bool:
    """True when the node ended with an answer: flagged ``terminal`` on completion, or judged
    by the verifier (solved / failed with an answer)."""
    for e in events:
        if e.node_id != node_id:
            continue
        if e.type == ev.NODE_COMPLETED and e.payload.get("terminal"):
            return True
        if e.type in (ev.NODE_SOLVED, ev.NODE_FAILED) and e.payload.get("answer") is not None:
            return True
    return False


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
    events = store.events(int(run_id))
    tree = fold(events)
    node = tree.nodes.get(int(node_id))
    if node is None:
        raise ValueError(f"node_id: run {run_id} has no node {node_id}")
    if node.state == PRUNED or not is_terminal_node(events, node.id):
        raise ValueError(f"node {node_id} is not a terminal node with an answer; only those "
                         "can be marked correct or wrong")
    return store.add_event(int(run_id), ev.NODE_MARKED, node.id, {"mark": mark})
