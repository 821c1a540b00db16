"""The Sessions page for a new user: an empty database offers the demo sessions (one button), a
replayed run offers its graph files, and an answer can be marked from the replay's inspector."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reasoning.models.scripted import ScriptedModel
from reasoning.tree import fold
from runner import demo
from tests.helpers import pick_first
from tests.test_pages_apptest import APP, app, navigation_mode  # noqa: F401  (fixture)
from tests.test_session_verbs import FREE_REPLIES, stored


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "sessions.db")
    monkeypatch.setenv("THINKTREE_DB", path)
    return path


@pytest.fixture
def small_demo(tmp_path, monkeypatch):
    """A demo file of two scripted runs, standing in for the bundled recording."""
    from storage import open_store
    src = open_store(str(tmp_path / "src.db"))
    a = stored(src, "game24", "4 5 6 10", "greedy", ScriptedModel(pick_first))
    b = stored(src, "free", "Is water wet?", "greedy", ScriptedModel(list(FREE_REPLIES)))
    path = demo.write_demo([demo.run_record(src, a, "a"), demo.run_record(src, b, "b")],
                           tmp_path / "demo.jsonl")
    monkeypatch.setattr(demo, "DEMO_FILE", path)
    return path


def test_empty_database_offers_the_demo_sessions(db, small_demo):
    at = app()
    at.switch_page("pages/sessions.py").run()
    assert any("load the demo sessions" in i.value for i in at.info)
    at.button(key="load_demo").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["problem"]) == ["4 5 6 10", "Is water wet?"]
    assert not [b for b in at.button if b.key == "load_demo"]      # offered only while empty


def test_replay_offers_graph_files_and_marks(db):
    from storage import open_store
    store = open_store(db)
    run_id = stored(store, "free", "Is water wet?", "greedy", ScriptedModel(list(FREE_REPLIES)))
    answer = fold(store.events(run_id)).answer_node
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(run_id)
    at.run()
    at.switch_page("pages/sessions.py").run()
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Graph (GraphML)", "Graph (JSON)"]
    last = store.last_seq(run_id)
    at.selectbox(key="replay_node").set_value(answer).run()
    at.button(key=f"mark_{run_id}_{answer}_wrong").click().run()
    assert not at.exception
    assert store.get_run(run_id)["outcome"] == "failed"
    # the replay jumps to the new last event, so the mark is on screen
    assert at.slider(key=f"replay_seq_{run_id}").value == last + 1
    assert any("marked wrong" in c.value for c in at.caption)


def test_a_chosen_run_folds_the_table_away(db):
    from storage import open_store
    store = open_store(db)
    run_id = stored(store, "game24", "4 5 6 10", "greedy", ScriptedModel(pick_first))
    at = app()
    at.switch_page("pages/sessions.py").run()
    (table,) = [e for e in at.expander if e.label.startswith("All runs")]
    assert table.label == "All runs (1)" and table.proto.expanded       # nothing chosen yet
    at.selectbox(key="sessions_run").set_value(run_id).run()
    (table,) = [e for e in at.expander if e.label.startswith("All runs")]
    assert not table.proto.expanded and at.get("plotly_chart")
