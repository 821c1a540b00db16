"""Shared fixtures.

* ``embedded_url`` — ONE real embedded model server for the whole test session (started through
  the same code the app uses); its URL is exported as ``THINKTREE_EMBEDDED_URL`` so subprocesses
  (CLI, ``streamlit run``) reuse it instead of starting their own.
* ``store`` — a real SQLite file in a temporary folder.

A test that uses a fixture starting the real model (``MODEL_FIXTURES``, also through another
fixture) carries ``@pytest.mark.embedded`` (so ``-m "not embedded"`` never starts llama.cpp):
its file marks it, and this conftest adds the mark where one is missing (a safety net that
``tests/test_markers.py`` does not accept as a substitute: it fails on any test without its own).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


MODEL_FIXTURES = frozenset({"embedded_url", "embedded_model"})
STRICT_MARKS = "THINKTREE_STRICT_EMBEDDED_MARKS"   # set: an unmarked model test stops collection


def unmarked_model_tests(items) -> list[str]:
    """The tests that start the real model (through ``MODEL_FIXTURES``) but are not marked
    ``embedded`` by their file."""
    return [item.nodeid for item in items
            if MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))
            and item.get_closest_marker("embedded") is None]


@pytest.hookimpl(tryfirst=True)   # before ``-m`` deselects: the added marks must count there
def pytest_collection_modifyitems(config, items) -> None:
    missing = unmarked_model_tests(items)
    if missing and os.environ.get(STRICT_MARKS):
        raise pytest.UsageError("tests that start the real model without @pytest.mark.embedded: "
                                + ", ".join(missing))
    for item in items:
        if item.nodeid in missing:
            item.add_marker(pytest.mark.embedded)


@pytest.fixture(scope="session")
def embedded_url() -> str:
    from reasoning.models.embedded import _SERVER
    url = os.environ.get("THINKTREE_EMBEDDED_URL") or _SERVER.start()
    os.environ["THINKTREE_EMBEDDED_URL"] = url
    return url


@pytest.fixture
def embedded_model(embedded_url):
    from reasoning.models.embedded import embedded_model as make
    return make()


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "thinktree-test.db")


@pytest.fixture
def store(db_path):
    from storage import open_store
    return open_store(db_path)


# -- the storage suite runs on SQLite and on a real PostgreSQL server ---------------------------
PG_ADMIN_URL = os.environ.get("THINKTREE_TEST_PG_URL",
                              "postgresql+psycopg://postgres:thinktree@127.0.0.1:5432/postgres")


def _pg_admin():
    """An autocommit connection to the PostgreSQL server, or a reason why there is none."""
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    dsn = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=3), ""
    except Exception as e:  # noqa: BLE001 - any failure means: no server for this run
        return None, f"no PostgreSQL server reachable at {dsn.split('@')[-1]} ({type(e).__name__})"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A blank database URL: a SQLite file, or a fresh PostgreSQL database (dropped afterwards)."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "suite.db")
        return
    conn, why = _pg_admin()
    if conn is None:
        if os.environ.get("CI", "").lower() == "true":  # CI must not turn green without it
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)
    import uuid
    name = "tt_" + uuid.uuid4().hex[:12]
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        from storage.repo import _STORES
        for url in [u for u in _STORES if u.endswith("/" + name)]:
            _STORES.pop(url).engine.dispose()
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def any_store(db_url):
    from storage import open_store
    return open_store(db_url)
