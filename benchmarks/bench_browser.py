"""Browser: event written -> change visible in the Live page, and first draw of a stored
10,000-node tree on the Sessions page (headless Debian Chromium driving ``streamlit run``)."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM, browser_page, running_app
from reasoning import events as ev
from reasoning.events import Event
from runner.synthetic import store_synthetic
from storage import open_store, reserve_run


def _stored_tree(store, n: int) -> int:
    return store_synthetic(store, n)[0]


def _nodes_shown(page, n: int, timeout_ms: int = 20_000) -> None:
    page.wait_for_function(f"document.body.innerText.includes('nodes {n} ')", polling=20,
                           timeout=timeout_ms)


def _latency(page, url: str, store, samples: int) -> list[float]:
    """A 'running' run of this process; each new node_created must appear in the status line."""
    run = reserve_run(store, ev.RunStarted(task="game24", problem="4 5 6 10", strategy="external"))
    rid = run.run_id
    t0 = time.monotonic()

    def add(seq, type_, node_id=None, **payload):
        run.append([Event(rid, seq, time.monotonic() - t0, type_, node_id, payload)])

    add(1, ev.RUN_STARTED, task="game24", problem="4 5 6 10", strategy="external")
    add(2, ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    page.goto(f"{url}/?run={rid}")
    _nodes_shown(page, 1, 60_000)
    out = []
    for k in range(samples):
        page.wait_for_timeout(300 + 137 * k % 500)  # land at different points of the poll cycle
        written = time.monotonic()
        add(3 + k, ev.NODE_CREATED, k + 1, parent_id=0, depth=1)
        _nodes_shown(page, k + 2)
        out.append(time.monotonic() - written)
    add(3 + samples, ev.RUN_FINISHED, outcome="cancelled")
    return out


def run(quick: bool) -> list[dict]:
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "browser.db")
        store = open_store(db)
        big = _stored_tree(store, 10_000)
        with running_app(db, Path(d) / "streamlit.log") as url, browser_page(timeout_ms=120_000) as page:
            page.goto(f"{url}/sessions")  # warm the server (imports, first script run)
            page.get_by_text("sessions & replay").first.wait_for()
            lat = _latency(page, url, store, 5 if quick else 12)
            t = time.monotonic()
            page.goto(f"{url}/sessions?run={big}")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .scatterlayer .point, "
                                   ".js-plotly-plot canvas').length > 0", polling=50, timeout=120_000)
            first_draw = time.monotonic() - t
            small = _stored_tree(store, 100)
            t = time.monotonic()
            page.goto(f"{url}/sessions?run={small}")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .scatterlayer .point, "
                                   ".js-plotly-plot canvas').length > 0", polling=50, timeout=120_000)
            small_draw = time.monotonic() - t
    rows.append({"what": "event written → visible in the Live page", "work": f"{len(lat)} node events",
                 "measured": f"median {statistics.median(lat):.2f} s, max {max(lat):.2f} s",
                 "target": "≤ 1 s", "baseline": "poll interval 0.4 s", "ok": max(lat) <= 1.0})
    rows.append({"what": "first draw of a stored 10,000-node tree (Sessions)", "work": "31,001 events",
                 "measured": f"{first_draw:.1f} s", "target": "—",
                 "baseline": f"100-node tree: {small_draw:.1f} s (×{first_draw / small_draw:.1f})", "ok": True})
    return rows
