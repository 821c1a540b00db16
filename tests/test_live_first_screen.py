"""The Live page's first screen and recorded runs, through AppTest: before any run a tree shows
what a run looks like (the last stored run, or a bundled demo run, with a line saying which) and
only the essential settings are open; a run recorded by another program is shown as recorded (no
Run buttons, no model choice, the producer named); a ``?run=ID`` that is not stored says so."""
from __future__ import annotations

import pytest

from tests.test_pages_apptest import app, navigation_mode, stored_run  # noqa: F401  (fixture)


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "live.db")
    monkeypatch.setenv("THINKTREE_DB", path)
    return path


def keys(at, kind: str) -> set[str]:
    return {w.key for w in getattr(at, kind) if w.key}


def texts(at) -> str:
    return " ".join(c.value for c in at.text)


def test_first_screen_shows_a_demo_tree_and_the_essential_settings(db):
    at = app()
    assert "a bundled demo run" in texts(at) and "not stored" in texts(at)
    assert len(at.get("plotly_chart")) == 1
    assert {"live_task", "live_strategy"} <= keys(at, "selectbox")
    assert "live_budget_max_tokens" in keys(at, "number_input")
    more = [e for e in at.expander if e.label.startswith("More settings")]
    assert len(more) == 1 and not more[0].proto.expanded    # the rest is folded
    folded = {w.key for w in more[0].number_input}
    assert {"live_budget_max_nodes", "live_seed"} <= folded and "live_budget_max_tokens" not in folded
    assert {"live_run", "live_both"} <= keys(at, "button")
    from storage import open_store
    assert open_store(db).list_runs() == []                 # the demo was not stored


def test_first_screen_shows_the_last_stored_run(db):
    run_id, _ = stored_run(db)
    at = app()
    assert f"the last run in this database, #{run_id}" in texts(at)
    assert len(at.get("plotly_chart")) == 1


def trace_run(path: str) -> int:
    from thinktree import Trace
    with Trace(db=path, task="6-queens", problem="place 6 queens", strategy="backtracking") as t:
        root = t.root("an empty 6x6 board")
        a = t.step(root, "row 1: queen in column 2", label="r1 c2")
        t.solve(t.step(a, "row 2: queen in column 4", label="r2 c4"), answer="2 4")
    return t.run_id


def test_a_trace_run_is_shown_as_recorded(db):
    run_id = trace_run(db)
    from streamlit.testing.v1 import AppTest

    from tests.test_pages_apptest import APP
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(run_id)
    at.run()
    assert not at.exception, at.exception
    notice = " ".join(i.value for i in at.info)
    assert f"Run {run_id} was recorded by thinktree.Trace" in notice
    assert not {"live_run", "live_both", "live_stop"} & keys(at, "button")
    assert "model_kind" not in keys(at, "radio")            # no model to choose
    assert "recorded by thinktree.Trace" in " ".join(c.value for c in at.sidebar.caption)
    assert not [e for e in at.expander if e.label.startswith(("More settings", "Settings"))]
    labels = {a["text"] for c in at.get("plotly_chart") for a in
              __import__("json").loads(c.proto.spec)["layout"].get("annotations", [])}
    assert {"r1 c2", "r2 c4"} <= labels                      # the producer's labels
    at.button(key="live_new_run").click().run()             # back to a form of one's own
    assert not at.exception and "live_run" in keys(at, "button") and "model_kind" in keys(at, "radio")


def test_an_ingested_run_of_another_program_is_shown_as_recorded(db, tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    log = subprocess.run(["bash", str(root / "examples" / "ingest" / "bisect.sh"), "37"],
                         capture_output=True, text=True, check=True).stdout
    out = subprocess.run([sys.executable, str(root / "cli.py"), "ingest", "-", "--db", db],
                         input=log, capture_output=True, text=True, check=True)
    run_id = __import__("json").loads(out.stdout)["run_id"]
    from runner.views import run_producer
    from storage import open_store
    assert run_producer(open_store(db), run_id) == "an outside program (cli.py ingest)"
    from streamlit.testing.v1 import AppTest

    from tests.test_pages_apptest import APP
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(run_id)
    at.run()
    assert not at.exception and "live_run" not in keys(at, "button")
    assert "recorded by an outside program" in " ".join(i.value for i in at.info)


def test_our_own_runs_are_not_recorded_ones(db):
    run_id, _ = stored_run(db)
    from runner.views import run_producer
    from storage import open_store
    assert run_producer(open_store(db), run_id) is None


def test_a_run_id_that_is_not_stored_says_so(db):
    from streamlit.testing.v1 import AppTest

    from tests.test_pages_apptest import APP
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = "4242"
    at.run()
    assert not at.exception, at.exception
    assert any("Run 4242 is not in this database" in w.value for w in at.warning)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = "[x](javascript:alert(1))**b**"
    at.run()
    said = " ".join(w.value for w in at.warning)
    assert "not in this database" in said and "[" not in said and "*" not in said
    assert "live_run" in keys(at, "button")                 # the form is there to start one


def test_the_label_switch_shows_values_and_visits(db):
    import json

    from streamlit.testing.v1 import AppTest

    from tests.test_pages_apptest import APP
    from thinktree import Trace
    with Trace(db=db, task="toy", problem="p", strategy="by hand") as t:
        root = t.root("start", label="start")
        a = t.step(root, "a first step", label="first")
        t.score(a, 0.75)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(t.run_id)
    at.run()

    def labels() -> set[str]:
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        return {a["text"] for a in spec["layout"].get("annotations", [])}
    assert {"start", "first"} <= labels()
    at.radio(key="live_labels").set_value("values").run()
    assert not at.exception and labels() == {"v 0.75"}
