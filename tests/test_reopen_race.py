"""Two processes opening a database after a crash, at the same moment (the app and a CLI, two
experiment workers): both must open it, and the dead run is closed exactly once.

Two long-lived worker processes wait for a "go" line, then open the database through a new
``Store`` (migrations + marking interrupted runs, what every start does) and answer ``ok`` or the
error. Each repetition first stores a fresh "crashed" run: status running, some events, the pid of
a process that has exited. Same for two processes adding a mark to one run at once.
"""
from __future__ import annotations

import json
import subprocess
import sys

from reasoning import events as ev
from storage import open_store, reopen
from storage.door import mark_interrupted
from tests.helpers import EventLog, new_run

REPEATS = 20

WORKER = r"""
import json, sys, traceback
sys.path.insert(0, {root!r})
from storage.db import make_engine
from storage.repo import Store
from storage import reopen
url = {url!r}
for line in sys.stdin:
    cmd = json.loads(line)
    try:
        engine = make_engine(url)
        store = Store(engine)
        if cmd.get("mark") is not None:
            reopen(store, cmd["mark"]).add("node_marked", 1, {{"mark": "correct", "by": cmd["who"]}})
        engine.dispose()
        print(json.dumps({{"ok": True}}), flush=True)
    except Exception as e:
        print(json.dumps({{"ok": False, "error": f"{{type(e).__name__}}: {{e}}"}}), flush=True)
"""


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _crashed_run(store, pid: int) -> int:
    """A run whose process died mid-run: running, 4 events, a pid that no longer exists."""
    from sqlalchemy import update

    from storage.schema import runs
    rid = new_run(store, task="game24", problem="4 5 6 10", problem_id=None, strategy="greedy",
                           params={}, model={}, budget={}, seed=0)
    log = EventLog(rid)
    log.add(ev.RUN_STARTED, task="game24", problem="4 5 6 10", strategy="greedy")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="4 5 6 10")
    log.add(ev.NODE_CREATED, 1, parent_id=0, depth=1)
    reopen(store, rid).append(log.events)
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == rid).values(pid=pid))
    return rid


class Workers:
    def __init__(self, url: str, n: int = 2) -> None:
        from tests.conftest import ROOT
        code = WORKER.format(root=str(ROOT), url=url)
        self.procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                      for _ in range(n)]

    def go(self, **cmd) -> list[dict]:
        """Send one command to every worker at once; their answers, in order."""
        for i, p in enumerate(self.procs):
            p.stdin.write(json.dumps({**cmd, "who": i}) + "\n")
            p.stdin.flush()
        out = []
        for p in self.procs:
            line = p.stdout.readline()
            assert line, p.stderr.read()
            out.append(json.loads(line))
        return out

    def close(self) -> None:
        for p in self.procs:
            p.stdin.close()
            p.wait(30)


def test_two_processes_reopen_after_a_crash(db_url):
    store = open_store(db_url)
    workers = Workers(db_url)
    failures = []
    try:
        workers.go()  # warm up: imports done, so the next opens start together
        for _ in range(REPEATS):
            rid = _crashed_run(store, _dead_pid())
            failures += [r["error"] for r in workers.go() if not r["ok"]]
            evs = store.events(rid)
            assert [e.seq for e in evs] == [1, 2, 3, 4, 5]  # one closing event, no gap, no twin
            assert evs[-1].type == ev.RUN_FINISHED and evs[-1].payload["outcome"] == "interrupted"
            run = store.get_run(rid)
            assert (run["status"], run["outcome"], run["events"]) == ("interrupted", "interrupted", 5)
    finally:
        workers.close()
    assert failures == [], f"{len(failures)} of {2 * REPEATS} opens failed: {failures[:3]}"


def test_two_processes_mark_one_run_at_once(db_url):
    store = open_store(db_url)
    rid = _crashed_run(store, _dead_pid())
    mark_interrupted(store)
    workers = Workers(db_url)
    failures = []
    try:
        for _ in range(REPEATS):
            failures += [r["error"] for r in workers.go(mark=rid) if not r["ok"]]
    finally:
        workers.close()
    assert failures == [], f"{len(failures)} of {2 * REPEATS} marks failed: {failures[:3]}"
    evs = store.events(rid)
    assert [e.seq for e in evs] == list(range(1, 6 + 2 * REPEATS))
    assert sum(e.type == "node_marked" for e in evs) == 2 * REPEATS
    assert store.get_run(rid)["events"] == 5 + 2 * REPEATS


OWNER = r"""
import sys
sys.path.insert(0, {root!r})
from reasoning.events import RunStarted
from storage import open_store, reserve_run
store = open_store({url!r})
rid = reserve_run(store, RunStarted(task="game24", problem="4 5 6 10", strategy="greedy")).run_id
print(rid, flush=True)
sys.stdin.readline()          # a live run: this process owns it until the test lets it go
"""

OPENER = r"""
import sys
sys.path.insert(0, {root!r})
from storage.db import make_engine
from storage.repo import Store
store = Store(make_engine({url!r}))   # what every start does: migrate, close dead runs
print(store.get_run({rid})["status"], flush=True)
"""


def test_a_live_run_is_never_marked_interrupted_by_another_process(db_url):
    """A process that opens the store while another, alive, owns a running run leaves it running;
    once the owner has exited, the next open closes it as interrupted."""
    from tests.conftest import ROOT
    owner = subprocess.Popen([sys.executable, "-c", OWNER.format(root=str(ROOT), url=db_url)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def open_elsewhere(rid: int) -> str:
        code = OPENER.format(root=str(ROOT), url=db_url, rid=rid)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    try:
        rid = int(owner.stdout.readline())
        assert owner.poll() is None                            # the owner is alive from here on
        assert open_elsewhere(rid) == "running"
        assert mark_interrupted(open_store(db_url)) == []     # this process is another one too
        assert open_store(db_url).get_run(rid)["status"] == "running"
    finally:
        owner.stdin.close()
        owner.wait(60)
    assert open_elsewhere(rid) == "interrupted"                # the owner is gone: now it is closed
