"""Big trees in the browser: from the URL (Sessions ``?run=ID``) to the drawn tree for stored
10,000- and 100,000-node runs, against a 10-node run in the same server; and one replay frame
change (the slider one event back) at 10,000 nodes against the same on the 10-node run.

Headless Debian Chromium driving ``streamlit run``; every new URL is a new session, so each
draw reads, folds and places the run afresh (the stored positions are what is kept)."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM, browser_page, running_app
from reasoning.view_model import AUTO_DEPTH_NODES, DRAW_BUDGET
from runner.synthetic import store_synthetic
from storage import open_store

DRAWN = ("document.querySelectorAll('.js-plotly-plot .scatterlayer .point, "
         ".js-plotly-plot canvas').length > 0")
IDLE = "document.querySelectorAll('[data-stale=\"true\"]').length === 0"


def first_draw(page, url: str) -> float:
    t = time.monotonic()
    page.goto(url)
    page.wait_for_function(DRAWN, polling=50, timeout=300_000)
    return time.monotonic() - t


def frame_change(page, last: int) -> float:
    """The replay slider one event back (keyboard), until the new frame's line and tree are on
    screen and nothing is left stale."""
    slider = page.get_by_role("slider").first
    slider.focus()
    t = time.monotonic()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"document.body.innerText.includes('seq {last - 1}/{last}')", polling=20,
                           timeout=120_000)
    page.wait_for_function(IDLE, polling=20, timeout=120_000)
    page.wait_for_function(DRAWN, polling=20, timeout=120_000)
    return time.monotonic() - t


def lift_depth_limit(page) -> float:
    """Depth limit set to 0 (every node drawn) on the open tree, until the page is idle again
    with the bigger figure drawn."""
    box = page.get_by_label("Depth limit (0 = all)")
    t = time.monotonic()
    box.fill("0")
    box.press("Enter")
    try:   # the rerun marks the page stale first (it may be over before this looks)
        page.wait_for_function(f"!({IDLE})", polling=20, timeout=5_000)
    except Exception:  # noqa: BLE001 - already idle again
        pass
    page.wait_for_function(IDLE, polling=20, timeout=300_000)
    page.wait_for_function(DRAWN, polling=20, timeout=300_000)
    return time.monotonic() - t


def run(quick: bool) -> list[dict]:
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    sizes = [10_000] if quick else [10_000, 100_000]
    samples = 2 if quick else 3
    rows = []
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "big.db")
        store = open_store(db)
        small, n_small = store_synthetic(store, 10)
        runs = {n: store_synthetic(store, n) for n in sizes}   # positions saved as each finishes
        with running_app(db, Path(d) / "streamlit.log") as url, \
                browser_page(1440, 900, timeout_ms=300_000) as page:
            first_draw(page, f"{url}/sessions?run={small}")   # warm the server (imports)
            base, base_frame = [], []
            for _ in range(samples):
                base.append(first_draw(page, f"{url}/sessions?run={small}"))
                base_frame.append(frame_change(page, n_small))
            draws: dict[int, list[float]] = {}
            frames: list[float] = []
            lifted: list[float] = []
            for n, (rid, n_events) in runs.items():
                draws[n] = []
                for _ in range(samples if n <= 10_000 else 1):
                    draws[n].append(first_draw(page, f"{url}/sessions?run={rid}"))
                    if n == 10_000:
                        frames.append(frame_change(page, n_events))
                        lifted.append(lift_depth_limit(page))
    b = statistics.median(base)
    for n, got in draws.items():
        m = statistics.median(got)
        limit = 1.0 if n == 10_000 else 3.0
        rows.append({"what": f"first draw of a stored {n:,}-node run (Sessions ?run=, URL → drawn tree)",
                     "work": f"{runs[n][1]:,} events, {len(got)} opens",
                     "measured": f"median {m:.2f} s: {m - b:+.2f} s over the baseline",
                     "target": f"≤ {limit:g} s more than a 10-node run",
                     "baseline": f"10-node run: median {b:.2f} s ({len(base)} opens)",
                     "ok": m - b <= limit})
    if frames:
        f, fb = statistics.median(frames), statistics.median(base_frame)
        rows.append({"what": "replay frame change (slider one event back), 10,000 nodes",
                     "work": f"{len(frames)} changes", "measured": f"median {f:.2f} s ({f - fb:+.2f} s)",
                     "target": "≤ 0.3 s more than on a 10-node run",
                     "baseline": f"10-node run: median {fb:.2f} s", "ok": f - fb <= 0.3})
    if lifted:
        lf = statistics.median(lifted)
        rows.append({"what": "10,000 nodes: depth limit lifted (0 = none; automatic folding then draws "
                             f"at most {DRAW_BUDGET:,} nodes)",
                     "work": f"{len(lifted)} changes", "measured": f"median {lf:.2f} s ({lf - b:+.2f} s)",
                     "target": "— (the first draw opens at depth 4 past "
                               f"{AUTO_DEPTH_NODES:,} nodes)",
                     "baseline": f"10-node run's first draw: median {b:.2f} s", "ok": True})
    return rows
