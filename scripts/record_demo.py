"""Record the bundled demo sessions (``data/demo/demo.jsonl``) from the embedded model.

    THINKTREE_EMBEDDED_URL=http://127.0.0.1:PORT/v1 python scripts/record_demo.py   # reuse a server
    python scripts/record_demo.py --ranks 1-60 --db scratch.db                      # or start one

What it records, all on real model output (Gemma 3 270M through llama.cpp), kept small because
the embedded model is slow on a laptop CPU:

1. greedy is tried on easy Game of 24 puzzles (``--ranks``, easiest first) until it **fails**
   on one;
2. a small **experiment** on that puzzle (``--experiment-problems N``: and the next ones):
   greedy vs MCTS at one token budget, so its cells include the pair the Compare page shows
   (greedy fails, MCTS solves; if MCTS did not solve it with seed 0, further seeds are tried
   outside the experiment);
3. **beam** search on that puzzle (kept only if it pruned something) and **DFS** (kept only if
   it backtracked), scored without model calls (see ``BEAM`` and ``DFS``).

Every run goes to a scratch database first (``--db``; run again with the same one and finished
runs and experiment cells are reused, so an interrupted recording resumes); only the chosen runs
are written out. It prints one JSON line per kept run and a summary line, and exits 1 if it could
not find all four kinds (try more ranks or seeds). Loading: ``python cli.py demo``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reasoning.tree import fold  # noqa: E402
from runner import RunSpec, execute  # noqa: E402
from runner import experiments as exp  # noqa: E402
from runner.demo import DEMO_FILE, _load_run, run_record, write_demo  # noqa: E402
from storage import open_store  # noqa: E402

MCTS = "mcts:simulations=10,width=3"
# Beam and DFS score states without value-prompt calls (three model calls per state, too slow on
# a shared CPU): beam ranks by the oracle (exact solvability), DFS by the verifier (neutral until
# an answer, so it backtracks from each wrong answer). The notes say which.
BEAM = {"beam_width": 2, "proposals": 2, "evaluator": "oracle"}
DFS = {"proposals": 2, "evaluator": "verifier"}
TOKENS = 1500                      # the experiment's budget (generated tokens per run)
BUDGET = {"max_nodes": 80, "max_tokens": 3000, "max_seconds": 1200}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def describe(store, run_id: int) -> dict:
    tree = fold(store.events(run_id))
    row = store.get_run(run_id)
    c = tree.counts()
    log(f"  run {run_id}: {row['strategy']} on {row['problem']}: {row['outcome']} · "
        f"{len(tree.nodes)} nodes · pruned {c['pruned']} · backtracked {c['backtracked']} · "
        f"{tree.tokens} tokens · {row['seconds'] or 0:.0f} s")
    return {"outcome": row["outcome"], **c}


def run(store, rank: str, strategy: str, params: dict | None = None, seed: int = 0,
        budget: dict | None = None) -> int:
    """A finished run of this kind from the scratch database, else a new one."""
    budget = budget or BUDGET
    for r in store.list_runs():
        full = store.get_run(r["id"])
        if (full["problem_id"], full["strategy"], full["seed"], full["experiment_id"]) == \
                (rank, strategy, seed, None) and full["status"] == "finished" \
                and all(full["params"].get(k) == v for k, v in (params or {}).items()) \
                and full["budget"].get("max_tokens") == budget["max_tokens"]:
            return r["id"]
    run_id, _ = execute(RunSpec(task="game24", problem=rank, strategy=strategy,
                                params=params or {}, budget=budget, seed=seed), store)
    return run_id


def greedy_fails(store, ranks: list[str]) -> str | None:
    for rank in ranks:
        log(f"rank {rank}: greedy")
        if describe(store, run(store, rank, "greedy"))["outcome"] == "failed":
            return rank
    return None


def adopt_cells(store, eid: int) -> None:
    """Cells already recorded in another experiment of the scratch database (same cell key:
    problem, strategy with its settings, budget, seed) are copied in instead of run again."""
    done = {r["cell_key"] for r in store.experiments.cell_runs(eid) if r["status"] == "finished"}
    for other in store.experiments.list():
        if other["id"] == eid:
            continue
        for r in store.experiments.cell_runs(other["id"]):
            if r["cell_key"] not in done and r["status"] == "finished" and r["outcome"] in \
                    ("solved", "failed", "budget"):
                _load_run(store, run_record(store, r["id"]), eid)
                done.add(r["cell_key"])
                log(f"  cell {r['cell_key']}: reusing run {r['id']}")


def experiment(store, problems: str) -> int:
    config = exp.ExperimentConfig(task="game24", problems=problems, strategies=f"greedy,{MCTS}",
                                  budgets=str(TOKENS), seeds="0", max_seconds=1200,
                                  name="demo: greedy vs MCTS")
    old = [e for e in store.experiments.list() if e["config"] == config.to_dict()]
    eid = old[0]["id"] if old else exp.create_experiment(config, store)
    log(f"experiment {eid}: problems {problems}, {config.strategies}")
    adopt_cells(store, eid)
    exp.run_experiment(eid, store)
    return eid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ranks", default="1-60", help="Game of 24 ranks to try, easiest first")
    ap.add_argument("--seeds", default="0,1,2", help="seeds to try for MCTS, beam and DFS")
    ap.add_argument("--experiment-problems", default="1", metavar="N",
                    help="puzzles in the experiment: the one greedy fails on and the next N-1")
    ap.add_argument("--out", default=str(DEMO_FILE))
    ap.add_argument("--db", default=None, help="scratch database (default: a temporary file); "
                    "reuse one to resume")
    args = ap.parse_args(argv)
    ranks = exp.parse_ids(args.ranks)
    seeds = [int(s) for s in args.seeds.split(",")]
    store = open_store(args.db or str(Path(tempfile.mkdtemp()) / "record.db"))

    rank = greedy_fails(store, ranks)
    if rank is None:
        log("greedy solved every rank given; try more --ranks")
        return 1
    at = ranks.index(rank)
    eid = experiment(store, ",".join(ranks[at:at + int(args.experiment_problems)]))
    cells = {(r["problem_id"], r["strategy"]): r["id"] for r in store.list_runs(experiment_id=eid)}
    for rid in cells.values():
        describe(store, rid)
    greedy_id, mcts_id = cells[(rank, "greedy")], cells[(rank, "mcts")]
    kept: list[tuple[int, str]] = []
    if store.get_run(greedy_id)["outcome"] != "failed":
        log(f"greedy did not fail on rank {rank} in the experiment")
        return 1
    if store.get_run(mcts_id)["outcome"] != "solved":
        mcts_params = dict(kv.split("=") for kv in MCTS.split(":")[1].split(","))
        for seed in seeds[1:]:
            rid = run(store, rank, "mcts", {k: int(v) for k, v in mcts_params.items()}, seed,
                      exp.ExperimentConfig(max_seconds=1200).budget_dict(TOKENS))
            if describe(store, rid)["outcome"] == "solved":
                kept.append((rid, f"MCTS (seed {seed}) solves rank {rank}, where greedy failed"))
                break
        else:
            log(f"MCTS did not solve rank {rank}; try other --seeds or --ranks")
            return 1
    def first_with(strategy: str, params: dict, want: str) -> int | None:
        for seed in seeds:
            rid = run(store, rank, strategy, params, seed)
            if describe(store, rid)[want]:
                return rid
        return None

    # beam and DFS side by side: two requests in the server's queue instead of one
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda a: first_with(*a), (("beam", BEAM, "pruned"),
                                                          ("dfs", DFS, "backtracked"))))
    for rid, what in zip(found, ("beam search (oracle values) prunes",
                                 "DFS (verifier values) backtracks"), strict=True):
        if rid is None:
            log(f"no run where {what} on rank {rank}; try other --seeds")
            return 1
        kept.append((rid, f"{what} on rank {rank}"))

    config = exp.load_config(store, eid)
    records = [{"kind": "experiment", "key": "e1", "name": config.name, "config": config.to_dict()}]
    for r in sorted(store.list_runs(experiment_id=eid), key=lambda r: r["id"]):
        note = f"experiment cell: {r['strategy']} on rank {r['problem_id']}"
        if r["id"] == greedy_id:
            note = f"greedy (the shortcut) fails on rank {rank}"
        elif r["id"] == mcts_id and store.get_run(mcts_id)["outcome"] == "solved":
            note = f"MCTS solves rank {rank}, where greedy failed (open both on Compare)"
        records.append(run_record(store, r["id"], note, "e1"))
    records += [run_record(store, rid, note) for rid, note in kept]
    path = write_demo(records, args.out)
    for r in records[1:]:
        print(json.dumps({"note": r["note"], "events": len(r["events"])}))
    print(json.dumps({"out": str(path), "runs": len(records) - 1, "bytes": path.stat().st_size,
                      "rank": rank}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
