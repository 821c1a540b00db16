"""A run as an OpenTelemetry trace: ``cli.py export otlp`` and ``cli.py run --live-otlp``.

:class:`OtlpSink` is one more consumer of a run's events (like the storage writer): it folds
them into its own :class:`Tree` and turns them into spans with the standard OpenTelemetry SDK,
sent by the standard OTLP/HTTP protobuf exporter. The same sink serves both uses: ``export``
feeds it a stored log (and the final tree, so node spans carry final states), ``--live-otlp``
feeds it each batch as the run writes it.

* one **run span** (the trace's root) from ``run_started`` to ``run_finished``;
* one **node span** per node, parent span = the node's tree parent (the problem node's parent
  is the run span), from ``node_created`` to ``node_completed``; it is sent when the node
  completes (or gets a verdict, or the run ends);
* one **GenAI client span** per model call (a node's generation; a value prompt's tokens);
* what happens to a node after its span was sent (scores, prunes, backtracks, verdicts, MCTS
  backpropagation) becomes a **span event** on the run span.

Ids are derived from the run (its id and creation time), so exporting a run twice gives the same
trace and span ids. ``docs/otel.md`` lists every attribute.
"""
from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind

from reasoning import events as ev
from reasoning.events import Event
from reasoning.tree import GENERATING, Node, Tree

NODE_EVENTS = (ev.NODE_SCORED, ev.NODE_PRUNED, ev.NODE_BACKTRACKED, ev.NODE_SOLVED,
               ev.NODE_FAILED, ev.NODE_MARKED)


def traces_url(endpoint: str) -> str:
    """``http://host:4318`` or ``…/v1/traces``: the OTLP/HTTP traces URL."""
    endpoint = endpoint.strip().rstrip("/")
    if not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"endpoint: expected an http:// or https:// URL, got {endpoint!r}")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


def check_reachable(endpoint: str, timeout: float = 3.0) -> str:
    """The traces URL, once a TCP connection to its host succeeded (else a ValueError at once,
    instead of the exporter's retries for many seconds)."""
    url = traces_url(endpoint)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as e:
        raise ValueError(f"endpoint: cannot connect to {url} ({e.strerror or e}); is an OTLP/HTTP "
                         "receiver listening there?") from None
    return url


def _digest(*parts: Any, n: int) -> int:
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:n], "big") or 1


def trace_id_for(run_id: int | str, created_at: float) -> int:
    """The run's trace id: the same run always gives the same 128-bit id."""
    return _digest("thinktree", run_id, repr(float(created_at)), n=16)


class _FixedIds(IdGenerator):
    """Gives the SDK the ids we chose (set just before each ``start_span``)."""

    def __init__(self, trace_id: int) -> None:
        self.trace_id, self.span_id = trace_id, 1

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


class LiveOtlp:
    """``run --live-otlp URL``: an ``on_events`` consumer that streams the run's spans."""

    def __init__(self, endpoint: str, store, then=None) -> None:
        check_reachable(endpoint)   # a bad URL or no receiver: a message before the run starts
        self.endpoint, self.store, self.then = endpoint, store, then
        self.sink: OtlpSink | None = None

    def __call__(self, batch: list[Event]) -> None:
        if self.sink is None and batch:
            row = self.store.get_run(batch[0].run_id)
            self.sink = OtlpSink(self.endpoint, batch[0].run_id, row["created_at"])
        if self.sink is not None:
            self.sink(batch)
        if self.then is not None:
            self.then(batch)

    def close(self) -> dict[str, Any]:
        return self.sink.close() if self.sink is not None else {"spans": 0, "failed": 0}


class _Counting(SpanExporter):
    """Wraps the OTLP exporter to count what was sent and what failed (the CLI reports it)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner, self.sent, self.failed = inner, 0, 0

    def export(self, spans) -> SpanExportResult:
        result = self.inner.export(spans)
        if result == SpanExportResult.SUCCESS:
            self.sent += len(spans)
        else:
            self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _attrs(d: dict[str, Any]) -> dict[str, Any]:
    """OTel attribute values: str, bool, int, float or lists of one of them; None left out."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if v is None or v == "":
            continue
        if isinstance(v, (dict, list)) and not (isinstance(v, list) and v and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
            v = json.dumps(v, sort_keys=True)
        out[k] = v
    return out


def node_attributes(n: Node) -> dict[str, Any]:
    """The ``thinktree.*`` (and OpenInference) attributes of a node span."""
    return _attrs({
        "openinference.span.kind": "CHAIN",
        "thinktree.node.id": n.id, "thinktree.node.parent_id": n.parent_id,
        "thinktree.node.depth": n.depth, "thinktree.node.role": n.role,
        "thinktree.state": n.state, "thinktree.value": n.value,
        "thinktree.visits": n.visits or None, "thinktree.value_sum": n.value_sum if n.visits else None,
        "thinktree.reason": n.reason, "thinktree.prune_kind": n.prune_kind,
        "thinktree.duplicate_of": n.duplicate_of, "thinktree.evaluator": n.evaluator,
        "thinktree.truth": n.truth, "thinktree.answer": n.answer, "thinktree.mark": n.mark,
        "thinktree.verdict": n.state if n.state in ("solved", "failed") else None,
        "thinktree.label": n.label, "thinktree.step": n.step, "thinktree.purpose": n.purpose,
        "thinktree.finish_reason": n.finish_reason, "thinktree.prompt_tokens": n.prompt_tokens,
        "thinktree.completion_tokens": n.completion_tokens, "output.value": n.text,
    })


def _run_attributes(tree: Tree, run_id: int | str) -> dict[str, Any]:
    s = tree.started
    model = (s.model if s else {}) or {}
    fin = tree.finished
    return _attrs({
        "openinference.span.kind": "CHAIN", "thinktree.run.id": str(run_id),
        "thinktree.task": s.task if s else None, "thinktree.problem": s.problem if s else None,
        "thinktree.strategy": s.strategy if s else None, "thinktree.params": s.params if s else None,
        "thinktree.seed": s.seed if s else None, "thinktree.protocol": s.protocol if s else None,
        "thinktree.model": model.get("model") or model.get("name") or model.get("kind"),
        "thinktree.outcome": fin.get("outcome"), "thinktree.answer": fin.get("answer"),
        "thinktree.answer_node": fin.get("answer_node"), "thinktree.nodes": fin.get("nodes"),
        "thinktree.tokens": fin.get("tokens"), "thinktree.prompt_tokens": fin.get("prompt_tokens"),
        "thinktree.model_calls": fin.get("model_calls"), "thinktree.detail": fin.get("detail"),
        "input.value": s.problem if s else None, "output.value": fin.get("answer"),
    })


class OtlpSink:
    """Events in, spans out (see the module docstring). Call it with batches; ``close()`` ends."""

    def __init__(self, endpoint: str | None, run_id: int | str, created_at: float,
                 final: Tree | None = None, exporter: SpanExporter | None = None,
                 timeout: float = 10.0) -> None:
        self.run_id, self.t0_ns = run_id, int(created_at * 1e9)
        self.trace_id = trace_id_for(run_id, created_at)
        self.final = final       # the finished run's tree (export): node spans get final states
        self.tree = Tree()
        self._ids = _FixedIds(self.trace_id)
        inner = exporter or OTLPSpanExporter(endpoint=traces_url(endpoint or ""), timeout=timeout)
        self.exporter = _Counting(inner)
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": "thinktree", "thinktree.run.id": str(run_id),
                                     "openinference.project.name": "thinktree"}),
            id_generator=self._ids, span_limits=SpanLimits(max_events=100_000,
                                                           max_span_attributes=256))
        self.provider.add_span_processor(BatchSpanProcessor(
            self.exporter, max_queue_size=100_000, schedule_delay_millis=200,
            max_export_batch_size=512))
        self.tracer = self.provider.get_tracer("thinktree")
        self.run_span: Any = None
        self.node_spans: dict[int, Any] = {}   # node id -> its (ended) span
        self.calls = 0                         # GenAI spans sent
        self._model = "unknown"
        self._operation = "chat"

    # -- ids and times ---------------------------------------------------------------------------
    def span_id(self, *key: Any) -> int:
        return _digest(self.trace_id, *key, n=8)

    def _ns(self, t: float) -> int:
        return self.t0_ns + int(round(t * 1e9))

    def _start(self, name: str, key: tuple, parent: Any, t: float, kind=SpanKind.INTERNAL,
               attributes: dict[str, Any] | None = None):
        self._ids.span_id = self.span_id(*key)
        ctx = otel_trace.set_span_in_context(parent) if parent is not None else None
        return self.tracer.start_span(name, context=ctx, kind=kind, attributes=attributes,
                                      start_time=self._ns(t))

    # -- the sink --------------------------------------------------------------------------------
    def __call__(self, batch: Iterable[Event]) -> None:
        for e in batch:
            self.tree.apply(e)
            handler = getattr(self, f"_on_{e.type}", None)
            if handler is not None:
                handler(e)
            elif e.type in NODE_EVENTS:
                self._node_event(e)

    def _on_run_started(self, e: Event) -> None:
        d: ev.RunStarted = e.data
        self._model = str(d.model.get("model") or d.model.get("name") or d.model.get("kind")
                          or "unknown")
        self._operation = "text_completion" if d.model.get("mode") == "completions" else "chat"
        self.run_span = self._start(f"thinktree {d.strategy} · {d.task}", ("run",), None, e.t,
                                    attributes={"openinference.span.kind": "CHAIN"})

    def _on_node_completed(self, e: Event) -> None:
        self._send_node(e.node_id, e.t)

    def _node_event(self, e: Event) -> None:
        if e.node_id not in self.node_spans:   # a verdict before completion ends the node span
            self._send_node(e.node_id, e.t)
            return
        if e.type == ev.NODE_SCORED and int(e.payload.get("details", {}).get("tokens", 0) or 0):
            self._call_span(self.tree.nodes[e.node_id], e.t, "value", 0,
                            int(e.payload["details"]["tokens"]), key=("value", e.seq))
        n = self.tree.nodes[e.node_id]
        self.run_span.add_event(f"thinktree.{e.type}", timestamp=self._ns(e.t), attributes=_attrs({
            "thinktree.node.id": n.id, "thinktree.state": n.state, "thinktree.value": n.value,
            "thinktree.visits": n.visits or None,
            "thinktree.value_sum": n.value_sum if n.visits else None,
            "thinktree.reason": e.payload.get("reason"), "thinktree.prune_kind": n.prune_kind,
            "thinktree.answer": e.payload.get("answer"), "thinktree.mark": e.payload.get("mark"),
            "thinktree.evaluator": e.payload.get("evaluator")}))

    def _on_mcts_backprop(self, e: Event) -> None:
        d: ev.MctsBackprop = e.data
        self.run_span.add_event("thinktree.mcts_backprop", timestamp=self._ns(e.t), attributes=_attrs({
            "thinktree.node.id": e.node_id, "thinktree.reward": float(d.reward),
            "thinktree.path": [int(x) for x in d.path],
            "thinktree.updates": json.dumps(d.updates)}))

    def _on_run_finished(self, e: Event) -> None:
        for nid in list(self.tree.nodes):
            if nid not in self.node_spans:
                self._send_node(nid, e.t)
        self.run_span.set_attributes(_run_attributes(self.tree, self.run_id))
        self.run_span.end(end_time=self._ns(e.t))

    # -- spans -----------------------------------------------------------------------------------
    def _send_node(self, nid: int, t_end: float) -> None:
        n = self.tree.nodes[nid]
        shown = self.final.nodes.get(nid, n) if self.final is not None else n
        parent = self.node_spans.get(n.parent_id) if n.parent_id is not None else self.run_span
        name = f"{n.role} {nid}" + (f" · {shown.label}" if shown.label else "")
        attributes = node_attributes(shown)
        if self.final is not None:
            attributes["thinktree.final"] = True   # the receiver skips later updates of it
        span = self._start(name[:120], ("node", nid), parent, n.t_created, attributes=attributes)
        if n.state == GENERATING or n.completion_tokens or n.prompt_tokens or (
                n.purpose and n.role != "problem"):
            self._call_span(n, t_end, n.purpose or n.role, n.prompt_tokens, n.completion_tokens,
                            key=("call", nid), parent=span, t_start=n.t_created)
        span.end(end_time=self._ns(max(t_end, n.t_created)))
        self.node_spans[nid] = span

    def _call_span(self, n: Node, t_end: float, purpose: str, prompt: int, completion: int,
                   key: tuple, parent: Any = None, t_start: float | None = None) -> None:
        parent = parent if parent is not None else self.node_spans.get(n.id)
        t_start = t_end if t_start is None else t_start
        span = self._start(f"{self._operation} {self._model}", key, parent, t_start,
                           kind=SpanKind.CLIENT, attributes=_attrs({
                               "openinference.span.kind": "LLM",
                               "gen_ai.operation.name": self._operation,
                               "gen_ai.request.model": self._model,
                               "gen_ai.usage.input_tokens": int(prompt),
                               "gen_ai.usage.output_tokens": int(completion),
                               "gen_ai.response.finish_reasons":
                                   [n.finish_reason] if n.finish_reason and purpose != "value"
                                   else None,
                               "llm.model_name": self._model,
                               "llm.token_count.prompt": int(prompt),
                               "llm.token_count.completion": int(completion),
                               "thinktree.call.node": n.id, "thinktree.call.purpose": purpose}))
        span.end(end_time=self._ns(max(t_end, t_start)))
        self.calls += 1

    def close(self) -> dict[str, Any]:
        """Send what is queued and stop; the counts of spans sent and failed."""
        self.provider.force_flush()
        self.provider.shutdown()
        return {"spans": self.exporter.sent, "failed": self.exporter.failed,
                "nodes": len(self.node_spans), "model_calls": self.calls,
                "trace_id": f"{self.trace_id:032x}"}


def export_runs(store, run_ids: list[int], endpoint: str) -> dict[str, Any]:
    """Send each stored run as one trace; raises ValueError when spans could not be sent."""
    from reasoning.tree import fold
    check_reachable(endpoint)
    out = []
    for rid in run_ids:
        row = store.get_run(rid)
        if row is None:
            raise ValueError(f"runs: no run {rid} in {store.url}")
        events = store.events(rid)
        sink = OtlpSink(endpoint, rid, row["created_at"], final=fold(events))
        sink(events)
        if sink.run_span is not None and sink.tree.outcome is None:   # still running: close here
            sink._on_run_finished(Event(rid, sink.tree.last_seq + 1, sink.tree.t, ev.RUN_FINISHED,
                                        None, {"outcome": "running"}))
        got = sink.close()
        if got["failed"] or not got["spans"]:
            raise ValueError(f"endpoint: {got['failed']} span(s) of run {rid} could not be sent "
                             f"to {traces_url(endpoint)} (is an OTLP/HTTP receiver listening?)")
        out.append({"run_id": rid, **got})
    return {"endpoint": traces_url(endpoint), "runs": out,
            "spans": sum(r["spans"] for r in out)}
