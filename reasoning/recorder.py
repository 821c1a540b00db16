"""The Recorder: the one place events are made.

It numbers events (``seq`` 1, 2, 3 … with no gaps), stamps ``t``, folds each into its own live
:class:`Tree` (so budgets read the same state every consumer sees), batches streamed token text
(one ``tokens`` event per node about every 100 ms, never one per token), and hands events to a
sink in batches. The sink is any callable taking a list of events (storage writer, a list, …).
"""
from __future__ import annotations

import time
from collections.abc import Callable

from . import events as ev
from .events import Event
from .tree import Tree, fold

Sink = Callable[[list[Event]], None]

TOKEN_FLUSH_S = 0.1
SINK_FLUSH_S = 0.1


class Recorder:
    def __init__(self, run_id: int | str, sink: Sink | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run_id = run_id
        self.sink = sink
        self.clock = clock
        self.t0 = clock()
        self.tree = Tree()
        self.events: list[Event] = []   # everything emitted (kept for the caller)
        self._pending: list[Event] = []
        self._last_sink = self.t0
        self._tok_buf: dict[int, list[str]] = {}
        self._reason_buf: dict[int, list[str]] = {}
        self._tok_last: dict[int, float] = {}
        self.streamed_tokens = 0        # chunk count while streaming, for live token budgets
        self._next_node = 0

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def new_node_id(self) -> int:
        nid = self._next_node
        self._next_node += 1
        return nid

    def emit(self, data: ev.Payload, node_id: int | None = None) -> Event:
        """Number, stamp, fold and queue one event around the typed payload ``data``."""
        if not isinstance(data, ev.Payload):
            raise TypeError(f"Recorder.emit takes a typed payload (reasoning.events), "
                            f"got {type(data).__name__}")
        if node_id is not None and not isinstance(data, ev.Tokens):
            self._flush_tokens(node_id)
        e = Event.of(self.run_id, self.tree.last_seq + 1, round(self.elapsed(), 4), data, node_id)
        self.tree.apply(e)
        self.events.append(e)
        self._pending.append(e)
        if isinstance(data, (ev.RunFinished, ev.RunStarted)) or \
                self.clock() - self._last_sink >= SINK_FLUSH_S:
            self.flush()
        return e

    def resume(self, events: list[Event]) -> None:
        """Continue a stored run: fold its ``events`` and go on numbering after them.

        New events extend the run (same ids, next seq, ``t`` after its last event); exports use
        this to add rollouts to a finished run. Nothing already stored is emitted again.
        """
        if self.events or self.tree.last_seq:
            raise RuntimeError("resume() needs a fresh Recorder")
        self.tree = fold(events)
        self.t0 = self.clock() - self.tree.t
        self._next_node = max(self.tree.nodes, default=-1) + 1

    def tokens(self, node_id: int, text: str, reasoning: str = "") -> None:
        self.streamed_tokens += 1
        self._tok_buf.setdefault(node_id, []).append(text)
        self._reason_buf.setdefault(node_id, []).append(reasoning)
        now = self.clock()
        if now - self._tok_last.get(node_id, self.t0) >= TOKEN_FLUSH_S:
            self._flush_tokens(node_id)

    def _flush_tokens(self, node_id: int) -> None:
        text = "".join(self._tok_buf.pop(node_id, []))
        reasoning = "".join(self._reason_buf.pop(node_id, []))
        self._tok_last[node_id] = self.clock()
        if text or reasoning:
            self.emit(ev.Tokens(text=text, reasoning=reasoning or None), node_id)

    def flush(self) -> None:
        for nid in list(self._tok_buf):
            self._flush_tokens(nid)
        if self._pending and self.sink is not None:
            batch, self._pending = self._pending, []
            self.sink(batch)
        else:
            self._pending = []
        self._last_sink = self.clock()
