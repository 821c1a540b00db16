"""The baselines in the app: the random policy in the Model panel and the oracle evaluator in the
strategy form, each labelled as a baseline; a run with both needs no server."""
from __future__ import annotations

import time

from reasoning.strategies import STRATEGIES
from tests.test_pages_apptest import app, db, navigation_mode  # noqa: F401 - fixtures


def test_random_policy_and_oracle_run_from_the_live_page(db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("THINKTREE_EMBEDDED_URL", "http://127.0.0.1:9/v1")  # must not be used
    at = app()
    kinds = at.sidebar.radio(key="model_kind")
    assert "Baseline: random legal moves (no model, no server)" in kinds.options
    kinds.set_value("Baseline: random legal moves (no model, no server)").run()
    assert at.session_state["model_config"].kind == "random"
    at.selectbox(key="live_strategy").set_value(STRATEGIES["beam"].title).run()
    ev = at.selectbox(key="live_param_beam_evaluator")
    assert ev.format_func("oracle").startswith("oracle — baseline: oracle")
    ev.set_value("oracle").run()
    at.button(key="live_run").click().run()
    assert not at.exception and not at.error
    from storage import open_store
    store = open_store(db)
    for _ in range(100):
        runs = store.list_runs()
        if runs and runs[0]["status"] == "finished":
            break
        time.sleep(0.1)
    run = store.get_run(runs[0]["id"])
    assert run["status"] == "finished" and run["model"]["kind"] == "random"
    assert run["params"]["evaluator"] == "oracle" and run["outcome"] in ("solved", "failed")
    fin = store.events(run["id"])[-1].payload
    assert fin["calls_by_purpose"] == {"proposal": fin["model_calls"]}   # the oracle calls nothing
