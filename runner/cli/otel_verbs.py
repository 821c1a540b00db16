"""OpenTelemetry both ways: ``serve-otlp`` (traces in) and ``export otlp`` (runs out, see
``export_verbs``); ``run --live`` streams a run's spans while it goes. ``docs/otel.md`` has the
mapping."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from storage import open_store

from .common import parse_float, parse_int

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"


def default_endpoint() -> str:
    """``$OTEL_EXPORTER_OTLP_ENDPOINT`` (the OTel SDK's own variable) or the local collector port."""
    return os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_ENDPOINT


def register(sub) -> None:
    s = sub.add_parser("serve-otlp", help="receive OpenTelemetry traces over OTLP/HTTP "
                       "(POST /v1/traces, protobuf or JSON) and store each trace as a run")
    s.add_argument("--port", default="4318", help="default 4318 (the OTLP/HTTP port)")
    s.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    s.add_argument("--idle-timeout", default="30", metavar="S", help="close a trace that sends "
                   "nothing for S seconds as interrupted (default 30)")
    s.add_argument("--db", default=None)
    s.set_defaults(handler=cmd_serve_otlp)


def cmd_serve_otlp(args: argparse.Namespace) -> int:
    from runner.otlp_server import OtlpServer
    port = parse_int("port", args.port)
    if not 0 <= port <= 65535:
        raise ValueError(f"port: must be between 0 and 65535, got {port}")
    idle = parse_float("idle-timeout", args.idle_timeout, "seconds")
    if idle <= 0:
        raise ValueError(f"idle-timeout: must be more than 0 seconds, got {idle:g}")
    store = open_store(args.db)
    try:
        server = OtlpServer(store, args.host, port, idle)
    except OSError as e:
        raise ValueError(f"port: cannot listen on {args.host}:{port} ({e.strerror})") from None
    print(json.dumps({"listening": server.url + "/v1/traces", "db": store.url}),
          file=sys.stderr, flush=True)
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)   # a service manager's stop ends it like Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    closed = server.stop()
    runs = sorted({tr.stored.run_id for tr in server.receiver.traces.values() if tr.stored})
    print(json.dumps({"runs": runs, "spans": server.receiver.spans, "interrupted": closed}))
    return 0


def cmd_export_otlp(args: argparse.Namespace, ids: list[int]) -> int:
    from runner.otlp_export import export_runs
    out = export_runs(open_store(args.db), ids, args.endpoint or default_endpoint())
    print(json.dumps(out))
    return 0
