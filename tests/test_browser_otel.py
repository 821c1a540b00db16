"""An OTel-SDK-instrumented search (examples/otel, no Thinktree import) streaming to serve-otlp,
watched in the Live page in a real headless Chromium: the tree grows while the script runs."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from runner.otlp_server import OtlpServer
from runner.views import final_tree
from storage import open_store
from tests.harness import CHROMIUM, ROOT, browser_page, running_app

ARTIFACTS = ROOT / "artifacts"
NODES = re.compile(r"nodes (\d+)")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


def shown_nodes(page) -> int:
    text = page.get_by_text(NODES).first.inner_text()
    return int(NODES.search(text).group(1))


def test_otel_script_grows_in_the_live_page(tmp_path):
    db = str(tmp_path / "otel.db")
    store = open_store(db)
    srv = OtlpServer(store, port=0, idle_timeout=30).start()
    script = None
    try:
        with running_app(db, tmp_path / "streamlit.log") as url, \
                browser_page(width=1440, height=900) as page:
            page.goto(url)   # the app is up before the script starts
            page.get_by_text("Thinktree · live run").wait_for()
            script = subprocess.Popen([sys.executable, str(ROOT / "examples/otel/dfs_search.py"),
                                       "--endpoint", srv.url, "--delay", "0.5"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 30
            while not store.list_runs() and time.monotonic() < deadline:
                time.sleep(0.1)
            rid = store.list_runs()[0]["id"]
            page.goto(f"{url}/?run={rid}")
            page.get_by_text(f"Run {rid}").first.wait_for()
            page.get_by_text(NODES).first.wait_for()
            seen = [shown_nodes(page)]
            while script.poll() is None and len(seen) < 80:   # ~20 s of search at 0.5 s a step
                page.wait_for_timeout(500)
                seen.append(shown_nodes(page))
            grew = [b for a, b in zip(seen, seen[1:], strict=False) if b > a]
            assert len(grew) >= 2, seen   # the page showed the tree at several sizes
            page.get_by_text("outcome: solved").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            assert shown_nodes(page) == len(final_tree(store, rid).nodes)
            assert page.locator(".js-plotly-plot g.trace.scatter path.point").count() >= 10
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "otel_live.png"))
    finally:
        if script is not None:
            script.kill()
            script.wait(10)
        srv.stop()
