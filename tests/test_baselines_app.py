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


def test_experiment_curve_x_axis_can_be_any_unit_of_compute(tmp_path, monkeypatch):
    import json

    from runner import experiments as exp
    from storage import open_store
    from tests.test_experiments import app_with_all_pages
    at = app_with_all_pages(tmp_path, monkeypatch)
    store = open_store(str(tmp_path / "pages.db"))
    eid = exp.create_experiment(exp.ExperimentConfig(
        problems="901-902", strategies="greedy,dfs", budgets="40", budget_kind="calls",
        model={"kind": "random"}), store)
    exp.run_experiment(eid, store)
    at.run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    radio = at.radio(key="exp_curve_x")
    assert radio.options == list(exp.CURVE_X) and radio.value == "tokens"
    rows = {r.strategy: r for r in exp.results(store, eid)}
    for x, title in (("tokens", "mean generated tokens"), ("calls", "mean model calls"),
                     ("prompt_tokens", "mean prompt tokens")):
        at.radio(key="exp_curve_x").set_value(x).run()
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        assert spec["layout"]["xaxis"]["title"]["text"].startswith(title)
        plotted = {t["name"]: t["x"] for t in spec["data"]}
        want = {s: [r.mean_tokens if x == "tokens" else r.compute[x]] for s, r in rows.items()}
        assert plotted == want
