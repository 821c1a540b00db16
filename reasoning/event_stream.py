"""Reading event logs written by other programs (JSONL, one event per line), one line at a time.

Each line is one event in the format of ``docs/events.md``: ``{"run_id", "seq", "t", "type",
"node_id", "payload"}``. For hand-written logs (a shell loop, another language) ``run_id``,
``seq`` and ``t`` may be left out: lines without ``run_id`` belong to one unnamed run, ``seq`` is
counted, and ``t`` is the time since that run's ``run_started`` line was read. ``run_id`` is only
the writer's own name for a run: every run gets a new id where it is stored.

:class:`EventReader` checks every line before it is accepted — JSON, the envelope, every known
payload field (``validate_event``), and the tree itself: a run starts with ``run_started``, a
node is created once under a parent that exists (one root), events name existing nodes, nothing
follows ``run_finished``, and the event folds (:meth:`Tree.apply`). A bad line raises
:class:`LineError` naming the line number and what is wrong. The reader is pure (no storage):
:mod:`runner.ingest` decides what is kept.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import events as ev
from .events import Event
from .tree import Tree

ENVELOPE = {"run_id", "seq", "t", "type", "node_id", "payload"}


class LineError(ValueError):
    """A line that is not a valid event here; ``str()`` starts with ``line N:``."""

    def __init__(self, line: int, message: str, run: RunInput | None = None) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.run = line, run


@dataclass
class RunInput:
    """One run being read: the writer's name for it, its tree so far, its events."""
    key: Any
    first_line: int
    started: float                       # clock time its run_started line was read
    tree: Tree = field(default_factory=Tree)
    events: list[Event] = field(default_factory=list)
    finished: bool = False
    unknown_types: set[str] = field(default_factory=set)
    created_on: dict[int, int] = field(default_factory=dict)   # node id -> its node_created line


class EventReader:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.open: dict[Any, RunInput] = {}     # by the writer's run_id, until run_finished
        self.runs: list[RunInput] = []          # every run, in the order they started

    def feed(self, line: int, text: str) -> tuple[RunInput, Event] | None:
        """Check one line; the run it belongs to and its event (None for a blank line)."""
        if not text.strip():
            return None
        try:   # without its line end: a line cut short is wrong at its end, not "line 2 column 1"
            obj = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as e:
            raise LineError(line, f"not valid JSON ({e.msg} at column {e.pos + 1})") from None
        return self.feed_obj(line, obj)

    def feed_obj(self, line: int, obj: Any) -> tuple[RunInput, Event]:
        """Check one event already parsed from JSON (a dict in the line format): see :meth:`feed`.
        Other readers of outside input (the OTLP receiver) come in here."""
        if not isinstance(obj, dict):
            raise LineError(line, f"expected a JSON object, got {type(obj).__name__}")
        run = self._run_for(line, obj)
        try:
            event = self._event(line, obj, run)
            self._check_tree(event, run)
            run.tree.apply(event)
            if event.type == ev.NODE_CREATED:
                run.created_on[event.node_id] = line
        except LineError:
            raise
        except (ValueError, KeyError, TypeError) as e:
            raise LineError(line, f"{obj.get('type')}: {e}", run) from None
        if not event.known:
            run.unknown_types.add(event.type)
        run.events.append(event)
        if event.type == ev.RUN_FINISHED:
            run.finished = True
            del self.open[run.key]
        return run, event

    def _run_for(self, line: int, obj: dict[str, Any]) -> RunInput:
        key, type_ = obj.get("run_id"), obj.get("type")
        if not isinstance(type_, str) or not type_:
            raise LineError(line, "every event needs a 'type' (a string), e.g. \"node_created\"")
        if not isinstance(key, (str, int, type(None))) or isinstance(key, bool):
            raise LineError(line, f"run_id must be a string or a whole number, got {key!r}")
        if type_ == ev.RUN_STARTED:
            if key in self.open:
                raise LineError(line, f"run_started for run_id {key!r}, whose run (from line "
                                f"{self.open[key].first_line}) has not finished", self.open[key])
            run = RunInput(key, line, self.clock())
            self.open[key] = run
            self.runs.append(run)
            return run
        if key not in self.open:
            done = [r for r in self.runs if r.key == key]
            if done and type_ == ev.NODE_MARKED:   # a user's mark on a finished run comes after
                return done[-1]                     # its run_finished (``export events`` writes it)
            if done:
                raise LineError(line, f"{type_} after run_finished of run_id {key!r} "
                                f"(line {done[-1].first_line} started it)")
            raise LineError(line, f"{type_} before any run_started"
                            + (f" for run_id {key!r}" if key is not None else ""))
        return self.open[key]

    def _event(self, line: int, obj: dict[str, Any], run: RunInput) -> Event:
        extra = sorted(set(obj) - ENVELOPE)
        if extra:
            raise LineError(line, f"unknown top-level field(s) {', '.join(extra)}: payload fields "
                            "go inside \"payload\"", run)
        expected = run.tree.last_seq + 1
        seq = obj.get("seq", expected)
        if seq != expected or isinstance(seq, bool):
            raise LineError(line, f"seq {seq!r} does not follow {expected - 1} (events of a run "
                            "are numbered 1, 2, 3 … with no gaps)", run)
        t = obj.get("t", round(self.clock() - run.started, 4))
        if not isinstance(t, (int, float)) or isinstance(t, bool) or t < 0:
            raise LineError(line, f"t must be seconds since the run started (a number >= 0), "
                            f"got {t!r}", run)
        node_id = obj.get("node_id")
        if node_id is not None and (not isinstance(node_id, int) or isinstance(node_id, bool)):
            raise LineError(line, f"node_id must be a whole number, got {node_id!r}", run)
        payload = obj.get("payload", {})
        if not isinstance(payload, dict):
            raise LineError(line, "payload must be a JSON object", run)
        if obj["type"] == ev.RUN_FINISHED:   # totals a hand-written log leaves out, from the tree
            tree = run.tree
            payload = {"nodes": len(tree.nodes), "tokens": tree.tokens, "seconds": float(t),
                       **payload}
        event = Event(run.key if run.key is not None else 0, seq, float(t), obj["type"], node_id,
                      payload)
        try:   # the checked payload is the event's typed payload: decoded once, not twice
            event.__dict__["data"] = ev.validate_event(event)
        except ev.EventFormatError as e:
            raise LineError(line, str(e), run) from None
        if event.type == ev.RUN_FINISHED and event.data.outcome not in ev.OUTCOMES:
            raise LineError(line, f"run_finished: outcome must be one of "
                            f"{', '.join(ev.OUTCOMES)}, got {event.data.outcome!r}", run)
        return event

    def _check_tree(self, e: Event, run: RunInput) -> None:
        """What the fold assumes: nodes exist before they are used, one root, no node twice."""
        nodes = run.tree.nodes
        if e.type == ev.NODE_CREATED:
            parent = e.data.parent_id
            if e.node_id in nodes:
                raise ValueError(f"node {e.node_id} is created twice (first on line "
                                 f"{run.created_on.get(e.node_id, '?')})")
            if parent is None and run.tree.root_id is not None:
                raise ValueError(f"a second root (node {run.tree.root_id} is the root; give a "
                                 "parent_id)")
            if parent is not None and parent not in nodes:
                raise ValueError(f"parent {parent} of node {e.node_id} does not exist yet")
        elif e.known and e.data.NODE and e.node_id not in nodes:
            raise ValueError(f"node {e.node_id} does not exist (no node_created before)")
        if e.type == ev.MCTS_BACKPROP:
            missing = [u[0] for u in e.data.updates if not u or int(u[0]) not in nodes]
            if missing:
                raise ValueError(f"updates name node(s) that do not exist: {missing}")
