"""OTLP receiver (``serve-otlp``): spans received per second into the store, and the delay from a
span's end to its node being readable by the Live page's reader (``runner.views.open_view``).

Baselines in the same run: the same trees as Thinktree JSONL through ``ingest`` (the other door
for outside programs), and the same spans recorded with ``thinktree.Trace`` (the in-process door).
"""
from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import threading
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from runner.ingest import ingest_file
from runner.otlp_server import OtlpServer
from runner.views import open_view
from storage import open_store

BATCH = 512   # the OTel SDK's BatchSpanProcessor default export batch


def _kv(key: str, value) -> KeyValue:
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _tree_spans(trace_no: int, n: int) -> list[Span]:
    """A tree of ``n`` spans (each node's parent is an earlier one, parents sent first)."""
    trace_id = (trace_no + 1).to_bytes(16, "big")
    t0 = time.time_ns()
    spans = []
    for i in range(n):
        parent = b"" if i == 0 else ((i - 1) // 3 + 1).to_bytes(8, "big")
        spans.append(Span(trace_id=trace_id, span_id=(i + 1).to_bytes(8, "big"),
                          parent_span_id=parent, name=f"step {i}",
                          start_time_unix_nano=t0 + i * 1000, end_time_unix_nano=t0 + i * 1000 + 500,
                          attributes=[_kv("thinktree.state", "pruned" if i % 4 == 3 else "open"),
                                      _kv("thinktree.value", i / n),
                                      _kv("output.value", f"{i} + 3 = {i + 3} (left: {i + 3})")]))
    return spans


def _bodies(spans: list[Span]) -> list[bytes]:
    out = []
    for i in range(0, len(spans), BATCH):
        req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
            resource={"attributes": [_kv("service.name", "bench")]},
            scope_spans=[ScopeSpans(spans=spans[i:i + BATCH])])])
        out.append(req.SerializeToString())
    return out


def _jsonl(n: int) -> list[str]:
    """The same tree as Thinktree events (what an outside program would write for ingest)."""
    import json
    lines = [json.dumps({"type": "run_started", "payload": {"task": "bench", "problem": "p",
                                                            "strategy": "x"}})]
    for i in range(n):
        parent = None if i == 0 else (i - 1) // 3
        lines.append(json.dumps({"type": "node_created", "node_id": i, "payload": {
            "parent_id": parent, "depth": 0 if i == 0 else 1, "label": f"step {i}"}}))
        lines.append(json.dumps({"type": "node_completed", "node_id": i, "payload": {
            "text": f"{i} + 3 = {i + 3} (left: {i + 3})"}}))
        lines.append(json.dumps({"type": "node_scored", "node_id": i, "payload": {"value": i / n}}))
        if i % 4 == 3:
            lines.append(json.dumps({"type": "node_pruned", "node_id": i, "payload": {"reason": "x"}}))
    lines.append(json.dumps({"type": "run_finished", "payload": {"outcome": "failed"}}))
    return lines


def throughput(n_spans: int, traces: int) -> tuple[float, float, float, float]:
    """Spans/s over HTTP into the store and ingest's nodes/s on the same trees, each by the wall
    clock and per CPU second of this process (server, client and store are all in it: on a
    shared machine the wall clock also counts other programs' turns)."""
    with tempfile.TemporaryDirectory() as d:
        store = open_store(os.path.join(d, "otlp.db"))
        srv = OtlpServer(store, port=0, idle_timeout=60).start()
        bodies = [b for k in range(traces) for b in _bodies(_tree_spans(k, n_spans // traces))]
        host, port = srv.httpd.server_address[:2]
        conn = http.client.HTTPConnection(host, port, timeout=60)
        t, c = time.perf_counter(), time.process_time()
        for body in bodies:
            conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
        # each request is stored before its reply
        otlp, otlp_cpu = n_spans / (time.perf_counter() - t), n_spans / (time.process_time() - c)
        srv.stop()
        store2 = open_store(os.path.join(d, "ingest.db"))
        lines = [line for _ in range(traces) for line in _jsonl(n_spans // traces)]
        t, c = time.perf_counter(), time.process_time()
        ingest_file(lines, store2)
        return (otlp, n_spans / (time.perf_counter() - t), otlp_cpu,
                n_spans / (time.process_time() - c))


def _follow(store, run_ids: list, ends: dict[int, float], seen: dict[int, float], n: int,
            stop: threading.Event) -> None:
    """The Live page's reader, polling as fast as it can: when did each node become readable?"""
    while not run_ids and not stop.is_set():
        time.sleep(0.005)
    view = None
    while len(seen) < n and not stop.is_set():
        if view is None and run_ids:
            view = open_view(store, run_ids[0])
        if view is not None:
            view.poll()
            now = time.perf_counter()
            for nid in view.tree.nodes:
                seen.setdefault(nid, now)
        time.sleep(0.01)


def live_delay(n: int, gap_s: float) -> tuple[list[float], list[float]]:
    """Delays (s) span end -> node readable, for OTLP (OTel SDK, 100 ms batches) and for Trace."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from thinktree import Trace
    out = []
    with tempfile.TemporaryDirectory() as d:
        for door in ("otlp", "trace"):
            db = os.path.join(d, f"{door}.db")
            store = open_store(db)
            ends: dict[int, float] = {}
            seen: dict[int, float] = {}
            run_ids: list = []
            stop = threading.Event()
            reader = threading.Thread(target=_follow, args=(store, run_ids, ends, seen, n, stop))
            reader.start()
            if door == "otlp":
                srv = OtlpServer(store, port=0, idle_timeout=60).start()
                provider = TracerProvider()
                provider.add_span_processor(BatchSpanProcessor(
                    OTLPSpanExporter(endpoint=srv.url + "/v1/traces"), schedule_delay_millis=100))
                tracer = provider.get_tracer("bench")
                parent = None
                for i in range(n):
                    ctx = trace.set_span_in_context(parent) if parent is not None else None
                    span = tracer.start_span(f"step {i}", context=ctx)
                    span.end()
                    ends[i] = time.perf_counter()
                    parent = parent or span
                    if i == 0:
                        _wait_run(store, run_ids)
                    time.sleep(gap_s)
                provider.shutdown()
            else:
                with Trace(db=db, task="bench", problem="p") as tr:
                    run_ids.append(tr.run_id)
                    root = None
                    for i in range(n):
                        nid = tr.root("p") if root is None else tr.step(root, f"step {i}")
                        root = root if root is not None else nid
                        ends[i] = time.perf_counter()
                        time.sleep(gap_s)
            reader.join(timeout=10)
            stop.set()
            if door == "otlp":
                srv.stop()
            out.append([seen[i] - ends[i] for i in range(n) if i in seen])
    return out[0], out[1]


def _wait_run(store, run_ids: list) -> None:
    deadline = time.monotonic() + 5
    while not store.list_runs() and time.monotonic() < deadline:
        time.sleep(0.005)
    run_ids.extend(r["id"] for r in store.list_runs()[:1])


def _p(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0]


def run(quick: bool) -> list[dict]:
    n, traces = (10_000, 4) if quick else (40_000, 8)
    otlp, ingest, otlp_cpu, ingest_cpu = throughput(n, traces)
    load = os.getloadavg()[0]
    rows = [{"what": "OTLP/HTTP spans received into the store (protobuf, 512 per request)",
             "work": f"{n:,} spans, {traces} traces (load average {load:.1f} on "
                     f"{os.cpu_count()} cores)",
             "measured": f"{otlp:,.0f} spans/s wall; {otlp_cpu:,.0f} spans per CPU second",
             "target": "≥ 5,000 spans/s",
             "baseline": f"ingest of the same trees as JSONL: {ingest:,.0f} nodes/s wall, "
                         f"{ingest_cpu:,.0f} per CPU second (×{otlp / ingest:.2f} wall)",
             "ok": otlp >= 5_000}]
    otel, rec = live_delay(30 if quick else 60, 0.05)
    rows.append({"what": "span end → node readable by the Live page's reader (OTel SDK, 100 ms "
                         "batches → serve-otlp)",
                 "work": f"{len(otel)} spans, one every 50 ms",
                 "measured": f"p50 {_p(otel, 50) * 1000:.0f} ms, p95 {_p(otel, 95) * 1000:.0f} ms, "
                             f"max {max(otel) * 1000:.0f} ms",
                 "target": "≤ 1 s",
                 "baseline": f"thinktree.Trace in-process: p50 {_p(rec, 50) * 1000:.0f} ms, "
                             f"p95 {_p(rec, 95) * 1000:.0f} ms",
                 "ok": max(otel) <= 1.0})
    return rows
