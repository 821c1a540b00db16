"""The Live page's run form through AppTest: plug-in tasks are offered, each task names its own
problems (no "rank N" or Game of 24 placeholder for other tasks), and a stored run's settings can
be put back into the form."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from storage import reopen
from tests.helpers import new_run
from tests.test_pages_apptest import app, navigation_mode  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = str(tmp_path / "form.db")
    monkeypatch.setenv("THINKTREE_DB", path)
    from reasoning import plugins
    monkeypatch.delenv("THINKTREE_TASK_PATH", raising=False)
    plugins.ensure(reload=True)          # built-ins only, as a fresh server process starts
    monkeypatch.setenv("THINKTREE_TASK_PATH", str(ROOT / "examples" / "tasks"))
    monkeypatch.setitem(plugins._STATE, "loaded", False)   # the page's first look loads them
    yield path
    monkeypatch.delenv("THINKTREE_TASK_PATH")
    plugins.ensure(reload=True)


def test_plugin_task_is_offered_with_its_own_problem_words(db):
    at = app()
    task = at.selectbox(key="live_task")
    assert "countdown3" in task.options or "Countdown with three numbers" in task.options
    task.set_value("countdown3").run()
    assert not at.exception
    puzzle = at.selectbox(key="live_problem_countdown3")
    assert puzzle.label.startswith("Puzzle (5 bundled")
    assert puzzle.value == "1" and puzzle.format_func("3") == "puzzle 3: 4 8 10 -> 42"
    how = at.radio(key="live_problem_how_countdown3")
    assert list(how.options) == ["Bundled puzzle", "Type my own"]
    how.set_value("Type my own").run()
    box = at.text_input(key="live_problem_text_countdown3")
    assert box.label == "Your puzzle" and box.placeholder == "e.g. 3 5 7 -> 22"


@pytest.mark.parametrize("name, label, placeholder", [
    ("free", "Your question", "e.g. Why do leaves change colour in autumn?"),
    ("gsm8k", "Your question", "e.g. A pen costs $2"),
    ("game24", "Your puzzle", "e.g. 4 5 6 10"),
])
def test_each_task_names_its_problems(db, name, label, placeholder):
    at = app()
    at.selectbox(key="live_task").set_value(name).run()
    from reasoning.tasks import get_task
    picker = at.selectbox(key=f"live_problem_{name}")
    first = picker.format_func(picker.value)
    assert ("rank" in first) == (name == "game24")          # "rank N" only for Game of 24
    assert picker.value == ("37" if name == "game24" else get_task(name).problems()[0].id)
    assert picker.label.split(" (")[0] == label.split()[-1].capitalize()
    at.radio(key=f"live_problem_how_{name}").set_value("Type my own").run()
    box = at.text_input(key=f"live_problem_text_{name}")
    assert box.label == label and box.placeholder.startswith(placeholder)
    assert not at.exception


def stored_mcts(db: str) -> int:
    """A scripted MCTS run with non-default settings, stored (what ?run=ID reopens)."""
    from reasoning.engine import run_search
    from reasoning.models.scripted import ScriptedModel
    from reasoning.settings import Budget
    from reasoning.strategies import make_strategy
    from reasoning.tasks import get_task
    from storage import open_store
    from tests.helpers import pick_by_seed
    store = open_store(db)
    task = get_task("game24")
    problem = task.resolve_problem("12")
    strategy = make_strategy("mcts", {"simulations": 7, "width": 2})
    budget = Budget(max_nodes=40, max_tokens=5000, max_seconds=120)
    run_id = new_run(store, task="game24", problem=problem.text, problem_id=problem.id,
                              strategy="mcts", params=strategy.params(), model={"kind": "scripted"},
                              budget={"max_nodes": 40, "max_tokens": 5000, "max_seconds": 120}, seed=3)
    run_search(strategy, task, problem, ScriptedModel(pick_by_seed), run_id=run_id, budget=budget,
               seed=3, sink=reopen(store, run_id))
    return run_id


def test_reopened_run_shows_its_own_settings_folded(db):
    from streamlit.testing.v1 import AppTest

    from tests.test_pages_apptest import APP
    run_id = stored_mcts(db)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(run_id)
    at.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="live_task").value == "game24"
    assert at.radio(key="live_problem_how_game24").value == "Bundled puzzle"
    assert at.selectbox(key="live_problem_game24").value == "12"
    assert at.selectbox(key="live_strategy").value == "mcts"
    assert at.number_input(key="live_param_mcts_simulations").value == 7
    assert at.number_input(key="live_param_mcts_width").value == 2
    assert at.number_input(key="live_budget_max_nodes").value == 40
    assert at.number_input(key="live_seed").value == 3
    folded = [e for e in at.expander if e.label.startswith("Settings · ")]
    assert len(folded) == 1
    assert "rank 12:" in folded[0].label and "mcts (simulations 7, width 2)" in folded[0].label
    assert "seed 3" in folded[0].label and "c uct" not in folded[0].label   # defaults unnamed


def test_fresh_page_shows_the_form_open(db):
    at = app()
    assert not [e for e in at.expander if e.label.startswith("Settings · ")]


def test_mark_an_answer_from_the_inspector(db):
    from streamlit.testing.v1 import AppTest

    from reasoning.models.scripted import ScriptedModel
    from storage import open_store
    from tests.test_pages_apptest import APP
    from tests.test_session_verbs import FREE_REPLIES, stored
    store = open_store(db)
    run_id = stored(store, "free", "Is water wet?", "greedy", ScriptedModel(list(FREE_REPLIES)))
    from reasoning.tree import fold
    answer = fold(store.events(run_id)).answer_node
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["run"] = str(run_id)
    at.run()
    at.selectbox(key="live_node").set_value(1).run()          # a thought: nothing to mark
    assert not [b for b in at.button if b.label.startswith("Mark ")]
    at.selectbox(key="live_node").set_value(answer).run()
    at.button(key=f"mark_{run_id}_{answer}_correct").click().run()
    assert not at.exception
    assert store.get_run(run_id)["outcome"] == "solved"
    assert fold(store.events(run_id)).nodes[answer].mark == "correct"
    assert at.button(key=f"mark_{run_id}_{answer}_correct").disabled    # the mark is shown


def test_experiment_form_offers_plugin_tasks_in_their_words(db, monkeypatch):
    """The experiment form lists plug-in tasks; its problems box suggests that task's ids, and a
    plug-in experiment runs (scripted model) and shows its matrix in words and icons."""
    from runner import experiments as exp
    from storage import experiments as repo
    from storage import open_store
    from tests.test_experiments import app_with_all_pages, counting_factory
    at = app_with_all_pages(Path(db).parent, monkeypatch)
    monkeypatch.setenv("THINKTREE_DB", db)
    at.switch_page("pages/experiments.py").run()      # the first page this server shows
    assert at.text_input(key="exp_problems_game24").value == "901-910"
    at.selectbox(key="exp_task").set_value("countdown3").run()
    box = at.text_input(key="exp_problems_countdown3")
    assert box.value == "1-5" and "puzzle ids" in box.help and "rank" not in box.help
    at.text_input(key="exp_problems_countdown3").set_value("1-2")
    at.text_input(key="exp_strategies").set_value("greedy")
    at.text_input(key="exp_budgets").set_value("300")
    # the page starts its worker thread on the embedded model: run the cells here instead
    monkeypatch.setattr(exp, "start_experiment", lambda eid, store, **kw: None)
    at.button(key="exp_start").click().run()
    assert not at.exception and not at.error
    store = open_store(db)
    (row,) = repo.list_experiments(store)
    assert row["config"]["task"] == "countdown3" and row["config"]["problems"] == "1-2"
    factory, _ = counting_factory()
    exp.run_experiment(row["id"], store, model_factory=factory)
    at.run()
    labels = [ln.proto.label for ln in at.get("page_link")]
    assert len(labels) == 2 and all(re.fullmatch(r"(solved|not solved) · #\d+", x) for x in labels)
    icons = {ln.proto.icon for ln in at.get("page_link")}
    assert icons <= {":material/check_circle:", ":material/cancel:"}


def test_settings_summary_names_what_differs():
    from components.run_form import settings_summary
    from reasoning.settings import MAX_NODES_LIMIT
    run = {"task": "game24", "problem": "1 1 4 6", "problem_id": "1", "strategy": "mcts",
           "params": {"simulations": 10, "width": 3, "c_uct": 1.4}, "seed": 0,
           "budget": {"max_nodes": MAX_NODES_LIMIT, "max_tokens": 1500, "max_seconds": 1200}}
    assert settings_summary(run) == ("Game of 24 · rank 1: 1 1 4 6 · mcts (simulations 10, width 3) · "
                                     "budget 1,500 tokens, 1,200 s · seed 0")
