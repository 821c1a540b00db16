"""``cli.py serve-otlp``: an OTLP/HTTP receiver that turns traces into Thinktree runs as they arrive.

One run per trace id. Each span becomes events in the public format, checked by the same
:class:`~reasoning.event_stream.EventReader` that ``cli.py ingest`` uses and written by the same
functions (:mod:`runner.ingest`), so the Live page shows the tree growing and Sessions replays it.

The mapping rule (``docs/otel.md``):

* a span with ``thinktree.run.id`` (the run span of a Thinktree export) is not a node: its
  ``thinktree.outcome`` closes the run and its ``thinktree.node_*`` span events update nodes;
* a span with ``thinktree.call.node`` (a Thinktree model-call span) is not a node;
* a span with any other ``thinktree.*`` attribute is a node: state ``thinktree.state``, value
  ``thinktree.value``, visits ``thinktree.visits``, text from ``output.value`` or the GenAI output;
* in a trace without such attributes every span is a node under its parent span; a span with
  status ERROR is a failed node. (A trace that has shown a marked node skips unmarked spans.)
* a span whose parent span has not arrived waits for it; when the trace closes, spans still
  waiting hang under the root. A span with ``thinktree.outcome`` ends the run with that outcome;
  a trace that sends nothing for ``idle_timeout`` seconds is closed ``interrupted``.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from reasoning import events as ev
from reasoning.event_stream import EventReader, LineError
from reasoning.tree import FAILED
from storage import Store

from .ingest import _close_input_ended, _create, _Stored, _write
from .otlp_decode import STATUS_ERROR, OtlpError, SpanIn, decode_request

VERDICTS = {"pruned": ev.NodePruned, "backtracked": ev.NodeBacktracked, "solved": ev.NodeSolved,
            "failed": ev.NodeFailed}
TEXT_KEYS = ("output.value", "gen_ai.completion", "gen_ai.output.text", "llm.output_messages")


def _marked(s: SpanIn) -> bool:
    """Does the span carry node attributes (``thinktree.*`` other than run, call, outcome)?"""
    for k in s.attrs:
        if k.startswith("thinktree.") and not k.startswith(_NOT_NODE):
            return True
    return False


_NOT_NODE = ("thinktree.run.", "thinktree.call.", "thinktree.outcome")


@dataclass
class _Trace:
    key: str
    t0_ns: int
    stored: _Stored | None = None
    seen: dict[str, Any] = field(default_factory=dict)    # span id -> node id, or None (no node)
    waiting: dict[str, list[SpanIn]] = field(default_factory=dict)   # parent span id -> spans
    marked: bool = False
    final: set[int] = field(default_factory=set)
    next_id: int = 0   # nodes whose span carried their final state
    outcome: str | None = None
    answer: str | None = None
    last: float = field(default_factory=time.monotonic)
    line: int = 0
    spans: int = 0


class Receiver:
    """Spans in, runs out; thread-safe (one lock: a request is applied whole)."""

    def __init__(self, store: Store, idle_timeout: float = 30.0) -> None:
        self.store, self.idle_timeout = store, idle_timeout
        self.reader = EventReader()
        self.traces: dict[str, _Trace] = {}
        self.lock = threading.Lock()
        self.spans = 0

    # -- requests ----------------------------------------------------------------------------------
    def accept(self, body: bytes, content_type: str, encoding: str = "") -> int:
        """Decode, check and store one request; returns the spans taken. OtlpError if malformed
        (then nothing of it is stored)."""
        spans = decode_request(body, content_type, encoding)
        with self.lock:
            touched = {}
            for s in spans:
                tr = self._trace(s)
                tr.spans += 1
                self._place(tr, s)
                touched[tr.key] = tr
            for tr in touched.values():
                if tr.stored.run.finished:   # spans of a closed trace (a re-export): kept out
                    continue
                if tr.outcome is not None:
                    self._finish(tr)
                elif tr.stored is not None:
                    _write(self.store, tr.stored)
            self.spans += len(spans)
        return len(spans)

    def _trace(self, s: SpanIn) -> _Trace:
        tr = self.traces.get(s.trace_id)
        if tr is None:
            tr = self.traces[s.trace_id] = _Trace(s.trace_id, s.start_ns)
            service = str(s.resource.get("service.name", "") or "otel")
            self._emit(tr, ev.RUN_STARTED, None, ev.RunStarted(
                task="otel", problem=f"{service}: {s.name}"[:200], strategy="otel",
                params={"trace_id": s.trace_id}, model={"name": service, "kind": "external"},
                extra={"source": "serve-otlp"}).to_payload(), s.start_ns)
        tr.last = time.monotonic()
        return tr

    # -- spans -> nodes ----------------------------------------------------------------------------
    def _place(self, tr: _Trace, s: SpanIn) -> None:
        if tr.stored is None or tr.stored.run.finished:
            return   # the run is closed: later spans of its trace are not added
        marked = _marked(s)
        if "thinktree.run.id" in s.attrs or ("thinktree.outcome" in s.attrs and not marked):
            tr.seen[s.span_id] = None
            self._run_span(tr, s)
            return
        if "thinktree.call.node" in s.attrs or (tr.marked and not marked):
            tr.seen[s.span_id] = None
            self._release(tr, s.span_id)
            return
        tr.marked = tr.marked or marked
        parent = self._parent_node(tr, s)
        if parent is False:   # the parent span has not arrived: wait for it
            tr.waiting.setdefault(self._wait_key(s), []).append(s)
            return
        self._node(tr, s, parent)

    def _wait_key(self, s: SpanIn) -> str:
        if isinstance(s.attrs.get("thinktree.node.id"), int):
            return f"node:{s.attrs.get('thinktree.node.parent_id')}"
        return str(s.parent_id)

    def _parent_node(self, tr: _Trace, s: SpanIn) -> int | None | bool:
        """The parent's node id, None for a root, False if its parent span is still to come."""
        if isinstance(s.attrs.get("thinktree.node.id"), int):   # ids of its own: they say
            pid = s.attrs.get("thinktree.node.parent_id")          # the parent (none: a root)
            if isinstance(pid, int):
                return pid if pid in tr.stored.run.tree.nodes else False
            return None
        if s.parent_id is None:
            return None
        if s.parent_id not in tr.seen:
            return False
        got = tr.seen[s.parent_id]
        return got   # None: a run span or a skipped span (the node hangs where it would)

    def _node(self, tr: _Trace, s: SpanIn, parent: int | None) -> None:
        tree = tr.stored.run.tree
        if parent is None and tree.root_id is not None:
            parent = tree.root_id   # a second top-level span joins the first one's tree
        nid = s.attrs.get("thinktree.node.id")
        if not isinstance(nid, int) or nid in tree.nodes:
            nid = tr.next_id
        tr.next_id = max(tr.next_id, nid + 1)
        a = s.attrs
        depth = 0 if parent is None else tree.nodes[parent].depth + 1
        role = str(a.get("thinktree.node.role") or ("problem" if parent is None else "thought"))
        label = a.get("thinktree.label") or s.name
        self._emit(tr, ev.NODE_CREATED, nid, ev.NodeCreated(
            parent_id=parent, depth=depth, role=role, label=str(label)[:80]).to_payload(),
            s.start_ns)
        text = next((a[k] for k in TEXT_KEYS if isinstance(a.get(k), str)), "")
        state = a.get("thinktree.state")
        if state != "generating":
            self._emit(tr, ev.NODE_COMPLETED, nid, _drop_none({
                "text": text, "step": a.get("thinktree.step"), "label": a.get("thinktree.label"),
                "finish_reason": a.get("thinktree.finish_reason"), "purpose": a.get("thinktree.purpose"),
                "answer": _str(a.get("thinktree.answer")),
                "prompt_tokens": _count(a, "thinktree.prompt_tokens", "gen_ai.usage.input_tokens"),
                "completion_tokens": _count(a, "thinktree.completion_tokens",
                                            "gen_ai.usage.output_tokens")}), s.end_ns)
        self._scores(tr, nid, a, s.end_ns)
        if state is None and s.status_code == STATUS_ERROR:
            state = FAILED
        self._verdict(tr, nid, state, a, s.end_ns, s.status_message)
        if a.get("thinktree.final") is True:   # a finished run's export: its states are final
            tr.final.add(nid)
        tr.seen[s.span_id] = nid
        if a.get("thinktree.outcome") is not None:   # a script's last node may end the run
            self._outcome(tr, a)
        self._release(tr, s.span_id, nid)

    def _scores(self, tr: _Trace, nid: int, a: dict[str, Any], t_ns: int) -> None:
        value, visits = a.get("thinktree.value"), a.get("thinktree.visits")
        if value is None and visits is None:
            return
        self._emit(tr, ev.NODE_SCORED, nid, _drop_none({
            "value": None if value is None else float(value),
            "evaluator": _str(a.get("thinktree.evaluator")) or "otel", "visits": visits,
            "value_sum": a.get("thinktree.value_sum") if visits is not None else None,
            "truth": a.get("thinktree.truth") if isinstance(a.get("thinktree.truth"), bool) else None}),
            t_ns)

    def _verdict(self, tr: _Trace, nid: int, state: Any, a: dict[str, Any], t_ns: int,
                 message: str = "") -> None:
        cls = VERDICTS.get(state)
        if cls is None:
            return
        payload: dict[str, Any] = {"reason": _str(a.get("thinktree.reason")) or message or state}
        if state == "pruned" and a.get("thinktree.prune_kind"):
            payload["kind"] = str(a["thinktree.prune_kind"])
        if state in ("solved", "failed") and a.get("thinktree.answer") is not None:
            payload["answer"] = str(a["thinktree.answer"])
        self._emit(tr, cls.TYPE, nid, payload, t_ns)

    def _release(self, tr: _Trace, span_id: str, nid: int | None = None) -> None:
        """Spans that waited for this span (or for this node id) go in now."""
        keys = [span_id] + ([f"node:{nid}"] if nid is not None else [])
        for key in keys:
            for child in tr.waiting.pop(key, []):
                self._place(tr, child)

    def _run_span(self, tr: _Trace, s: SpanIn) -> None:
        """A Thinktree run span: its node updates (live export), then the outcome."""
        nodes = tr.stored.run.tree.nodes
        for name, t_ns, a in s.events:
            if name == "thinktree.mcts_backprop":
                self._backprop(tr, a, t_ns)
                continue
            nid = a.get("thinktree.node.id")
            if not name.startswith("thinktree.node_") or nid not in nodes or nid in tr.final:
                continue
            self._scores(tr, nid, a, t_ns)
            state = a.get("thinktree.state")
            if state != nodes[nid].state:
                self._verdict(tr, nid, state, a, t_ns)
        self._release(tr, s.span_id)
        self._outcome(tr, s.attrs)

    def _backprop(self, tr: _Trace, a: dict[str, Any], t_ns: int) -> None:
        try:
            updates = [[int(u[0]), int(u[1]), float(u[2])] for u in
                       json.loads(str(a.get("thinktree.updates", "[]")))]
        except (ValueError, TypeError, IndexError):
            return   # not ours to judge: an update we cannot read changes nothing
        nodes = tr.stored.run.tree.nodes
        updates = [u for u in updates if u[0] in nodes and u[0] not in tr.final]
        nid = a.get("thinktree.node.id")
        if updates:
            self._emit(tr, ev.MCTS_BACKPROP, nid if nid in nodes else updates[-1][0], {
                "reward": float(a.get("thinktree.reward", 0.0) or 0.0), "updates": updates,
                "path": [u[0] for u in updates]}, t_ns)

    def _outcome(self, tr: _Trace, a: dict[str, Any]) -> None:
        outcome = a.get("thinktree.outcome")   # none: a run exported while it was running
        tr.outcome = "interrupted" if not outcome else \
            str(outcome) if str(outcome) in ev.OUTCOMES else "answered"
        tr.answer = _str(a.get("thinktree.answer"))

    # -- closing -----------------------------------------------------------------------------------
    def _adopt_waiting(self, tr: _Trace) -> None:
        """Spans whose parent never came: under the root (the first becomes it if none)."""
        while tr.waiting:
            key = next(iter(tr.waiting))
            for s in sorted(tr.waiting.pop(key), key=lambda x: x.start_ns):
                s.parent_id = None
                s.attrs.pop("thinktree.node.parent_id", None)
                self._place(tr, s)

    def _finish(self, tr: _Trace) -> None:
        self._adopt_waiting(tr)
        tree = tr.stored.run.tree
        payload = _drop_none({"outcome": tr.outcome, "answer": tr.answer, "nodes": len(tree.nodes),
                              "tokens": tree.tokens, "prompt_tokens": tree.prompt_tokens,
                              "seconds": tree.t})
        self._emit(tr, ev.RUN_FINISHED, None, payload, None)
        _write(self.store, tr.stored)

    def close_idle(self, now: float | None = None) -> list[int]:
        """Close every open trace idle for ``idle_timeout`` as ``interrupted``; their run ids."""
        now = time.monotonic() if now is None else now
        closed = []
        with self.lock:
            for tr in list(self.traces.values()):
                if tr.stored is None or tr.stored.run.finished or now - tr.last < self.idle_timeout:
                    continue
                self._adopt_waiting(tr)
                _write(self.store, tr.stored)
                _close_input_ended(self.store, tr.stored, tr.line)
                tr.stored.run.finished = True
                closed.append(tr.stored.run_id)
        return closed

    def close_all(self) -> list[int]:
        return self.close_idle(now=float("inf"))

    # -- events ------------------------------------------------------------------------------------
    def _emit(self, tr: _Trace, type_: str, node_id: int | None, payload: dict[str, Any],
              t_ns: int | None) -> None:
        tr.line += 1
        obj: dict[str, Any] = {"run_id": tr.key, "type": type_, "node_id": node_id,
                               "payload": payload}
        obj["t"] = (round(max(0, t_ns - tr.t0_ns) / 1e9, 6) if t_ns is not None
                    else round(tr.stored.run.tree.t, 6))
        try:
            run, _ = self.reader.feed_obj(tr.line, obj)
        except LineError as e:   # a span the rule cannot place (should not happen after checks)
            raise OtlpError(f"trace {tr.key}: {e}") from None
        if tr.stored is None:
            tr.stored = _Stored(run, _create(self.store, run))


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _count(a: dict[str, Any], *keys: str) -> int:
    for k in keys:
        v = a.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            return v
    return 0
