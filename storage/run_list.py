"""The runs list at any size: filters, keyset paging and the pickers' search.

Runs come newest first (``id`` descending). A page is ``limit`` runs with ``id`` below the last
one of the page before (keyset paging: every page costs the same, and a run stored meanwhile
never shifts a page), each filter an indexed column (migration ``005``) but the text searches
(the problem, the model's settings), which scan the rows the other filters leave.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from .db import HasEngine
from .schema import experiments, runs

LIST_COLUMNS = ("id", "created_at", "task", "problem", "problem_id", "strategy", "status",
                "outcome", "answer", "nodes", "tokens", "events", "seconds", "seed",
                "experiment_id")
CHOICE_COLUMNS = ("task", "strategy", "outcome")


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list; ``None`` / empty means any. ``outcome`` is what the list shows: the
    outcome, or the status of a run without one (``running``); ``model`` and ``text`` are
    case-insensitive substrings of the model's settings and of the problem; ``since`` / ``until``
    are Unix times (``created_at``)."""
    task: str | None = None
    strategy: str | None = None
    outcome: str | None = None
    model: str = ""
    since: float | None = None
    until: float | None = None
    experiment_id: int | None = None
    text: str = ""

    @classmethod
    def of(cls, values: dict[str, Any]) -> RunFilter:
        """From a mapping (a page's widgets): unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def where(self) -> list[ColumnElement]:
        c = runs.c
        out: list[ColumnElement] = []
        for name in ("task", "strategy"):
            if getattr(self, name):
                out.append(c[name] == getattr(self, name))
        if self.outcome:
            out.append(or_(c.outcome == self.outcome,
                           and_(c.outcome.is_(None), c.status == self.outcome)))
        if self.model.strip():
            out.append(c.model.ilike(f"%{_escape(self.model.strip())}%", escape="\\"))
        if self.text.strip():
            out.append(c.problem.ilike(f"%{_escape(self.text.strip())}%", escape="\\"))
        if self.since is not None:
            out.append(c.created_at >= self.since)
        if self.until is not None:
            out.append(c.created_at < self.until)
        if self.experiment_id is not None:
            out.append(c.experiment_id == self.experiment_id)
        return out


class RunPage(NamedTuple):
    rows: list[dict[str, Any]]
    next_before: int | None   # pass as ``before_id`` for the next page; None: this is the last


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def runs_page(store: HasEngine, flt: RunFilter = RunFilter(), before_id: int | None = None,
              limit: int = 50) -> RunPage:
    """Up to ``limit`` runs matching ``flt`` with ``id < before_id``, newest first."""
    q = select(*[runs.c[n] for n in LIST_COLUMNS]).where(*flt.where())
    if before_id is not None:
        q = q.where(runs.c.id < before_id)
    q = q.order_by(runs.c.id.desc()).limit(limit + 1)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return RunPage(rows, int(rows[-1]["id"]) if more else None)


def count_runs(store: HasEngine, flt: RunFilter = RunFilter()) -> int:
    q = select(func.count()).select_from(runs).where(*flt.where())
    with store.engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def run_choices(store: HasEngine) -> dict[str, list[str]]:
    """The values a filter can take: every task, strategy and outcome (or status) stored."""
    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for name in ("task", "strategy"):
            out[name] = sorted(v for (v,) in conn.execute(select(runs.c[name]).distinct()) if v)
        shown = func.coalesce(runs.c.outcome, runs.c.status)
        out["outcome"] = sorted(v for (v,) in conn.execute(select(shown).distinct()) if v)
    return out


def find_runs(store: HasEngine, query: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """A picker's search: ``#12`` or ``12`` finds run 12 (first), any other text the runs whose
    problem, strategy or task contains it; newest first, at most ``limit``."""
    query = query.strip()
    cols = [runs.c[n] for n in LIST_COLUMNS]
    with store.engine.connect() as conn:
        exact = []
        if query.lstrip("#").isdigit():
            exact = [dict(r) for r in conn.execute(select(*cols).where(
                runs.c.id == int(query.lstrip("#")))).mappings()]
        q = select(*cols).order_by(runs.c.id.desc()).limit(limit)
        if query:
            like = f"%{_escape(query)}%"
            q = q.where(or_(runs.c.problem.ilike(like, escape="\\"),
                            runs.c.strategy.ilike(like, escape="\\"),
                            runs.c.task.ilike(like, escape="\\")))
        rows = [dict(r) for r in conn.execute(q).mappings()]
    seen = {r["id"] for r in exact}
    return (exact + [r for r in rows if r["id"] not in seen])[:limit]


def find_experiments(store: HasEngine, query: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """The Experiments picker's search: by id (``#3``) or a substring of the name; newest first."""
    query = query.strip()
    q = select(experiments.c.id, experiments.c.name, experiments.c.status,
               experiments.c.created_at).order_by(experiments.c.id.desc()).limit(limit)
    if query.lstrip("#").isdigit():
        q = q.where(or_(experiments.c.id == int(query.lstrip("#")),
                        experiments.c.name.ilike(f"%{_escape(query)}%", escape="\\")))
    elif query:
        q = q.where(experiments.c.name.ilike(f"%{_escape(query)}%", escape="\\"))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def insert_runs(store: HasEngine, rows: list[dict[str, Any]], logs: list[list[Any]]) -> list[int]:
    """Store many finished runs at once (synthetic data, bulk imports): ``rows`` are run columns,
    ``logs[i]`` the events of run i (:class:`~reasoning.events.Event`, run id replaced). Returns
    the new ids in order. The columns a log determines come from it (:mod:`storage.run_row`),
    whatever ``rows`` says; ``rows`` gives the others (``created_at``, ``experiment_id`` …)."""
    import json

    from sqlalchemy import insert

    from .run_row import row_columns
    from .schema import events
    rows = [{**row, **row_columns(log)} for row, log in zip(rows, logs, strict=True)]
    with store.engine.begin() as conn:
        ids = [int(i) for (i,) in conn.execute(insert(runs).returning(runs.c.id, sort_by_parameter_order=True),
                                              rows)]
        evs = [{"run_id": rid, "seq": e.seq, "t": e.t, "type": e.type, "node_id": e.node_id,
                "payload": json.dumps(e.payload, separators=(",", ":"))}
               for rid, log in zip(ids, logs, strict=True) for e in log]
        for i in range(0, len(evs), 5000):
            conn.execute(insert(events), evs[i:i + 5000])
    return ids
