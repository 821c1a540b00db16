"""Effectiveness: does search beat the shortcut and chance at the same budget?

Game of 24, every run with the same budget of 3,000 generated tokens per puzzle (value-prompt
tokens count; prompt tokens do not), strategies greedy, best_of_n, beam, dfs, mcts — each with

* the embedded model (Gemma 3 270M, constrained to legal steps),
* the random policy (uniformly random legal steps and verdicts: the floor), and
* where a strategy has an evaluator (beam, dfs, mcts), the oracle evaluator (exact solvability,
  no call: the ceiling of what a better evaluator could give), with the random proposer.

Every strategy runs ``anytime``: it keeps going until a verified solution or the budget (greedy
has nothing more to do). Two slices: ranks 901–1000 (ToT's test set) and the easiest hundred,
ranks 1–100. ``--quick`` uses ranks 901–920 and 1–20 for the random and oracle rows.

The embedded model is slow (tens of seconds per run on a shared 2-core machine), so its rows cover
a small subset, stated in each row: ``python -m benchmarks.bench_effectiveness --embedded 5``
runs the first 5 puzzles of each slice (puzzle by puzzle, alternating slices, cheap strategies
first) and appends every run to
``benchmarks/effectiveness_runs.jsonl``; the table is built from that file (already-measured runs
are never repeated), so a long measurement can be stopped and resumed.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from reasoning.engine import run_search
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from runner.experiments import wilson

from .outputs import output, recorded

BUDGET = 3000
RUNS = "effectiveness_runs.jsonl"     # recorded runs, reused (benchmarks.outputs: where)
TABLE = "EFFECTIVENESS.md"
SLICES = {"901-1000": [str(r) for r in range(901, 1001)], "1-100": [str(r) for r in range(1, 101)]}
QUICK = {"901-1000": SLICES["901-1000"][:20], "1-100": SLICES["1-100"][:20]}
STRATEGIES: list[tuple[str, dict[str, Any]]] = [   # cheapest first (the embedded order)
    ("greedy", {}),
    ("best_of_n", {"n": 8, "anytime": True}),
    ("mcts", {"anytime": True, "width": 0}),
    ("dfs", {"anytime": True}),
    ("beam", {"anytime": True}),
]
EVALUATED = {"beam", "dfs", "mcts"}


def random_model() -> tuple[str, Any]:
    """(name in the runs file, model): the random baseline policy. Its tokens are counted with
    the embedded model's tokenizer, so 3,000 tokens buy it the steps they buy the model (runs
    counted with the 4-characters estimate are kept in the file as ``random``: ~3× the steps)."""
    from reasoning.models.random_policy import RandomPolicy
    model = RandomPolicy()
    return ("random" if model.tokens == "estimate" else "random-gemma-tokens"), model


def embedded() -> Any:
    from reasoning.models.embedded import embedded_model
    return embedded_model()


def params_for(strategy: str, params: dict[str, Any], evaluator: str) -> dict[str, Any]:
    if not evaluator:
        return dict(params)
    if strategy == "mcts":
        return {**params, "evaluator": evaluator, "rollout_weight": 0.0}
    return {**params, "evaluator": evaluator}


def one_run(model: Any, model_name: str, strategy: str, params: dict[str, Any], rank: str,
            seed: int = 0) -> dict[str, Any]:
    task = get_task("game24")
    t = time.perf_counter()
    result, rec = run_search(make_strategy(strategy, params), task, task.problem_by_id(rank), model,
                             run_id=rank, seed=seed,
                             budget=Budget(max_tokens=BUDGET, max_nodes=1_000_000, max_seconds=3600))
    fin = rec.events[-1].payload
    return {"model": model_name, "strategy": strategy, "params": params, "rank": rank, "seed": seed,
            "budget": BUDGET, "outcome": result.outcome, "tokens": fin["tokens"],
            "prompt_tokens": fin.get("prompt_tokens", 0), "calls": fin.get("model_calls", 0),
            "nodes": fin["nodes"], "seconds": round(time.perf_counter() - t, 2)}


def key(r: dict[str, Any]) -> tuple:
    return (r["model"], r["strategy"], json.dumps(r["params"], sort_keys=True), r["rank"],
            r["seed"], r["budget"])


def load_runs() -> dict[tuple, dict[str, Any]]:
    rows = [json.loads(line) for path in recorded(RUNS) for line in path.read_text().splitlines()
            if line.strip()]
    return {key(r): r for r in rows}


def measure(model_name: str, ranks: list[str], evaluator: str = "", cache: bool = True,
            model: Any = None, strategies: list[tuple[str, dict[str, Any]]] | None = None,
            log: bool = False) -> list[dict[str, Any]]:
    """Every (strategy, rank) for this model; runs already in the file are reused."""
    known = load_runs() if cache else {}
    out = []
    for strategy, base in strategies or STRATEGIES:
        if evaluator and strategy not in EVALUATED:
            continue
        params = params_for(strategy, base, evaluator)
        for rank in ranks:
            probe = {"model": model_name, "strategy": strategy, "params": params, "rank": rank,
                     "seed": 0, "budget": BUDGET}
            row = known.get(key(probe))
            if row is None:
                if model is None:
                    continue
                row = one_run(model, model_name, strategy, params, rank)
                if cache:
                    with output(RUNS).open("a") as f:
                        f.write(json.dumps(row) + "\n")
                if log:
                    print(json.dumps(row), file=sys.stderr, flush=True)
            out.append(row)
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["strategy"], []).append(r)
    out = {}
    for strategy, group in by.items():
        k, n = sum(r["outcome"] == "solved" for r in group), len(group)
        lo, hi = wilson(k, n)
        out[strategy] = {"k": k, "n": n, "rate": k / n, "lo": lo, "hi": hi,
                         "gen": statistics.mean(r["tokens"] for r in group),
                         "prompt": statistics.mean(r["prompt_tokens"] for r in group),
                         "calls": statistics.mean(r["calls"] for r in group),
                         "ranks": sorted({r["rank"] for r in group}, key=int)}
    return out


def cell(s: dict[str, Any] | None) -> str:
    if not s:
        return "—"
    return (f"{s['k']}/{s['n']} = {s['rate']:.0%} [{s['lo']:.0%}, {s['hi']:.0%}]; "
            f"gen {s['gen']:.0f}, prompt {s['prompt']:.0f}, calls {s['calls']:.0f}")


def ranks_text(ranks: list[str]) -> str:
    nums = sorted(int(r) for r in ranks)
    if nums and nums == list(range(nums[0], nums[-1] + 1)):
        return f"ranks {nums[0]}–{nums[-1]}"
    return "ranks " + ", ".join(map(str, nums))


TARGETS = ("every exploratory strategy ≥ its random floor on 901–1000 (same puzzles); best "
           "exploratory ≥ 2× best_of_n on 901–1000; on 1–100 best exploratory ≥ 60 % while "
           "greedy ≤ 15 %; oracle evaluator: DFS and beam ≥ 95 % on 901–1000")


def run(quick: bool) -> list[dict]:
    slices = QUICK if quick else SLICES
    floor_name, floor_model = random_model()
    from reasoning.evaluators import EVALUATORS
    rows, lines = [], ["| slice | strategy | embedded model | random policy, same puzzles | "
                       "random policy (floor) | random proposer + oracle evaluator (ceiling) |",
                       "|---|---|---|---|---|---|"]
    emb_by: dict[str, dict[str, Any]] = {}
    same_by: dict[str, dict[str, Any]] = {}
    orc_by: dict[str, dict[str, Any]] = {}
    for name, ranks in slices.items():
        emb_rows = measure("embedded", SLICES[name])       # whatever was measured
        emb = emb_by[name] = summarise(emb_rows)
        rnd = summarise(measure(floor_name, ranks, model=floor_model, cache=not quick))
        orc = orc_by[name] = summarise(measure(floor_name, ranks, "oracle", model=floor_model,
                                               cache=not quick)) if "oracle" in EVALUATORS else {}
        for strategy, _ in STRATEGIES:
            e, r, o = emb.get(strategy), rnd.get(strategy), orc.get(strategy)
            # the floor on exactly the puzzles the embedded model was measured on (paired)
            same = summarise(measure(floor_name, e["ranks"], model=floor_model,
                                     strategies=[(st, pa) for st, pa in STRATEGIES if st == strategy])
                             ).get(strategy) if e else None
            same_by.setdefault(name, {})[strategy] = same
            lines.append(f"| {name} | {strategy} | {cell(e)}"
                         f"{' (' + ranks_text(e['ranks']) + ')' if e else ''} | {cell(same)} | "
                         f"{cell(r)} | {cell(o)} |")
            rows.append({
                "what": f"effectiveness, Game of 24 ranks {name}: {strategy}"
                        f"{'' if strategy == 'greedy' else ' (anytime)'}, {BUDGET:,} generated tokens",
                "work": f"embedded: {e['n'] if e else 0} puzzles ({ranks_text(e['ranks']) if e else '—'}); "
                        f"random: {len(ranks)} puzzles",
                "measured": f"embedded {e['k']}/{e['n']} = {e['rate']:.0%} [{e['lo']:.0%}, {e['hi']:.0%}]"
                            if e else "embedded: not measured",
                "target": "≥ random floor on the same puzzles" if strategy != "greedy" else "—",
                "baseline": (f"random, same puzzles {same['k']}/{same['n']}; " if same else "") +
                            f"random {r['k']}/{r['n']} = {r['rate']:.0%}" +
                            (f"; oracle {o['k']}/{o['n']} = {o['rate']:.0%}" if o else ""),
                "ok": bool(e) and (strategy == "greedy" or (same is not None and
                                                            e["rate"] >= same["rate"]))})
    output(TABLE).write_text("Effectiveness (solved rate [95 % Wilson], mean generated / prompt tokens and "
                     f"calls per puzzle; budget {BUDGET:,} generated tokens, counted with Gemma's "
                     "tokenizer for every row; every strategy anytime)\n\n" + "\n".join(lines) +
                     "\n\nTargets: " + TARGETS + "\n\n" + verdicts(emb_by, same_by, orc_by) + "\n")
    return rows


def verdicts(emb: dict[str, dict[str, Any]], same: dict[str, dict[str, Any]],
             orc: dict[str, dict[str, Any]]) -> str:
    """The issue's targets, read off the measured rows (embedded rows cover a stated subset)."""
    out = []
    hard, easy = emb.get("901-1000", {}), emb.get("1-100", {})
    explore = [s for s, _ in STRATEGIES if s not in ("greedy", "best_of_n")]
    for s in [x for x, _ in STRATEGIES if x != "greedy"]:
        e, f = hard.get(s), same.get("901-1000", {}).get(s)
        if e and f:
            out.append(f"- 901–1000, {s}: embedded {e['k']}/{e['n']} vs random on the same puzzles "
                       f"{f['k']}/{f['n']}: {'met' if e['rate'] >= f['rate'] else 'not met'}")
    for s in ("dfs", "beam"):
        o = orc.get("901-1000", {}).get(s)
        if o:
            out.append(f"- 901–1000, {s} with the oracle: {o['k']}/{o['n']} = {o['rate']:.0%} "
                       f"(target ≥ 95 %): {'met' if o['rate'] >= 0.95 else 'not met'}")
    best = max((hard[s] for s in explore if s in hard), key=lambda x: x["rate"], default=None)
    if best and "best_of_n" in hard:
        b = hard["best_of_n"]
        out.append(f"- 901–1000: best exploratory {best['k']}/{best['n']} vs best_of_n "
                   f"{b['k']}/{b['n']}: {'met' if best['rate'] >= 2 * b['rate'] and best['k'] else 'not met'}")
    best = max((easy[s] for s in explore if s in easy), key=lambda x: x["rate"], default=None)
    if best and "greedy" in easy:
        g = easy["greedy"]
        out.append(f"- 1–100: best exploratory {best['k']}/{best['n']} = {best['rate']:.0%} "
                   f"(target ≥ 60 %), greedy {g['k']}/{g['n']} = {g['rate']:.0%} (target ≤ 15 %): "
                   f"{'met' if best['rate'] >= 0.6 and g['rate'] <= 0.15 else 'not met'}")
    return "\n".join(out) or "- embedded model: not measured"


def demo_candidates(ranks: list[str], seeds: int = 5) -> list[tuple[float, float, str]]:
    """How soon search pays on each puzzle: (median calls to a solution for MCTS, for best_of_n
    n=4 anytime; 999 = not solved) over ``seeds`` seeds with the random policy, fewest first.
    Rank 37 (the Live page's first puzzle) came out first of ranks 1-120."""
    _, model = random_model()
    out = []
    for rank in ranks:
        med = []
        for strategy, params in (("mcts", {"anytime": True}), ("best_of_n", {"n": 4, "anytime": True})):
            calls = [r["calls"] if r["outcome"] == "solved" else 999 for r in
                     (one_run(model, "random", strategy, params, rank, seed) for seed in range(seeds))]
            med.append(statistics.median(calls))
        out.append((med[0], med[1], rank))
    return sorted(out, key=lambda t: (t[0], t[1], int(t[2])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_effectiveness")
    ap.add_argument("--embedded", type=int, default=0, metavar="N",
                    help="measure the embedded model on the first N puzzles of each slice")
    ap.add_argument("--strategies", default=",".join(s for s, _ in STRATEGIES))
    ap.add_argument("--slices", default=",".join(SLICES))
    ap.add_argument("--demo-candidates", default="", metavar="RANKS",
                    help="rank puzzles by how soon search pays (random policy), e.g. 1-120")
    args = ap.parse_args(argv)
    if args.demo_candidates:
        lo, _, hi = args.demo_candidates.partition("-")
        for row in demo_candidates([str(r) for r in range(int(lo), int(hi or lo) + 1)])[:10]:
            print(row)
        return 0
    wanted = [(s, p) for s, p in STRATEGIES if s in args.strategies.split(",")]
    if args.embedded:
        model = embedded()
        # puzzle by puzzle, alternating slices: a measurement stopped early covers both evenly
        for i in range(args.embedded):
            for name in args.slices.split(","):
                measure("embedded", SLICES[name][i:i + 1], model=model, strategies=wanted, log=True)
    tables = recorded(TABLE)
    print(tables[-1].read_text() if tables else "", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
