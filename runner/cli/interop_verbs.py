"""Verbs that open Thinktree to other code: ``check`` (plug-in contract), ``ingest`` and
``export events`` (JSONL event logs in and out).

``register(sub)`` adds the sub-parsers, each bound to its handler with ``set_defaults``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub) -> None:
    ck = sub.add_parser("check", help="check the plug-ins in a folder (or one file) against the "
                        "strategy / evaluator / task contracts; prints JSON, exit 1 on a failure")
    ck.add_argument("path", help="a plug-in folder or one plug-in file")
    ck.set_defaults(handler=cmd_check)
    ig = sub.add_parser("ingest", help="store runs from a JSONL event log (docs/events.md): a "
                        "file, or - for standard input as it is written (the Live page follows "
                        "it); prints one JSON line with the new run_id")
    ig.add_argument("source", help="FILE.jsonl, or - for standard input")
    ig.add_argument("--db", default=None, help="database file or URL (default $THINKTREE_DB or "
                    "./thinktree.db)")
    ig.set_defaults(handler=cmd_ingest)


def cmd_check(args: argparse.Namespace) -> int:
    from reasoning.plugin_check import check_folder
    if not Path(args.path).exists():
        raise ValueError(f"path: no file or folder {args.path!r}")
    report = check_folder(args.path)
    for e in report["errors"]:
        print(f"FAIL  {e['file']}: {e['error']}", file=sys.stderr)
    for r in report["plugins"]:
        for c in r["checks"]:
            print(f"{'ok  ' if c['ok'] else 'FAIL'}  {r['kind']} {r['name']}: {c['check']}: "
                  f"{c['detail']}", file=sys.stderr)
            if not c["ok"] and c.get("traceback"):
                print(c["traceback"], file=sys.stderr)
    if not report["plugins"] and not report["errors"]:
        print(f"FAIL  no task, strategy or evaluator class found in {args.path}", file=sys.stderr)
    print(json.dumps(report))
    return 0 if report["ok"] else 1


def cmd_ingest(args: argparse.Namespace) -> int:
    from runner.ingest import ingest_file, ingest_stream
    from storage import open_store
    store = open_store(args.db)
    if args.source == "-":
        out = ingest_stream(sys.stdin, store)
    else:
        path = Path(args.source)
        if not path.is_file():
            raise ValueError(f"source: no file {args.source!r}")
        with path.open(encoding="utf-8-sig") as f:   # a BOM from an editor is not an error
            out = ingest_file(f, store)
    for w in out.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    print(json.dumps(out))
    return 0


def export_events(store, run_ids: list[int], out: str) -> dict:
    """Write the runs' events, one JSON object per line, in the format ``ingest`` reads."""
    n = 0
    f = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
    try:
        for rid in run_ids:
            for e in store.events(rid):
                f.write(e.to_json() + "\n")
                n += 1
    finally:
        if f is not sys.stdout:
            f.close()
    return {"runs": len(run_ids), "events": n, "out": out}
