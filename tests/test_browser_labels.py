"""Labels as Chromium draws them at 1440x900: the label boxes of the tree figure (measured on
the page, not estimated) never overlap and stay inside the chart, on a 6-queens ``Trace`` run
(the producer's labels), a 500-node synthetic tree and the demo MCTS vs beam on Compare; and the
plot area is as wide as ``components.tree_labels`` assumes, so its estimates hold."""
from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from components.tree_labels import PLOT_WIDTH_PX
from tests.harness import CHROMIUM, ROOT, browser_page, running_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
WIDTH, HEIGHT = 1440, 900

MEASURE = """(chart) => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const p = plots[chart];
  const area = p.querySelector('.draglayer .nsewdrag').getBoundingClientRect();
  const out = [...p.querySelectorAll('g.annotation')].map(a => {
     const r = a.querySelector('rect.bg').getBoundingClientRect();
     return {text: a.textContent, x0: r.left, x1: r.right, y0: r.top, y1: r.bottom};
  });
  const box = p.getBoundingClientRect();
  return {area: {w: area.width, h: area.height}, chart: {x0: box.left, x1: box.right,
          y0: box.top, y1: box.bottom}, labels: out};
}"""


def measure(page, chart: int = 0) -> dict:
    page.wait_for_selector(".js-plotly-plot .scatterlayer .point")
    page.wait_for_timeout(2500)
    return page.evaluate(MEASURE, chart)


def check(got: dict, what: str, min_labels: int) -> None:
    labels = [a for a in got["labels"] if a["x1"] - a["x0"] > 0]
    assert len(labels) >= min_labels, f"{what}: {len(labels)} labels"
    for a, b in itertools.combinations(labels, 2):
        apart = a["x1"] <= b["x0"] or b["x1"] <= a["x0"] or a["y1"] <= b["y0"] or b["y1"] <= a["y0"]
        assert apart, f"{what}: labels {a} and {b} overlap on the page (plot area {got['area']})"
    c = got["chart"]
    for a in labels:
        assert c["x0"] - 0.5 <= a["x0"] and a["x1"] <= c["x1"] + 0.5, f"{what}: {a['text']!r} clipped"
        assert c["y0"] - 0.5 <= a["y0"] and a["y1"] <= c["y1"] + 0.5, f"{what}: {a['text']!r} clipped"


def test_labels_measured_in_chromium_never_overlap_and_the_width_estimate_holds(tmp_path):
    db = str(tmp_path / "labels.db")
    from runner.demo import load_demo
    from runner.synthetic import store_synthetic
    from storage import open_store
    store = open_store(db)
    made = load_demo(store)
    by = {store.get_run(r["run_id"])["strategy"]: r["run_id"] for r in made["runs"]}
    big, _ = store_synthetic(store, 500, seed=0)
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "trace_queens.py"), "--db", db],
                         capture_output=True, text=True, check=True)
    queens = int(out.stdout.strip())
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page(WIDTH, HEIGHT) as page:
        page.goto(f"{url}/?run={queens}")
        got = measure(page)
        # the plot area the label estimates assume (components.tree_labels.PLOT_WIDTH_PX)
        assert abs(got["area"]["w"] - PLOT_WIDTH_PX) <= 0.06 * PLOT_WIDTH_PX, got["area"]
        check(got, "6-queens Trace run", 20)
        assert "row 2: col 4" in {a["text"] for a in got["labels"]}   # the producer's label
        page.goto(f"{url}/sessions?run={big}")
        check(measure(page), "500-node synthetic tree", 15)
        page.goto(f"{url}/compare?a={by['mcts']}&b={by['beam']}")
        page.wait_for_selector(".js-plotly-plot >> nth=1")
        for chart in (0, 1):
            check(measure(page, chart), f"compare chart {chart}", 5)
