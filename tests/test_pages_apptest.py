"""The pages through ``streamlit.testing.v1.AppTest``: widgets render, bad input starts nothing,
stored runs are listed and replayed. (Clicks on the chart and live polling: tests/test_browser.py.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reasoning.engine import run_search
from reasoning.models.scripted import ScriptedModel
from reasoning.settings import Budget
from reasoning.strategies import STRATEGIES, make_strategy
from reasoning.tasks import get_task
from reasoning.tree import fold
from storage import reopen
from tests.helpers import new_run, pick_first

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch):
    """Run every rerun through app.py, as the real server does once app.py has called
    st.navigation. Streamlit treats a folder named ``pages/`` as a legacy multipage app until
    then, and AppTest starts every run from that state, so its reruns would skip app.py (the
    pages' ``through_app()`` guard would rerun, but a rerun drops a button click). The real
    server's first-request case is covered in tests/test_browser.py."""
    from streamlit.runtime.pages_manager import PagesManager
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False
    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "pages.db")
    monkeypatch.setenv("THINKTREE_DB", path)
    return path


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def stored_run(db: str, puzzle: str = "4 5 6 10") -> tuple[int, int]:
    """A real run of greedy on the scripted model, written to the store; (run id, last seq)."""
    from storage import open_store
    store = open_store(db)
    task = get_task("game24")
    problem = task.resolve_problem(puzzle)
    strategy = make_strategy("greedy", {})
    run_id = new_run(store, task="game24", problem=problem.text, problem_id=problem.id,
                              strategy="greedy", params=strategy.params(), model={"kind": "scripted"},
                              budget={}, seed=0)
    run_search(strategy, task, problem, ScriptedModel(pick_first), run_id=run_id, budget=Budget(),
               sink=reopen(store, run_id))
    return run_id, store.last_seq(run_id)


def chart_node_ids(at: AppTest) -> list[int]:
    charts = at.get("plotly_chart")
    assert charts, "no tree figure on the page"
    spec = json.loads(charts[-1].proto.spec)
    return sorted(c[0] for t in spec["data"] if t.get("customdata") for c in t["customdata"])


def test_live_page_renders_its_widgets(db):
    at = app()
    assert any("Thinktree" in t.value for t in at.title)
    assert any(str(Path(db).resolve()) in c.value for c in at.sidebar.caption)  # the DB in use
    assert at.selectbox(key="live_task").value == "game24"
    puzzle = at.selectbox(key="live_problem_game24")
    assert puzzle.format_func(puzzle.value) == "rank 37: 12 12 12 12"   # the measured first run
    strategy = at.selectbox(key="live_strategy")
    assert set(strategy.options) == {cls.title for cls in STRATEGIES.values()}
    # the first run: MCTS (its defaults) on a 1,500-token budget ("Run both" adds greedy)
    assert strategy.value == "mcts"
    assert at.number_input(key="live_budget_max_tokens").value == 1500
    # the settings form follows the strategy's dataclass, with its defaults
    strategy.set_value("greedy").run()
    assert at.number_input(key="live_param_greedy_temperature").value == 0.0
    at.selectbox(key="live_strategy").set_value("mcts").run()
    assert at.number_input(key="live_param_mcts_simulations").value == 50
    assert at.number_input(key="live_param_mcts_c_uct").value == pytest.approx(1.4)
    assert at.checkbox(key="live_param_mcts_stop_on_solution").value is True
    assert at.number_input(key="live_budget_max_nodes").value == 200
    assert [b.label for b in at.button] == ["Run", "Stop", "Run both: shortcut + this"]
    assert at.button(key="live_stop").disabled
    assert not at.exception


def widget_values(at: AppTest, prefix: str) -> dict:
    out = {}
    for kind in (at.number_input, at.checkbox, at.selectbox, at.text_input):
        for w in kind:
            if w.key and w.key.startswith(prefix):
                out[w.key[len(prefix):]] = w.value
    return out


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_gets_a_settings_form_with_its_defaults(db, name):
    """A strategy added to the registry appears with one input per Settings field, and the
    untouched form reproduces the dataclass defaults exactly (None stays None)."""
    import dataclasses
    at = app()
    at.selectbox(key="live_strategy").set_value(name).run()
    assert not at.exception
    values = widget_values(at, f"live_param_{name}_")
    cls = STRATEGIES[name]
    assert set(values) == {f.name for f in dataclasses.fields(cls.Settings)}
    got = make_strategy(name, values).params()   # with the default evaluator's own settings
    defaults = dataclasses.asdict(cls.Settings())
    assert {k: got[k] for k in defaults} == defaults
    assert got == make_strategy(name, {}).params()


def test_bad_puzzle_shows_an_error_and_starts_nothing(db):
    at = app()
    at.radio(key="live_problem_how_game24").set_value("Type my own").run()
    at.text_input(key="live_problem_text_game24").set_value("1 2 3").run()
    at.button(key="live_run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("problem:")
    assert "1 2 3" in at.error[0].value
    from storage import open_store
    assert open_store(db).list_runs() == []
    assert "live_run_id" not in at.session_state


def test_bad_strategy_setting_names_the_field(db):
    at = app()
    at.selectbox(key="live_strategy").set_value("greedy").run()
    at.number_input(key="live_param_greedy_temperature").set_value(5.0).run()
    at.button(key="live_run").click().run()
    assert [e.value.split(":")[0] for e in at.error] == ["temperature"]
    from storage import open_store
    assert open_store(db).list_runs() == []


def test_endpoint_settings_validate_and_mask_the_key(db, monkeypatch):
    monkeypatch.setenv("THINKTREE_TEST_KEY", "sk-test-1234567890abcd")
    at = app()
    at.radio(key="model_kind").set_value("OpenAI-compatible endpoint").run()
    assert at.text_input(key="model_base_url").value == "https://api.openai.com/v1"
    at.text_input(key="model_key_env").set_value("THINKTREE_TEST_KEY").run()
    # no model name yet: the ModelConfig's message is shown and no config is kept
    assert any(e.value.startswith("model:") for e in at.sidebar.error)
    assert at.session_state["model_config"] is None
    at.text_input(key="model_name").set_value("gpt-4o-mini").run()
    assert not at.sidebar.error
    assert any("sk-…abcd" in c.value for c in at.sidebar.caption)
    assert all("1234567890" not in c.value for c in at.sidebar.caption)
    cfg = at.session_state["model_config"]
    assert cfg.kind == "endpoint" and cfg.api_key_env == "THINKTREE_TEST_KEY"
    assert "sk-test" not in json.dumps(cfg.describe())
    at.selectbox(key="model_preset").set_value("Ollama").run()
    assert at.text_input(key="model_base_url").value == "http://localhost:11434/v1"


def test_sessions_lists_a_stored_run_and_replays_it(db):
    run_id, last = stored_run(db)
    at = app()
    at.switch_page("pages/sessions.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["id"]) == [run_id]
    assert table.iloc[0]["strategy"] == "greedy" and table.iloc[0]["problem"] == "4 5 6 10"
    at.selectbox(key="sessions_run").set_value(run_id).run()
    slider = at.slider(key=f"replay_seq_{run_id}")
    assert (slider.min, slider.max, slider.value) == (1, last, last)
    full = chart_node_ids(at)
    assert full == [0, 1, 2, 3]  # greedy on 4 numbers: root + three steps
    assert any("outcome:" in t.value for t in at.text)
    slider.set_value(4).run()  # run_started, root created, root completed, node 1 created
    assert chart_node_ids(at) == [0, 1]
    assert any(t.value.startswith(f"seq 4/{last}: node_created") for t in at.text)
    assert not any("outcome:" in t.value for t in at.text)
    at.slider(key=f"replay_seq_{run_id}").set_value(last).run()
    assert chart_node_ids(at) == full
    at.selectbox(key="replay_node").set_value(3).run()
    from storage import open_store
    node = fold(open_store(db).events(run_id)).nodes[3]
    codes = [c.value for c in at.code]
    assert node.text and node.text in codes  # the inspector shows the node's full text
    assert any(f"state       {node.state}" in c and "completion" in c for c in codes)
    assert not at.exception


def test_sessions_opens_the_run_named_in_the_query(db):
    stored_run(db, "1 6 6 6")
    run_id, last = stored_run(db, "4 5 6 10")
    other = run_id - 1
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(other)
    at.run()
    at.switch_page("pages/sessions.py").run()
    assert at.selectbox(key="sessions_run").value == other
    assert at.slider(key=f"replay_seq_{other}").max >= 4


def test_a_foreign_database_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database\n")
    monkeypatch.setenv("THINKTREE_DB", str(bad))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "is not an SQLite database" in at.error[0].value
    assert not at.button  # the page did not run
    assert bad.read_text() == "these are my notes, not a database\n"


def test_live_page_reopens_the_run_in_its_url(db):
    run_id, last = stored_run(db)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(run_id)
    at.run()
    assert not at.exception
    assert at.session_state["live_run_id"] == run_id
    assert chart_node_ids(at) == [0, 1, 2, 3]
    assert any("outcome:" in t.value for t in at.text)
    assert not at.button(key="live_run").disabled  # finished: nothing to poll, Run is free


def test_run_both_starts_the_shortcut_and_the_exploration_on_the_same_problem(db, monkeypatch):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("THINKTREE_EMBEDDED_URL", f"http://127.0.0.1:{port}/v1")  # nothing listens
    at = app()
    at.selectbox(key="live_strategy").set_value(STRATEGIES["mcts"].title).run()
    at.button(key="live_both").click().run()
    assert not at.exception and not at.error
    from storage import open_store
    runs = sorted(open_store(db).list_runs(), key=lambda r: r["id"])
    assert [r["strategy"] for r in runs] == ["greedy", "mcts"]
    assert runs[0]["problem"] == runs[1]["problem"] == "12 12 12 12"
    assert runs[0]["seed"] == runs[1]["seed"]
    links = [p for p in at.get("page_link")]
    assert links and f"a={runs[0]['id']}" in str(links[0].proto)


def test_endpoint_panel_probes_a_loopback_server_and_prices_show_as_cost(db):
    from benchmarks.fault_server import FaultServer
    with FaultServer() as server:
        at = app()
        at.sidebar.radio(key="model_kind").set_value("OpenAI-compatible endpoint").run()
        at.sidebar.text_input(key="model_base_url").set_value(server.url).run()
        at.sidebar.text_input(key="model_name").set_value("ok").run()
        at.sidebar.text_input(key="model_key_env").set_value("").run()
        at.sidebar.number_input(key="model_price_out").set_value(2.0).run()
        at.sidebar.button(key="model_probe").click().run()
        assert not at.exception
        report = "\n".join(c.value for c in at.sidebar.code)
        assert "streaming" in report and "completions" in report
        assert any("Models at this endpoint: ok" in c.value for c in at.sidebar.caption)
    from components.status import run_cost
    from reasoning.tree import Tree
    tree = Tree(info={"price_in": 1.0, "price_out": 2.0}, tokens=1000, prompt_tokens=2000)
    assert run_cost(tree) == (2000 * 1.0 + 1000 * 2.0) / 1e6
    assert run_cost(Tree(info={})) is None


def test_probe_sets_requests_in_flight_to_the_servers_slots(db):
    """Probing an endpoint that declares 3 slots sets "Requests in flight" to 3; the user can
    still change it afterwards, and the run's config uses the field's value."""
    from http.server import ThreadingHTTPServer

    from tests.test_probe import Plain, _serve
    Plain.seen_auth, Plain.list_models, Plain.delay, Plain.slots = [], True, 0.0, 3
    server, url = _serve(ThreadingHTTPServer)
    try:
        at = app()
        at.sidebar.radio(key="model_kind").set_value("OpenAI-compatible endpoint").run()
        at.sidebar.text_input(key="model_base_url").set_value(url).run()
        at.sidebar.text_input(key="model_name").set_value("plain-1").run()
        at.sidebar.text_input(key="model_key_env").set_value("").run()
        assert at.sidebar.number_input(key="model_parallel").value == 1
        at.sidebar.button(key="model_probe").click().run()
        assert not at.exception
        assert at.sidebar.number_input(key="model_parallel").value == 3
        at.sidebar.number_input(key="model_parallel").set_value(2).run()
        assert not at.exception and at.sidebar.number_input(key="model_parallel").value == 2
    finally:
        server.shutdown()
        server.server_close()
        Plain.slots = 0
