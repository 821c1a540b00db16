"""Value checks: is a cheaper check as good at telling solvable states from dead ends?

The ToT value prompt ("can these numbers still reach 24? sure / likely / impossible") is asked
3 times per state and the verdict scores summed (20 / 1 / 0.001). A cheaper check asks once. Both
are read off the *same* calls: the first sample alone is the 1-call check, so the comparison is
paired. Truth is exact solvability (``Task.solvable``); the figure is the AUC (P(a solvable state
scores above a dead end) + ½ P(tie)) with a bootstrap 95 % interval over states.

States: for each puzzle of the two effectiveness slices, one state after 1 and one after 2
uniformly random legal steps (seeded), so about half are dead ends. Run it with the embedded model:
``python -m benchmarks.bench_value_checks --states 60`` (about 3 calls per state).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from reasoning.evaluator_accuracy import auc_of
from reasoning.evaluators.value_prompt import parse_verdict
from reasoning.models.base import GenRequest
from reasoning.tasks import get_task

from .outputs import output

OUT = "value_checks_runs.jsonl"     # benchmarks.outputs: where
SAMPLES, TEMPERATURE = 3, 0.7   # the evaluator's defaults (value_prompt.py)


def states(n: int, seed: int = 0) -> list[tuple[str, Any]]:
    """``n`` (label, state) pairs from ranks 901–1000 and 1–100 alternately, depth 1 or 2."""
    task = get_task("game24")
    rng = random.Random(seed)
    ranks = [str(r) for pair in zip(range(901, 1001), range(1, 101), strict=True) for r in pair]
    out = []
    for i in range(n):
        rank = ranks[i // 2 % len(ranks)]
        problem = task.problem_by_id(rank)
        state = task.initial_state(problem)
        for _ in range(1 + i % 2):
            _, state = task.apply_step(problem, state, rng.choice(task.legal_steps(state)))
        out.append((f"{rank}/{i}", problem, state))
    return out


def measure(model: Any, n: int, runs: Path | None = None) -> list[dict[str, Any]]:
    runs = runs or output(OUT)
    task = get_task("game24")
    words = task.value_choices()
    done = {r["state"]: r for r in map(json.loads, runs.read_text().splitlines())} \
        if runs.exists() else {}
    rows = []
    for i, (label, problem, state) in enumerate(states(n)):
        if label in done:
            rows.append(done[label])
            continue
        prompt = task.value_prompt(problem, state, model.mode)
        t = time.perf_counter()
        verdicts = []
        for k in range(SAMPLES):
            out = model.generate(GenRequest(prompt=prompt, temperature=TEMPERATURE, seed=100 * i + k,
                                            max_tokens=8, choices=list(words)))
            verdicts.append(parse_verdict(out.text, words))
        row = {"state": label, "solvable": bool(task.solvable(state)), "verdicts": verdicts,
               "seconds": round(time.perf_counter() - t, 2)}
        with runs.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def auc(rows: list[dict[str, Any]], k: int) -> float | None:
    words = get_task("game24").value_choices()
    hist: dict[float, list[int]] = {}
    for r in rows:
        v = sum(words[w] for w in r["verdicts"][:k] if w)
        hist.setdefault(v, [0, 0])[0 if r["solvable"] else 1] += 1
    return auc_of([[v, p, q] for v, (p, q) in hist.items()])


def interval(rows: list[dict[str, Any]], k: int, draws: int = 2000) -> tuple[float, float]:
    rng = random.Random(0)
    got = sorted(a for a in (auc([rng.choice(rows) for _ in rows], k) for _ in range(draws))
                 if a is not None)
    return got[int(0.025 * len(got))], got[int(0.975 * len(got)) - 1]


def report(rows: list[dict[str, Any]]) -> str:
    pos = sum(r["solvable"] for r in rows)
    lines = [f"{len(rows)} states ({pos} solvable, {len(rows) - pos} dead ends)"]
    for k in (1, SAMPLES):
        a = auc(rows, k)
        lo, hi = interval(rows, k)
        lines.append(f"value prompt, {k} call{'s' if k > 1 else ''} a state: AUC {a} "
                     f"[{lo:.2f}, {hi:.2f}]")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_value_checks")
    ap.add_argument("--states", type=int, default=60)
    ap.add_argument("--model", default="embedded", choices=["embedded", "random"])
    args = ap.parse_args(argv)
    if args.model == "random":
        from reasoning.models.random_policy import RandomPolicy
        model = RandomPolicy()
    else:
        from reasoning.models.embedded import embedded_model
        model = embedded_model()
    out = output(OUT if args.model == "embedded" else f"value_checks_{args.model}.jsonl")
    print(report(measure(model, args.states, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
