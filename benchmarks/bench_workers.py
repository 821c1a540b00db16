"""Parallel experiment workers: one worker process vs two sharing one SQLite database, against a
loopback OpenAI-compatible server that takes ~2 s per request and serves requests in parallel."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.fault_server import FaultServer
from runner.experiments import ExperimentConfig, create_experiment
from storage import open_store

ROOT = Path(__file__).resolve().parents[1]


def _timed(url: str, db: str, n_problems: int, workers: int) -> float:
    store = open_store(db)
    cfg = ExperimentConfig(task="game24", problems=f"1-{n_problems}", strategies=["greedy"], budgets=[2000],
                           model={"kind": "endpoint", "base_url": url, "model": "slow",
                                  "mode": "completions"})
    eid = create_experiment(cfg, store)
    t = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "experiment", "--resume", str(eid),
                               "--worker", f"w{k}", "--db", db, "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in range(workers)]
    for p in procs:
        p.wait(600)
    took = time.monotonic() - t
    assert store.experiments.get(eid)["status"] == "finished"
    return took


def run(quick: bool) -> list[dict]:
    n = 6 if quick else 12
    with tempfile.TemporaryDirectory() as d, FaultServer() as server:
        one = _timed(server.url, str(Path(d) / "one.db"), n, 1)
        two = _timed(server.url, str(Path(d) / "two.db"), n, 2)
    return [{"what": "experiment, 2 worker processes vs 1 (loopback server, ~2 s/request)",
             "work": f"{n} cells (greedy, 1 request each)", "measured": f"{two:.1f} s with 2 workers",
             "target": "about half of 1 worker", "baseline": f"1 worker: {one:.1f} s (×{one / two:.2f})",
             "ok": two <= 0.65 * one}]
