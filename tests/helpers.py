"""Small builders shared by tests: scripted event logs and a deterministic 'pick a legal step' model."""
from __future__ import annotations

from reasoning.events import Event, RunStarted
from reasoning.models.base import GenRequest
from storage import reserve_run


class EventLog:
    """Build an event log by hand: ``log.add("node_created", 1, parent_id=0, depth=1)``."""

    def __init__(self, run_id: int = 1) -> None:
        self.run_id = run_id
        self.events: list[Event] = []

    def add(self, type_: str, node_id: int | None = None, t: float | None = None, **payload) -> Event:
        seq = len(self.events) + 1
        e = Event(self.run_id, seq, float(seq) / 10 if t is None else t, type_, node_id, payload)
        self.events.append(e)
        return e


def pick_first(req: GenRequest) -> str:
    """A scripted policy: always the first allowed step (deterministic)."""
    return req.choices[0]


def pick_by_seed(req: GenRequest) -> str:
    import random
    return random.Random(req.seed).choice(req.choices)


def new_run(store, *, experiment_id: int | None = None, cell_key: str | None = None,
            **started) -> int:
    """A new run through the door whose run_started comes with its events (``reopen(store,
    run_id)`` is then its sink); ``started`` are :class:`RunStarted` fields. Returns its id."""
    return reserve_run(store, RunStarted(**started), experiment_id=experiment_id,
                       cell_key=cell_key).run_id
