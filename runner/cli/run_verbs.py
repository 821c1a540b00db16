"""Verbs about single runs: ``run``, ``show``, ``probe``, ``tasks``."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from reasoning import events as ev
from reasoning import plugins
from reasoning.evaluators import EVALUATORS
from reasoning.events import Event
from reasoning.models.base import ModelConnectError
from reasoning.settings import Budget
from reasoning.strategies import STRATEGIES
from reasoning.tasks import TASKS, JsonlTask, get_task, list_tasks
from storage import open_store

from .common import api_key, model_config, parallel_arg, parse_float, parse_int, probed, summary


def register(sub) -> None:
    r = sub.add_parser("run", help="run one search and print its JSON summary",
                       epilog=_plugin_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--task", default="game24", help=f"one of: {', '.join(TASKS)} (default game24)")
    r.add_argument("--problem", default=None,
                   help="problem text, or a bundled problem id (Game of 24: the rank; default "
                   "'4 5 6 10' for game24, else the first bundled problem)")
    r.add_argument("--task-file", default="", metavar="PATH",
                   help="a JSONL task file (question, answer, checker); --problem is then an id "
                   "or a 1-based position")
    r.add_argument("--strategy", default="greedy", help="one of: " + ", ".join(
        f"{n} ({c.title})" for n, c in STRATEGIES.items()))
    b = Budget()
    r.add_argument("--max-nodes", type=str, default=str(b.max_nodes), help=f"default {b.max_nodes}")
    r.add_argument("--max-tokens", type=str, default=str(b.max_tokens), help=f"default {b.max_tokens}")
    r.add_argument("--max-seconds", type=str, default=str(b.max_seconds),
                   help=f"default {b.max_seconds:g}")
    r.add_argument("--max-prompt-tokens", default=None, metavar="N",
                   help="limit on prompt tokens read, all calls (default: none)")
    r.add_argument("--max-total-tokens", default=None, metavar="N",
                   help="limit on prompt + generated tokens (default: none)")
    r.add_argument("--max-calls", default=None, metavar="N",
                   help="limit on model calls of every purpose (default: none)")
    r.add_argument("--seed", type=str, default="0", help="default 0")
    r.add_argument("--db", default=None, help="database file or URL (default $THINKTREE_DB or "
                   "./thinktree.db)")
    r.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (default: the "
                   "embedded model)")
    r.add_argument("--model", default=None, help="model name at the endpoint; without --base-url, "
                   "'random' is the baseline that picks uniformly random legal steps (no server)")
    r.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    r.add_argument("--mode", default=None, choices=["chat", "completions"])
    r.add_argument("--price-in", default="0", metavar="USD", help="$ per million prompt tokens "
                   "(optional; adds a cost to the run)")
    r.add_argument("--price-out", default="0", metavar="USD", help="$ per million generated tokens")
    r.add_argument("--parallel", default=None, metavar="N", help="model calls in flight at once "
                   "(an endpoint's parallel slots; default 1, or with --probe the slots it "
                   "measured); the tree is the same for any N")
    r.add_argument("--probe", action="store_true", help="probe the endpoint first and use what it "
                   "supports (grammar / guided_choice constraints, usage in stream)")
    r.add_argument("--quiet", action="store_true", help="no progress lines")
    r.add_argument("--live", action="store_true", help="also stream the run as an OpenTelemetry "
                   "trace while it goes (OTLP/HTTP to --endpoint; docs/otel.md)")
    r.add_argument("--endpoint", default=None, metavar="URL", help="with --live: the OTLP/HTTP "
                   "receiver (default $OTEL_EXPORTER_OTLP_ENDPOINT or http://127.0.0.1:4318)")
    dests = _strategy_flags(r)
    r.set_defaults(handler=lambda args: cmd_run(args, dests))

    pr = sub.add_parser("probe", help="test what an endpoint supports; prints JSON")
    pr.add_argument("--base-url", default=None, help="default: the embedded model server")
    pr.add_argument("--model", default=None, help="default: the first model the endpoint lists")
    pr.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    pr.add_argument("--timeout", default="20", help="seconds per request (default 20)")
    pr.set_defaults(handler=cmd_probe)
    sub.add_parser("tasks", help="list every task (built-in and plug-in) as JSON") \
        .set_defaults(handler=cmd_tasks)
    s = sub.add_parser("show", help="print the JSON summary of a stored run")
    s.add_argument("run_id")
    s.add_argument("--db", default=None)
    s.add_argument("--traceback", action="store_true", help="also print the traceback of a run "
                   "that stopped on an error in the code (before the JSON line)")
    s.set_defaults(handler=cmd_show)


def _strategy_flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """One flag per strategy setting and per evaluator setting (``--prm-model``, built-ins and
    plug-ins alike); returns {dest: params key}."""
    owners: dict[str, list[tuple[str, Any]]] = {}
    for name, cls in STRATEGIES.items():
        for f in dataclasses.fields(cls.Settings):
            owners.setdefault(f.name, []).append((name, f.default))
    group = parser.add_argument_group("strategy settings (defaults per strategy)")
    dests = {}
    for field_name, users in owners.items():
        flag = "--" + field_name.replace("_", "-")
        dest = "p_" + field_name
        defaults = ", ".join(f"{s}: {d}" for s, d in users)
        group.add_argument(flag, dest=dest, default=None, metavar="X", help=f"default {defaults}")
        dests[dest] = field_name
    for name, cls in EVALUATORS.items():
        if cls.Settings is None:
            continue
        group = parser.add_argument_group(f"evaluator {name} settings: {cls.title}")
        for f in dataclasses.fields(cls.Settings):
            key = f"{name}_{f.name}"
            if key in owners:  # a strategy setting of that name wins; never crash the parser
                continue
            group.add_argument("--" + key.replace("_", "-"), dest="p_" + key, default=None,
                               metavar="X", help=f"default {f.default!r}")
            dests["p_" + key] = key
    return dests


def _plugin_epilog() -> str:
    bad = [f"  {e['file']}: {e['error']}" for e in plugins.errors()]
    return ("plug-ins that failed to load (the rest work):\n" + "\n".join(bad)) if bad else ""


def _progress(batch: list[Event]) -> None:
    for e in batch:
        if e.type in (ev.NODE_SOLVED, ev.NODE_FAILED, ev.NODE_PRUNED, ev.NODE_BACKTRACKED):
            state = e.type.split("_", 1)[1]
            print(f"[{e.t:7.2f}s] node {e.node_id:>4} {state:<11} {e.payload.get('reason', '')[:90]}",
                  file=sys.stderr, flush=True)
        elif e.type == ev.NODE_COMPLETED and e.payload.get("step"):
            print(f"[{e.t:7.2f}s] node {e.node_id:>4} step        {e.payload['step']}",
                  file=sys.stderr, flush=True)
        elif e.type == ev.RUN_FINISHED:
            print(f"[{e.t:7.2f}s] finished: {e.payload.get('outcome')} "
                  f"{e.payload.get('detail', '')}", file=sys.stderr, flush=True)


def _default_problem(args: argparse.Namespace) -> str:
    if args.problem is not None:
        return args.problem
    if args.task == "game24" and not args.task_file:
        return "4 5 6 10"
    task = JsonlTask(args.task_file) if args.task_file else get_task(args.task)
    problems = task.problems()
    if not problems:
        raise ValueError(f"problem: task {task.name} has no bundled problems; give --problem")
    return problems[0].id


def cmd_run(args: argparse.Namespace, dests: dict[str, str]) -> int:
    from runner import RunSpec, execute
    params = {field: getattr(args, dest) for dest, field in dests.items()
              if getattr(args, dest) is not None}
    prices = {"price_in": parse_float("price_in", args.price_in),
              "price_out": parse_float("price_out", args.price_out)}
    model = probed(args, model_config(args, prices, parallel_arg(args)))
    # settings that do not belong to the chosen strategy are an error, not silently ignored
    spec = RunSpec(task=args.task, problem=_default_problem(args), strategy=args.strategy,
                   params=params, budget={"max_nodes": args.max_nodes,
                                          "max_tokens": args.max_tokens,
                                          "max_seconds": args.max_seconds,
                                          "max_prompt_tokens": args.max_prompt_tokens,
                                          "max_total_tokens": args.max_total_tokens,
                                          "max_calls": args.max_calls},
                   seed=parse_int("seed", args.seed), model=model, task_file=args.task_file)
    store = open_store(args.db)
    on_events = None if args.quiet else _progress
    live = None
    if args.live:
        from runner.otlp_export import LiveOtlp

        from .otel_verbs import default_endpoint
        on_events = live = LiveOtlp(args.endpoint or default_endpoint(), store, then=on_events)
    run_id, result = execute(spec, store, on_events=on_events)
    out = summary(store, run_id)
    if live is not None:
        out["otlp"] = live.close()
    print(json.dumps(out))
    if result.outcome == "error" and result.detail.startswith(ModelConnectError.kind):
        # the run is recorded (outcome error); the exit code and last stderr line say why
        print(f"error: {result.detail} ({args.base_url or 'embedded model'})", file=sys.stderr)
        return 1
    if result.extra.get("traceback"):  # a bug in a strategy, evaluator or plug-in: say where
        cause, db = result.detail.partition("\n")[0], f" --db {args.db}" if args.db else ""
        print(f"error: run {run_id} stopped on an error in the code: {cause} "
              f"(traceback: python cli.py show {run_id} --traceback{db})", file=sys.stderr)
        return 1
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from reasoning.models.probe import probe
    timeout = parse_float("timeout", args.timeout, "seconds")
    url = args.base_url
    if not url:
        from reasoning.models.embedded import embedded_model
        url = embedded_model().base_url
    print(json.dumps(probe(url, args.model, api_key(args.api_key_env), timeout=timeout)))
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    print(json.dumps({"tasks": list_tasks(), "errors": plugins.errors()}))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    run_id = parse_int("run_id", args.run_id)
    out = summary(store, run_id)
    if args.traceback:  # kept in the run's closing event (engine.run_search)
        last = store.events(run_id, after_seq=max(0, store.last_seq(run_id) - 1))
        trace = last[0].payload.get("traceback") if last and last[0].type == ev.RUN_FINISHED else None
        print(trace.rstrip() if trace else f"run {run_id} has no traceback (outcome {out['outcome']})")
    print(json.dumps(out))
    return 0
