"""Several experiment worker processes on one database (SQLite and PostgreSQL) divide the cells:
no cell finished twice, no gap, and a killed worker's cells are taken over. Scripted model."""
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from runner.experiments import ExperimentConfig, cells, create_experiment, run_experiment
from storage import experiments as repo
from storage import open_store
from storage.claims import claims
from tests.helpers import pick_first

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import sys, time
sys.path.insert(0, {root!r})
from storage import open_store
from storage.claims import claims
from runner.experiments import run_experiment
from reasoning.models.scripted import ScriptedModel

def slow(req):
    time.sleep({delay})
    return req.choices[0]

run_experiment({eid}, open_store({url!r}), model_factory=lambda: ScriptedModel(slow),
               worker={name!r}, stale_after={stale})
"""


def _experiment(store) -> tuple[int, ExperimentConfig]:
    config = ExperimentConfig(task="game24", problems="1-10", strategies=["greedy"], budgets=[2000],
                              seeds=[0, 1])
    return create_experiment(config, store), config


def _worker(url, eid, name, stale=60.0, delay=0.08):
    code = WORKER.format(root=str(ROOT), url=url, eid=eid, name=name, stale=stale, delay=delay)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finished_per_cell(store, eid):
    runs = repo.cell_runs(store, eid)
    return Counter(r["cell_key"] for r in runs if r["outcome"] in ("solved", "failed", "budget")), runs


def test_two_workers_split_an_experiment(db_url):
    store = open_store(db_url)
    eid, config = _experiment(store)
    procs = [_worker(db_url, eid, f"w{k}") for k in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
    finished, runs = _finished_per_cell(store, eid)
    keys = {c.key for c in cells(config)}
    assert len(keys) == 20
    assert set(finished) == keys and set(finished.values()) == {1}   # no gap, no duplicate
    pids = Counter(store.get_run(r["id"])["pid"] for r in runs)
    assert len(pids) == 2 and min(pids.values()) >= 3  # both workers did a fair share
    done_by = Counter(c["worker"] for c in claims(store, eid) if c["status"] == "done")
    assert set(done_by) == {"w0", "w1"} and sum(done_by.values()) == 20
    assert repo.get_experiment(store, eid)["status"] == "finished"


def test_a_killed_workers_cells_are_taken_over(db_url):
    store = open_store(db_url)
    eid, config = _experiment(store)
    victim = _worker(db_url, eid, "victim", stale=2.0, delay=0.3)
    deadline = time.monotonic() + 120
    while len(repo.cell_runs(store, eid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)
    survivor = _worker(db_url, eid, "survivor", stale=2.0)
    _, err = survivor.communicate(timeout=240)
    assert survivor.returncode == 0, err[-2000:]
    finished, runs = _finished_per_cell(store, eid)
    assert set(finished) == {c.key for c in cells(config)} and set(finished.values()) == {1}
    done_by = Counter(c["worker"] for c in claims(store, eid) if c["status"] == "done")
    assert done_by["victim"] >= 1 and done_by["survivor"] >= 1
    assert done_by["victim"] + done_by["survivor"] == 20
    # the cell the victim was running when killed was run again, by the survivor
    unfinished = [r for r in runs if r["outcome"] not in ("solved", "failed", "budget")]
    assert len(unfinished) == 1 and len(runs) == 21


def test_same_experiment_same_results_on_both_databases(tmp_path, db_url):
    """The scripted experiment stores identical outcomes, answers and events everywhere (token
    batches aside: how chunks are batched depends on timing; each node's full text is in its
    node_completed event, which is compared)."""
    from reasoning.models.scripted import ScriptedModel
    results = []
    for url in ("sqlite:///" + str(tmp_path / "ref.db"), db_url):
        store = open_store(url)
        eid, _ = _experiment(store)
        run_experiment(eid, store, model_factory=lambda: ScriptedModel(pick_first))
        rows = sorted(repo.cell_runs(store, eid), key=lambda r: r["cell_key"])
        results.append([(r["cell_key"], r["outcome"], r["answer"], r["nodes"], r["tokens"],
                         [(e.type, e.node_id, {k: v for k, v in e.payload.items() if k not in
                                               ("seconds", "model_seconds")})
                          for e in store.events(r["id"]) if e.type != "tokens"])
                        for r in rows])
    assert results[0] == results[1]
