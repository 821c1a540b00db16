"""The Model panel's OpenTelemetry switch: a run started in the Live page is streamed to an OTLP
receiver while it runs (here: serve-otlp's server, in this process)."""
from __future__ import annotations

from runner.otlp_server import OtlpServer
from runner.views import final_tree
from storage import open_store
from tests.harness import free_port
from tests.test_otel import newest_run, same_tree, wait_for
from tests.test_pages_apptest import app, db, navigation_mode  # noqa: F401 (fixtures)


def start_random_run(at, endpoint: str):
    at.radio(key="model_kind").set_value(
        "Baseline: random legal moves (no model, no server)").run()
    at.toggle(key="otlp_live").set_value(True).run()
    at.text_input(key="otlp_url").set_value(endpoint).run()
    at.selectbox(key="live_strategy").set_value("dfs").run()
    at.button(key="live_run").click().run()
    assert not at.exception, at.exception


def test_the_switch_streams_a_page_run_to_the_endpoint(db, tmp_path):  # noqa: F811
    srv = OtlpServer(open_store(str(tmp_path / "received.db")), port=0, idle_timeout=30).start()
    try:
        at = app()
        start_random_run(at, srv.url)
        assert not at.error, [e.value for e in at.error]
        store = open_store(db)
        rid = at.session_state["live_run_id"]
        assert wait_for(lambda: store.get_run(rid)["outcome"], 30)
        got = srv.receiver.store
        assert wait_for(lambda: got.list_runs() and got.list_runs()[0]["outcome"], 10)
        same_tree(final_tree(store, rid), final_tree(got, newest_run(got)))
    finally:
        srv.stop()


def test_no_receiver_is_a_message_and_no_run(db):  # noqa: F811
    at = app()
    start_random_run(at, f"http://127.0.0.1:{free_port()}")
    assert any(e.value.startswith("endpoint: cannot connect") for e in at.error)
    assert open_store(db).list_runs() == []
