"""Killing the app server mid-run: a run started from the Live page (it runs in a worker thread of
the Streamlit process) is left ``running`` by a kill -9; the next start of the app marks it
interrupted, keeps every event that was written, and replays it. Real ``streamlit run``, real
Chromium, a slow loopback model server, a real SQLite file.
"""
from __future__ import annotations

import os
import re
import signal
import time

import pytest

from benchmarks.fault_server import FaultServer
from reasoning.tree import fold
from tests.harness import CHROMIUM, browser_page, running_app
from tests.test_browser import choose
from tests.test_browser_hostile import set_inputs, start_live_run, use_endpoint

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


def test_killed_app_server_leaves_an_interrupted_run_with_its_events(tmp_path):
    from storage import open_store
    db = str(tmp_path / "killed.db")
    started: list = []
    with FaultServer() as server:
        with running_app(db, tmp_path / "first.log", started=started) as url, browser_page() as page:
            page.goto(url)
            page.get_by_text("Thinktree · live run").wait_for()
            use_endpoint(page, server.url, "slow")
            choose(page, "Strategy", "MCTS (UCT with rollouts)")
            set_inputs(page, {"simulations": "300", "max nodes": "500", "max tokens": "20000",
                              "max seconds": "300"})
            start_live_run(page)
            store = open_store(db)  # opened while the run's process lives: it marks nothing
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                runs = store.list_runs()
                if runs and store.last_seq(runs[0]["id"]) >= 25:
                    break
                time.sleep(0.2)
            run_id = runs[0]["id"]
            assert store.get_run(run_id)["pid"] == started[0].pid  # the run is the app's thread
            os.killpg(started[0].pid, signal.SIGKILL)
            started[0].wait(10)
        written = store.events(run_id)
        row = store.get_run(run_id)
        assert row["status"] == "running" and len(written) >= 25  # nobody closed it yet
        # the next start: the app opens the database and closes the dead run
        with running_app(db, tmp_path / "second.log") as url, browser_page() as page:
            page.goto(f"{url}/sessions?run={run_id}")
            page.get_by_text("Thinktree · sessions & replay").wait_for()
            page.get_by_text(re.compile(rf"Run {run_id} · mcts .*outcome: interrupted")).wait_for()
    after = store.events(run_id)
    assert [e.seq for e in after] == list(range(1, len(written) + 2))  # all kept, one closing event
    assert [(e.seq, e.type, e.payload) for e in after[:-1]] == \
        [(e.seq, e.type, e.payload) for e in written]
    assert after[-1].type == "run_finished" and after[-1].payload["outcome"] == "interrupted"
    row = store.get_run(run_id)
    assert (row["status"], row["outcome"], row["events"]) == ("interrupted", "interrupted", len(after))
    tree = fold(after)
    assert tree.outcome == "interrupted" and len(tree.nodes) >= 3
