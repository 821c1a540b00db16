"""Storage on a real SQLite file: migrations, events, interrupted runs, refusing foreign files."""
import sqlite3
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from reasoning import events as ev
from reasoning.engine import run_search
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import fold
from storage import StorageError, make_engine, open_store, reopen
from storage.door import mark_interrupted
from storage.migrations import MIGRATIONS, migrate
from tests import helpers
from tests.helpers import EventLog, pick_by_seed


def new_run(store, **kw):
    args = dict(task="game24", problem="4 5 6 10", problem_id=None, strategy="mcts", params={},
                model={"kind": "scripted"}, budget={}, seed=0)
    args.update(kw)
    return helpers.new_run(store, **args)


def test_blank_database_gets_the_whole_schema(db_url):
    engine = make_engine(db_url)
    ran = migrate(engine)
    assert ran == [name for name, _ in MIGRATIONS]
    insp = inspect(engine)
    assert {"runs", "events", "schema_migrations"} <= set(insp.get_table_names())
    cols = {c["name"] for c in insp.get_columns("events")}
    assert cols == {"run_id", "seq", "t", "type", "node_id", "payload"}
    assert migrate(engine) == []  # idempotent
    if db_url.startswith("sqlite"):
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
    engine.dispose()


def test_migrating_from_the_first_schema_adds_the_rest(db_url):
    engine = make_engine(db_url)
    from storage.schema import schema_migrations
    schema_migrations.create(engine)
    first_name, first = MIGRATIONS[0]
    with engine.begin() as conn:
        first(conn)
        conn.execute(schema_migrations.insert().values(name=first_name, applied_at=0))
    assert migrate(engine) == [name for name, _ in MIGRATIONS[1:]]
    engine.dispose()


def test_a_stored_run_replays_to_the_same_tree(any_store):
    store = any_store
    task = get_task("game24")
    rid = new_run(store)
    result, rec = run_search(make_strategy("mcts", {"simulations": 15}), task,
                             task.resolve_problem("4 5 6 10"), ScriptedModel(pick_by_seed),
                             run_id=rid, budget=Budget(), sink=reopen(store, rid))
    stored = store.events(rid)
    assert [e.seq for e in stored] == list(range(1, len(rec.events) + 1))
    assert stored == rec.events
    assert repr(fold(stored)) == repr(fold(rec.events))
    row = store.get_run(rid)
    assert row["status"] == "finished" and row["outcome"] == result.outcome
    assert row["events"] == len(rec.events) and row["nodes"] == len(rec.tree.nodes)
    # reading only what is new, and a replay prefix
    assert store.events(rid, after_seq=len(stored) - 2) == stored[-2:]
    assert len(store.events(rid, upto_seq=10)) == 10


def test_run_of_a_dead_process_is_marked_interrupted(any_store):
    store = any_store
    pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                         capture_output=True, text=True).stdout.strip()
    rid = new_run(store)
    log = EventLog(rid)
    log.add(ev.RUN_STARTED)
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0)
    reopen(store, rid).append(log.events)
    from sqlalchemy import update

    from storage.schema import runs
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == rid).values(pid=int(pid)))
    assert mark_interrupted(store) == [rid]
    row = store.get_run(rid)
    assert row["status"] == "interrupted" and row["outcome"] == "interrupted"
    evs = store.events(rid)
    assert evs[-1].type == ev.RUN_FINISHED and evs[-1].payload["outcome"] == "interrupted"
    assert fold(evs).outcome == "interrupted"


def test_user_mark_is_appended_as_an_event(any_store):
    store = any_store
    rid = new_run(store)
    log = EventLog(rid)
    log.add(ev.RUN_STARTED)
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0)
    reopen(store, rid).append(log.events)
    e = reopen(store, rid).add(ev.NODE_MARKED, 0, {"mark": "correct"})
    assert e.seq == 3
    assert fold(store.events(rid)).nodes[0].mark == "correct"


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"my precious notes, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not an SQLite database"):
        open_store(str(path))
    assert path.read_bytes() == before


def test_a_foreign_sqlite_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a Thinktree database"):
        open_store(str(path))
    assert path.read_bytes() == before
