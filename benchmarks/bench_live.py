"""The Live page following a growing 5,000-node MCTS-shaped run (synthetic events written by
this process in batches, far faster than a model writes them): how often the page shows a new
tree once the run is past 4,000 nodes, against the same while it was under 1,000, in the same
run; and, in process, how much of the drawn tree each refresh moves (the Live page's own path:
poll, project, place)."""
from __future__ import annotations

import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from reasoning.events import Event, RunStarted
from reasoning.layout import motion, tidy_layout
from reasoning.run_view import RunView
from reasoning.view_model import ViewOptions, project
from runner.synthetic import synthetic_events
from storage import open_store, reserve_run

NODES = 5_000
BATCH_SECONDS = 0.25
# A refresh is the tree drawn again with more nodes: the chart's DOM changed and its figure's meta
# (put there by the page) names a new node count. The status line above the chart is not the
# measure: it changes on every poll, the tree only when a new figure is drawn (Streamlit mounts
# a new chart for each new figure, so the chart's own events cannot be followed). Recorded in
# the page, so reading it costs the page nothing (the old reading of innerText every 50 ms forced
# a layout of the whole page).
DRAWS_JS = """() => {
  window.__draws = [];
  const seen = () => {
    const gd = document.querySelector('.js-plotly-plot');
    const n = gd && gd._fullLayout && gd.layout && gd.layout.meta && gd.layout.meta.tree_nodes;
    if (n == null || !gd.querySelector('.scatterlayer .trace, canvas')) return;  // not drawn yet
    const d = window.__draws;
    if (!d.length || d[d.length - 1][1] !== n) d.push([performance.now(), n]);
  };
  new MutationObserver(seen).observe(document.body, {childList: true, subtree: true});
  seen();
}"""


def mcts_events(n: int, run_id: int) -> list[Event]:
    out = []
    for e in synthetic_events(n, run_id=run_id, seed=3):
        payload = dict(e.payload, strategy="mcts", params={"simulations": 100_000}) \
            if e.type == "run_started" else e.payload
        out.append(Event(run_id, e.seq, e.t, e.type, e.node_id, payload))
    return out


def batches(events: list[Event], seconds: float) -> list[list[Event]]:
    """The log cut into ~``seconds`` of growth each (MCTS writes a few nodes at a time)."""
    per = max(1, len(events) // int(seconds / BATCH_SECONDS))
    return [events[i:i + per] for i in range(0, len(events), per)]


def _figure_sent(tree, shown, pos) -> bool:
    """What the Live page does after placing: build the figure, turn it into what is sent;
    True when every node is drawn where the placement put it (the drawing moves nothing)."""
    import plotly

    from components.tree_figure import tree_figure
    from reasoning.run_facts import solved_nodes
    fig = tree_figure(shown, positions=pos, solved=solved_nodes(tree), uirevision="live")
    plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True),
                      validate=False)
    drawn = {int(i[0] if isinstance(i, list | tuple) else i): (float(x), float(y))
             for t in fig.data if t.customdata is not None
             for i, x, y in zip(t.customdata, t.x, t.y, strict=True)}
    return drawn == {k: (float(x), float(y)) for k, (x, y) in pos.items() if k in shown.nodes}


@dataclass
class Stability:
    calm: float         # share of refreshes that move no drawn node (stable placement)
    moved: float        # share of drawn nodes moved per refresh (stable placement)
    tidy_moved: float   # the same for a tidy layout made afresh on every refresh (the baseline)
    per: float          # median seconds per refresh in process (poll, project, place)
    figure: float       # median seconds to build and serialise the figure, last fifth of the run
    drawn_as_placed: bool


def stability(events: list[Event], parts: list[list[Event]]) -> Stability:
    """How much of the drawn tree each refresh moves, with the Live page's own path (poll,
    project, place) and, as the baseline, a tidy layout made afresh each time."""
    stored: list[Event] = []
    figures: list[float] = []
    view = RunView(1, lambda after, upto=None: [e for e in stored if e.seq > after
                                                and (upto is None or e.seq <= upto)])
    prev = prev_tidy = None
    moves, tidy_moves, times, as_placed = [], [], [], True
    for part in parts:
        stored.extend(part)
        t = time.perf_counter()
        view.poll()
        shown, _ = project(view.tree, ViewOptions())
        pos = view.place(shown, (None, None, None), lambda tr: project(tr, ViewOptions())[0])
        times.append(time.perf_counter() - t)
        if len(times) > len(parts) * 0.8:
            t = time.perf_counter()
            as_placed = _figure_sent(view.tree, shown, pos) and as_placed
            figures.append(time.perf_counter() - t)
        drawn = {k: v for k, v in pos.items() if k >= 0}
        tidy = {k: v for k, v in tidy_layout(shown).items() if k >= 0}
        if prev is not None:
            moves.append(motion(prev, drawn))
            tidy_moves.append(motion(prev_tidy, tidy))
        prev, prev_tidy = drawn, tidy
    existing = sum(m.existing for m in moves) or 1
    return Stability(calm=sum(1 for m in moves if not m.moved) / max(1, len(moves)),
                     moved=sum(m.moved for m in moves) / existing,
                     tidy_moved=sum(m.moved for m in tidy_moves) / (sum(m.existing for m in tidy_moves) or 1),
                     per=statistics.median(times), figure=statistics.median(figures),
                     drawn_as_placed=as_placed)


def run(quick: bool) -> list[dict]:
    from benchmarks.browser import CHROMIUM, browser_page, running_app
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    n = 2_000 if quick else NODES
    grow_seconds = 30 if quick else 75
    rows = []
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "live.db")
        store = open_store(db)
        run = reserve_run(store, RunStarted(task="game24", problem="4 5 6 10", strategy="mcts"))
        rid = run.run_id
        events = mcts_events(n, rid)
        parts = batches(events[:-1], grow_seconds)   # run_finished after the measurement
        with running_app(db, Path(d) / "streamlit.log") as url, \
                browser_page(1440, 900, timeout_ms=120_000) as page:
            run.append(parts[0])
            page.goto(f"{url}/live?run={rid}")
            page.wait_for_function("/nodes \\d+/.test(document.body.innerText)", polling=50)
            page.evaluate(DRAWS_JS)

            def write() -> None:
                for part in parts[1:]:
                    time.sleep(BATCH_SECONDS)
                    run.append(part)
            writer = threading.Thread(target=write)
            writer.start()
            writer.join()
            deadline = time.monotonic() + 20   # the last tree drawn, or 20 s after the last write
            while time.monotonic() < deadline and \
                    page.evaluate("window.__draws.length ? window.__draws.at(-1)[1] : 0") < n:
                page.wait_for_timeout(250)
            seen = [(t / 1000, k) for t, k in page.evaluate("window.__draws")]
            run.append(events[-1:])

    def rate(lo: int, hi: int) -> tuple[float, float]:
        pts = [(t, k) for t, k in seen if lo <= k <= hi]
        if len(pts) < 2:
            return 0.0, float("inf")
        gaps = [b[0] - a[0] for a, b in zip(pts, pts[1:], strict=False)]
        return (len(pts) - 1) / (pts[-1][0] - pts[0][0]), max(gaps)
    big_rate, big_gap = rate(int(n * 0.8), n)
    small_rate, small_gap = rate(1, min(1_000, n // 5))
    rows.append({"what": f"Live page following a growing {n:,}-node MCTS-shaped run (browser)",
                 "work": f"{len(parts)} batches over ~{grow_seconds} s; refreshes seen past {int(n * 0.8):,} nodes",
                 "measured": f"{big_rate:.2f} refreshes/s (longest gap {big_gap:.1f} s)",
                 "target": "≥ 1 refresh/s", "baseline": f"under {min(1_000, n // 5):,} nodes: "
                 f"{small_rate:.2f}/s (longest gap {small_gap:.1f} s)", "ok": big_rate >= 1.0})
    st = stability(events, parts)
    rows.append({"what": "nodes holding still while the run grows (Live page's poll → place → figure, in process)",
                 "work": f"{len(parts)} refreshes, {n:,} nodes",
                 "measured": f"{st.moved:.1%} of drawn nodes moved per refresh ({st.calm:.0%} of refreshes "
                             f"move none); drawn where placed: {'yes' if st.drawn_as_placed else 'NO'}",
                 "target": "the stable placement moves fewer nodes than a fresh layout, and the figure "
                           "draws each node where it is placed",
                 "baseline": f"a tidy layout made afresh each refresh: {st.tidy_moved:.1%} moved per refresh; "
                             f"median refresh {st.per * 1000:.0f} ms in process, past {int(n * 0.8):,} nodes "
                             f"+ {st.figure * 1000:.0f} ms to build and serialise the figure",
                 "ok": st.drawn_as_placed and st.moved < st.tidy_moved})
    return rows
