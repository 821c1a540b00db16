from fractions import Fraction

import pytest

from reasoning.tasks import InvalidStep, get_task
from reasoning.tasks.game24 import solvable_numbers


@pytest.fixture
def task():
    return get_task("game24")


def play(task, puzzle, steps):
    p = task.resolve_problem(puzzle)
    s = task.initial_state(p)
    for line in steps:
        _, s = task.apply_step(p, s, line)
    return p, s


def test_bundled_puzzles_load_with_ranks(task):
    problems = task.problems()
    assert len(problems) == 1362
    assert task.resolve_problem("950").text == "1 6 6 6"
    assert task.resolve_problem("901").id == "901"


def test_3_3_8_8_needs_fractions(task):
    p, s = play(task, "3 3 8 8", ["8 / 3 = 8/3 (left: 3 8 8/3)", "3 - 8/3 = 1/3", "8 / 1/3 = 24"])
    v = task.verify(p, s)
    assert v.correct is True
    assert v.answer == "8 / (3 - (8 / 3)) = 24"


def test_wrong_final_value_is_failed_with_reason(task):
    p, s = play(task, "4 5 6 10", ["5 * 4 = 20", "10 * 6 = 60", "60 * 20 = 1200"])
    v = task.verify(p, s)
    assert v.correct is False and "not 24" in v.reason


@pytest.mark.parametrize("line,why", [
    ("4 + 5 = 13 (left: 6 10 13)", "wrong arithmetic"),
    ("7 + 5 = 12", "not among the numbers"),
    ("4 + 4 = 8", "not among the numbers"),   # 4 is there only once
    ("the answer is 24", "not of the form"),
    ("", "not of the form"),
])
def test_invalid_steps_are_rejected_with_a_reason(task, line, why):
    p = task.resolve_problem("4 5 6 10")
    with pytest.raises(InvalidStep, match=why):
        task.apply_step(p, task.initial_state(p), line)


def test_division_by_zero_is_invalid(task):
    p, s = play(task, "1 1 4 6", ["1 - 1 = 0"])
    with pytest.raises(InvalidStep):
        task.apply_step(p, s, "4 / 0 = 0")


def test_each_number_used_once_even_with_duplicates(task):
    p, s = play(task, "1 1 4 6", ["1 + 1 = 2"])
    assert sorted(s.numbers) == [2, 4, 6]


def test_legal_steps_are_all_valid_and_distinct(task):
    p = task.resolve_problem("3 3 8 8")
    s = task.initial_state(p)
    legal = task.legal_steps(s)
    assert len(legal) == len(set(legal))
    for line in legal:
        step, new = task.apply_step(p, s, line)
        assert step == line  # the canonical rendering is what the grammar offers
        assert len(new.numbers) == 3
    assert "8 / 3 = 8/3 (left: 8/3 3 8)" in legal


def test_exact_solver():
    assert solvable_numbers(tuple(sorted(map(Fraction, (3, 3, 8, 8)))))
    assert not solvable_numbers(tuple(sorted(map(Fraction, (1, 1, 1, 1)))))
    assert solvable_numbers((Fraction(24),))


@pytest.mark.parametrize("text", ["1 2 3", "1 2 3 14", "a b c d", "0 1 2 3", "1 2 3 4 5"])
def test_bad_puzzle_text_names_the_field(task, text):
    with pytest.raises(ValueError, match="problem: Game of 24 needs four whole numbers"):
        task.resolve_problem(text)


# -- a solved answer is exactly 24 and uses every input number once ---------------------------------
@pytest.mark.parametrize("steps,value", [
    (["4 + 5 = 9", "6 + 10 = 16", "9 + 16 = 25"], "25"),
    (["6 / 10 = 3/5", "4 + 3/5 = 23/5", "5 * 23/5 = 23"], "23"),
    (["4 * 6 = 24", "5 / 10 = 1/2", "24 + 1/2 = 49/2"], "49/2"),
    (["4 * 6 = 24", "5 / 10 = 1/2", "24 - 1/2 = 47/2"], "47/2"),
])
def test_a_near_miss_is_failed_not_24(task, steps, value):
    p, s = play(task, "4 5 6 10", steps)
    assert task.is_terminal(s)
    v = task.verify(p, s)
    assert v.correct is False and v.reason.endswith(f"= {value}, not 24")
    assert v.answer.endswith(f"= {value}") and "= 24" not in v.answer


def test_24_among_the_numbers_left_is_not_the_end(task):
    p, s = play(task, "1 1 4 6", ["4 * 6 = 24"])           # both 1s still unused
    assert not task.is_terminal(s) and task.verify(p, s).correct is None


def _exact(expr: str) -> Fraction:
    """The value of an answer's expression, computed here (exact), not by the task."""
    import ast
    import operator
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv}

    def ev(n):
        if isinstance(n, ast.BinOp):
            return ops[type(n.op)](ev(n.left), ev(n.right))
        assert isinstance(n, ast.Constant) and isinstance(n.value, int), ast.dump(n)
        return Fraction(n.value)
    return ev(ast.parse(expr, mode="eval").body)


@pytest.mark.parametrize("puzzle", ["1 1 4 6", "4 5 6 10", "3 3 8 8"])
def test_every_ending_is_judged_by_its_exact_value_using_each_number_once(task, puzzle):
    """Walk every legal path to its end: a path ends only with one number left, and the verdict
    is correct exactly when the answer's expression uses the four input numbers once each and
    equals 24."""
    import re
    p = task.resolve_problem(puzzle)
    want = sorted(int(x) for x in puzzle.split())
    stack, correct, endings = [task.initial_state(p)], 0, 0
    while stack:
        s = stack.pop()
        if not task.is_terminal(s):
            stack += [task.apply_step(p, s, line)[1] for line in task.legal_steps(s)]
            continue
        endings += 1
        assert len(s.numbers) == 1
        v = task.verify(p, s)
        expr = v.answer.rsplit(" = ", 1)[0]
        assert sorted(int(x) for x in re.findall(r"\d+", expr)) == want, v.answer
        assert v.correct is (_exact(expr) == 24), v.answer
        correct += bool(v.correct)
    assert endings > 1000 and correct > 0
