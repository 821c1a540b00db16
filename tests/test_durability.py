"""Process death, concurrent writers and readers, and keys that must never be stored."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.fault_server import FaultServer
from reasoning.engine import run_search
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import fold
from storage import open_store, reopen
from tests.helpers import new_run, pick_by_seed

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / "cli.py")


def _gapless(store, run_id):
    evs = store.events(run_id)
    assert [e.seq for e in evs] == list(range(1, len(evs) + 1))
    return evs


# The CLI in a child process, with every event it makes reported on stdout the moment it exists
# in the process (after the recorder numbered it), so a test knows how many were made before a
# kill -9 and can compare with how many were stored.
COUNTING_CLI = """
import sys; sys.path.insert(0, {root!r})
from reasoning import recorder
_emit = recorder.Recorder.emit
def emit(self, *args, **kwargs):
    e = _emit(self, *args, **kwargs)
    print(e.seq, flush=True)
    return e
recorder.Recorder.emit = emit
import cli
sys.exit(cli.main({argv!r}))
"""
MAX_LOST_EVENTS = 3  # what a kill may cost: the batch not yet written (flushes are <= 0.1 s apart)


def test_kill_9_mid_run_marks_interrupted_and_keeps_events(tmp_path):
    db = str(tmp_path / "kill.db")
    made: list[int] = []
    with FaultServer() as server:
        argv = ["run", "--db", db, "--base-url", server.url, "--model", "slow", "--mode",
                "completions", "--strategy", "mcts", "--simulations", "200", "--quiet"]
        proc = subprocess.Popen([sys.executable, "-c", COUNTING_CLI.format(root=str(ROOT), argv=argv)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reader = threading.Thread(target=lambda: made.extend(int(x) for x in proc.stdout), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (not made or made[-1] < 40):
                time.sleep(0.05)
            time.sleep(0.37)  # land anywhere in the flush cycle, not right after an event
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    # a "next start" in another process: opening the database marks the run interrupted
    out = subprocess.run([sys.executable, CLI, "show", "1", "--db", db], capture_output=True,
                         text=True, timeout=60)
    summary = json.loads(out.stdout)
    assert summary["outcome"] == "interrupted"
    store = open_store(db)
    evs = _gapless(store, 1)
    assert evs[-1].payload["outcome"] == "interrupted"
    tree = fold(evs)  # the replay works
    assert tree.outcome == "interrupted" and len(tree.nodes) >= 2
    stored = evs[-2].seq  # before the closing event the next start added
    assert made == list(range(1, len(made) + 1)) and stored <= made[-1]
    lost = made[-1] - stored
    print(f"kill -9 after {made[-1]} events: {stored} stored, {lost} lost")
    assert lost <= MAX_LOST_EVENTS, f"{lost} of {made[-1]} events lost"


def _scripted_run(store, puzzle, results):
    task = get_task("game24")
    rid = new_run(store, task="game24", problem=puzzle, problem_id=None, strategy="mcts",
                           params={}, model={}, budget={}, seed=0)
    result, rec = run_search(make_strategy("mcts", {"simulations": 150, "stop_on_solution": False}),
                             task, task.resolve_problem(puzzle), ScriptedModel(pick_by_seed, chunk=1),
                             run_id=rid, budget=Budget(max_nodes=5000), sink=reopen(store, rid))
    results[rid] = len(rec.events)


def test_two_runs_in_threads_while_the_sessions_page_reads(any_store):
    store = any_store
    results: dict[int, int] = {}
    errors: list[Exception] = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                for r in store.list_runs():
                    store.events(r["id"], after_seq=max(0, (r["events"] or 0) - 50))
            except Exception as e:  # noqa: BLE001 - any error fails the test below
                errors.append(e)

    threads = [threading.Thread(target=_scripted_run, args=(store, p, results))
               for p in ("1 1 1 1", "1 1 2 2")]
    rt = threading.Thread(target=reader)
    rt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    rt.join(10)
    assert not errors
    assert len(results) == 2
    for rid, n in results.items():
        assert len(_gapless(store, rid)) == n
        assert store.get_run(rid)["events"] == n


WRITER = """
import sys; sys.path.insert(0, {root!r})
from storage import open_store
from tests.test_durability import _scripted_run
res = {{}}
_scripted_run(open_store({db!r}), {puzzle!r}, res)
print(list(res.items())[0][1])
"""


def test_two_processes_write_one_database(db_path):
    open_store(db_path)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), db=db_path, puzzle=p)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in ("1 1 1 1", "1 1 2 2")]
    store = open_store(db_path)
    while any(p.poll() is None for p in procs):
        for r in store.list_runs():  # a reader at the same time
            store.events(r["id"], after_seq=max(0, (r["events"] or 0) - 50))
        time.sleep(0.05)
    outs = [p.communicate() for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "database is locked" not in err
    counts = sorted(int(o.strip()) for o, _ in outs)
    stored = sorted(len(_gapless(store, r["id"])) for r in store.list_runs())
    assert stored == counts


def test_api_key_never_reaches_database_or_output(tmp_path):
    secret = "sk-test-DO-NOT-STORE-4f2a9c"
    db = tmp_path / "key.db"
    env = dict(os.environ, TT_TEST_KEY=secret)
    with FaultServer() as server:
        out = subprocess.run([sys.executable, CLI, "run", "--db", str(db), "--base-url", server.url,
                              "--model", "echo-auth", "--mode", "chat", "--api-key-env", "TT_TEST_KEY",
                              "--strategy", "greedy"], capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        assert f"Bearer {secret}" in server.auth  # the key was really used
    assert secret not in out.stdout and secret not in out.stderr
    for f in tmp_path.iterdir():
        assert secret.encode() not in f.read_bytes(), f.name
    assert json.loads(out.stdout.strip().splitlines()[-1])["run_id"] == 1
