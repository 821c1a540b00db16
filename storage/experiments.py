"""The experiments table and the runs that belong to an experiment.

An experiment row holds its configuration (JSON) and a status: ``running`` / ``stopped`` /
``finished``. Its cells are ordinary runs tagged with ``experiment_id`` and a ``cell_key``; the
progress of an experiment is therefore read from the runs table, and a page that reloads finds
everything it needs in the database. An experiment left ``running`` by a process that is gone
reads as ``stopped`` (and can be resumed).

The rest of Thinktree reaches these through ``store.experiments`` (:class:`SqlExperiments`, the
:class:`~storage.interface.Experiments` of the SQL store); the functions are its implementation.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

from sqlalchemy import insert, select, update

from reasoning.figures import upgrade_run_finished

from .db import HasEngine
from .liveness import HOST, left_by_dead_process
from .run_list import find_experiments
from .schema import events, experiments, runs

STATUSES = ("running", "stopped", "finished")
CELL_COLUMNS = ("id", "created_at", "problem", "problem_id", "strategy", "params", "budget",
                "seed", "status", "outcome", "answer", "nodes", "tokens", "seconds", "cell_key")


def create_experiment(store: HasEngine, name: str, config: dict[str, Any]) -> int:
    now = time.time()
    with store.engine.begin() as conn:
        res = conn.execute(insert(experiments).values(
            created_at=now, updated_at=now, name=name, config=json.dumps(config, sort_keys=True),
            status="stopped", pid=None, host=None))
        return int(res.inserted_primary_key[0])


def _row(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["config"] = json.loads(out["config"] or "{}")
    if out["status"] == "running" and left_by_dead_process(out["host"], out["pid"]):
        out["status"] = "stopped"  # its process died (Ctrl-C, crash, server restart)
    return out


def get_experiment(store: HasEngine, experiment_id: int) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(experiments).where(experiments.c.id == experiment_id)) \
            .mappings().first()
    return _row(row) if row is not None else None


def list_experiments(store: HasEngine, limit: int = 200) -> list[dict[str, Any]]:
    q = select(experiments).order_by(experiments.c.id.desc()).limit(limit)
    with store.engine.connect() as conn:
        return [_row(r) for r in conn.execute(q).mappings()]


def set_status(store: HasEngine, experiment_id: int, status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)}, got {status!r}")
    running = status == "running"
    with store.engine.begin() as conn:
        conn.execute(update(experiments).where(experiments.c.id == experiment_id).values(
            status=status, updated_at=time.time(), pid=os.getpid() if running else None,
            host=HOST if running else None))


def set_cluster(store: HasEngine, experiment_id: int, cluster: dict[str, Any]) -> None:
    """Record where the experiment runs (executor, address, dashboard) in its configuration."""
    with store.engine.begin() as conn:
        raw = conn.execute(select(experiments.c.config).where(experiments.c.id == experiment_id)) \
            .scalar()
        config = {**json.loads(raw or "{}"), "cluster": cluster}
        conn.execute(update(experiments).where(experiments.c.id == experiment_id).values(
            config=json.dumps(config, sort_keys=True)))


def touch(store: HasEngine, experiment_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(experiments).where(experiments.c.id == experiment_id)
                     .values(updated_at=time.time()))


def cell_runs(store: HasEngine, experiment_id: int) -> list[dict[str, Any]]:
    """Every run of the experiment, oldest first, with parsed params and budget."""
    q = select(*[runs.c[c] for c in CELL_COLUMNS]).where(runs.c.experiment_id == experiment_id) \
        .order_by(runs.c.id)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    for r in rows:
        r["params"] = json.loads(r["params"] or "{}")
        r["budget"] = json.loads(r["budget"] or "{}")
    return rows


def finished_payloads(store: HasEngine, run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """run id -> its ``run_finished`` payload (the last one, any format version read as version
    3: figures in ``metrics``), for the figures it alone carries; runs without one are missing."""
    out: dict[int, dict[str, Any]] = {}
    ids = list(run_ids)
    with store.engine.connect() as conn:
        for k in range(0, len(ids), 500):   # IN lists of bounded size (SQLite's variable limit)
            q = select(events.c.run_id, events.c.payload).where(
                events.c.run_id.in_(ids[k:k + 500]), events.c.type == "run_finished") \
                .order_by(events.c.seq)
            for run_id, payload in conn.execute(q):
                out[int(run_id)] = upgrade_run_finished(json.loads(payload))   # one shape
    return out


class SqlExperiments:
    """``store.experiments``: the experiments of one SQL store (see :mod:`storage.interface`)."""

    def __init__(self, store: HasEngine) -> None:
        self._store = store

    def create(self, name: str, config: dict[str, Any]) -> int:
        """A new experiment, ``stopped`` until a runner starts it; returns its id."""
        return create_experiment(self._store, name, config)

    def get(self, experiment_id: int) -> dict[str, Any] | None:
        return get_experiment(self._store, experiment_id)

    def list(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest ``limit`` experiments, newest first."""
        return list_experiments(self._store, limit)

    def find(self, query: str = "", limit: int = 20) -> list[dict[str, Any]]:
        """The picker's search: ``#3`` / ``3`` or a substring of the name; newest first."""
        return find_experiments(self._store, query, limit)

    def set_status(self, experiment_id: int, status: str) -> None:
        set_status(self._store, experiment_id, status)

    def set_cluster(self, experiment_id: int, cluster: dict[str, Any]) -> None:
        set_cluster(self._store, experiment_id, cluster)

    def touch(self, experiment_id: int) -> None:
        touch(self._store, experiment_id)


    def cell_runs(self, experiment_id: int) -> list[dict[str, Any]]:
        return cell_runs(self._store, experiment_id)

    def finished_payloads(self, run_ids: list[int]) -> dict[int, dict[str, Any]]:
        return finished_payloads(self._store, run_ids)
