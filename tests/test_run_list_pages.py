"""The runs list on the pages (AppTest): Sessions filters and pages, the Compare and Experiments
pickers' search boxes — a search narrows the choices, never a list of every stored run."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.run_table import PICKER_LIMIT
from runner.synthetic import store_many_runs
from storage import experiments as exp_repo
from storage import open_store
from tests.test_pages_apptest import APP, navigation_mode  # noqa: F401 - the autouse fixture


@pytest.fixture
def many(tmp_path, monkeypatch) -> list[int]:
    path = str(tmp_path / "many.db")
    monkeypatch.setenv("THINKTREE_DB", path)
    store = open_store(path)
    for i in range(30):
        exp_repo.create_experiment(store, f"sweep {i}", {})
    return store_many_runs(store, 130, seed=2, experiments=(1, 2))


def page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def test_sessions_pages_and_filters_the_runs(many):
    at = page("sessions")
    assert list(at.dataframe[0].value["id"]) == sorted(many, reverse=True)[:50]
    at.button(key="sessions_older").click().run()
    assert list(at.dataframe[0].value["id"]) == sorted(many, reverse=True)[50:100]
    at.selectbox(key="runs_task").set_value("gsm8k").run()      # a filter starts at page 1
    table = at.dataframe[0].value
    assert set(table["task"]) == {"gsm8k"} and list(table["id"]) == sorted(table["id"], reverse=True)
    at.text_input(key="runs_text").set_value("question 1").run()
    assert all("question 1" in p for p in at.dataframe[0].value["problem"])
    assert not at.exception


def test_the_compare_pickers_search_instead_of_listing_every_run(many):
    at = page("compare")
    pick = at.selectbox(key="cmp_a")
    assert len(pick.options) <= PICKER_LIMIT + 1 < len(many)
    at.text_input(key="cmp_a_find").set_value(f"#{many[3]}").run()
    assert at.selectbox(key="cmp_a").options[1].startswith(f"#{many[3]} ")   # after the current one
    at.selectbox(key="cmp_a").set_value(many[3]).run()
    assert at.selectbox(key="cmp_a").value == many[3] and not at.exception
    at.text_input(key="cmp_a_find").set_value("no such problem").run()
    assert at.selectbox(key="cmp_a").value == many[3]   # the choice stays listed
    assert len(at.selectbox(key="cmp_a").options) == 1


def test_the_experiments_picker_searches_by_name(many):
    at = page("experiments")
    assert len(at.selectbox(key="exp_pick").options) == PICKER_LIMIT
    at.text_input(key="exp_pick_find").set_value("sweep 7").run()
    assert [o for o in at.selectbox(key="exp_pick").options if "sweep 7 " in o]
    at.selectbox(key="exp_pick").set_value(8).run()
    assert at.selectbox(key="exp_pick").value == 8 and not at.exception
