"""The ``export`` verb: training data (pairs, step values, traces) as JSONL."""
from __future__ import annotations

import argparse
import json
import sys

from storage import open_store

from .common import parse_float, parse_int


def register(sub) -> None:
    x = sub.add_parser("export", help="write training data (pairs, step values, traces) as JSONL")
    x.add_argument("kind", choices=["pairs", "values", "traces", "graph", "events", "otlp"],
                   help="graph: the runs' trees as a networkx graph (--out FILE.graphml or .json); "
                   "events: the runs' event logs as JSONL, what 'ingest' reads (--out - for "
                   "standard output); otlp: each run as one OpenTelemetry trace sent to --endpoint")
    src = x.add_mutually_exclusive_group(required=True)
    src.add_argument("--runs", help="run ids, comma separated: 3,4,7")
    src.add_argument("--experiment", help="every run of this experiment id")
    x.add_argument("--out", default=None, help="FILE.jsonl (train rows; all rows without --split); "
                   "required except for otlp")
    x.add_argument("--endpoint", default=None, metavar="URL", help="otlp: the OTLP/HTTP receiver "
                   "(default $OTEL_EXPORTER_OTLP_ENDPOINT or http://127.0.0.1:4318)")
    x.add_argument("--split", default="0", help="validation fraction by problem, e.g. 0.1: also "
                   "writes FILE.val.jsonl (default 0)")
    x.add_argument("--only-solved", action="store_true", help="only runs with a solved path")
    x.add_argument("--min-depth", default=None, help="keep rows whose step depth is >= N")
    x.add_argument("--max-depth", default=None, help="keep rows whose step depth is <= N")
    x.add_argument("--keep-duplicates", action="store_true", help="do not drop identical rows")
    x.add_argument("--include-open", action="store_true", help="pairs: also reject open siblings "
                   "the search never returned to")
    x.add_argument("--prompt-format", default="task", choices=["task", "chat", "plain"])
    x.add_argument("--whole", action="store_true", help="traces: the whole exploration with "
                   "backtracks as one chain of thought")
    x.add_argument("--compute-rollouts", default="0", metavar="N", help="values: first give "
                   "every step N completions of its own (draws the missing rollouts on the run's "
                   "model; stored in the run)")
    x.add_argument("--dataset-dir", default=None, help="also write a Hugging Face-style dataset "
                   "folder here")
    x.add_argument("--db", default=None)
    x.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    if args.out is None and args.kind != "otlp":
        raise ValueError(f"out: export {args.kind} needs --out FILE")
    if args.kind == "graph":
        from .session_verbs import cmd_export_graph
        return cmd_export_graph(args)
    from reasoning.export import Filters
    from runner.export import draw_missing_rollouts, export_to_files, parse_ids, rollout_budget, run_ids_for
    split = parse_float("split", args.split, "a fraction like 0.1")
    filters = Filters(only_solved=args.only_solved, dedupe=not args.keep_duplicates,
                      min_depth=None if args.min_depth is None else parse_int("min-depth", args.min_depth),
                      max_depth=None if args.max_depth is None else parse_int("max-depth", args.max_depth),
                      include_open=args.include_open, prompt_format=args.prompt_format,
                      whole=args.whole)
    n_rollouts = parse_int("compute-rollouts", args.compute_rollouts)
    store = open_store(args.db)
    ids = run_ids_for(store, parse_ids(args.runs) if args.runs else None,
                      None if args.runs else parse_int("experiment", args.experiment))
    if args.kind == "otlp":
        from .otel_verbs import cmd_export_otlp
        return cmd_export_otlp(args, ids)
    if args.kind == "events":
        from runner.cli.interop_verbs import export_events
        counts = export_events(store, ids, args.out)
        print(json.dumps(counts), file=sys.stderr if args.out == "-" else sys.stdout)
        return 0
    rollouts = None
    if n_rollouts > 0:
        est = rollout_budget(store, ids, n_rollouts, filters)
        print(f"drawing rollouts: {est['rollouts']} rollouts for {est['nodes']} steps, at most "
              f"{est['max_model_calls']} model calls, ~{est['est_seconds']:g} s at "
              f"{est['seconds_per_step']:g} s per call ({est['seconds_per_step_source']})",
              file=sys.stderr, flush=True)
        rollouts = {"estimate": est, **draw_missing_rollouts(store, ids, n_rollouts, filters)}
    counts = export_to_files(store, args.kind, ids, args.out, split, filters, args.dataset_dir)
    if rollouts is not None:
        counts["rollouts"] = rollouts
    print(json.dumps(counts))
    return 0
