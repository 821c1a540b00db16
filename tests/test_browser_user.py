"""What a new user meets, in headless Chromium at 1440x900 (no model: runs are stored first with
the scripted model): a plug-in task on the Live page in its own words, a reopened run whose tree
is in view without scrolling under its folded settings, and the empty Sessions page's demo
button."""
from __future__ import annotations

import pytest

from reasoning.engine import run_search
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from storage import reopen
from tests.harness import CHROMIUM, ROOT, browser_page, running_app
from tests.helpers import new_run, pick_by_seed

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
PLUGINS = {"THINKTREE_TASK_PATH": str(ROOT / "examples" / "tasks")}
WIDTH, HEIGHT = 1440, 900


def stored_countdown(db: str) -> int:
    """An MCTS run on the countdown3 plug-in (scripted policy), stored."""
    from reasoning.tasks.discovery import load_plugins
    from storage import open_store
    found, errors = load_plugins([ROOT / "examples" / "tasks"])
    assert not errors, errors
    task = found["countdown3"]()
    problem = task.resolve_problem("2")
    strategy = make_strategy("mcts", {"simulations": 6, "width": 2})
    store = open_store(db)
    run_id = new_run(store, task="countdown3", problem=problem.text, problem_id=problem.id,
                              strategy="mcts", params=strategy.params(), model={"kind": "scripted"},
                              budget={"max_nodes": 60}, seed=1)
    run_search(strategy, task, problem, ScriptedModel(pick_by_seed), run_id=run_id,
               budget=Budget(max_nodes=60), seed=1, sink=reopen(store, run_id))
    return run_id


def test_plugin_task_run_is_the_hero_at_1440x900(tmp_path):
    db = str(tmp_path / "user.db")
    run_id = stored_countdown(db)
    with running_app(db, tmp_path / "streamlit.log", PLUGINS) as url, \
            browser_page(WIDTH, HEIGHT) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # a fresh page: the plug-in is offered and speaks of puzzles, not ranks
        page.goto(url)
        page.get_by_text("Thinktree · live run").wait_for()
        page.get_by_label("Task").click()
        page.get_by_role("option", name="Countdown with three numbers").click()
        page.get_by_text("Puzzle (5 bundled").wait_for()
        page.get_by_label("Puzzle (5 bundled; type to search)").click()
        options = page.get_by_role("option").all_inner_texts()
        assert options[:2] == ["puzzle 1: 3 5 7 -> 22", "puzzle 2: 2 6 9 -> 21"], options
        assert not [o for o in options if "rank" in o]
        page.keyboard.press("Escape")
        # a stored run of it, reopened: the settings fold into one line and the tree is on screen
        page.goto(f"{url}/?run={run_id}")
        page.wait_for_selector(".js-plotly-plot .scatterlayer .point")
        page.get_by_text("Settings · Countdown with three numbers").wait_for()
        page.wait_for_timeout(1500)
        chart = page.locator(".js-plotly-plot").first.bounding_box()
        assert chart is not None
        assert chart["y"] < HEIGHT / 2, f"the tree starts at {chart['y']:.0f} px"
        assert chart["y"] + chart["height"] <= HEIGHT + 1, "the tree does not fit the screen"
        assert page.evaluate("window.scrollY") == 0
        page.screenshot(path=str(ROOT / "artifacts" / "plugin_run.png"))
    assert errors == []
    # the form took the run's values without Streamlit's "created with a default value but also
    # had its value set via the Session State API" warning (run_form gives no default then)
    assert "Session State API" not in (tmp_path / "streamlit.log").read_text()


def test_empty_sessions_page_loads_the_demo_with_one_button(tmp_path):
    db = str(tmp_path / "empty.db")
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page(WIDTH, HEIGHT) as page:
        page.goto(f"{url}/sessions")
        page.get_by_role("button", name="Load the demo sessions").click()
        page.locator("[data-testid='stDataFrame']").wait_for(timeout=60_000)
    from runner.demo import read_demo
    from storage import open_store
    n = sum(r["kind"] == "run" for r in read_demo())
    assert len(open_store(db).list_runs()) == n
