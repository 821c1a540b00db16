"""The current schema (what queries use). Migrations in ``migrations.py`` build it, add-only."""
from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Float, nullable=False),
    Column("task", String(64), nullable=False),
    Column("problem", Text, nullable=False),
    Column("problem_id", String(64)),
    Column("strategy", String(64), nullable=False),
    Column("params", Text, nullable=False, default="{}"),
    Column("model", Text, nullable=False, default="{}"),
    Column("budget", Text, nullable=False, default="{}"),
    Column("seed", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False, default="running"),
    Column("outcome", String(16)),
    Column("answer", Text),
    Column("nodes", Integer, default=0),
    Column("tokens", Integer, default=0),
    Column("events", Integer, default=0),
    Column("seconds", Float, default=0.0),
    Column("pid", Integer),
    Column("host", String(255)),
    Column("heartbeat", Float),
    Column("experiment_id", Integer),
    Column("cell_key", String(255)),   # which experiment cell this run is (resume skips finished cells)
)

events = Table(
    "events", metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("t", Float, nullable=False),
    Column("type", String(32), nullable=False),
    Column("node_id", Integer),
    Column("payload", Text, nullable=False),
    UniqueConstraint("run_id", "seq", name="uq_events_run_seq"),
)

placements = Table(
    # the run view's position policy after events 1..seq, per way of drawing the run (view_key:
    # the projection's name); a projection of the event log, rebuilt when missing
    "placements", metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("view_key", String(255), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("state", Text, nullable=False),
)

experiments = Table(
    "experiments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Float, nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("config", Text, nullable=False, default="{}"),
    Column("status", String(16), nullable=False, default="running"),  # running / stopped / finished
    Column("updated_at", Float, nullable=False),
    Column("pid", Integer),            # the process running it (a dead one means: stopped)
    Column("host", String(255)),
)

cell_claims = Table(
    # one row per experiment cell a worker took: the primary key makes a claim exclusive; a claim
    # whose heartbeat is older than the stale limit may be taken over (its worker died)
    "cell_claims", metadata,
    Column("experiment_id", Integer, primary_key=True),
    Column("cell_key", String(255), primary_key=True),
    Column("worker", String(255), nullable=False),
    Column("status", String(16), nullable=False, default="claimed"),  # claimed / done
    Column("claimed_at", Float, nullable=False),
    Column("heartbeat", Float, nullable=False),
)

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("name", String(128), primary_key=True),
    Column("applied_at", Float, nullable=False),
)
