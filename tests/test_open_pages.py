"""Plug-in strategies and evaluator settings in the pages (AppTest): the Live page lists a
plug-in strategy with a widget per setting, shows the chosen evaluator's settings (prm's grader),
lists a broken plug-in with its file and reason, and the experiment form's help names them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_pages_apptest import app, navigation_mode  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def plugin_env(tmp_path, monkeypatch):
    plug = tmp_path / "plug"
    plug.mkdir()
    (plug / "rebase.py").write_text((ROOT / "examples" / "plugins" / "rebase.py").read_text())
    (plug / "broken.py").write_text("import not_a_module_anywhere\n")
    monkeypatch.setenv("THINKTREE_PLUGIN_PATH", str(plug))
    monkeypatch.setenv("THINKTREE_DB", str(tmp_path / "pages.db"))
    from reasoning.plugins import ensure
    ensure(reload=True)
    yield plug
    monkeypatch.delenv("THINKTREE_PLUGIN_PATH")
    ensure(reload=True)


def test_live_page_offers_a_plugin_strategy_with_its_settings_and_names_a_broken_one(plugin_env):
    at = app()
    strategy = at.selectbox(key="live_strategy")
    assert "rebase" in strategy.options or "REBASE (reward-balanced expansion)" in strategy.options
    strategy.set_value("rebase").run()
    assert not at.exception
    assert at.number_input(key="live_param_rebase_expansions").value == 8
    assert at.number_input(key="live_param_rebase_balance_temperature").value == pytest.approx(0.2)
    # picking the prm evaluator shows the grader's own settings
    at.selectbox(key="live_param_rebase_evaluator").set_value("prm").run()
    assert at.text_input(key="live_eval_prm_base_url").value == ""
    assert at.selectbox(key="live_eval_prm_route").value == "auto"
    texts = " ".join(t.value for t in at.text)
    assert "broken.py" in texts and "not_a_module_anywhere" in texts


def test_experiment_form_help_lists_plugin_strategies_and_evaluator_settings(plugin_env):
    from components.run_form import strategies_help
    text = strategies_help()
    assert "**rebase**: expansions=8, balance_temperature=0.2" in text
    assert "evaluator **prm**: prm_base_url, prm_model, prm_api_key_env" in text


def test_an_experiment_takes_a_plugin_strategy_and_checks_its_settings(plugin_env, tmp_path):
    from runner import experiments as exp
    from storage import open_store
    store = open_store(str(tmp_path / "exp.db"))
    config = exp.ExperimentConfig(task="game24", problems="901-902",
                                  strategies="greedy,rebase:expansions=4,evaluator=prm,prm_samples=2",
                                  budgets="500", seeds="0")
    eid = exp.create_experiment(config, store)
    cells = exp.cells(exp.load_config(store, eid))
    assert {c.strategy for c in cells} == {"greedy", "rebase:evaluator=prm,expansions=4,prm_samples=2"}
    with pytest.raises(ValueError, match="expansions: must be between 1 and 1000"):
        exp.create_experiment(exp.ExperimentConfig(task="game24", problems="901",
                                                   strategies="rebase:expansions=0"), store)


def test_sessions_and_compare_show_a_trace_and_an_ingested_run(tmp_path, monkeypatch):
    """Runs from outside (a Trace, an ingest) replay like any run on Sessions and Compare."""
    import json
    import subprocess
    import sys

    from tests.test_pages_apptest import chart_node_ids
    from thinktree import Trace
    db = str(tmp_path / "outside.db")
    monkeypatch.setenv("THINKTREE_DB", db)
    with Trace(db=db, task="toy", problem="reach 11", strategy="my dfs") as t:
        root = t.root("start")
        a = t.step(root, "+3")
        t.prune(t.step(root, "*2"), "too small")
        t.solve(t.step(a, "*2 +3"), answer="11")
    out = subprocess.run(f"bash {ROOT / 'examples' / 'ingest' / 'bisect.sh'} 37 | {sys.executable} "
                         f"{ROOT / 'cli.py'} ingest - --db {db}", shell=True, capture_output=True,
                         text=True, timeout=120)
    ingested = json.loads(out.stdout)["run_id"]
    at = app()
    at.switch_page("pages/sessions.py").run()
    assert not at.exception
    assert set(at.dataframe[0].value["strategy"]) == {"my dfs", "bisection (bash)"}
    at.selectbox(key="sessions_run").set_value(t.run_id).run()
    assert not at.exception and chart_node_ids(at) == [0, 1, 2, 3]
    at.selectbox(key="sessions_run").set_value(ingested).run()
    assert not at.exception and len(chart_node_ids(at)) == 15
    at.switch_page("pages/compare.py").run()
    assert not at.exception
