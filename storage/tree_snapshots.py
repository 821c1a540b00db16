"""Stored folded trees: a finished big run's :class:`~reasoning.tree.Tree` kept as one row, so
opening it reads that row and the events after it instead of reading and folding every event.

Like the stored positions (:mod:`storage.placements`, same table, ``view_key`` :data:`KEY`) this
is a projection of the event log that can always be rebuilt: the fold of events 1..``seq``. It is
written when a big run finishes (``placements.build`` folds the run anyway) or the first time a
view folds a finished big run from its first event, and it is used only when

* its format is this version's (:func:`format_name`: a version number and the names of the
  tree's and node's fields — a new field makes every older snapshot unknown, never misread),
* the event at its ``seq`` is still the one it was folded up to (type and time), and
* it decodes cleanly;

otherwise the view folds the log as before (and saves a fresh one). Events after ``seq`` (a
user's mark, say) are folded on top of it, exactly as the live fold would.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from reasoning import events as ev
from reasoning.events import Event
from reasoning.tree import REWIND_GLOBAL, Node, Tree

from .schema import events, placements

if TYPE_CHECKING:
    from .db import HasEngine as Store  # only the engine is used: typed by shape, no import of repo

log = logging.getLogger(__name__)

KEY = "tree"      # the placements row holding a run's snapshot (positions use JSON list keys)
VERSION = 2   # 2: nodes stored by field, a field all nodes share stored once
_NODE_FIELDS = [f.name for f in dataclasses.fields(Node)]
_TREE_SKIP = ("nodes", "started", "unknown")
_TREE_FIELDS = [f.name for f in dataclasses.fields(Tree) if f.name not in _TREE_SKIP]


def format_name() -> str:
    """The snapshot format this code writes and reads."""
    return f"tree/{VERSION}:" + ",".join(_TREE_FIELDS) + ";" + ",".join(_NODE_FIELDS)


def encode(tree: Tree, check: tuple[str, float]) -> str:
    """``tree`` (the fold of events 1..tree.last_seq) as text; ``check``: the type and time of
    its last event, so a log that is no longer the one folded is noticed."""
    return json.dumps({
        "format": format_name(), "seq": tree.last_seq, "check": list(check),
        "tree": {name: getattr(tree, name) for name in _TREE_FIELDS},
        "started": tree.started is not None,
        "unknown": [[e.seq, e.t, e.type, e.node_id, e.payload] for e in tree.unknown],
        "count": len(tree.nodes), **_columns(list(tree.nodes.values())),
    }, separators=(",", ":"))


def _columns(nodes: list[Node]) -> dict[str, dict[str, Any]]:
    """The nodes by field: ``same`` holds a field every node has the same value of (of one type;
    an empty list or dict counts, a filled one never), ``each`` the others' values in order."""
    same: dict[str, Any] = {}
    each: dict[str, list] = {}
    for name in _NODE_FIELDS:
        values = [getattr(n, name) for n in nodes]
        first = values[0] if values else None
        kind = type(first)
        if values and (not isinstance(first, list | dict) or not first) and \
                all(type(v) is kind and v == first for v in values):
            same[name] = first
        else:
            each[name] = values
    return {"same": same, "each": each}


def _column(data: dict, name: str) -> Any:
    if name in data["each"]:
        return data["each"][name]
    value, n = data["same"][name], data["count"]
    if isinstance(value, list | dict):   # a fresh empty one per node
        return (type(value)() for _ in range(n))
    return itertools.repeat(value, n)


def decode(text: str) -> tuple[Tree, tuple[str, float]] | None:
    """The tree and check written by :func:`encode`; None for another format."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != format_name():
        return None
    tree = Tree(**data["tree"])
    tree.nodes = {row[0]: Node(*row) for row in zip(*(_column(data, f) for f in _NODE_FIELDS), strict=True)}
    tree.unknown = [Event(tree.run_id, s, t, ty, nid, p) for s, t, ty, nid, p in data["unknown"]]
    if data["started"]:
        tree.started = ev.decode(ev.RUN_STARTED, tree.info)
    if tree.last_seq != data["seq"]:
        return None
    check = data["check"]
    return tree, (str(check[0]), float(check[1]))


def load(store: Store, run_id: Any) -> tuple[Tree, tuple[str, float]] | None:
    """The stored snapshot of ``run_id`` (None when absent, of another format, or unreadable)."""
    try:
        with store.engine.connect() as conn:
            text = conn.execute(select(placements.c.state).where(
                placements.c.run_id == run_id, placements.c.view_key == KEY)).scalar()
        return decode(text) if text else None
    except (SQLAlchemyError, ValueError, TypeError, KeyError, IndexError) as e:
        log.warning("stored tree of run %s unreadable (%s): folding the log", run_id, e)
        return None


def save(store: Store, run_id: Any, tree: Tree, check: tuple[str, float]) -> None:
    """Keep ``tree`` as ``run_id``'s snapshot (a database error costs only the shortcut)."""
    try:
        text = encode(tree, check)
        with store.engine.begin() as conn:
            conn.execute(delete(placements).where(placements.c.run_id == run_id,
                                                  placements.c.view_key == KEY))
            conn.execute(insert(placements).values(run_id=run_id, view_key=KEY, seq=tree.last_seq,
                                                   state=text))
    except (SQLAlchemyError, TypeError, ValueError) as e:
        log.info("tree of run %s not saved (%s)", run_id, e)


def history(store: Store, run_id: Any, node_ids: set[int], upto_seq: int) -> tuple[list[Event], float]:
    """What :func:`reasoning.tree.rewind` needs to take a run back to ``upto_seq``: the events
    1..upto_seq of ``node_ids`` and every ``REWIND_GLOBAL`` event among them (seq order), and the
    largest ``t`` of events 1..upto_seq."""
    cond = events.c.type.in_(REWIND_GLOBAL)
    ids = sorted(node_ids)
    for i in range(0, len(ids), 500):   # (bounded IN lists)
        cond = or_(cond, events.c.node_id.in_(ids[i:i + 500]))
    q = select(events.c.seq, events.c.t, events.c.type, events.c.node_id, events.c.payload).where(
        events.c.run_id == run_id, events.c.seq <= upto_seq, cond).order_by(events.c.seq)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
        t_max = conn.execute(select(func.max(events.c.t)).where(
            events.c.run_id == run_id, events.c.seq <= upto_seq)).scalar()
    return ([Event(run_id, seq, t, type_, node_id, json.loads(payload))
             for seq, t, type_, node_id, payload in rows], float(t_max or 0.0))
