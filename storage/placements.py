"""Stored positions: the run view's position policy, kept per run and way of drawing it.

Positions are a function of the event log (:mod:`reasoning.run_view`), so, like the runs table's
summary, they are a projection that can always be rebuilt: delete a row and the next view of the
run replays the log and saves it again. A run's state is computed when its ``run_finished`` is
stored (:func:`build`, for the way the run opens by default) and on first opening a run stored
before this table existed; a view restores it only when no later event could have moved a node.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from reasoning import run_view
from reasoning.run_view import RunView
from reasoning.tree import Tree
from reasoning.view_model import default_options, layout_key, projector

from . import tree_snapshots
from .schema import placements

if TYPE_CHECKING:
    from typing import Protocol

    from sqlalchemy import Engine

    from reasoning.events import Event

    class Store(Protocol):
        """What positions need of the store (:class:`storage.repo.Store` has this shape). Typed by
        shape: the store saves a run's positions when it finishes, so the two must not import
        each other."""
        engine: Engine

        def events(self, run_id: int, after_seq: int = 0, upto_seq: int | None = None) -> list[Event]: ...

log = logging.getLogger(__name__)
WHOLE_TOO_FROM_NODES = 20_000   # a run opening with a depth limit keeps the whole tree's places too, up to this size


class SavedPlacements:
    """``load`` / ``save`` of policy states for :class:`~reasoning.run_view.RunView`. A database
    error only costs the shortcut (the view replays the log), never the view."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, run_id: Any, key: str) -> dict | None:
        try:
            with self.store.engine.connect() as conn:
                text = conn.execute(select(placements.c.state).where(
                    placements.c.run_id == run_id, placements.c.view_key == key)).scalar()
            return json.loads(text) if text else None
        except (SQLAlchemyError, ValueError) as e:
            log.warning("stored positions of run %s unreadable (%s): replaying the log", run_id, e)
            return None

    def save(self, run_id: Any, key: str, state: dict) -> None:
        try:
            with self.store.engine.begin() as conn:
                conn.execute(delete(placements).where(placements.c.run_id == run_id,
                                                      placements.c.view_key == key))
                conn.execute(insert(placements).values(
                    run_id=run_id, view_key=key, seq=int(state["seq"]),
                    state=json.dumps(state, separators=(",", ":"))))
        except SQLAlchemyError as e:   # e.g. two viewers saving at once: one row is enough
            log.info("positions of run %s not saved (%s)", run_id, e)

    def load_tree(self, run_id: Any) -> tuple[Tree, tuple[str, float]] | None:
        """The run's stored folded tree and the (type, t) of its last event (``tree_snapshots``)."""
        return tree_snapshots.load(self.store, run_id)

    def save_tree(self, run_id: Any, tree: Tree, check: tuple[str, float]) -> None:
        tree_snapshots.save(self.store, run_id, tree, check)

    def history(self, run_id: Any, node_ids: set[int], upto_seq: int) -> tuple[list, float]:
        """Events of some nodes up to a seq, for rewinding a frame (``tree_snapshots.history``)."""
        return tree_snapshots.history(self.store, run_id, node_ids, upto_seq)


def open_view(store: Store, run_id: int) -> RunView:
    """A view of ``run_id`` reading ``store``, with its saved positions."""
    def read(after_seq: int, upto_seq: int | None = None):
        return store.events(run_id, after_seq=after_seq, upto_seq=upto_seq)
    return RunView(run_id, read, SavedPlacements(store))


def build(store: Store, run_id: int) -> None:
    """Compute and save the positions a finished run opens with (and, up to
    WHOLE_TOO_FROM_NODES, those of its whole tree, for the depth limit lifted) and its folded
    tree (a big run only: the view saves the tree when it folds a finished big run from its
    first event)."""
    view = open_view(store, run_id)
    tree = view.final()
    if len(tree.nodes) < run_view.SAVE_FROM_NODES:
        return
    opts = default_options(len(tree.nodes))
    keys = [layout_key(opts)]
    if opts.max_depth is not None and len(tree.nodes) <= WHOLE_TOO_FROM_NODES:   # the limit lifted
        keys.append(layout_key(dataclasses.replace(opts, max_depth=None)))
    for key in keys:
        view.placement(key, projector(key))


def drop(store: Store, run_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(placements).where(placements.c.run_id == run_id))
