"""A depth-first search traced with OpenTelemetry only (no Thinktree import).

The puzzle: from 1, reach the target with the moves ``+3``, ``*2`` and ``-1`` in at most
``--depth`` moves. Each search node is one span whose parent span is the node it was reached
from, so any OTLP viewer sees the tree; ``python cli.py serve-otlp`` turns it into a Thinktree run
the Live page shows growing. The ``thinktree.*`` attributes are optional: without them every span
is still a node, just without states and values.

    python cli.py serve-otlp --port 4318 --db runs.db          # one terminal
    python examples/otel/dfs_search.py --endpoint http://127.0.0.1:4318 --delay 0.3

A node span ends as soon as the node is made (its state is known then), not after its children:
a span reaches a receiver when it ends, and a child whose parent has not arrived must wait for it.
"""
from __future__ import annotations

import argparse
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

MOVES = (("+3", lambda x: x + 3), ("*2", lambda x: x * 2), ("-1", lambda x: x - 1))


def make_tracer(endpoint: str) -> tuple[trace.Tracer, TracerProvider]:
    provider = TracerProvider(resource=Resource.create({"service.name": "dfs-example"}))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    # a short delay: spans leave about every 0.1 s, so a viewer follows the search as it goes
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=100))
    return provider.get_tracer("dfs-example"), provider


def node(tracer: trace.Tracer, parent, name: str, value: int, **attrs) -> trace.Span:
    """One search node: a span under ``parent``'s span, ended at once."""
    ctx = trace.set_span_in_context(parent) if parent is not None else None
    span = tracer.start_span(name, context=ctx, attributes={
        "output.value": name, "thinktree.value": float(value), **attrs})
    span.end()
    return span


def dfs(tracer, parent, x: int, target: int, depth: int, delay: float, seen: set[int]) -> bool:
    """Try each move from ``x``; True once the target is reached (the search stops there)."""
    for move, step in sorted(MOVES, key=lambda m: abs(target - m[1](x))):
        y = step(x)
        time.sleep(delay)   # stands in for a model proposing the step
        value = -abs(target - y)
        if y == target:
            node(tracer, parent, f"{x} {move} = {y}", value, **{
                "thinktree.state": "solved", "thinktree.answer": str(y), "thinktree.outcome": "solved",
                "thinktree.reason": f"reached {target}"})
            return True
        if y in seen or y <= 0 or y > 2 * target:
            node(tracer, parent, f"{x} {move} = {y}", value, **{
                "thinktree.state": "pruned",
                "thinktree.reason": "seen before" if y in seen else "out of range"})
            continue
        if depth == 1:
            node(tracer, parent, f"{x} {move} = {y}", value, **{
                "thinktree.state": "backtracked", "thinktree.reason": "no moves left"})
            continue
        seen.add(y)
        span = node(tracer, parent, f"{x} {move} = {y}", value, **{"thinktree.state": "open"})
        if dfs(tracer, span, y, target, depth - 1, delay, seen):
            return True
    return False


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--endpoint", default="http://127.0.0.1:4318", help="an OTLP/HTTP receiver")
    p.add_argument("--target", type=int, default=23)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--delay", type=float, default=0.2, help="seconds per step (default 0.2)")
    args = p.parse_args()
    tracer, provider = make_tracer(args.endpoint)
    root = node(tracer, None, f"start at 1, reach {args.target}", -abs(args.target - 1),
                **{"thinktree.state": "open"})
    solved = dfs(tracer, root, 1, args.target, args.depth, args.delay, {1})
    if not solved:   # a span with only thinktree.outcome ends the run (it is not a node)
        tracer.start_span("search exhausted", context=trace.set_span_in_context(root),
                          attributes={"thinktree.outcome": "failed"}).end()
    provider.shutdown()   # sends what is still queued
    print(f"trace {root.get_span_context().trace_id:032x}: {'solved' if solved else 'failed'}")


if __name__ == "__main__":
    main()
