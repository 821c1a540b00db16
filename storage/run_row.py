"""The runs table row as a projection of the run's event log, computed here and nowhere else.

A run's row is a summary for lists and experiments; the log is the truth. Its columns come from
three kinds of event:

* ``run_started`` — what was run: task, problem, strategy, params, model, budget, seed (the model
  column shows ``model_config``, the settings a Thinktree search made its model from, when the
  event carries them, else the event's ``model``);
* ``run_finished`` — how it ended: status (``interrupted`` for an interrupted run, else
  ``finished``), outcome, answer, nodes, tokens, seconds;
* ``node_marked`` — a user's mark on the run's answer node settles an ``answered`` / ``solved`` /
  ``failed`` outcome (experiments count solved cells from the rows);

plus ``events``, the last ``seq``. Column widths (``task`` is ``String(64)`` …) are applied here,
from the schema, so no producer trims a value. The columns that are not in the log — ``id``,
``created_at``, ``pid``, ``host``, ``heartbeat`` (who writes it, and when it last did),
``experiment_id``, ``cell_key`` (where an experiment placed it) — are set by the door
(:mod:`storage.door`) and never derived.

:func:`row_columns` is pure; :func:`rebuild` recomputes a stored run's row from its log.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, func, select, update

from reasoning import events as ev
from reasoning.events import Event

from .schema import events, runs

if TYPE_CHECKING:
    from .db import HasEngine as Store  # the rebuild reads and writes through the engine alone

ROW_EVENTS = (ev.RUN_STARTED, ev.RUN_FINISHED, ev.NODE_MARKED)   # the events a row reads
START_COLUMNS = ("task", "problem", "problem_id", "strategy", "params", "model", "budget", "seed")
FINISH_COLUMNS = ("status", "outcome", "answer", "nodes", "tokens", "seconds")
DERIVED_COLUMNS = START_COLUMNS + FINISH_COLUMNS + ("events",)
SETTLED_BY_MARK = ("answered", "solved", "failed")  # run outcomes a mark on the answer may change
WIDTHS = {c.name: c.type.length for c in runs.columns
          if isinstance(c.type, String) and c.type.length}
# the row of a run that died before writing anything: closed, with no event to replay
CLOSED_WITHOUT_LOG = {"status": "interrupted", "outcome": "interrupted", "events": 0,
                      "seconds": 0.0}


def _fit(name: str, value: Any) -> Any:
    width = WIDTHS.get(name)
    return value[:width] if width and isinstance(value, str) else value


def _json(value: Any) -> str:
    return json.dumps(value if isinstance(value, dict) else {})


def start_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """The columns a ``run_started`` payload sets (what was run)."""
    seed = payload.get("seed", 0)
    config = payload.get("model_config")
    cols = {"task": str(payload.get("task", "")), "problem": str(payload.get("problem", "")),
            "problem_id": payload.get("problem_id"), "strategy": str(payload.get("strategy", "")),
            "params": _json(payload.get("params")),
            "model": _json(config if isinstance(config, dict) else payload.get("model")),
            "budget": _json(payload.get("budget")),
            "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else 0}
    return {k: _fit(k, v) for k, v in cols.items()}


def settled_outcome(finished: dict[str, Any], marks: dict[int, str]) -> str | None:
    """The run's outcome: ``run_finished``'s, unless the user marked its answer node (the latest
    mark counts): ``correct`` makes it ``solved``, ``wrong`` ``failed``."""
    outcome = finished.get("outcome")
    mark = marks.get(finished.get("answer_node"))
    if mark is None or outcome not in SETTLED_BY_MARK:
        return outcome
    return "solved" if mark == "correct" else "failed"


def finish_columns(finished: dict[str, Any], marks: dict[int, str]) -> dict[str, Any]:
    """The columns a ``run_finished`` payload (and the marks after it) set (how it ended)."""
    outcome = settled_outcome(finished, marks)
    return {"status": "interrupted" if finished.get("outcome") == "interrupted" else "finished",
            "outcome": _fit("outcome", outcome), "answer": finished.get("answer"),
            "nodes": finished.get("nodes", 0), "tokens": finished.get("tokens", 0),
            "seconds": finished.get("seconds", 0.0)}


def row_columns(log: Iterable[Event], last_seq: int | None = None) -> dict[str, Any]:
    """The derived columns of a run from its events (other types are skipped, so the row events
    alone will do, with ``last_seq`` the run's last seq). A run without ``run_started`` has no
    start columns, one without ``run_finished`` is ``running``."""
    started: dict[str, Any] | None = None
    finished: dict[str, Any] | None = None
    marks: dict[int, str] = {}
    seq = 0
    for e in log:
        seq = max(seq, e.seq)
        if e.type == ev.RUN_STARTED:
            started = e.payload
        elif e.type == ev.RUN_FINISHED:
            finished = e.payload
        elif e.type == ev.NODE_MARKED and e.node_id is not None:
            marks[e.node_id] = e.payload.get("mark")
    out: dict[str, Any] = {"events": seq if last_seq is None else last_seq}
    if started is not None:
        out.update(start_columns(started))
    if finished is not None:
        out.update(finish_columns(finished, marks))
    else:
        out.update(status="running")
    return out


def read_row_events(conn: Any, run_id: int) -> tuple[list[Event], int]:
    """A run's row events and its last seq, read in ``conn``'s transaction."""
    rows = conn.execute(select(events.c.seq, events.c.t, events.c.type, events.c.node_id,
                               events.c.payload)
                        .where(events.c.run_id == run_id, events.c.type.in_(ROW_EVENTS))
                        .order_by(events.c.seq)).all()
    last = conn.execute(select(func.max(events.c.seq)).where(events.c.run_id == run_id)).scalar()
    return [Event(run_id, s, t, ty, n, json.loads(p)) for s, t, ty, n, p in rows], last or 0


def rebuild(store: Store, run_id: int) -> dict[str, Any]:
    """Recompute ``run_id``'s row from its log (a run with no events keeps its row); returns the
    columns written. A search stored before its ``run_started`` carried ``model_config`` keeps
    the model settings its row was given (its log only says what the model turned out to be):
    a log without ``model_config`` sets the model column only when the row has none."""
    with store.engine.begin() as conn:
        log, last = read_row_events(conn, run_id)
        if not last:
            return {}
        cols = row_columns(log, last)
        started = next((e.payload for e in log if e.type == ev.RUN_STARTED), {})
        stored = conn.execute(select(runs.c.model).where(runs.c.id == run_id)).scalar()
        if "model_config" not in started and stored not in (None, "", "{}"):
            cols.pop("model", None)
        conn.execute(update(runs).where(runs.c.id == run_id).values(**cols))
    return cols
