"""Synthetic search trees as event logs, for benchmarks and large-tree demos (no model needed).

The shape is MCTS/beam-like: a root, a few children per node, most branches pruned or failed,
one solved path. Every node costs 3 events (created, completed, a state or score event), plus a
few token events, like a real run.
"""
from __future__ import annotations

import random

from reasoning import events as ev
from reasoning.events import Event


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
    run_id = store.create_run(task="game24", problem="4 5 6 10", problem_id="synthetic",
                              strategy="synthetic", params={"nodes": n_nodes}, model={"kind": "synthetic"},
                              budget={}, seed=seed)
    evs = [Event(run_id, e.seq, e.t, e.type, e.node_id, e.payload)
           for e in synthetic_events(n_nodes, run_id=run_id, seed=seed)]
    writer = store.writer(run_id)
    for i in range(0, len(evs), 5000):
        writer(evs[i:i + 5000])
    return run_id, len(evs)
