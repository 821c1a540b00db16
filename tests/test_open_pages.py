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
