"""A big live run in a real headless Chromium: automatic folding keeps the drawing within
``DRAW_BUDGET`` nodes while the run grows, the View box says what it hides, and Fold "no" draws
every node (no model: a synthetic MCTS-shaped log written into a running run)."""
from __future__ import annotations

import pytest

from benchmarks.bench_live import DRAWS_JS, mcts_events
from reasoning.events import RunStarted
from reasoning.tree import fold
from reasoning.view_model import DRAW_BUDGET, ViewOptions, project
from storage import open_store, reserve_run
from tests.harness import CHROMIUM, browser_page, running_app

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
POINTS = "document.querySelectorAll('.js-plotly-plot .scatterlayer .point').length"


def _upto(events, nodes: int):
    """The prefix of ``events`` that creates the first ``nodes`` nodes."""
    made = 0
    for i, e in enumerate(events):
        if e.type == "node_created":
            made += 1
            if made > nodes:
                return events[:i]
    return events


def test_a_growing_big_run_stays_within_the_budget_and_fold_no_draws_it_all(tmp_path):
    db = str(tmp_path / "live.db")
    store = open_store(db)
    run = reserve_run(store, RunStarted(task="game24", problem="4 5 6 10", strategy="mcts"))
    every = mcts_events(2_400, run.run_id)
    events = every[:-1]                                  # no run_finished: the run is running
    first, second = _upto(events, 1_200), events
    run.append(first)
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page(1440, 1000) as page:
        page.goto(f"{url}/live?run={run.run_id}")
        page.evaluate(DRAWS_JS)
        page.wait_for_function(f"{POINTS} > 0", timeout=60_000)
        page.get_by_text("Drawing ", exact=False).first.wait_for(timeout=60_000)
        shown = project(fold(first), ViewOptions())[0]
        assert page.evaluate(POINTS) == len(shown.nodes) <= DRAW_BUDGET
        drawn = sum(1 for k in shown.nodes if k >= 0)
        assert f"Drawing {drawn:,} of 1,200 nodes" in page.inner_text("body")
        # the run grows: the live page follows it, still within the budget
        run.append(second[len(first):])
        page.wait_for_function("window.__draws.length && window.__draws.at(-1)[1] === 2400",
                               timeout=60_000)
        page.wait_for_timeout(1000)
        shown = project(fold(second), ViewOptions())[0]
        assert page.evaluate(POINTS) == len(shown.nodes) <= DRAW_BUDGET
        # the run ends; Fold "no" then draws every node (under WebGL's threshold: an SVG point each)
        run.append(every[-1:])
        page.get_by_text("nodes 2400", exact=False).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        box = page.get_by_label("Fold", exact=True)
        box.click()
        box.fill("no")
        page.get_by_role("option", name="no", exact=True).click()
        page.wait_for_function(f"{POINTS} === 2400", timeout=60_000)
        assert "Drawing " not in page.inner_text("body")
