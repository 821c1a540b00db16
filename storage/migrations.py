"""Migrations: a list of named functions you only append to.

A table records which ran; opening the database runs the rest in order, each in its own
transaction. Never edit a migration that has shipped: add a new one.

``m001`` creates the tables from the *current* schema, so a blank database is complete at once;
every later migration must therefore be idempotent (``add_column_if_missing``, ``IF NOT EXISTS``)
so that it is a no-op on a blank database and the real change on an old one.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Column, Connection, MetaData, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from .db import StorageError, enable_wal, table_names
from .schema import cell_claims, events, experiments, placements, runs, schema_migrations


def m001_runs_and_events(conn: Connection) -> None:
    md = MetaData()
    for table in (runs, events):
        table.to_metadata(md)
    md.create_all(conn)


def m002_indexes(conn: Connection) -> None:
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_runs_created ON runs (created_at)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_runs_status ON runs (status)"))


def add_column_if_missing(conn: Connection, table: str, column: Column) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless the column exists (a blank DB already has it)."""
    if column.name in {c["name"] for c in inspect(conn).get_columns(table)}:
        return
    col_type = column.type.compile(dialect=conn.dialect)
    conn.execute(text(f'ALTER TABLE {table} ADD COLUMN "{column.name}" {col_type}'))


def m003_experiments(conn: Connection) -> None:
    md = MetaData()
    experiments.to_metadata(md).create(conn, checkfirst=True)
    add_column_if_missing(conn, "runs", runs.c.cell_key)
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_runs_experiment ON runs (experiment_id)"))


def m004_cell_claims(conn: Connection) -> None:
    md = MetaData()
    cell_claims.to_metadata(md).create(conn, checkfirst=True)


RUN_LIST_INDEXES = {   # the runs list's filters, each with the newest-first order (keyset paging)
    "ix_runs_task_id": "task, id", "ix_runs_strategy_id": "strategy, id",
    "ix_runs_outcome_id": "outcome, id", "ix_runs_status_id": "status, id",
    "ix_runs_experiment_id": "experiment_id, id", "ix_runs_created_id": "created_at, id",
}


def m005_placements_and_run_list(conn: Connection) -> None:
    md = MetaData()
    runs.to_metadata(md)   # the table its foreign key names
    placements.to_metadata(md).create(conn, checkfirst=True)
    have = {c["name"] for c in inspect(conn).get_columns("runs")}
    for name, cols in RUN_LIST_INDEXES.items():
        if {c.strip() for c in cols.split(",")} <= have:   # (a hand-made old table may lack one)
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON runs ({cols})"))


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("001_runs_and_events", m001_runs_and_events),
    ("002_indexes", m002_indexes),
    ("003_experiments", m003_experiments),
    ("004_cell_claims", m004_cell_claims),
    ("005_placements_and_run_list", m005_placements_and_run_list),
]


def migrate(engine: Engine, attempts: int = 20) -> list[str]:
    """Bring the database up to date; returns the names of the migrations that ran here.

    Two processes may open a new database at the same moment: migrations are idempotent, and a
    clash (table created or migration recorded by the other process, or a lock) is retried.
    """
    for attempt in range(attempts):
        try:
            return _migrate_once(engine)
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 + 0.05 * attempt)
    return []


def _migrate_once(engine: Engine) -> list[str]:
    existing = table_names(engine)
    if existing and "schema_migrations" not in existing:
        raise StorageError(f"the database at {engine.url} has tables ({', '.join(sorted(existing)[:5])}) "
                           "but is not a Thinktree database. It was left untouched; point "
                           "THINKTREE_DB at another file.")
    schema_migrations.create(engine, checkfirst=True)
    enable_wal(engine)
    ran = []
    with engine.connect() as conn:
        done = {r[0] for r in conn.execute(schema_migrations.select())}
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with engine.begin() as conn:
            fn(conn)
            conn.execute(schema_migrations.insert().values(name=name, applied_at=time.time()))
        ran.append(name)
    return ran
