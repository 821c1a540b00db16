"""``cli.py ingest``: store event logs written by other programs (see :mod:`reasoning.event_stream`).

Two ways in, one rule — a run with a bad line is not kept:

* **a file** is read and checked to the end first; only if every line is good are its runs
  stored (nothing at all is stored otherwise);
* **standard input** (``-``) is stored *as it arrives*, so the Live page shows the tree while the
  other program is still writing: a run's row appears with its ``run_started`` line and its
  events follow in small batches (at least every 0.1 s while lines keep coming, and whenever the
  writer pauses). A bad line ends the ingest and **deletes** the runs it has not finished (their
  rows and events; a Live page watching one sees it disappear); runs that already reached
  ``run_finished`` stay.

A run whose input ends before its ``run_finished`` (the writer crashed or was stopped) is kept
and closed with outcome ``interrupted``, like a Thinktree run whose process died.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from reasoning.event_stream import EventReader, LineError, RunInput
from reasoning.events import Event
from storage import RunHandle, Store, open_run

BATCH = 500          # events per write when lines arrive fast
IDLE_FLUSH_S = 0.1   # write what is pending when no line came for this long


class IngestError(ValueError):
    """A bad line; the message names it and says which runs were not kept."""


@dataclass
class _Stored:
    run: RunInput
    handle: RunHandle
    written: int = 1                       # events of run.events already in the database

    @property
    def run_id(self) -> int:
        return self.handle.run_id


def _create(store: Store, run: RunInput) -> RunHandle:
    """The run opened through the door with its run_started line (stored as event 1)."""
    return open_run(store, run.events[0])


def _write(store: Store, s: _Stored) -> None:
    batch = [Event(s.run_id, e.seq, e.t, e.type, e.node_id, e.payload)
             for e in s.run.events[s.written:]]
    if batch:
        s.handle.append(batch)
        s.written += len(batch)


def _close_input_ended(store: Store, s: _Stored, last_line: int) -> None:
    """The input ended before this run's run_finished: keep it, closed as interrupted."""
    tree = s.run.tree
    s.handle.close_as_interrupted(f"the input ended (line {last_line}) before run_finished",
                               nodes=len(tree.nodes), tokens=tree.tokens, seconds=tree.t)


def _summary(stored: list[_Stored], events: int, warnings: list[str]) -> dict[str, Any]:
    ids = [s.run_id for s in stored]
    out: dict[str, Any] = {"run_id": ids[0] if ids else None, "run_ids": ids, "events": events,
                           "outcomes": [s.run.tree.outcome or "interrupted" for s in stored]}
    if warnings:
        out["warnings"] = warnings
    return out


def _warnings(runs: list[RunInput]) -> list[str]:
    return [f"run from line {r.first_line}: kept events of unknown type(s) "
            f"{', '.join(sorted(r.unknown_types))}" for r in runs if r.unknown_types]


def ingest_file(lines: Iterable[str], store: Store) -> dict[str, Any]:
    """Check every line, then store every run (all or nothing)."""
    reader = EventReader()
    n = 0
    for n, text in enumerate(lines, 1):
        try:
            reader.feed(n, text)
        except LineError as e:
            raise IngestError(f"{e}; nothing was stored") from None
    if not reader.runs:
        raise IngestError("no events in the input (the first line must be a run_started event)")
    stored = []
    for run in reader.runs:
        s = _Stored(run, _create(store, run))
        for i in range(1, len(run.events), BATCH * 4):
            s.handle.append([Event(s.run_id, e.seq, e.t, e.type, e.node_id, e.payload)
                             for e in run.events[i:i + BATCH * 4]])
        if not run.finished:
            _close_input_ended(store, s, n)
        stored.append(s)
    return _summary(stored, sum(len(r.events) for r in reader.runs), _warnings(reader.runs))


def ingest_stream(stream: IO[str], store: Store) -> dict[str, Any]:
    """Store runs from ``stream`` while it is being written (see the module docstring)."""
    lines: queue.Queue[str | None] = queue.Queue(maxsize=10_000)

    def pump() -> None:   # a thread, so a pause of the writer never holds back pending events
        try:
            for text in stream:
                lines.put(text)
        finally:
            lines.put(None)

    threading.Thread(target=pump, name="thinktree-ingest-reader", daemon=True).start()
    reader = EventReader()
    stored: dict[int, _Stored] = {}     # by id(RunInput)
    n, last_write = 0, time.monotonic()
    while True:
        try:
            text = lines.get(timeout=IDLE_FLUSH_S)
        except queue.Empty:
            _flush(store, stored)
            last_write = time.monotonic()
            continue
        if text is None:
            break
        n += 1
        try:
            got = reader.feed(n, text)
        except LineError as e:
            raise IngestError(_drop_unfinished(store, stored, e)) from None
        if got is None:
            continue
        run, event = got
        if id(run) not in stored:
            stored[id(run)] = _Stored(run, _create(store, run))
        s = stored[id(run)]
        if run.finished or len(run.events) - s.written >= BATCH or \
                time.monotonic() - last_write >= IDLE_FLUSH_S:
            _flush(store, stored)
            last_write = time.monotonic()
    if not reader.runs:
        raise IngestError("no events in the input (the first line must be a run_started event)")
    _flush(store, stored)
    for s in stored.values():
        if not s.run.finished:
            _close_input_ended(store, s, n)
    return _summary(list(stored.values()), sum(len(r.events) for r in reader.runs),
                    _warnings(reader.runs))


def _flush(store: Store, stored: dict[int, _Stored]) -> None:
    for s in stored.values():
        _write(store, s)


def _drop_unfinished(store: Store, stored: dict[int, _Stored], err: LineError) -> str:
    dropped = [s for s in stored.values() if not s.run.finished]
    for s in dropped:
        s.handle.discard()
    kept = [s.run_id for s in stored.values() if s.run.finished]
    what = (f"; run {', '.join(str(s.run_id) for s in dropped)} (not finished) was deleted"
            if dropped else "")
    return f"{err}{what}" + (f"; finished run(s) {kept} were kept" if kept else "")
