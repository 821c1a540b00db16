"""Storage: batched event appends (WAL) vs one transaction per event, and load + fold of big runs."""
from __future__ import annotations

import os
import tempfile
import time

from reasoning.events import RunStarted
from reasoning.tree import fold
from runner.synthetic import store_synthetic, synthetic_events
from storage import open_store, reserve_run


def _new_run(store, n):
    return reserve_run(store, RunStarted(task="game24", problem="4 5 6 10", strategy="synthetic",
                                         params={"nodes": n}))


def append_throughput(store, n_events: int, batch: int) -> float:
    evs = synthetic_events(n_events // 3)
    run = _new_run(store, n_events // 3)
    evs = [e.__class__(run.run_id, e.seq, e.t, e.type, e.node_id, e.payload) for e in evs[:-1]]
    t = time.perf_counter()   # appends only (run_finished, which also saves positions, is left out)
    for i in range(0, len(evs), batch):
        run.append(evs[i:i + batch])
    return len(evs) / (time.perf_counter() - t)


def load_and_fold(store, n_nodes: int) -> tuple[float, float, int]:
    rid, _ = store_synthetic(store, n_nodes)
    t = time.perf_counter()
    loaded = store.events(rid)
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    tree = fold(loaded)
    t_fold = time.perf_counter() - t
    assert len(tree.nodes) == n_nodes
    return t_load, t_fold, len(loaded)


def run(quick: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        store = open_store(os.path.join(d, "bench.db"))
        n = 30_000 if quick else 150_000
        batched = append_throughput(store, n, 500)
        single = append_throughput(store, 1_500 if quick else 3_000, 1)
        rows.append({"what": "event append, batches of 500 (WAL)", "work": f"{n:,} events",
                     "measured": f"{batched:,.0f} events/s", "target": "≥ 20,000 events/s",
                     "baseline": f"1 event per transaction: {single:,.0f}/s (×{batched / single:.0f})",
                     "ok": batched >= 20_000})
        sizes = (10_000,) if quick else (10_000, 100_000)
        for size in sizes:
            t_load, t_fold, n_ev = load_and_fold(store, size)
            total = t_load + t_fold
            target = 0.3 if size == 10_000 else None
            rows.append({"what": f"load + fold a stored {size:,}-node run", "work": f"{n_ev:,} events",
                         "measured": f"{total:.3f} s (load {t_load:.3f} + fold {t_fold:.3f})",
                         "target": "≤ 0.3 s" if target else "works",
                         "baseline": f"fold alone is {t_fold / total:.0%} of it",
                         "ok": total <= target if target else True})
    return rows
