"""The Live page follows runs written by other programs, in a real headless Chromium: a
``thinktree.Trace`` in this process, and ``cli.py ingest -`` fed by a bash loop. The page is
opened at ``?run=ID`` while the writer is still going; its status line must show the tree grow
and then the outcome."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import pytest

from tests.harness import CHROMIUM, ROOT, browser_page, running_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


def status(page, pattern: str, timeout_s: float = 30) -> str:
    loc = page.get_by_text(re.compile(pattern))
    loc.first.wait_for(timeout=timeout_s * 1000)
    return loc.first.inner_text()


def test_live_page_follows_a_trace_while_it_runs(tmp_path):
    from thinktree import Trace
    db = str(tmp_path / "trace.db")
    go = threading.Event()
    done = threading.Event()

    def program():
        with Trace(db=db, task="toy", problem="grow", strategy="by hand") as t:
            root = t.root("root")
            a = t.step(root, "first step")
            t.score(a, 0.5)                 # a burst: every call must reach the page at once
            go.wait(60)                     # the page looks at the run now
            b = t.step(a, "second step")
            t.solve(b, answer="done")
        done.set()

    worker = threading.Thread(target=program, daemon=True)
    worker.start()
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(f"{url}/?run=1")
        first = status(page, r"Run 1 · by hand .* nodes 2 .*running")
        assert "outcome" not in first
        # the last call before the pause (the score) is on the page too: the inspector's input
        from storage import open_store
        assert [e.type for e in open_store(db).events(1)][-1] == "node_scored"
        go.set()
        final = status(page, r"Run 1 · by hand .* nodes 3 .*outcome: solved")
        assert "answer: done" in final
    assert done.wait(10)


def test_live_page_follows_an_ingest_from_a_bash_loop(tmp_path):
    db = str(tmp_path / "bash.db")
    script = ROOT / "examples" / "ingest" / "bisect.sh"
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page() as page:
        writer = subprocess.Popen(
            f"bash {script} 37 0.15 | {sys.executable} {ROOT / 'cli.py'} ingest - --db {db}",
            shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        try:
            page.goto(f"{url}/?run=1")
            growing = status(page, r"Run 1 · bisection \(bash\) .*running", 60)
            nodes = int(re.search(r"nodes (\d+)", growing).group(1))
            assert nodes < 15                # seen before the writer was done
            assert writer.poll() is None
            final = status(page, r"Run 1 · bisection \(bash\) .* nodes 15 .*outcome: solved", 90)
            assert "answer: 37" in final
            assert writer.wait(30) == 0
        finally:
            if writer.poll() is None:
                os.killpg(writer.pid, 9)
