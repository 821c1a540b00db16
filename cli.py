"""Thinktree without a browser.

    python cli.py run --task game24 --problem "4 5 6 10" --strategy greedy
    python cli.py run --strategy mcts --simulations 50 --seed 1 --db runs.db
    python cli.py show RUN_ID
    python cli.py export pairs --runs 3,4 --out pairs.jsonl --split 0.1
    python cli.py run --task-file my_tasks.jsonl --problem 3
    python cli.py probe --base-url http://localhost:8000/v1 --api-key-env MY_KEY
    python cli.py tasks

``run`` prints progress on stderr and ends with one JSON line on stdout:
``{"run_id", "outcome", "answer", "nodes", "tokens", "events", "seconds"}``; ``outcome`` is one of
solved, failed, answered (an answer no verifier can judge: free questions), budget, error,
cancelled. ``probe`` prints the endpoint's capability report as JSON; ``tasks`` lists every task
(built-in and plug-in, see ``THINKTREE_TASK_PATH``) and plug-in errors as JSON. Bad input ends with a
one-line message on stderr and exit code 2, never a traceback. Every strategy's settings are
flags (``--simulations``, ``--c-uct`` …), generated from the strategy's settings dataclass.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from reasoning import events as ev
from reasoning.events import Event
from reasoning.models.base import ModelConnectError, ModelError
from reasoning.models.config import ModelConfig
from reasoning.settings import Budget
from reasoning.strategies import STRATEGIES
from reasoning.tasks import TASKS, ensure_plugins
from runner import open_verbs
from storage import StorageError, open_store


def _strategy_flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """One flag per strategy setting and per evaluator setting (``--prm-model``, built-ins and
    plug-ins alike); returns {dest: params key}."""
    from reasoning.evaluators import EVALUATORS
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
    from reasoning.plugins import errors
    bad = [f"  {e['file']}: {e['error']}" for e in errors()]
    return ("plug-ins that failed to load (the rest work):\n" + "\n".join(bad)) if bad else ""


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, str]]:
    p = argparse.ArgumentParser(prog="cli.py", description="Thinktree: watch language models "
                                "reason by search.")
    sub = p.add_subparsers(dest="cmd", required=True)
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
    r.add_argument("--seed", type=str, default="0", help="default 0")
    r.add_argument("--db", default=None, help="database file or URL (default $THINKTREE_DB or "
                   "./thinktree.db)")
    r.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (default: the "
                   "embedded model)")
    r.add_argument("--model", default=None, help="model name at the endpoint")
    r.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    r.add_argument("--mode", default=None, choices=["chat", "completions"])
    r.add_argument("--price-in", default="0", metavar="USD", help="$ per million prompt tokens "
                   "(optional; adds a cost to the run)")
    r.add_argument("--price-out", default="0", metavar="USD", help="$ per million generated tokens")
    r.add_argument("--parallel", default="1", metavar="N", help="model calls in flight at once "
                   "(an endpoint's parallel slots; default 1); the tree is the same for any N")
    r.add_argument("--probe", action="store_true", help="probe the endpoint first and use what it "
                   "supports (grammar / guided_choice constraints, usage in stream)")
    r.add_argument("--quiet", action="store_true", help="no progress lines")
    dests = _strategy_flags(r)
    pr = sub.add_parser("probe", help="test what an endpoint supports; prints JSON")
    pr.add_argument("--base-url", default=None, help="default: the embedded model server")
    pr.add_argument("--model", default=None, help="default: the first model the endpoint lists")
    pr.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    pr.add_argument("--timeout", default="20", help="seconds per request (default 20)")
    sub.add_parser("tasks", help="list every task (built-in and plug-in) as JSON")
    s = sub.add_parser("show", help="print the JSON summary of a stored run")
    s.add_argument("run_id")
    s.add_argument("--db", default=None)
    _export_parser(sub)
    _experiment_parsers(sub)
    open_verbs.register(sub)
    return p, dests


def _export_parser(sub) -> None:
    x = sub.add_parser("export", help="write training data (pairs, step values, traces) as JSONL")
    x.add_argument("kind", choices=["pairs", "values", "traces"])
    src = x.add_mutually_exclusive_group(required=True)
    src.add_argument("--runs", help="run ids, comma separated: 3,4,7")
    src.add_argument("--experiment", help="every run of this experiment id")
    x.add_argument("--out", required=True, help="FILE.jsonl (train rows; all rows without --split)")
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


def _float(name: str, value: str, expected: str = "a number") -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}: expected {expected}, got {value!r}") from None


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None


def summary(store, run_id: int) -> dict[str, Any]:
    row = store.get_run(run_id)
    if row is None:
        raise ValueError(f"run_id: no run {run_id} in {store.engine.url}")
    out = {"run_id": row["id"], "outcome": row["outcome"], "answer": row["answer"],
           "nodes": row["nodes"], "tokens": row["tokens"], "events": row["events"],
           "seconds": row["seconds"]}
    out["protocol"] = (row.get("params") or {}).get("protocol", "constrained")
    from storage.experiments import finished_payloads
    fin = finished_payloads(store, [run_id]).get(run_id, {})
    out.update({k: fin[k] for k in FINISHED_FIGURES if k in fin})
    return out


# figures of run_finished that the summary repeats when a run has them
FINISHED_FIGURES = ("chains", "chains_correct", "correct_any", "correct_top1", "false_prunes",
                    "false_prunes_threshold", "false_prunes_capacity", "false_keeps", "auc")


def _api_key(env: str | None) -> str | None:
    import os
    if not env:
        return None
    key = os.environ.get(env)
    if not key:
        raise ModelError(f"the environment variable {env} is not set")
    return key


def _default_problem(args: argparse.Namespace) -> str:
    if args.problem is not None:
        return args.problem
    if args.task == "game24" and not args.task_file:
        return "4 5 6 10"
    from reasoning.tasks import JsonlTask, get_task
    task = JsonlTask(args.task_file) if args.task_file else get_task(args.task)
    problems = task.problems()
    if not problems:
        raise ValueError(f"problem: task {task.name} has no bundled problems; give --problem")
    return problems[0].id


def cmd_run(args: argparse.Namespace, dests: dict[str, str]) -> int:
    from runner import RunSpec, execute
    params = {field: getattr(args, dest) for dest, field in dests.items()
              if getattr(args, dest) is not None}
    prices = {"price_in": _float("price_in", args.price_in), "price_out": _float("price_out", args.price_out)}
    model = ModelConfig(**prices) if not args.base_url else ModelConfig(
        kind="endpoint", base_url=args.base_url, model=args.model or "",
        api_key_env=args.api_key_env or "", mode=args.mode or "chat",
        parallel=_int("parallel", args.parallel), **prices)
    if args.probe and args.base_url:
        from reasoning.models.probe import probe
        model = model.with_probe(probe(args.base_url, args.model, _api_key(args.api_key_env)))
    # settings that do not belong to the chosen strategy are an error, not silently ignored
    spec = RunSpec(task=args.task, problem=_default_problem(args), strategy=args.strategy,
                   params=params, budget={"max_nodes": args.max_nodes,
                                          "max_tokens": args.max_tokens,
                                          "max_seconds": args.max_seconds},
                   seed=_int("seed", args.seed), model=model, task_file=args.task_file)
    store = open_store(args.db)
    run_id, result = execute(spec, store, on_events=None if args.quiet else _progress)
    print(json.dumps(summary(store, run_id)))
    if result.outcome == "error" and result.detail.startswith(ModelConnectError.kind):
        # the run is recorded (outcome error); the exit code and last stderr line say why
        print(f"error: {result.detail} ({args.base_url or 'embedded model'})", file=sys.stderr)
        return 1
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from reasoning.models.probe import probe
    timeout = _float("timeout", args.timeout, "seconds")
    url = args.base_url
    if not url:
        from reasoning.models.embedded import embedded_model
        url = embedded_model().base_url
    print(json.dumps(probe(url, args.model, _api_key(args.api_key_env), timeout=timeout)))
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from reasoning.tasks import list_tasks, plugin_errors
    print(json.dumps({"tasks": list_tasks(), "errors": plugin_errors()}))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    print(json.dumps(summary(store, _int("run_id", args.run_id))))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from reasoning.export import Filters
    from runner.export import draw_missing_rollouts, export_to_files, parse_ids, rollout_budget, run_ids_for
    split = _float("split", args.split, "a fraction like 0.1")
    filters = Filters(only_solved=args.only_solved, dedupe=not args.keep_duplicates,
                      min_depth=None if args.min_depth is None else _int("min-depth", args.min_depth),
                      max_depth=None if args.max_depth is None else _int("max-depth", args.max_depth),
                      include_open=args.include_open, prompt_format=args.prompt_format,
                      whole=args.whole)
    n_rollouts = _int("compute-rollouts", args.compute_rollouts)
    store = open_store(args.db)
    ids = run_ids_for(store, parse_ids(args.runs) if args.runs else None,
                      None if args.runs else _int("experiment", args.experiment))
    rollouts = None
    if n_rollouts > 0:
        est = rollout_budget(store, ids, n_rollouts, filters)
        print(f"drawing rollouts: {est['rollouts']} rollouts for {est['nodes']} steps, at most "
              f"{est['max_model_calls']} model calls, ~{est['est_seconds']:g} s at "
              f"{est['seconds_per_step']:g} s per call ({est['seconds_per_step_source']})", file=sys.stderr,
              flush=True)
        rollouts = {"estimate": est, **draw_missing_rollouts(store, ids, n_rollouts, filters)}
    counts = export_to_files(store, args.kind, ids, args.out, split, filters, args.dataset_dir)
    if rollouts is not None:
        counts["rollouts"] = rollouts
    print(json.dumps(counts))
    return 0


def _experiment_parsers(sub) -> None:
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
    x.add_argument("--budget-kind", default="tokens", choices=["tokens", "nodes"],
                   help="what a budget counts: generated tokens (default) or nodes")
    x.add_argument("--seeds", default="0", help="comma separated (default 0)")
    x.add_argument("--concurrency", default="1", help="cells run at once (default 1)")
    x.add_argument("--worker", default=None, metavar="NAME",
                   help="share the cells with other worker processes on the same database "
                        "(each needs its own NAME; use with --resume ID)")
    x.add_argument("--stale-after", default="60", metavar="S",
                   help="seconds without a heartbeat before a dead worker's cells are taken over "
                        "(default 60)")
    x.add_argument("--max-seconds", default="600", help="time limit per cell (default 600)")
    x.add_argument("--name", default="", help="a name for the experiment")
    x.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (default: the "
                   "embedded model)")
    x.add_argument("--model", default=None, help="model name at the endpoint")
    x.add_argument("--api-key-env", default=None, help="environment variable holding the API key")
    x.add_argument("--mode", default=None, choices=["chat", "completions"])
    x.add_argument("--quiet", action="store_true", help="no progress bar")
    x.add_argument("--db", default=None)
    c = sub.add_parser("compare", help="metrics of two runs and where the shortcut leaves the "
                       "solved path, as JSON")
    c.add_argument("run_a")
    c.add_argument("run_b")
    c.add_argument("--db", default=None)
    y = sub.add_parser("synthetic", help="store a synthetic tree (no model) to try big-tree views")
    y.add_argument("--nodes", default="100000", help="how many nodes (default 100000)")
    y.add_argument("--seed", default="0")
    y.add_argument("--db", default=None)


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
        eid = _int("resume", args.resume)
        exp.load_config(store, eid)
    else:
        model = {} if not args.base_url else dataclasses.asdict(ModelConfig(
            kind="endpoint", base_url=args.base_url, model=args.model or "",
            api_key_env=args.api_key_env or "", mode=args.mode or "chat"))
        seconds = _float("max-seconds", args.max_seconds)
        config = exp.ExperimentConfig(
            task=args.task, problems=args.problems, task_file=args.task_file,
            strategies=args.strategies, budgets=args.budgets, budget_kind=args.budget_kind,
            seeds=args.seeds, concurrency=_int("concurrency", args.concurrency),
            max_seconds=seconds, model=model, name=args.name)
        eid = exp.create_experiment(config, store)
    print(f"experiment {eid}", file=sys.stderr, flush=True)
    try:
        exp.run_experiment(eid, store, progress=None if args.quiet else _progress_bar,
                           worker=args.worker, stale_after=_float("stale_after", args.stale_after))
    except KeyboardInterrupt:
        print(f"\nstopped; resume with: python cli.py experiment --resume {eid}", file=sys.stderr)
        raise
    print(json.dumps(exp.summary(store, eid)))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from reasoning.compare import compare
    from reasoning.tree import fold
    store = open_store(args.db)
    trees = []
    for name in ("run_a", "run_b"):
        rid = _int(name, getattr(args, name))
        if store.get_run(rid) is None:
            raise ValueError(f"{name}: no run {rid} in {store.engine.url}")
        trees.append(fold(store.events(rid)))
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
    from benchmarks.synthetic import store_synthetic
    n = _int("nodes", args.nodes)
    if not 1 <= n <= 1_000_000:
        raise ValueError(f"nodes: must be between 1 and 1000000, got {n}")
    run_id, n_events = store_synthetic(open_store(args.db), n, seed=_int("seed", args.seed))
    print(json.dumps({"run_id": run_id, "nodes": n, "events": n_events}))
    return 0


def main(argv: list[str] | None = None) -> int:
    ensure_plugins()  # plug-in tasks join TASKS at start-up; their errors never stop the CLI
    parser, dests = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.cmd == "run":
            return cmd_run(args, dests)
        if args.cmd == "probe":
            return cmd_probe(args)
        if args.cmd == "tasks":
            return cmd_tasks(args)
        if args.cmd == "export":
            return cmd_export(args)
        if args.cmd == "experiment":
            return cmd_experiment(args)
        if args.cmd == "compare":
            return cmd_compare(args)
        if args.cmd == "synthetic":
            return cmd_synthetic(args)
        if hasattr(args, "handler"):  # verbs registered by a module (runner/open_verbs.py)
            return args.handler(args)
        return cmd_show(args)
    except (ValueError, StorageError, ModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
