"""Verbs over many runs: ``experiment``, ``compare``, ``synthetic``."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from reasoning.tasks import TASKS
from runner.synthetic import store_synthetic
from storage import open_store

from .common import model_config, parallel_arg, parse_float, parse_int, probed


def register(sub) -> None:
    x = sub.add_parser("experiment", help="run problems x strategies x budgets x seeds; ends with "
                       "one JSON line of results")
    x.add_argument("--resume", default=None, metavar="ID", help="continue experiment ID (finished "
                   "cells are not rerun)")
    x.add_argument("--task", default="game24", help=f"one of: {', '.join(TASKS)} (default game24)")
    x.add_argument("--task-file", default="", help="a JSONL file of problems (then --problems are "
                   "line indices, e.g. 0-9)")
    x.add_argument("--problems", default="901-910", help="ids or ranges: 901-910 or 1,4,7-9")
    x.add_argument("--strategies", default="greedy,mcts", help="comma separated, with optional "
                   "params: greedy,mcts:simulations=20")
    x.add_argument("--budgets", default="4000", help="comma separated (default 4000)")
    x.add_argument("--budget-kind", default="tokens",
                   choices=["tokens", "nodes", "calls", "prompt_tokens", "total_tokens"],
                   help="what a budget counts: generated tokens (default), nodes, model calls, "
                   "prompt tokens or prompt + generated tokens")
    x.add_argument("--seeds", default="0", help="comma separated (default 0)")
    x.add_argument("--concurrency", default="1", help="cells run at once (default 1)")
    x.add_argument("--worker", default=None, metavar="NAME",
                   help="share the cells with other worker processes on the same database "
                        "(each needs its own NAME; use with --resume ID)")
    x.add_argument("--stale-after", default="60", metavar="S",
                   help="seconds without a heartbeat before a dead worker's cells are taken over "
                        "(default 60)")
    x.add_argument("--executor", default=None, choices=["local", "ray"],
                   help="where the cells run: local (a thread pool in this process, the default) "
                        "or ray (one Ray task per cell, on a cluster; see docs/scale.md)")
    x.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="with --executor ray: auto, HOST:PORT or ray://HOST:PORT of a running "
                        "cluster (default: start a local Ray on this machine, loopback only)")
    x.add_argument("--ray-dashboard", action="store_true",
                   help="with --executor ray and no --ray-address: start Ray's dashboard too "
                        "(needs ray[default])")
    x.add_argument("--max-seconds", default="600", help="time limit per cell (default 600)")
    x.add_argument("--name", default="", help="a name for the experiment")
    x.add_argument("--protocol", default="constrained", choices=["constrained", "tot"],
                   help="for beam and dfs: constrained (default) or tot (the paper's prompts, "
                   "Game of 24); a strategy label's own protocol= wins")
    x.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (default: the "
                   "embedded model)")
    x.add_argument("--model", default=None, help="model name at the endpoint; without --base-url, "
                   "'random' is the random-legal-step baseline")
    x.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    x.add_argument("--mode", default=None, choices=["chat", "completions"])
    x.add_argument("--parallel", default=None, metavar="N", help="model calls in flight at once "
                   "within each run (an endpoint's parallel slots; default 1, or with --probe the "
                   "slots it measured); the trees are the same for any N")
    x.add_argument("--probe", action="store_true", help="probe the endpoint first and use what it "
                   "supports (constraints, usage in stream, parallel slots)")
    x.add_argument("--quiet", action="store_true", help="no progress bar")
    x.add_argument("--db", default=None)
    x.set_defaults(handler=cmd_experiment)
    c = sub.add_parser("compare", help="metrics of two runs and where the shortcut leaves the "
                       "solved path, as JSON")
    c.add_argument("run_a")
    c.add_argument("run_b")
    c.add_argument("--db", default=None)
    c.set_defaults(handler=cmd_compare)
    y = sub.add_parser("synthetic", help="store a synthetic tree (no model) to try big-tree views")
    y.add_argument("--nodes", default="100000", help="how many nodes (default 100000)")
    y.add_argument("--seed", default="0")
    y.add_argument("--db", default=None)
    y.set_defaults(handler=cmd_synthetic)


def _progress_bar(p) -> None:
    width = 30
    filled = int(width * p.fraction)
    eta = "" if p.eta_s is None else f" ETA {int(p.eta_s // 60)}m{int(p.eta_s % 60):02d}s"
    now = f" | {p.current[0]}" if p.current else ""
    line = f"[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} solved {p.solved}{eta}{now}"
    if sys.stderr.isatty():
        print("\r" + line[:150].ljust(150), end="" if p.status == "running" else "\n",
              file=sys.stderr, flush=True)
    else:
        print(line, file=sys.stderr, flush=True)


def cmd_experiment(args: argparse.Namespace) -> int:
    from runner import experiments as exp
    store = open_store(args.db)
    if args.resume:
        eid = parse_int("resume", args.resume)
        exp.load_config(store, eid)
    else:
        model = {} if not (args.base_url or args.model) else dataclasses.asdict(
            probed(args, model_config(args, parallel=parallel_arg(args))))
        seconds = parse_float("max-seconds", args.max_seconds)
        config = exp.ExperimentConfig(
            task=args.task, problems=args.problems, task_file=args.task_file,
            strategies=args.strategies, budgets=args.budgets, budget_kind=args.budget_kind,
            seeds=args.seeds, concurrency=parse_int("concurrency", args.concurrency),
            max_seconds=seconds, model=model, name=args.name, protocol=args.protocol,
            executor=args.executor or ("ray" if args.ray_address else "local"),
            ray_address=args.ray_address or "", ray_dashboard=args.ray_dashboard)
        eid = exp.create_experiment(config, store)
    print(f"experiment {eid}", file=sys.stderr, flush=True)
    try:
        exp.run_experiment(eid, store, progress=None if args.quiet else _progress_bar,
                           worker=args.worker,
                           stale_after=parse_float("stale_after", args.stale_after),
                           executor=args.executor if args.resume else None,
                           ray_address=args.ray_address if args.resume else None)
    except KeyboardInterrupt:
        print(f"\nstopped; resume with: python cli.py experiment --resume {eid}", file=sys.stderr)
        raise
    print(json.dumps(exp.summary(store, eid)))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from reasoning.compare import compare
    from runner.views import final_tree
    store = open_store(args.db)
    trees = []
    for name in ("run_a", "run_b"):
        rid = parse_int(name, getattr(args, name))
        if store.get_run(rid) is None:
            raise ValueError(f"{name}: no run {rid} in {store.url}")
        trees.append(final_tree(store, rid))
    out = compare(*trees)
    keys = ["strategy", "outcome", "answer", "nodes", "model_calls", "prompt_tokens",
            "completion_tokens", "seconds", "solution_depth", "first_correct_s"]
    a, b = out["runs"]
    print(f"{'run':<18}{a['run_id']!s:>28}{b['run_id']!s:>28}", file=sys.stderr)
    for k in keys:
        print(f"{k:<18}{str(a[k])[:26]:>28}{str(b[k])[:26]:>28}", file=sys.stderr)
    d = out["divergence"]
    print(f"divergence: {d['reason']}", file=sys.stderr)
    print(json.dumps(out))
    return 0


def cmd_synthetic(args: argparse.Namespace) -> int:
    n = parse_int("nodes", args.nodes)
    if not 1 <= n <= 1_000_000:
        raise ValueError(f"nodes: must be between 1 and 1000000, got {n}")
    run_id, n_events = store_synthetic(open_store(args.db), n, seed=parse_int("seed", args.seed))
    print(json.dumps({"run_id": run_id, "nodes": n, "events": n_events}))
    return 0
