"""Record the bundled demo sessions (``data/demo/demo.jsonl``) from the embedded model.

    python scripts/record_demo.py --db demo-scratch.db   # the full set (~10-15 min idle 2 cores, <= 25)
    python scripts/record_demo.py --quick --db /tmp/q.db         # a smoke run: tiny budgets, tmp file

Starts llama-cpp-python's server with Gemma 3 270M (``--threads``, default 2) unless
``THINKTREE_EMBEDDED_URL`` names one. On one Game of 24 puzzle that greedy (temperature 0) fails
(the first of ``--ranks``), it records: greedy; best-of-N; beam, DFS and MCTS scored by the
model's value prompt (sure / likely / impossible, one sample), beam kept once it pruned, DFS once
it backtracked (seeds from ``--seeds``); a ``--protocol tot`` beam; the 6-queens ``Trace`` run of
``examples/trace_queens.py``; and an experiment of 10 puzzles × greedy, best-of-N, MCTS.

Every run's ``run_started.model.machine`` (and its note) says where it was recorded: CPU count,
load average at its start and end, llama-cpp-python version, n_threads, the decode speed of a
calibration call, and ``under_load`` when the machine was busy. Runs go to a scratch database
first (``--db``; run again with the same one and finished runs and cells are reused, so an
interrupted recording resumes). The file is written only when :func:`runner.demo.check_demo`
finds nothing missing; otherwise it lists what is, and exits 1. ``--quick`` checks against tiny
minimums and writes to a temporary file unless ``--out`` is given. The last line is JSON
(``out``, ``runs``, ``rank``, ``seconds``, ``estimate``: see ``docs/demo.md``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reasoning.models.base import GenRequest  # noqa: E402
from reasoning.models.config import ModelConfig  # noqa: E402
from reasoning.tree import fold  # noqa: E402
from runner import RunSpec, execute  # noqa: E402
from runner import experiments as exp  # noqa: E402
from runner.demo import DEMO_FILE, FULL, QUICK, check_demo, run_record, write_demo  # noqa: E402
from storage import open_store  # noqa: E402

VALUE = {"evaluator": "value_prompt", "value_prompt_samples": 1}
# sizes: see docs/demo.md for how they were chosen (budgets bound the time of every run)
PLAN: dict[str, dict[str, Any]] = {
    "full": {
        "greedy": {},
        "best_of_n": {"n": 4},
        "beam": {"beam_width": 2, "proposals": 3, **VALUE},
        "dfs": {"proposals": 2, **VALUE},
        # anytime, no stop at the first solution: simulations until the node budget (~260 nodes)
        "mcts": {"width": 6, "anytime": True, "stop_on_solution": False, **VALUE},
        "tot": {"beam_width": 2, "proposals": 1, "protocol": "tot", **VALUE},
        "budget": {"max_nodes": 120, "max_tokens": 600, "max_seconds": 600},
        "tot_budget": {"max_nodes": 60, "max_tokens": 1200, "max_seconds": 600},
        "mcts_budget": {"max_nodes": 260, "max_tokens": 6000, "max_seconds": 1500},
        "experiment": {"problems": 10, "strategies": "greedy,best_of_n:n=3,"
                       "mcts:simulations=6,width=2,value_prompt_samples=1,evaluator=value_prompt",
                       "budget": 250},
    },
    "quick": {
        "greedy": {},
        "best_of_n": {"n": 2},
        "beam": {"beam_width": 1, "proposals": 2, **VALUE},
        "dfs": {"proposals": 2, **VALUE},
        "mcts": {"width": 2, "anytime": True, "stop_on_solution": False, **VALUE},
        "tot": {"beam_width": 1, "proposals": 1, "protocol": "tot", **VALUE},
        "budget": {"max_nodes": 5, "max_tokens": 60, "max_seconds": 600},
        "tot_budget": {"max_nodes": 5, "max_tokens": 60, "max_seconds": 600},
        "mcts_budget": {"max_nodes": 5, "max_tokens": 60, "max_seconds": 600},
        "experiment": {"problems": 1, "strategies": "greedy,best_of_n:n=1,"
                       "mcts:simulations=1,width=1,value_prompt_samples=1,evaluator=value_prompt",
                       "budget": 20},
    },
}
# tokens/s of this calibration on the idle 2-core machine (two calibrations at load < 1.1 gave
# 29.6 and 36.6): a short request's prompt, HTTP and grammar set-up are in it, so it sits below
# the ~60 tokens/s the server's own timing gives for decoding alone
IDLE_DECODE = 33.0
CALIBRATION = GenRequest(prompt="Count from one to fifty: one, two, three,", max_tokens=32,
                         temperature=0.0)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Machine:
    """The machine facts of the recording, per run, kept beside the scratch database (so a
    resumed recording still knows the facts of the runs it reuses)."""

    def __init__(self, path: Path, threads: int, server: str) -> None:
        self.path, self.runs = path, {}
        if path.exists():
            self.runs = json.loads(path.read_text())
        try:
            from importlib.metadata import version
            llama = version("llama_cpp_python")
        except Exception:  # noqa: BLE001 - a reused server of another kind
            llama = "unknown"
        self.base = {"cpu_count": os.cpu_count(), "llama_cpp": llama, "n_threads": threads,
                     "server": server, "load_before": round(os.getloadavg()[0], 2)}

    def calibrate(self, model: Any) -> None:
        """Decode speed of the machine: one untimed call first (a fresh server's first call
        pages the weights in and is slow on any machine), then the best of three timed calls."""
        model.generate(CALIBRATION)
        speeds = []
        for _ in range(3):
            start = time.monotonic()
            comp = model.generate(CALIBRATION)
            speeds.append(comp.completion_tokens / max(time.monotonic() - start, 1e-6))
        speed = max(speeds)
        self.base["decode_tokens_per_s"] = round(speed, 1)
        # the speed is the measure: the 1-minute load average lags (a process that ended seconds
        # ago still counts), so it is recorded beside the speed but does not decide
        self.base["under_load"] = speed < IDLE_DECODE / 2
        log(f"calibration: {speed:.1f} tokens/s decode (idle 2 cores: ~{IDLE_DECODE:.0f}); "
            f"load before the server {self.base['load_before']}"
            + (" — UNDER LOAD: the wall times are inflated" if self.base["under_load"] else ""))

    def around(self, key: str, work) -> int:
        """Run ``work()`` (returns a run id) and keep the facts of that run under ``key``."""
        if key in self.runs:
            return self.runs[key]["run_id"]
        load_start = round(os.getloadavg()[0], 2)
        run_id = work()
        self.runs[key] = {"run_id": run_id, **self.base, "load_start": load_start,
                          "load_end": round(os.getloadavg()[0], 2)}
        self.path.write_text(json.dumps(self.runs, indent=1))
        return run_id

    def of(self, run_id: int) -> dict[str, Any]:
        return next(({k: v for k, v in f.items() if k != "run_id"} for f in self.runs.values()
                     if f["run_id"] == run_id), {})


def with_machine(rec: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The record with the machine facts in its run_started ``model`` and its note."""
    start = rec["events"][0][4]
    start["model"] = {**(start.get("model") or {}), "machine": facts}
    if facts:
        rec["note"] += (f" · recorded on {facts['cpu_count']} CPUs, load {facts['load_start']}→"
                        f"{facts['load_end']}, llama-cpp-python {facts['llama_cpp']}, n_threads "
                        f"{facts['n_threads']}" + (" (under load: wall times inflated)"
                                                   if facts.get("under_load") else ""))
    return rec


def describe(store, run_id: int) -> dict:
    tree = fold(store.events(run_id))
    row = store.get_run(run_id)
    c = tree.counts()
    fin = tree.finished or {}
    log(f"  run {run_id}: {row['strategy']} on {row['problem']}: {row['outcome']} · "
        f"{len(tree.nodes)} nodes · pruned {c['pruned']} · backtracked {c['backtracked']} · "
        f"{tree.tokens} tokens · {fin.get('prompt_tokens', 0)} prompt tokens · "
        f"{fin.get('model_calls', 0)} calls · {row['seconds'] or 0:.0f} s")
    return {"outcome": row["outcome"], "nodes": len(tree.nodes), **c}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke recording: tiny budgets, "
                    "tiny check minimums, written to a temporary file unless --out")
    ap.add_argument("--ranks", default="1-60", help="Game of 24 ranks to try, easiest first")
    ap.add_argument("--seeds", default="0,1,2", help="seeds to try for beam (prune) and DFS "
                    "(backtrack)")
    ap.add_argument("--threads", type=int, default=2, help="the server's --n_threads")
    ap.add_argument("--parallel", type=int, default=1, help="model calls in flight per run "
                    "(llama-cpp-python's server runs one at a time: no gain there)")
    ap.add_argument("--out", default=None, help=f"default {DEMO_FILE} (--quick: a temporary file)")
    ap.add_argument("--db", default=None, help="scratch database (default: a temporary file); "
                    "reuse one to resume")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    plan = PLAN["quick" if args.quick else "full"]
    tmp = Path(tempfile.mkdtemp())
    db = Path(args.db or tmp / "record.db")
    out = Path(args.out or (tmp / "demo.jsonl" if args.quick else DEMO_FILE))
    ranks = exp.parse_ids(args.ranks)
    seeds = [int(s) for s in args.seeds.split(",")]

    from reasoning.models import embedded
    url = os.environ.get("THINKTREE_EMBEDDED_URL")
    server = f"reused {url}" if url else "started here"
    if not url:   # started here with the threads asked for; every run below reuses it
        os.environ["THINKTREE_EMBEDDED_URL"] = embedded.EmbeddedServer(args.threads).start()
    model = embedded.embedded_model()
    if model.count_tokens(CALIBRATION.prompt) <= 0:
        log(f"the server does not count prompt tokens ({embedded.MODEL_ALIAS} at {model.base_url}"
            "/extras/tokenize/count); the demo needs real prompt tokens")
        return 1
    machine = Machine(db.with_suffix(".machine.json"), args.threads, server)
    machine.calibrate(model)
    store = open_store(str(db))
    cfg = ModelConfig(parallel=args.parallel)

    def run(key: str, rank: str, strategy: str, params: dict, seed: int = 0,
            budget: dict | None = None) -> int:
        key += " " + json.dumps([params, budget or plan["budget"]], sort_keys=True)  # new sizes: new runs
        return machine.around(key, lambda: execute(RunSpec(
            task="game24", problem=rank, strategy=strategy, params=params, seed=seed,
            budget=budget or plan["budget"], model=cfg), store)[0])

    # 1. the puzzle: greedy (temperature 0) fails on it
    rank = greedy_id = None
    for r in ranks:
        log(f"rank {r}: greedy")
        rid = run(f"greedy {r}", r, "greedy", plan["greedy"])
        if describe(store, rid)["outcome"] == "failed":
            rank, greedy_id = r, rid
            break
    if rank is None:
        log("greedy solved every rank given; try more --ranks")
        return 1
    kept: list[tuple[int, str]] = [(greedy_id, f"greedy (the shortcut) fails on rank {rank}")]

    # 2. the exploring strategies on it, scored by the model's value prompt
    def first_with(name: str, strategy: str, want: str, what: str, budget=None) -> None:
        for seed in seeds:
            rid = run(f"{name} {rank} seed {seed}", rank, strategy, plan[name], seed, budget)
            got = describe(store, rid)
            if not want or got[want] or (args.quick and seed == seeds[-1]):
                kept.append((rid, f"{what} on rank {rank}" + (f" (seed {seed})" if seed else "")))
                return
        log(f"no {name} run with {want} on rank {rank}; try other --seeds")

    first_with("best_of_n", "best_of_n", "", f"best-of-{plan['best_of_n']['n']}")
    first_with("beam", "beam", "pruned", "beam search (model value prompts) prunes")
    first_with("dfs", "dfs", "backtracked", "DFS (model value prompts) backtracks")
    first_with("tot", "beam", "", "beam with --protocol tot (the paper's prompts)", plan["tot_budget"])
    rid = run(f"mcts {rank}", rank, "mcts", plan["mcts"], 0, plan["mcts_budget"])
    got = describe(store, rid)
    kept.append((rid, f"MCTS (model value prompts) {'solves' if got['outcome'] == 'solved' else 'explores'} "
                      f"rank {rank}, where greedy failed (open both on Compare)"))

    # 3. the 6-queens Trace run (no model)
    def queens() -> int:
        sys.path.insert(0, str(ROOT / "examples"))
        import trace_queens

        from thinktree import Trace
        with Trace(db=str(db), task="6-queens", problem="place 6 queens on a 6x6 board",
                   strategy="backtracking (Trace)") as t:
            trace_queens.search(t, t.root("an empty 6x6 board", label="6x6 board"), [], 6, 0.0)
        return t.run_id
    kept.append((machine.around("trace queens", queens), "6-queens backtracking recorded with Trace "
                 "(examples/trace_queens.py, no model)"))

    # 4. the experiment: puzzles from the greedy failure on × greedy, best-of-N, MCTS
    e = plan["experiment"]
    at = ranks.index(rank)
    config = exp.ExperimentConfig(task="game24", problems=",".join(ranks[at:at + e["problems"]]),
                                  strategies=e["strategies"], budgets=str(e["budget"]), seeds="0",
                                  max_seconds=900, model={"parallel": args.parallel},
                                  name=f"demo: {e['problems']} puzzles × greedy, best-of-N, MCTS")
    old = [x for x in store.experiments.list() if x["config"] == config.to_dict()]
    eid = old[0]["id"] if old else exp.create_experiment(config, store)
    log(f"experiment {eid}: problems {config.problems}, {config.strategies}")
    machine.around(f"experiment {eid}", lambda: (exp.run_experiment(eid, store), 0)[1])
    cells = sorted(store.list_runs(experiment_id=eid), key=lambda r: r["id"])
    efacts = machine.runs[f"experiment {eid}"]

    records = [{"kind": "experiment", "key": "e1", "name": config.name, "config": config.to_dict()}]
    for r in cells:
        describe(store, r["id"])
        records.append(with_machine(run_record(store, r["id"], f"experiment cell: {r['strategy']} "
                                               f"on rank {r['problem_id']}", "e1"),
                                    {k: v for k, v in efacts.items() if k != "run_id"}))
    records += [with_machine(run_record(store, rid, note), machine.of(rid)) for rid, note in kept]
    seconds = round(time.monotonic() - t0, 1)
    summary = {"rank": rank, "runs": len(records) - 1, "seconds": seconds,
               "estimate": estimate(records, PLAN["full"])}
    missing = check_demo(records, QUICK if args.quick else FULL)
    if missing:
        for m in missing:
            log("refused: " + m)
        print(json.dumps({"out": None, "missing": missing, **summary}))
        return 1
    path = write_demo(records, out)
    for r in records[1:]:
        print(json.dumps({"note": r["note"], "events": len(r["events"])}))
    print(json.dumps({"out": str(path), "bytes": path.stat().st_size, **summary}))
    return 0


def kind(start: dict[str, Any], experiment: str | None) -> str:
    if experiment:
        return "experiment"
    return "tot" if start.get("protocol") == "tot" else start.get("strategy", "")


def full_tokens(full: dict[str, Any]) -> dict[str, int]:
    """The generated tokens each kind of run of the full plan may spend (its token budget)."""
    e = full["experiment"]
    each = full["budget"]["max_tokens"]
    return {"greedy": each, "best_of_n": each, "beam": each, "dfs": each, "tot": full["tot_budget"]["max_tokens"],
            "mcts": full["mcts_budget"]["max_tokens"],
            "experiment": e["problems"] * len(exp.parse_strategies(e["strategies"])) * e["budget"]}


def estimate(records: list[dict[str, Any]], full: dict[str, Any]) -> dict[str, Any]:
    """The full recording's wall time on an idle machine, from this recording's model calls.

    Per kind of run (greedy, best_of_n, beam, dfs, tot, mcts, experiment): seconds per generated
    token measured here (prompt, grammar and decode time all in it), scaled to an idle machine
    by the calibration of the session that recorded the run (its decode speed against
    ``IDLE_DECODE``), times the generated tokens the full plan's budget of that kind allows. A
    bound: runs that end early (greedy, a solved search) spend less."""
    secs: dict[str, float] = {}
    toks: dict[str, float] = {}
    calls = here = 0.0
    for rec in records:
        if rec["kind"] != "run" or rec["events"][-1][2] != "run_finished":
            continue
        start, fin = rec["events"][0][4], rec["events"][-1][4]
        speed = (start.get("model", {}).get("machine") or {}).get("decode_tokens_per_s")
        if not speed or not fin.get("tokens"):
            continue
        k = kind(start, rec.get("experiment"))
        secs[k] = secs.get(k, 0.0) + (fin.get("model_seconds") or 0) * min(1.0, speed / IDLE_DECODE)
        toks[k] = toks.get(k, 0.0) + fin["tokens"]
        calls += fin.get("model_calls") or 0
        here += fin.get("model_seconds") or 0
    per = {k: secs[k] / toks[k] for k in toks}
    budget = full_tokens(full)
    fallback = sum(secs.values()) / max(sum(toks.values()), 1)
    minutes = {k: round(budget[k] * per.get(k, fallback) / 60, 1) for k in budget}
    return {"s_per_call_here": round(here / max(calls, 1), 2),
            "idle_s_per_token": {k: round(v, 4) for k, v in per.items()},
            "full_budget_tokens": budget, "full_minutes_idle_at_most": minutes,
            "full_minutes_idle_total_at_most": round(sum(minutes.values()), 1)}


if __name__ == "__main__":
    sys.exit(main())
