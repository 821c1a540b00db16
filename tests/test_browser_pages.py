"""Compare, Experiments and hostile model output in a real headless Chromium (no model needed:
runs are stored beforehand, from hand-built events or the scripted model)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from reasoning import events as ev
from storage import reopen
from tests.harness import CHROMIUM, ROOT, browser_page, running_app
from tests.helpers import EventLog, new_run, pick_first

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
ARTIFACTS = ROOT / "artifacts"
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3))'


def _store_hostile_run(store) -> int:
    rid = new_run(store, task="free", problem=HOSTILE, problem_id=None, strategy="greedy",
                           params={}, model={}, budget={}, seed=0)
    log = EventLog(rid)
    log.add(ev.RUN_STARTED, task="free", problem=HOSTILE, strategy="greedy")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text=HOSTILE, label=HOSTILE)
    log.add(ev.NODE_CREATED, 1, parent_id=0, depth=1)
    log.add(ev.NODE_COMPLETED, 1, text="Answer: " + HOSTILE, step=HOSTILE, terminal=True, answer=HOSTILE)
    log.add(ev.RUN_FINISHED, outcome="answered", answer=HOSTILE, answer_node=1, detail=HOSTILE)
    reopen(store, rid)(log.events)
    return rid


def test_hostile_model_output_is_shown_as_text_and_never_runs(tmp_path):
    from storage import open_store
    db = str(tmp_path / "hostile.db")
    rid = _store_hostile_run(open_store(db))
    dialogs: list[str] = []
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{url}/sessions?run={rid}")
        page.get_by_text("sessions & replay").first.wait_for()
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .scatterlayer .point').length >= 2")
        page.wait_for_timeout(1000)  # let the first script run settle before using widgets
        for _ in range(3):  # a rerun may close the dropdown under us: try again
            box = page.get_by_label("Inspect node", exact=True)
            box.click()
            box.fill("#1 thought")
            try:
                page.get_by_role("option", name=re.compile(r"^#1 thought")).first.click(timeout=10_000)
                page.locator("[data-testid='stCode']",
                             has_text="<script>alert(1)</script>").first.wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:
                page.keyboard.press("Escape")
        page.locator("[data-testid='stCode']", has_text="<script>alert(1)</script>").first.wait_for()
        page.hover(".js-plotly-plot .scatterlayer .point >> nth=0", force=True)
        page.wait_for_timeout(1500)
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "hostile.png"))
    assert dialogs == []
    assert "<script>alert(1)</script>" in text and "onerror=alert(2)" in text
    assert "javascript:alert(3)" in text


def _scripted_experiment(store) -> tuple[int, list[int]]:
    from reasoning.models.scripted import ScriptedModel
    from runner.experiments import ExperimentConfig, create_experiment, run_experiment
    from storage import experiments as repo
    cfg = ExperimentConfig(task="game24", problems="1-3", strategies=["greedy", "mcts:simulations=6"],
                           budgets=[2000])
    eid = create_experiment(cfg, store)

    def pick_seeded(req):
        import random
        return random.Random(req.seed).choice(req.choices) if req.temperature else pick_first(req)
    run_experiment(eid, store, model_factory=lambda: ScriptedModel(pick_seeded))
    return eid, [r["id"] for r in repo.cell_runs(store, eid)]


def test_compare_and_experiments_pages(tmp_path):
    from storage import open_store
    db = str(tmp_path / "pages.db")
    eid, run_ids = _scripted_experiment(open_store(db))
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(db, tmp_path / "streamlit.log") as url, browser_page(height=1400) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/compare?a={run_ids[0]}&b={run_ids[1]}")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        assert f"{run_ids[0]}" in body and "outcome" in body.lower()
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
        page.goto(f"{url}/experiments")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=60_000)
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        assert "greedy" in body and "mcts" in body
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=str(ARTIFACTS / "experiments.png"), full_page=True)
    assert errors == []
