"""The one door every run is written through: producers write events, never rows.

A search, ``thinktree.Trace``, ``cli.py ingest``, the OTLP receiver, the demo loader, a user's
mark, exports that add rollouts and crash recovery all open (or reopen) a run here and hand it
events. Each write stores the events and updates the run's row in the same transaction, with the
row's columns computed by :mod:`storage.run_row` from the events (the row is a projection of the
log and :func:`storage.run_row.rebuild` recomputes it).

* :func:`open_run` — a new run from its ``run_started``, stored as event 1;
* :func:`reserve_run` — a new run whose producer writes its own ``run_started`` a moment later
  (a search, once its model is ready); the row shows the planned start until then;
* :func:`reopen` — an existing run, to add events after it (a mark, rollouts, a closing event);
* :class:`RunHandle` — ``append(batch)`` (also the Recorder / engine sink: the handle is
  callable), ``add(type, node_id, payload)`` with ``seq`` taken in the transaction,
  ``finish(RunFinished)``, ``close_as_interrupted()``, ``discard()``;
* :func:`close_dead_run` — close one run whose process is gone (an experiment's dead worker);
  :func:`mark_interrupted` — every such run of this host (each store open does it).

Positions of a finished big run are saved when its ``run_finished`` is stored
(:func:`storage.placements.build`), here too.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, insert, select, update

from reasoning import events as ev
from reasoning.events import Event

from . import run_row
from .db import HasEngine, in_transaction
from .interface import Storage
from .liveness import HOST, pid_alive
from .schema import events, placements, runs

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class Store(Storage, HasEngine, Protocol):
    """What the door writes through: the SQL store (its engine) that every reader reads
    (typed by shape, so the store, which closes dead runs through the door on open, and the
    door do not import each other)."""

log = logging.getLogger(__name__)


def _rows(run_id: int, batch: list[Event]) -> list[dict[str, Any]]:
    return [{"run_id": run_id, "seq": e.seq, "t": e.t, "type": e.type, "node_id": e.node_id,
             "payload": json.dumps(e.payload, separators=(",", ":"))} for e in batch]


def _project(conn: Connection, run_id: int, batch: list[Event]) -> None:
    """Bring the row up to date with ``batch`` (already inserted): the start columns from a
    ``run_started`` in it, the end columns from the log when it ends the run or marks a node."""
    cols: dict[str, Any] = {"events": batch[-1].seq, "heartbeat": time.time()}
    for e in batch:
        if e.type == ev.RUN_STARTED:
            cols.update(run_row.start_columns(e.payload))
    if any(e.type in (ev.RUN_FINISHED, ev.NODE_MARKED) for e in batch):
        row_events, last = run_row.read_row_events(conn, run_id)
        cols.update({k: v for k, v in run_row.row_columns(row_events, last).items()
                     if k in run_row.FINISH_COLUMNS or k == "events"})
    conn.execute(update(runs).where(runs.c.id == run_id).values(**cols))


def _insert_row(store: Store, planned: ev.RunStarted | dict[str, Any], experiment_id: int | None,
                cell_key: str | None, first: Event | None) -> int:
    payload = planned if isinstance(planned, dict) else planned.to_payload()
    now = time.time()
    with store.engine.begin() as conn:
        res = conn.execute(insert(runs).values(
            created_at=now, **run_row.start_columns(payload), status="running", pid=os.getpid(),
            host=HOST, heartbeat=now, experiment_id=experiment_id, cell_key=cell_key))
        run_id = int(res.inserted_primary_key[0])
        if first is not None:
            first = dataclasses.replace(first, run_id=run_id)
            conn.execute(insert(events), _rows(run_id, [first]))
            _project(conn, run_id, [first])
    return run_id


def open_run(store: Store, started: ev.RunStarted | Event, *, experiment_id: int | None = None,
             cell_key: str | None = None) -> RunHandle:
    """A new ``running`` run of this process, its row made from ``started`` and ``started``
    stored as event 1 (a payload is stored at ``t`` 0; an :class:`Event` — an outside log's
    line — as it is). An experiment's cell is tagged in the same transaction."""
    if isinstance(started, Event):
        if started.type != ev.RUN_STARTED or started.seq != 1:
            raise ValueError(f"a run opens with its run_started as event 1, got {started.type} "
                             f"seq {started.seq}")
        first, payload = started, started.payload
    else:
        first, payload = Event.of(0, 1, 0.0, started, None), started.to_payload()
    run_id = _insert_row(store, payload, experiment_id, cell_key, first)
    return RunHandle(store, run_id, dataclasses.replace(first, run_id=run_id))


def reserve_run(store: Store, planned: ev.RunStarted, *, experiment_id: int | None = None,
                cell_key: str | None = None) -> RunHandle:
    """A new ``running`` run whose producer stores its own ``run_started`` as event 1 through
    the handle (a search writes it once its model is ready). Until then the row shows
    ``planned``; the stored ``run_started`` then sets the row."""
    return RunHandle(store, _insert_row(store, planned, experiment_id, cell_key, None))


def reopen(store: Store, run_id: int) -> RunHandle:
    """An existing run, to add events after its last one (:meth:`RunHandle.add`)."""
    return RunHandle(store, int(run_id))


class RunHandle:
    """Writes one run's events; the row follows in the same transaction (a projection)."""

    def __init__(self, store: Store, run_id: int, started: Event | None = None) -> None:
        self.store, self.run_id = store, run_id
        self.started = started   # the run_started this handle stored as event 1 (open_run)

    def append(self, batch: list[Event]) -> None:
        """Store ``batch`` (numbered by its producer, after the run's last event)."""
        if not batch:
            return
        with self.store.engine.begin() as conn:
            conn.execute(insert(events), _rows(self.run_id, batch))
            _project(conn, self.run_id, batch)
        if any(e.type == ev.RUN_FINISHED for e in batch):
            self._save_positions()

    __call__ = append   # the handle is a sink: Recorder(run_id, handle), run_search(sink=handle)

    def add(self, type_: str, node_id: int | None, payload: dict[str, Any]) -> Event:
        """Append one event after the run's last (e.g. a user's mark); seq is taken in the
        transaction. Two processes may add at once: the run row is locked first (a no-op UPDATE)
        so the second waits and reads the first one's seq; a clash that still happens is
        retried."""
        def add(conn: Connection) -> Event:
            conn.execute(update(runs).where(runs.c.id == self.run_id).values(events=runs.c.events))
            seq, t = _last(conn, self.run_id)
            e = Event(self.run_id, seq + 1, t, type_, node_id, payload)
            conn.execute(insert(events), _rows(self.run_id, [e]))
            _project(conn, self.run_id, [e])
            return e
        e = in_transaction(self.store.engine, add)
        if type_ == ev.RUN_FINISHED:
            self._save_positions()
        return e

    def finish(self, finished: ev.RunFinished) -> Event:
        """Store ``finished`` as the run's closing event (after its last event)."""
        return self.add(ev.RUN_FINISHED, None, finished.to_payload())

    def close_as_interrupted(self, detail: str | None = None, **totals: Any) -> bool:
        """Close a run that will get no more events (its process died, its input ended) with an
        ``interrupted`` ``run_finished`` at the time of its last event. Idempotent: two
        processes opening the database at once both succeed and the run gets one closing
        event; returns whether this call closed it."""
        def close(conn: Connection) -> bool:
            # The conditional UPDATE comes first: it takes the write lock (SQLite) or the row
            # lock (PostgreSQL), so the process that comes second finds the run closed already.
            claimed = conn.execute(update(runs).where(runs.c.id == self.run_id,
                                                      runs.c.status == "running")
                                   .values(status="interrupted"))
            if claimed.rowcount != 1:
                return False
            seq, t = _last(conn, self.run_id)
            if seq == 0:   # a run without run_started has nothing to replay: no closing event
                conn.execute(update(runs).where(runs.c.id == self.run_id)
                             .values(**run_row.CLOSED_WITHOUT_LOG))
                return True
            fin = dataclasses.replace(ev.RunFinished.interrupted(), **{"seconds": t, **totals},
                                      **({"detail": detail} if detail else {}))
            e = Event(self.run_id, seq + 1, t, ev.RUN_FINISHED, None, fin.to_payload())
            conn.execute(insert(events), _rows(self.run_id, [e]))
            _project(conn, self.run_id, [e])
            return True
        return bool(in_transaction(self.store.engine, close))

    def discard(self) -> None:
        """Remove the run and its events (an ingest whose input turned out bad keeps nothing)."""
        with self.store.engine.begin() as conn:
            conn.execute(delete(placements).where(placements.c.run_id == self.run_id))
            conn.execute(delete(events).where(events.c.run_id == self.run_id))
            conn.execute(delete(runs).where(runs.c.id == self.run_id))

    def _save_positions(self) -> None:
        """The finished run's positions, so opening it does not replay its layout (a projection:
        if this fails the run is stored all the same and a view replays the log)."""
        from . import placements as saved
        try:
            saved.build(self.store, self.run_id)
        except Exception as e:  # noqa: BLE001 - an optimisation must never lose a run
            log.warning("positions of run %s not saved: %s", self.run_id, e)


def _last(conn: Connection, run_id: int) -> tuple[int, float]:
    last = conn.execute(select(events.c.seq, events.c.t).where(events.c.run_id == run_id)
                        .order_by(events.c.seq.desc()).limit(1)).first()
    return (int(last[0]), float(last[1])) if last else (0, 0.0)


def close_dead_run(store: Store, run_id: int) -> bool:
    """Close one dead run (see :meth:`RunHandle.close_as_interrupted`)."""
    return reopen(store, run_id).close_as_interrupted()


def mark_interrupted(store: Store) -> list[int]:
    """Runs of this host whose process is gone: closed ``interrupted`` (with a closing event)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(runs.c.id, runs.c.pid).where(
            runs.c.status == "running", runs.c.host == HOST)).all()
    dead = [rid for rid, pid in rows if pid != os.getpid() and not pid_alive(pid)]
    for rid in dead:
        close_dead_run(store, rid)
    return dead
