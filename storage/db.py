"""Engines: URL resolution, SQLite pragmas, and refusing files that are not ours.

``THINKTREE_DB`` is a file path or any SQLAlchemy URL; the default is ``thinktree.db`` in the
working folder. SQLite runs in WAL mode with a busy timeout so a reader never blocks the writer
and two writers wait for each other instead of failing with "database is locked".
"""
from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, OperationalError, SQLAlchemyError

SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageError(Exception):
    """A database problem worth a clear message (corrupt file, foreign schema, bad URL)."""


class HasEngine(Protocol):
    """What the table modules (experiments, claims, the runs list) take: the SQL store, typed by
    the one thing they use of it, so that they and the store do not import each other."""
    engine: Engine


def in_transaction(engine: Engine, work: Callable[[Any], Any], attempts: int = 8) -> Any:
    """``work(conn)`` in one transaction, again on a clash with another process (a lock
    timeout, a serialization failure, a key taken between our read and our write)."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (OperationalError, IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1) * (1 + random.random()))
    return None


def default_url() -> str:
    return to_url(os.environ.get("THINKTREE_DB") or "thinktree.db")


def to_url(value: str) -> str:
    if "://" in value:
        return value
    return "sqlite:///" + str(Path(value).expanduser().resolve())


def display_url(url: str) -> str:
    """The database as a user would name it: a SQLite file below the working folder as a
    relative path (``thinktree.db``), any other URL with its password hidden."""
    if url.startswith("sqlite:///"):
        path = Path(url.split("sqlite:///", 1)[1])
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _check_sqlite_file(url: str) -> None:
    path = url.split("sqlite:///", 1)[-1]
    if not path or path == ":memory:" or not os.path.exists(path):
        return
    if os.path.getsize(path) == 0:
        return
    with open(path, "rb") as f:
        head = f.read(16)
    if head != SQLITE_MAGIC:
        raise StorageError(f"{path} is not an SQLite database (is THINKTREE_DB pointing at the "
                           "wrong file?). It was left untouched.")


def make_engine(url: str | None = None) -> Engine:
    url = to_url(url) if url else default_url()
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        _check_sqlite_file(url)
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not is_sqlite,
                               connect_args={"timeout": 30, "check_same_thread": False}
                               if is_sqlite else {})
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise StorageError(f"cannot open database {url!r}: {e}") from e
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # journal_mode=WAL is persistent in the file, so it is set once by ``enable_wal`` after the
    # file is known to be ours: a foreign database must stay byte-for-byte untouched.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def table_names(engine: Engine) -> set[str]:
    try:
        return set(inspect(engine).get_table_names())
    except DatabaseError as e:
        raise StorageError(f"the database at {engine.url} cannot be read ({e.orig}). "
                           "It was left untouched.") from e


def enable_wal(engine: Engine) -> None:
    if engine.url.get_backend_name() == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
