"""The ray executor on a real Ray cluster on this machine: a head (no CPUs: it runs no cell) and two
worker nodes, every address on 127.0.0.1, shared by the whole module (Ray is slow to start).

What Ray now covers that our own claims and heartbeats covered before (tests/test_workers.py): the
cells are shared out with none run twice, and a dead worker's cell is run again elsewhere. The
driver's own faults: a killed driver and ``--resume``, Stop, and the endpoint limit across nodes.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")   # loopback only (see connect)
if os.environ.get("CI", "").lower() == "true":
    import ray  # CI installs requirements-dev.txt: a missing Ray must fail, not skip
else:
    ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from benchmarks.fault_server import FaultServer  # noqa: E402
from runner.experiments import (  # noqa: E402
    ExperimentConfig,
    cells,
    create_experiment,
    run_experiment,
    start_experiment,
    stop_experiment,
    summary,
)
from runner.experiments import ray_executor as rx  # noqa: E402
from storage import experiments as repo  # noqa: E402
from storage import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FINISHED = ("solved", "failed", "budget")
pytestmark = pytest.mark.timeout(240)


def _worker_node(c: Cluster):
    return c.add_node(num_cpus=1)   # 2 cells at once (a cell asks for 0.5 CPU here)


@pytest.fixture(scope="module")
def cluster():
    cpus, rx.CELL_CPUS = rx.CELL_CPUS, 0.5   # fewer Ray worker processes to start on 2 cores
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    nodes = [_worker_node(c) for _ in range(2)]
    c.wait_for_nodes()
    try:
        yield c, nodes
    finally:
        rx.CELL_CPUS = cpus
        if ray.is_initialized():
            ray.shutdown()
        c.shutdown()


@pytest.fixture(scope="module")
def server():
    with FaultServer() as s:
        yield s


def _experiment(store, address, problems="1-8", model=None, concurrency=8, **kw):
    config = ExperimentConfig(task="game24", problems=problems, strategies=["greedy"],
                              budgets=[2000], concurrency=concurrency, executor="ray",
                              ray_address=address, model=model or {"kind": "random"}, **kw)
    return create_experiment(config, store), config


def _endpoint(server, mode):
    return {"kind": "endpoint", "base_url": server.url, "model": mode, "mode": "completions"}


def _per_cell(store, eid):
    runs = repo.cell_runs(store, eid)
    finished = Counter(r["cell_key"] for r in runs if r["outcome"] in FINISHED)
    return finished, runs


def _wait(pred, limit=120.0):
    deadline = time.monotonic() + limit
    while not pred():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def _node_of(nodes, pid: int):
    """The worker node whose raylet started the Ray worker ``pid``."""
    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    for node in nodes:
        if any(p.process.pid == ppid for p in node.all_processes["raylet"]):
            return node
    raise AssertionError(f"no worker node started pid {pid}")


def test_the_grid_completes_with_one_run_per_cell(cluster, tmp_path):
    c, _ = cluster
    store = open_store(str(tmp_path / "grid.db"))
    config = ExperimentConfig(task="game24", problems="1-4", strategies=["greedy", "best_of_n:n=2"],
                              seeds=[0], concurrency=8, executor="ray", ray_address=c.address,
                              model={"kind": "random"})
    eid = create_experiment(config, store)
    p = run_experiment(eid, store)
    finished, runs = _per_cell(store, eid)
    assert p.done == p.total == 8 and repo.get_experiment(store, eid)["status"] == "finished"
    assert set(finished) == {k.key for k in cells(config)} and set(finished.values()) == {1}
    assert len(runs) == 8                                   # no cell run twice, no gap
    assert len({store.get_run(r["id"])["pid"] for r in runs}) >= 2   # several Ray workers
    cluster_info = repo.get_experiment(store, eid)["config"]["cluster"]
    assert cluster_info["executor"] == "ray" and cluster_info["nodes"] == 3
    assert summary(store, eid)["executor"] == "ray"


def test_a_killed_worker_node_mid_cell_is_retried_and_nothing_is_lost(cluster, server, tmp_path):
    c, nodes = cluster
    store = open_store(str(tmp_path / "node.db"))
    eid, config = _experiment(store, c.address, model=_endpoint(server, "sleep-3"))
    out: dict = {}
    driver = threading.Thread(target=lambda: out.update(p=run_experiment(eid, store)))
    driver.start()
    _wait(lambda: any(r["status"] == "running" for r in repo.cell_runs(store, eid)))
    running = next(r for r in repo.cell_runs(store, eid) if r["status"] == "running")
    victim = _node_of(nodes, store.get_run(running["id"])["pid"])
    nodes.remove(victim)
    c.remove_node(victim, allow_graceful=False)   # its raylet and workers die mid-cell
    driver.join(180)
    nodes.append(_worker_node(c))                  # the next tests have two worker nodes again
    finished, runs = _per_cell(store, eid)
    dead = [r for r in runs if r["status"] == "interrupted"]
    assert out["p"].done == 8 and set(finished.values()) == {1}
    assert set(finished) == {k.key for k in cells(config)}
    assert 1 <= len(dead) <= 2 and len(runs) == 8 + len(dead)    # each dead attempt kept
    assert not [r for r in runs if r["status"] == "running"]     # runs lost: 0
    assert {r["cell_key"] for r in dead} <= set(finished)         # and its cell run again
    print(f"\nkilled node: cells retried {len(dead)}, runs lost 0")


def test_a_killed_driver_then_resume_runs_no_cell_twice(cluster, server, tmp_path):
    c, _ = cluster
    db = str(tmp_path / "driver.db")
    store = open_store(db)
    eid, config = _experiment(store, c.address, model=_endpoint(server, "sleep-1"), concurrency=2)
    cli = [sys.executable, str(ROOT / "cli.py"), "experiment", "--resume", str(eid), "--db", db,
           "--quiet"]
    driver = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait(lambda: len(_per_cell(store, eid)[0]) >= 2 and
          any(r["status"] == "running" for r in repo.cell_runs(store, eid)))
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait(10)
    resumed = subprocess.run(cli, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    finished, runs = _per_cell(store, eid)
    assert set(finished) == {k.key for k in cells(config)} and set(finished.values()) == {1}
    dead = [r for r in runs if r["status"] == "interrupted"]
    assert dead and len(runs) == 8 + len(dead)
    assert repo.get_experiment(store, eid)["status"] == "finished"


def test_stop_cancels_the_ray_tasks(cluster, server, tmp_path):
    c, _ = cluster
    store = open_store(str(tmp_path / "stop.db"))
    eid, _ = _experiment(store, c.address, problems="1-4", model=_endpoint(server, "sleep-8"))
    thread = start_experiment(eid, store)
    _wait(lambda: sum(r["status"] == "running" for r in repo.cell_runs(store, eid)) >= 4)
    t0 = time.monotonic()
    assert stop_experiment(eid)
    thread.join(60)
    took = time.monotonic() - t0
    runs = repo.cell_runs(store, eid)
    assert len(runs) == 4 and {r["outcome"] for r in runs} == {"cancelled"}   # not answered
    assert repo.get_experiment(store, eid)["status"] == "stopped"
    print(f"\nstop: {len(runs)} running cells cancelled in {took:.1f} s")


def test_the_endpoint_limit_holds_across_nodes(cluster, server, tmp_path):
    """3 cells at once: more than one worker node holds (2), fewer than the cluster (4)."""
    c, _ = cluster
    store = open_store(str(tmp_path / "limit.db"))
    _wait(lambda: server.inflight == 0)     # a cancelled run's request still sleeps on the server
    server.peak = 0
    eid, _ = _experiment(store, c.address, problems="1-6", model=_endpoint(server, "sleep-6"),
                         concurrency=3)
    run_experiment(eid, store)
    assert len(_per_cell(store, eid)[0]) == 6
    assert server.peak == 3
    slots = rx.endpoint_slots(ray, rx.endpoint_key(ExperimentConfig.from_dict(
        repo.get_experiment(store, eid)["config"])))
    assert ray.get(slots.state.remote())["held"] == 0     # every slot given back
