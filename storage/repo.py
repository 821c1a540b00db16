"""The repository: runs and their append-only events.

One writer per run appends events in batches (the Recorder already batches token chunks);
readers fetch events after a known ``seq`` so the live page reads only what is new. A run left
``running`` by a process that no longer exists is marked ``interrupted`` on the next open, with a
closing ``run_finished`` event so its replay ends cleanly.
"""
from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from reasoning import events as ev
from reasoning.events import Event

from . import run_list
from .claims import SqlClaims
from .db import StorageError, default_url, make_engine, to_url
from .experiments import SqlExperiments
from .liveness import HOST
from .liveness import pid_alive as _pid_alive  # the name mark_interrupted calls
from .migrations import migrate
from .placements import SavedPlacements
from .run_list import RunFilter, RunPage
from .schema import events, placements, runs

log = logging.getLogger(__name__)
RUN_COLUMNS = ("id", "created_at", "task", "problem", "problem_id", "strategy", "status",
               "outcome", "answer", "nodes", "tokens", "events", "seconds", "seed",
               "experiment_id")

_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(url: str | None = None) -> Store:
    """The process-wide store for ``url`` (migrated and cleaned up once per process)."""
    url = to_url(url) if url else default_url()
    with _STORES_LOCK:
        if url not in _STORES:
            _STORES[url] = Store(make_engine(url))
        return _STORES[url]


def close_store(url: str) -> None:
    """Forget the process-wide store for ``url`` and close its connections (e.g. before the
    database itself is dropped); the next ``open_store(url)`` opens it again."""
    with _STORES_LOCK:
        store = _STORES.pop(to_url(url), None)
    if store is not None:
        store.engine.dispose()


class Store:
    """The SQL implementation of :class:`storage.interface.Storage` (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            migrate(engine)  # also switches SQLite to WAL once the file is known to be ours
            self.mark_interrupted()
        except OperationalError as e:
            raise StorageError(f"cannot use the database at {engine.url}: {e.orig}") from e
        except SQLAlchemyError as e:
            raise StorageError(f"cannot use the database at {engine.url}: {e}") from e

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, *, task: str, problem: str, problem_id: str | None, strategy: str,
                   params: dict, model: dict, budget: dict, seed: int,
                   experiment_id: int | None = None, cell_key: str | None = None) -> int:
        """A new ``running`` run of this process; an experiment's cell is tagged in the same
        insert (a run of an experiment is never seen without its cell)."""
        now = time.time()
        with self.engine.begin() as conn:
            res = conn.execute(insert(runs).values(
                created_at=now, task=task, problem=problem, problem_id=problem_id,
                strategy=strategy, params=json.dumps(params), model=json.dumps(model),
                budget=json.dumps(budget), seed=seed, status="running", pid=os.getpid(),
                host=HOST, heartbeat=now, experiment_id=experiment_id, cell_key=cell_key))
            return int(res.inserted_primary_key[0])

    def finish_run(self, run_id: int, summary: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            n_events = conn.execute(select(func.max(events.c.seq))
                                    .where(events.c.run_id == run_id)).scalar() or 0
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                status="finished", outcome=summary.get("outcome"), answer=summary.get("answer"),
                nodes=summary.get("nodes", 0), tokens=summary.get("tokens", 0),
                seconds=summary.get("seconds", 0.0), events=n_events, heartbeat=time.time()))

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        out = dict(row)
        for key in ("params", "model", "budget"):
            out[key] = json.loads(out[key] or "{}")
        return out

    def list_runs(self, limit: int = 500, experiment_id: int | None = None) -> list[dict[str, Any]]:
        q = select(*[runs.c[c] for c in RUN_COLUMNS]).order_by(runs.c.id.desc()).limit(limit)
        if experiment_id is not None:
            q = q.where(runs.c.experiment_id == experiment_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def runs_page(self, flt: RunFilter = RunFilter(), before_id: int | None = None,
                  limit: int = 50) -> RunPage:
        """Up to ``limit`` runs matching ``flt`` with ``id < before_id``, newest first."""
        return run_list.runs_page(self, flt, before_id, limit)

    def count_runs(self, flt: RunFilter = RunFilter()) -> int:
        return run_list.count_runs(self, flt)

    def run_choices(self) -> dict[str, list[str]]:
        """The values a filter can take: every task, strategy and outcome (or status) stored."""
        return run_list.run_choices(self)

    def find_runs(self, query: str = "", limit: int = 20) -> list[dict[str, Any]]:
        """A picker's search: ``#12`` / ``12`` or a substring of the problem, strategy or task."""
        return run_list.find_runs(self, query, limit)

    # -- the database, experiments, claims, positions ----------------------------------------
    @property
    def url(self) -> str:
        """The database's URL for messages, its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def url_with_password(self) -> str:
        """The URL another process opens this database with (a Ray worker): never show it."""
        return self.engine.url.render_as_string(hide_password=False)

    @cached_property
    def experiments(self) -> SqlExperiments:
        return SqlExperiments(self)

    @cached_property
    def claims(self) -> SqlClaims:
        return SqlClaims(self)

    @cached_property
    def placements(self) -> SavedPlacements:
        return SavedPlacements(self)

    def mark_interrupted(self) -> list[int]:
        """Runs of this host whose process is gone: status interrupted + a closing event."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs.c.id, runs.c.pid).where(
                runs.c.status == "running", runs.c.host == HOST)).all()
        dead = [rid for rid, pid in rows if pid != os.getpid() and not _pid_alive(pid)]
        for rid in dead:
            self.close_interrupted(rid)
        return dead

    def close_interrupted(self, run_id: int) -> None:
        """Close one dead run: idempotent, so two processes opening the database at once (the
        app and a CLI, two workers) both succeed and the run gets one closing event."""
        def close(conn) -> None:
            # The conditional UPDATE comes first: it takes the write lock (SQLite) or the row
            # lock (PostgreSQL), so the process that comes second finds the run closed already.
            claimed = conn.execute(update(runs).where(runs.c.id == run_id,
                                                      runs.c.status == "running")
                                   .values(status="interrupted", outcome="interrupted"))
            if claimed.rowcount != 1:
                return
            last = conn.execute(select(events.c.seq, events.c.t).where(events.c.run_id == run_id)
                                .order_by(events.c.seq.desc()).limit(1)).first()
            seq, t = (last[0], last[1]) if last else (0, 0.0)
            if seq > 0:  # a run without run_started has nothing to replay: no closing event
                conn.execute(insert(events).values(
                    run_id=run_id, seq=seq + 1, t=t, type=ev.RUN_FINISHED, node_id=None,
                    payload=json.dumps(ev.RunFinished.interrupted().to_payload())))
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                events=seq + int(seq > 0), seconds=t))
        self._retry(close)

    def _retry(self, work: Callable[[Any], Any], attempts: int = 8) -> Any:
        """``work(conn)`` in one transaction, again on a clash with another process (a lock
        timeout, a serialization failure, a key taken between our read and our write)."""
        for attempt in range(attempts):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except (OperationalError, IntegrityError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.02 * (attempt + 1) * (1 + random.random()))
        return None

    # -- events ------------------------------------------------------------------------------
    def append_events(self, run_id: int, batch: list[Event]) -> None:
        if not batch:
            return
        rows = [{"run_id": run_id, "seq": e.seq, "t": e.t, "type": e.type, "node_id": e.node_id,
                 "payload": json.dumps(e.payload, separators=(",", ":"))} for e in batch]
        with self.engine.begin() as conn:
            conn.execute(insert(events), rows)
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                heartbeat=time.time(), events=batch[-1].seq))

    def events(self, run_id: int, after_seq: int = 0, upto_seq: int | None = None) -> list[Event]:
        q = select(events.c.seq, events.c.t, events.c.type, events.c.node_id, events.c.payload) \
            .where(events.c.run_id == run_id, events.c.seq > after_seq).order_by(events.c.seq)
        if upto_seq is not None:
            q = q.where(events.c.seq <= upto_seq)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [Event(run_id, seq, t, type_, node_id, json.loads(payload))
                for seq, t, type_, node_id, payload in rows]

    def last_seq(self, run_id: int) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(events.c.seq))
                                .where(events.c.run_id == run_id)).scalar() or 0

    def add_event(self, run_id: int, type_: str, node_id: int | None, payload: dict) -> Event:
        """Append one event after a run (e.g. a user's mark); seq is taken in the transaction.

        Two processes may add at once: the run row is locked first (a no-op UPDATE) so the
        second waits and reads the first one's seq; a clash that still happens is retried."""
        def add(conn) -> Event:
            conn.execute(update(runs).where(runs.c.id == run_id).values(events=runs.c.events))
            last = conn.execute(select(events.c.seq, events.c.t).where(events.c.run_id == run_id)
                                .order_by(events.c.seq.desc()).limit(1)).first()
            seq, t = (last[0] + 1, last[1]) if last else (1, 0.0)
            conn.execute(insert(events).values(run_id=run_id, seq=seq, t=t, type=type_,
                                               node_id=node_id, payload=json.dumps(payload)))
            conn.execute(update(runs).where(runs.c.id == run_id).values(events=seq))
            return Event(run_id, seq, t, type_, node_id, payload)
        return self._retry(add)

    def delete_run(self, run_id: int) -> None:
        """Remove a run and its events (an ingest whose input turned out bad keeps nothing)."""
        with self.engine.begin() as conn:
            conn.execute(delete(placements).where(placements.c.run_id == run_id))
            conn.execute(delete(events).where(events.c.run_id == run_id))
            conn.execute(delete(runs).where(runs.c.id == run_id))

    def writer(self, run_id: int) -> RunWriter:
        return RunWriter(self, run_id)


class RunWriter:
    """The sink for one run: appends each batch; on ``run_finished`` updates the run row."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store, self.run_id = store, run_id

    def __call__(self, batch: list[Event]) -> None:
        self.store.append_events(self.run_id, batch)
        for e in batch:
            if e.type == ev.RUN_FINISHED:
                self.store.finish_run(self.run_id, e.payload)
                self._save_positions()

    def _save_positions(self) -> None:
        """The finished run's positions, so opening it does not replay its layout (a projection:
        if this fails the run is stored all the same and a view replays the log)."""
        from . import placements
        try:
            placements.build(self.store, self.run_id)
        except Exception as e:  # noqa: BLE001 - an optimisation must never lose a run
            log.warning("positions of run %s not saved: %s", self.run_id, e)
