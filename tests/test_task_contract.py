"""One contract, every task: the built-ins, a task file, and the example plug-in (loaded the way a
user loads it: discovered from its folder). A plug-in author can add their task to FACTORIES and
KNOWN to check it the same way."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasoning.tasks import InvalidStep, JsonlTask, Problem, Task, get_task
from reasoning.tasks.discovery import load_plugins

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "tasks"


def _example(name):
    found, errors = load_plugins([EXAMPLES])
    assert errors == []
    return found[name]()


def _task_file(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"question": "What is 6 times 7?", "answer": "42",
                                "checker": "numeric"}) + "\n")
    return JsonlTask(path)


FACTORIES = {
    "game24": lambda tmp: get_task("game24"),
    "gsm8k": lambda tmp: get_task("gsm8k"),
    "math": lambda tmp: get_task("math"),
    "free": lambda tmp: get_task("free"),
    "jsonl": _task_file,
    "countdown3": lambda tmp: _example("countdown3"),
}

# task -> (problem, a correct path, a wrong path or None, garbage that is no step)
KNOWN = {
    "game24": ("4 5 6 10", ["5 * 4 = 20", "10 - 6 = 4", "20 + 4 = 24"],
               ["10 - 4 = 6 (left: 5 6 6)", "6 / 6 = 1", "5 - 1 = 4"], "let me think"),
    "gsm8k": ("1", ["16 - 3 - 4 = 9 eggs are sold.", "The answer is 18."],
              ["The answer is 20."], "Question: a new one?"),
    "math": ("1", ["$\\frac12 + \\frac13 = \\frac{5}{6}$", "The answer is $\\boxed{\\frac{5}{6}}$."],
             ["\\boxed{\\frac{2}{5}}"], "Solution: again"),
    "free": ("1", ["Light scatters.", "Answer: Rayleigh scattering."], None, "Question: why?"),
    "jsonl": ("1", ["6 * 7 = 42", "Answer: 42"], ["Answer: 41"], "Question: hm"),
    "countdown3": ("1", ["3 * 5 = 15", "15 + 7 = 22"], ["3 + 5 = 8", "8 + 7 = 15"], "fifteen"),
}


@pytest.fixture(params=sorted(FACTORIES))
def task(request, tmp_path) -> Task:
    return FACTORIES[request.param](tmp_path)


def play(task, problem, lines):
    state = task.initial_state(problem)
    for line in lines:
        assert not task.is_terminal(state)
        _, state = task.apply_step(problem, state, line)
    return state


def test_identity_and_problems(task):
    assert isinstance(task.name, str) and task.name and isinstance(task.title, str) and task.title
    assert isinstance(task.max_depth, int) and task.max_depth >= 1
    problems = task.problems()
    assert problems and all(isinstance(p, Problem) for p in problems)
    assert len({p.id for p in problems}) == len(problems)
    first = problems[0]
    assert task.resolve_problem(first.id) == first
    with pytest.raises(ValueError):
        task.resolve_problem("")


def test_prompts_in_both_modes(task):
    p = task.resolve_problem(KNOWN[task.name][0])
    for lines in ([], KNOWN[task.name][1][:1]):
        s = play(task, p, lines)
        text = task.prompt(p, s, "completions")
        assert isinstance(text, str) and p.text in text
        chat = task.prompt(p, s, "chat")
        assert isinstance(chat, list) and chat
        assert all(set(m) == {"role", "content"} and m["role"] in ("system", "user", "assistant")
                   and isinstance(m["content"], str) for m in chat)
        assert any(p.text in m["content"] for m in chat)
        for line in lines:  # the steps so far are in the prompt
            assert line.split("(")[0].strip()[:8] in text
    assert isinstance(task.stop(), list)


def test_garbage_is_an_invalid_step(task):
    p = task.resolve_problem(KNOWN[task.name][0])
    s = task.initial_state(p)
    for bad in ("", "   ", KNOWN[task.name][3]):
        with pytest.raises(InvalidStep) as info:
            task.apply_step(p, s, bad)
        assert str(info.value)  # the reason is shown on the pruned node


def test_known_path_verifies(task):
    problem, good, wrong, _ = KNOWN[task.name]
    p = task.resolve_problem(problem)
    start = task.initial_state(p)
    assert not task.is_terminal(start)
    before = task.describe(start)
    s = play(task, p, good)
    assert task.describe(start) == before                # states are not mutated
    assert task.is_terminal(s) and len(good) <= task.max_depth
    verdict = task.verify(p, s)
    assert isinstance(task.describe(s), str) and isinstance(verdict.reason, str) and verdict.reason
    if task.has_verifier:
        assert verdict.correct is True
        assert task.verify(p, play(task, p, wrong)).correct is False
    else:
        assert verdict.correct is None and verdict.answer


def test_optional_extras_are_consistent(task):
    p = task.resolve_problem(KNOWN[task.name][0])
    s = task.initial_state(p)
    features = task.features()
    assert set(features) <= {"legal_steps", "solvable", "value_prompt"}
    legal = task.legal_steps(s)
    if "legal_steps" in features:
        assert legal and len(legal) == len(set(legal))
        for line in legal:
            step, _ = task.apply_step(p, s, line)
            assert step == line                          # what a grammar offers is canonical
    else:
        assert legal is None
    if "solvable" in features:
        assert task.solvable(s) is True                  # bundled problems are solvable
    else:
        assert task.solvable(s) is None
    vp = task.value_prompt(p, s, "completions")
    assert (vp is not None) == ("value_prompt" in features)
