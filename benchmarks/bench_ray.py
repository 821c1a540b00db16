"""The ray executor on a real Ray cluster on this machine (head + worker nodes, 127.0.0.1 only).

1. Scaling: a grid of greedy cells (one model request each) against a loopback OpenAI-compatible
   server that takes 1 s per request; each worker node runs 2 cells at once (1 CPU, 0.5 per
   cell). One worker node, then a second one added to the same cluster: the same grid again.
2. Per-cell overhead: instant cells (the random policy, no server) through the local thread pool
   and through the ray executor, 2 at a time each.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.fault_server import FaultServer
from runner.experiments import ExperimentConfig, create_experiment, run_experiment
from storage import open_store


def _grid(db: str, n: int, model: dict, executor: str, address: str, concurrency: int) -> float:
    store = open_store(db)
    cfg = ExperimentConfig(task="game24", problems=f"1-{n}", strategies=["greedy"], budgets=[2000],
                           concurrency=concurrency, model=model, executor=executor,
                           ray_address=address)
    eid = create_experiment(cfg, store)
    t = time.monotonic()
    run_experiment(eid, store)
    took = time.monotonic() - t
    assert store.experiments.get(eid)["status"] == "finished"
    return took


def run(quick: bool) -> list[dict]:
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")   # loopback only
    import ray
    from ray.cluster_utils import Cluster

    from runner.experiments import ray_executor as rx
    n = 20 if quick else 40
    rx.CELL_CPUS = 0.5                       # 2 cells at once per 1-CPU worker node
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0,
                                                            "include_dashboard": False})
    try:
        with tempfile.TemporaryDirectory() as d, FaultServer() as server:
            slow = {"kind": "endpoint", "base_url": server.url, "model": "sleep-1",
                    "mode": "completions"}
            db = str(Path(d) / "ray.db")
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            _grid(db, 4, slow, "ray", cluster.address, 64)          # warm-up: workers started
            one = _grid(db, n, slow, "ray", cluster.address, 64)
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            _grid(db, 8, slow, "ray", cluster.address, 64)          # the new node's workers
            two = _grid(db, n, slow, "ray", cluster.address, 64)
            instant = {"kind": "random"}
            local = _grid(str(Path(d) / "local.db"), n, instant, "local", "", 2)
            _grid(db, 4, instant, "ray", cluster.address, 2)         # warm-up: its slot actor
            ray_s = _grid(db, n, instant, "ray", cluster.address, 2)
    finally:
        rx.CELL_CPUS = 0.25
        ray.shutdown()
        cluster.shutdown()
    per_local, per_ray = local / n * 1000, ray_s / n * 1000
    return [
        {"what": "ray executor, 2 worker nodes vs 1 (loopback server, 1 s/request, 2 cells "
                 "at once per node)",
         "work": f"{n} cells (greedy, 1 request each)", "measured": f"{two:.1f} s on 2 nodes",
         "target": "≥ 1.8× faster than 1 node",
         "baseline": f"1 node: {one:.1f} s (×{one / two:.2f})", "ok": one / two >= 1.8},
        {"what": "ray executor per-cell overhead vs local thread pool (instant cells: random "
                 "policy, 2 at a time)",
         "work": f"{n} cells (greedy, random policy)",
         "measured": f"ray {per_ray:.0f} ms/cell (+{per_ray - per_local:.0f} ms)",
         "target": "overhead well under a model call (~1 s)",
         "baseline": f"local: {per_local:.0f} ms/cell", "ok": per_ray - per_local < 500},
    ]
