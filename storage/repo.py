"""The repository: runs and their append-only events (read here, written through
:mod:`storage.door`).

One writer per run appends events in batches (the Recorder already batches token chunks);
readers fetch events after a known ``seq`` so the live page reads only what is new. A run left
``running`` by a process that no longer exists is marked ``interrupted`` on the next open, with a
closing ``run_finished`` event so its replay ends cleanly.
"""
from __future__ import annotations

import json
import threading
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from reasoning.events import Event

from . import door, run_list
from .claims import SqlClaims
from .db import StorageError, default_url, make_engine, to_url
from .experiments import SqlExperiments
from .migrations import migrate
from .placements import SavedPlacements
from .run_list import RunFilter, RunPage
from .schema import events, runs

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
            door.mark_interrupted(self)
        except OperationalError as e:
            raise StorageError(f"cannot use the database at {engine.url}: {e.orig}") from e
        except SQLAlchemyError as e:
            raise StorageError(f"cannot use the database at {engine.url}: {e}") from e

    # -- runs (written only through storage.door) ---------------------------------------------
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

    # -- events ------------------------------------------------------------------------------
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
