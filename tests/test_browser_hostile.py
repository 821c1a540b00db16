"""Hostile model text end to end: a loopback OpenAI-compatible server streams HTML, script,
``javascript:`` links and markdown through the real client and engine; every page that shows it
(Live while generating and after, Sessions, Compare, the Experiments matrix) runs in headless
Chromium. No dialog may fire, no element of the text may become markup, and the text itself is
shown literally.
"""
from __future__ import annotations

import json
import re

import pytest

from benchmarks.fault_server import HOSTILE_ANSWER, FaultServer
from storage import reopen
from tests.harness import CHROMIUM, browser_page, open_more_settings, running_app
from tests.helpers import new_run
from tests.test_browser import OUTCOME, choose, run_id_from

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]

LITERAL = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "javascript:alert(3)")
# What the text would have become had any page rendered it as HTML or markdown.
MARKUP = """() => ({
  scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(')).length,
  handlers: document.querySelectorAll('[onerror],[onload]').length,
  js_links: document.querySelectorAll('a[href^="javascript:"]').length,
  bad_imgs: document.querySelectorAll('img[src="x"]').length,
  headings: [...document.querySelectorAll('h1,h2,h3')].filter(h => h.textContent.includes('Heading')).length,
  bold: [...document.querySelectorAll('strong,b')].filter(b => b.textContent === 'bold').length,
  inline_code: [...document.querySelectorAll('code')].filter(c => c.textContent === 'code').length,
})"""
CLEAN = {"scripts": 0, "handlers": 0, "js_links": 0, "bad_imgs": 0, "headings": 0, "bold": 0,
         "inline_code": 0}


def use_endpoint(page, url: str, model: str) -> None:
    """Point the sidebar's Model panel at ``url`` (completions mode, no key)."""
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("OpenAI-compatible endpoint").click()
    for label, value in (("Base URL", url), ("Model name", model), ("API key environment variable", "")):
        box = sidebar.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        page.wait_for_timeout(400)
    sidebar.get_by_text("completions", exact=True).click()
    page.wait_for_timeout(600)


def set_inputs(page, values: dict[str, str]) -> None:
    """Type each value into the input with that label; a rerun under a loaded machine can eat a
    keystroke, so each value is checked (and typed again) before the next. (The budget is set
    too: under load the Live form's budget inputs have come up as 0, "max_nodes: must be between
    1 and 1e+06, got 0" - a form issue outside these tests' subject.)"""
    open_more_settings(page)   # the strategy's settings and other limits are folded
    for label, value in values.items():
        box = page.get_by_label(label, exact=True)
        for _ in range(3):
            box.fill(value)
            box.press("Enter")
            page.wait_for_timeout(600)
            if box.input_value() == value:
                break
        assert box.input_value() == value, (label, box.input_value())


def start_live_run(page) -> None:
    """Press Run and wait until the run has started (Stop enabled), with the form's message if not."""
    page.get_by_role("button", name="Run", exact=True).click()
    stop = page.get_by_role("button", name="Stop", exact=True)
    for _ in range(60):
        if stop.is_enabled():
            return
        page.wait_for_timeout(500)
    raise AssertionError("the run did not start: " + page.inner_text("body")[-1500:].replace("\n\n", " | "))


def assert_clean(page, where: str, dialogs: list[str]) -> str:
    """No dialog so far, no markup made of the text; returns the page's visible text."""
    assert dialogs == [], f"{where}: a dialog fired: {dialogs}"
    assert page.evaluate(MARKUP) == CLEAN, f"{where}: model text became markup"
    return page.inner_text("body")


def _hostile_runs(store, url: str) -> list[int]:
    """Two runs of the free task on the hostile server, through the real client and engine."""
    from reasoning.engine import run_search
    from reasoning.models.openai_client import OpenAIModel
    from reasoning.settings import Budget
    from reasoning.strategies import make_strategy
    from reasoning.tasks import get_task
    task = get_task("free")
    ids = []
    for strategy in ("greedy", "best_of_n"):
        problem = task.resolve_problem("1")
        strat = make_strategy(strategy, {"n": 2} if strategy == "best_of_n" else {})
        rid = new_run(store, task="free", problem=problem.text, problem_id=problem.id,
                               strategy=strategy, params=strat.params(), model={}, budget={}, seed=0)
        model = OpenAIModel(url, "hostile-answer", mode="completions", timeout=20, capabilities={})
        result, _ = run_search(strat, task, problem, model, run_id=rid, budget=Budget(max_seconds=60),
                               sink=reopen(store, rid))
        assert result.answer and "<script>alert(1)</script>" in result.answer, result
        ids.append(rid)
    return ids


def test_live_page_shows_hostile_text_while_generating_and_after(tmp_path):
    from storage import open_store
    db = str(tmp_path / "hostile-live.db")
    dialogs: list[str] = []
    with FaultServer() as server, running_app(db, tmp_path / "streamlit.log") as url, \
            browser_page() as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.get_by_text("Thinktree · live run").wait_for()
        use_endpoint(page, server.url, "hostile")
        choose(page, "Strategy", "MCTS (UCT with rollouts)")
        set_inputs(page, {"simulations": "2", "max nodes": "200", "max tokens": "20000",
                          "max seconds": "40"})
        start_live_run(page)
        # while generating: the streaming line carries the text, which must stay text
        line = page.get_by_text(re.compile(r"^Generating node \d+ .*<script>alert\(1\)</script>"))
        line.first.wait_for(timeout=60_000)
        assert not page.get_by_text(OUTCOME).count(), "the run ended before it could be watched"
        assert_clean(page, "live, generating", dialogs)
        page.get_by_text(OUTCOME).first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        status = page.get_by_text(OUTCOME).first.inner_text()
        run_id = run_id_from(status)
        # after: the inspector shows a node's whole text as a code block
        for _ in range(3):
            box = page.get_by_label("Inspect node", exact=True)
            box.click()
            box.fill("#1 ")
            try:
                page.get_by_role("option", name=re.compile(r"^#1 ")).first.click(timeout=10_000)
                break
            except Exception:  # a rerun closed the dropdown: again
                page.keyboard.press("Escape")
        page.locator("[data-testid='stCode']", has_text="<script>alert(1)</script>").first.wait_for()
        page.hover(".js-plotly-plot .scatterlayer .point >> nth=1", force=True)  # the hover label
        page.wait_for_timeout(1000)
        text = assert_clean(page, "live, finished", dialogs)
    for piece in LITERAL:
        assert piece in text, piece
    tree_text = open_store(db).events(run_id)
    assert any(HOSTILE_ANSWER in json.dumps(e.payload, ensure_ascii=False) or
               "<script>alert(1)</script>" in str(e.payload) for e in tree_text)


def test_sessions_compare_and_experiments_show_hostile_text_literally(tmp_path):
    from runner.experiments import ExperimentConfig, create_experiment, run_experiment
    from storage import experiments as repo
    from storage import open_store
    db = str(tmp_path / "hostile-pages.db")
    store = open_store(db)
    dialogs: list[str] = []
    with FaultServer() as server:
        from reasoning.models.openai_client import OpenAIModel
        a, b = _hostile_runs(store, server.url)
        eid = create_experiment(ExperimentConfig(task="free", problems="1-2",
                                                 strategies=["greedy"], budgets=[400]), store)
        run_experiment(eid, store, model_factory=lambda: OpenAIModel(
            server.url, "hostile-answer", mode="completions", timeout=20, capabilities={}))
    cell = repo.cell_runs(store, eid)[0]["id"]
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page(height=1400) as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/sessions?run={a}")
        page.get_by_text("sessions & replay").first.wait_for()
        page.get_by_text(re.compile(r"outcome: answered")).first.wait_for()
        page.wait_for_timeout(1500)
        sessions = assert_clean(page, "sessions", dialogs)
        page.goto(f"{url}/compare?a={a}&b={b}")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
        page.wait_for_timeout(2000)
        compare = assert_clean(page, "compare", dialogs)
        page.goto(f"{url}/experiments")
        page.get_by_text("Per problem").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        assert_clean(page, "experiments", dialogs)
        page.get_by_role("link", name=re.compile(rf"#{cell}\b")).first.click()  # a matrix cell
        page.get_by_text(re.compile(rf"Run {cell} ")).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        opened = assert_clean(page, "experiments -> sessions", dialogs)
    for text, where in ((sessions, "sessions"), (compare, "compare"), (opened, "matrix cell")):
        assert "<script>alert(1)</script>" in text, where
    assert "javascript:alert(3)" in sessions
