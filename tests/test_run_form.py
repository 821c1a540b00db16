"""The Live page's run form through AppTest: plug-in tasks are offered, each task names its own
problems (no "rank N" or Game of 24 placeholder for other tasks), and a stored run's settings can
be put back into the form."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_pages_apptest import app, navigation_mode  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    path = str(tmp_path / "form.db")
    monkeypatch.setenv("THINKTREE_DB", path)
    monkeypatch.setenv("THINKTREE_TASK_PATH", str(ROOT / "examples" / "tasks"))
    return path


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
    assert picker.value == ("950" if name == "game24" else get_task(name).problems()[0].id)
    assert picker.label.split(" (")[0] == label.split()[-1].capitalize()
    at.radio(key=f"live_problem_how_{name}").set_value("Type my own").run()
    box = at.text_input(key=f"live_problem_text_{name}")
    assert box.label == label and box.placeholder.startswith(placeholder)
    assert not at.exception
