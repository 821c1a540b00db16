"""The floor and ceiling of every chart: Game of 24 with the random-legal-move policy.

    python -m benchmarks.baselines                    # ranks 901-1000, seeds 0-2, 200 calls
    python -m benchmarks.baselines --ranks 901-910 --seeds 0 --max-calls 100

Each strategy runs every puzzle with :class:`~reasoning.models.random_policy.RandomPolicy` (no
server) under the same budget in model calls (``max_calls``; every purpose counts, value prompts
included), stopping at the first verified solution. Strategies that can use more than the budget
run until it ends them (best-of-N in waves of 5 chains, MCTS ``anytime``; beam and DFS also as
``anytime`` rows), keeping a solution found before the cut. beam and dfs run twice: with the value prompt (answered by the random
policy: a chance-level evaluator) and with the oracle (exact solvability, no call). Prints a
markdown table and one JSON line; solved % is over puzzles x seeds, with the spread over seeds.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from reasoning.engine import run_search
from reasoning.models.random_policy import RandomPolicy
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task

CONFIGS: list[tuple[str, str, dict[str, Any]]] = [
    ("greedy", "greedy", {}),
    ("best_of_n (waves of 5 chains, anytime)", "best_of_n", {"n": 5, "anytime": True}),
    ("beam (value prompt: random verdicts)", "beam", {}),
    ("dfs (value prompt: random verdicts)", "dfs", {}),
    ("mcts (rollouts, anytime)", "mcts", {"anytime": True}),
    ("beam + oracle evaluator", "beam", {"evaluator": "oracle"}),
    ("dfs + oracle evaluator", "dfs", {"evaluator": "oracle"}),
    # anytime: new rounds until a solution or the budget, so every row can spend the same calls
    ("beam (random verdicts, anytime)", "beam", {"anytime": True}),
    ("dfs (random verdicts, anytime)", "dfs", {"anytime": True}),
    ("beam + oracle (anytime)", "beam", {"evaluator": "oracle", "anytime": True}),
    ("dfs + oracle (anytime)", "dfs", {"evaluator": "oracle", "anytime": True}),
]


def _ranks(text: str) -> list[str]:
    lo, _, hi = text.partition("-")
    return [str(r) for r in range(int(lo), int(hi or lo) + 1)]


def run_config(strategy: str, params: dict[str, Any], ranks: list[str], seeds: list[int],
               max_calls: int) -> dict[str, Any]:
    task = get_task("game24")
    per_seed, calls, prompt, completion = [], [], [], []
    purposes: dict[str, int] = {}
    for seed in seeds:
        solved = 0
        for rank in ranks:
            problem = task.problem_by_id(rank)
            result, rec = run_search(make_strategy(strategy, params), task, problem,
                                     RandomPolicy(), run_id=rank,
                                     budget=Budget(max_nodes=1_000_000, max_tokens=100_000_000,
                                                   max_calls=max_calls), seed=seed)
            fin = rec.events[-1].payload
            solved += result.outcome == "solved"
            calls.append(fin["model_calls"])
            prompt.append(fin["prompt_tokens"])
            completion.append(fin["completion_tokens"])
            for k, v in fin["calls_by_purpose"].items():
                purposes[k] = purposes.get(k, 0) + v
        per_seed.append(100.0 * solved / len(ranks))
    n = len(ranks) * len(seeds)
    return {"solved_pct": round(statistics.mean(per_seed), 1),
            "solved_pct_by_seed": [round(x, 1) for x in per_seed],
            "mean_calls": round(statistics.mean(calls), 1),
            "mean_prompt_tokens": round(statistics.mean(prompt)),
            "mean_completion_tokens": round(statistics.mean(completion)),
            "calls_by_purpose_per_run": {k: round(v / n, 1) for k, v in purposes.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ranks", default="901-1000")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--max-calls", type=int, default=200)
    args = ap.parse_args(argv)
    ranks, seeds = _ranks(args.ranks), [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    rows = {label: run_config(strategy, params, ranks, seeds, args.max_calls)
            for label, strategy, params in CONFIGS}
    took = time.perf_counter() - t0
    print(f"Game of 24 ranks {args.ranks}, random legal moves (seeds {args.seeds}), budget "
          f"{args.max_calls} model calls per run; {len(ranks) * len(seeds)} runs per row, "
          f"{took:.0f} s in all\n")
    print("| strategy | solved % (by seed) | mean calls | calls by purpose (per run) | "
          "mean prompt tok | mean generated tok |")
    print("|---|---|---|---|---|---|")
    for label, r in rows.items():
        by = ", ".join(f"{k} {v:g}" for k, v in r["calls_by_purpose_per_run"].items())
        print(f"| {label} | {r['solved_pct']:.1f} ({' / '.join(f'{x:g}' for x in r['solved_pct_by_seed'])})"
              f" | {r['mean_calls']:g} | {by} | {r['mean_prompt_tokens']:,} | "
              f"{r['mean_completion_tokens']:,} |")
    print(json.dumps({"ranks": args.ranks, "seeds": seeds, "max_calls": args.max_calls,
                      "seconds": round(took, 1), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
