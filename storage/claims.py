"""Cell claims: several experiment workers (processes, machines) sharing one database divide the
cells without running any twice.

``claim`` is one INSERT: the primary key ``(experiment_id, cell_key)`` lets exactly one worker
win. A worker keeps its claims alive with ``heartbeat``; a claim whose heartbeat is older than
``stale_after`` seconds belonged to a worker that died, and ``claim`` takes it over with one
conditional UPDATE (again exactly one winner). Portable SQL: works on SQLite and PostgreSQL.

The rest of Thinktree reaches these through ``store.claims`` (:class:`SqlClaims`, the
:class:`~storage.interface.Claims` of the SQL store); the functions are its implementation.
"""
from __future__ import annotations

import time

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .db import HasEngine
from .schema import cell_claims

STALE_AFTER_S = 60.0


def claim(store: HasEngine, experiment_id: int, cell_key: str, worker: str,
          stale_after: float = STALE_AFTER_S, now: float | None = None) -> bool:
    """Try to take ``cell_key``; True if this worker now owns it."""
    now = time.time() if now is None else now
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(cell_claims).values(experiment_id=experiment_id, cell_key=cell_key,
                                                    worker=worker, status="claimed", claimed_at=now,
                                                    heartbeat=now))
        return True
    except IntegrityError:
        pass
    with store.engine.begin() as conn:  # taken: take it over if its worker went silent (or is us)
        res = conn.execute(update(cell_claims).where(and_(
            cell_claims.c.experiment_id == experiment_id, cell_claims.c.cell_key == cell_key,
            cell_claims.c.status == "claimed",
            or_(cell_claims.c.heartbeat < now - stale_after, cell_claims.c.worker == worker),
        )).values(worker=worker, claimed_at=now, heartbeat=now))
        return res.rowcount == 1


def heartbeat(store: HasEngine, experiment_id: int, worker: str, now: float | None = None) -> int:
    """Refresh every open claim of ``worker``; returns how many."""
    with store.engine.begin() as conn:
        res = conn.execute(update(cell_claims).where(and_(
            cell_claims.c.experiment_id == experiment_id, cell_claims.c.worker == worker,
            cell_claims.c.status == "claimed")).values(heartbeat=time.time() if now is None else now))
        return res.rowcount


def done(store: HasEngine, experiment_id: int, cell_key: str, worker: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(cell_claims).where(and_(
            cell_claims.c.experiment_id == experiment_id, cell_claims.c.cell_key == cell_key,
            cell_claims.c.worker == worker)).values(status="done", heartbeat=time.time()))


def claims(store: HasEngine, experiment_id: int) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(cell_claims).where(
            cell_claims.c.experiment_id == experiment_id)).mappings()]


class SqlClaims:
    """``store.claims``: the cell claims of one SQL store (see :mod:`storage.interface`)."""

    def __init__(self, store: HasEngine) -> None:
        self._store = store

    def claim(self, experiment_id: int, cell_key: str, worker: str,
              stale_after: float = STALE_AFTER_S, now: float | None = None) -> bool:
        """Try to take ``cell_key``; True if ``worker`` now owns it."""
        return claim(self._store, experiment_id, cell_key, worker, stale_after, now)

    def heartbeat(self, experiment_id: int, worker: str, now: float | None = None) -> int:
        """Refresh every open claim of ``worker``; returns how many."""
        return heartbeat(self._store, experiment_id, worker, now)

    def done(self, experiment_id: int, cell_key: str, worker: str) -> None:
        done(self._store, experiment_id, cell_key, worker)

    def list(self, experiment_id: int) -> list[dict]:
        """Every claim of the experiment (cell, worker, status, times)."""
        return claims(self._store, experiment_id)
