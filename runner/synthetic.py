"""Synthetic search trees as event logs, for benchmarks and large-tree demos (no model needed).

The shape is MCTS/beam-like: a root, a few children per node, most branches pruned or failed,
one solved path. Every node costs 3 events (created, completed, a state or score event), plus a
few token events, like a real run.
"""
from __future__ import annotations

import json
import random

from reasoning import events as ev
from reasoning.events import Event
from storage import reserve_run


def synthetic_events(n_nodes: int, run_id: int = 1, seed: int = 0, max_depth: int = 10) -> list[Event]:
    rng = random.Random(seed)
    out: list[Event] = []

    def add(type_: str, node_id: int | None, **payload) -> None:
        out.append(Event(run_id, len(out) + 1, len(out) * 0.001, type_, node_id, payload))

    add(ev.RUN_STARTED, None, task="game24", problem="4 5 6 10", problem_id="synthetic",
        strategy="synthetic", params={"nodes": n_nodes}, model={"kind": "synthetic"}, budget={}, seed=seed)
    add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem", label="left: 4 5 6 10")
    add(ev.NODE_COMPLETED, 0, text="4 5 6 10", step=None, label="left: 4 5 6 10")
    frontier = [0]
    depth = {0: 0}
    nid = 1
    while nid < n_nodes:
        parent = frontier[rng.randrange(len(frontier))] if rng.random() < 0.7 else frontier[-1]
        d = depth[parent] + 1
        add(ev.NODE_CREATED, nid, parent_id=parent, depth=d, role="thought")
        if nid % 10 == 0:
            add(ev.TOKENS, nid, text=f"{nid % 13} + {d} ")
        step = f"{nid % 13} + {d} = {nid % 13 + d} (left: {nid % 7} {d})"
        add(ev.NODE_COMPLETED, nid, text=step, step=step, label=f"left: {nid % 7} {d}",
            completion_tokens=12, prompt_tokens=300)
        r = rng.random()
        if r < 0.45:
            add(ev.NODE_PRUNED, nid, reason="outside beam", value=round(rng.random(), 3))
        elif r < 0.55:
            add(ev.NODE_FAILED, nid, reason="not 24")
        elif r < 0.6:
            add(ev.NODE_BACKTRACKED, nid, reason="dead end")
        else:
            add(ev.NODE_SCORED, nid, value=round(rng.random() * 20, 3), evaluator="value_prompt",
                details={}, visits=rng.randint(1, 9), value_sum=rng.random())
            if d < max_depth:
                frontier.append(nid)
            if len(frontier) > 64:
                frontier.pop(0)
        depth[nid] = d
        nid += 1
    add(ev.NODE_SOLVED, n_nodes - 1, reason="(synthetic) = 24", answer="synthetic = 24")
    add(ev.RUN_FINISHED, None, outcome="solved", answer="synthetic = 24", answer_node=n_nodes - 1,
        nodes=n_nodes, tokens=12 * n_nodes, seconds=out[-1].t)
    return out


def store_synthetic(store, n_nodes: int, seed: int = 0) -> tuple[int, int]:
    """Store a synthetic run (finished) and return (run_id, number of events)."""
    writer = reserve_run(store, ev.RunStarted(
        task="game24", problem="4 5 6 10", problem_id="synthetic", strategy="synthetic",
        params={"nodes": n_nodes}, model={"kind": "synthetic"}, seed=seed))
    run_id = writer.run_id
    evs = [Event(run_id, e.seq, e.t, e.type, e.node_id, e.payload)
           for e in synthetic_events(n_nodes, run_id=run_id, seed=seed)]
    for i in range(0, len(evs), 5000):
        writer(evs[i:i + 5000])
    return run_id, len(evs)


TASKS = ("game24", "gsm8k", "math", "free")
STRATEGIES = ("greedy", "best_of_n", "beam", "dfs", "mcts", "reflect")
OUTCOMES = ("solved", "failed", "budget", "error", "cancelled", "answered")
MODELS = ("gemma-3-270m", "qwen2.5-0.5b", "llama-3.2-1b", "random")


def many_runs(n_runs: int, seed: int = 0, start: float = 1_767_225_600.0,
              experiments: tuple[int, ...] = ()) -> tuple[list[dict], list[list[Event]]]:
    """``n_runs`` small finished runs (a root and one answer each) spread over a year, with every
    task, strategy, outcome and model: run rows and their events, for :func:`store_many_runs`."""
    rng = random.Random(seed)
    rows, logs = [], []
    for i in range(n_runs):
        task, strategy, outcome = rng.choice(TASKS), rng.choice(STRATEGIES), rng.choice(OUTCOMES)
        model = {"model": rng.choice(MODELS), "base_url": "http://127.0.0.1:8080/v1"}
        a, b, c, d = (rng.randint(1, 13) for _ in range(4))
        problem = f"{a} {b} {c} {d}" if task == "game24" else f"synthetic question {i}: {a} + {b} * {c}"
        created = start + i * (365 * 86_400 / max(1, n_runs))
        seconds = round(rng.random() * 9, 2)
        rows.append({"created_at": created, "task": task, "problem": problem, "problem_id": str(i),
                     "strategy": strategy, "params": "{}", "model": json.dumps(model), "budget": "{}",
                     "seed": i, "status": "finished", "outcome": outcome, "answer": "24",
                     "nodes": 2, "tokens": 20, "events": 6, "seconds": seconds,
                     "experiment_id": rng.choice(experiments) if experiments and rng.random() < 0.3 else None})
        log: list[Event] = []

        def add(type_: str, node_id: int | None, log: list[Event] = log, **payload) -> None:
            log.append(Event(0, len(log) + 1, len(log) * 0.1, type_, node_id, payload))
        add(ev.RUN_STARTED, None, task=task, problem=problem, problem_id=str(i), strategy=strategy,
            model=model, seed=i)
        add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
        add(ev.NODE_COMPLETED, 0, text=problem)
        add(ev.NODE_CREATED, 1, parent_id=0, depth=1, role="answer")
        add(ev.NODE_COMPLETED, 1, text="Answer: 24", answer="24", terminal=True, completion_tokens=20)
        add(ev.RUN_FINISHED, None, outcome=outcome, answer="24", answer_node=1, nodes=2, tokens=20,
            seconds=seconds)
        logs.append(log)
    return rows, logs


def store_many_runs(store, n_runs: int, seed: int = 0, experiments: tuple[int, ...] = ()) -> list[int]:
    """Store ``n_runs`` synthetic small runs in one transaction; their ids, oldest first."""
    from storage.run_list import insert_runs
    rows, logs = many_runs(n_runs, seed, experiments=experiments)
    return insert_runs(store, rows, logs)
