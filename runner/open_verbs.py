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
