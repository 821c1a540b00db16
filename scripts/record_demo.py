"""Record the bundled demo sessions (``data/demo/demo.jsonl``) from the embedded model.

    THINKTREE_EMBEDDED_URL=http://127.0.0.1:PORT/v1 python scripts/record_demo.py   # reuse a server
    python scripts/record_demo.py --ranks 1-60 --out data/demo/demo.jsonl          # or start one

What it records, all on real model output (Gemma 3 270M through llama.cpp):

1. a Game of 24 puzzle where **greedy fails and MCTS solves it**: greedy is tried on the given
   ranks (easy puzzles first) until it fails on one that MCTS then solves; both runs are kept
   (the pair the Compare page shows);
2. **beam** search on that puzzle (kept only if it pruned something);
3. **DFS** on that puzzle (kept only if it backtracked);
4. a small **experiment**: two puzzles x greedy, mcts at one token budget.

Every run goes to a temporary database first; only the chosen ones are written out. The script
prints one JSON line per kept run and ends with a summary line; it exits 1 if it could not find
all four kinds (try more ranks or seeds). Loading: ``python cli.py demo``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reasoning.tree import fold  # noqa: E402
from runner import RunSpec, execute  # noqa: E402
from runner import experiments as exp  # noqa: E402
from runner.demo import DEMO_FILE, run_record, write_demo  # noqa: E402
from storage import open_store  # noqa: E402

MCTS = {"simulations": 24, "width": 3}
BEAM = {"beam_width": 2, "proposals": 3}
DFS = {"proposals": 3}
BUDGET = {"max_nodes": 120, "max_tokens": 6000, "max_seconds": 600}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(store, rank: str, strategy: str, params: dict | None = None, seed: int = 0):
    spec = RunSpec(task="game24", problem=rank, strategy=strategy, params=params or {},
                   budget=BUDGET, seed=seed)
    run_id, result = execute(spec, store)
    tree = fold(store.events(run_id))
    counts = tree.counts()
    log(f"  run {run_id}: {strategy} on rank {rank}: {result.outcome} · {len(tree.nodes)} nodes · "
        f"pruned {counts['pruned']} · backtracked {counts['backtracked']} · {tree.tokens} tokens")
    return run_id, result.outcome, counts


def find_gap(store, ranks: list[str], seeds: list[int]):
    """The first rank where greedy fails and MCTS (some seed) solves it."""
    for rank in ranks:
        log(f"rank {rank}: greedy")
        g_id, outcome, _ = run(store, rank, "greedy")
        if outcome == "solved":
            continue
        for seed in seeds:
            m_id, m_outcome, _ = run(store, rank, "mcts", MCTS, seed)
            if m_outcome == "solved":
                return rank, g_id, m_id
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ranks", default="1-60", help="Game of 24 ranks to try, easiest first")
    ap.add_argument("--seeds", default="0,1,2", help="MCTS seeds to try per puzzle")
    ap.add_argument("--out", default=str(DEMO_FILE))
    ap.add_argument("--db", default=None, help="scratch database (default: a temporary file)")
    args = ap.parse_args(argv)
    ranks = exp.parse_ids(args.ranks)
    seeds = [int(s) for s in args.seeds.split(",")]
    store = open_store(args.db or str(Path(tempfile.mkdtemp()) / "record.db"))

    found = find_gap(store, ranks, seeds)
    if found is None:
        log("no rank where greedy fails and MCTS solves; try more --ranks or --seeds")
        return 1
    rank, greedy_id, mcts_id = found
    kept = [(greedy_id, f"greedy fails on rank {rank} (the shortcut)"),
            (mcts_id, f"MCTS solves rank {rank}: compare with the greedy run")]
    for strategy, params, want, what in (("beam", BEAM, "pruned", "beam search prunes"),
                                         ("dfs", DFS, "backtracked", "DFS backtracks")):
        for seed in seeds:
            rid, _, counts = run(store, rank, strategy, params, seed)
            if counts[want]:
                kept.append((rid, f"{what} on rank {rank}"))
                break
        else:
            log(f"no {strategy} run with {want} nodes on rank {rank}")
            return 1

    other = next(r for r in ranks if r != rank)
    config = exp.ExperimentConfig(task="game24", problems=f"{rank},{other}",
                                  strategies=f"greedy,mcts:simulations={MCTS['simulations']},"
                                  f"width={MCTS['width']}", budgets="3000", seeds="0",
                                  max_seconds=600, name="demo: greedy vs MCTS")
    eid = exp.create_experiment(config, store)
    log(f"experiment {eid}: {config.problems}")
    exp.run_experiment(eid, store)
    records = [{"kind": "experiment", "key": "e1", "name": config.name, "config": config.to_dict()}]
    records += [run_record(store, rid, note) for rid, note in kept]
    records += [run_record(store, r["id"], f"experiment cell: {r['strategy']} on {r['problem']}", "e1")
                for r in sorted(store.list_runs(experiment_id=eid), key=lambda r: r["id"])]
    path = write_demo(records, args.out)
    for r in records[1:]:
        print(json.dumps({"note": r["note"], "events": len(r["events"])}))
    print(json.dumps({"out": str(path), "runs": len(records) - 1, "bytes": path.stat().st_size,
                      "rank": rank}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
