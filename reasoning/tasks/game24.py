"""Game of 24, following Tree-of-Thoughts (Yao et al., 2023).

A state is the multiset of numbers still left, each with the expression that built it. A step
combines two of them: ``a op b = c (left: …)``. Arithmetic is exact (``Fraction``); the final
number must equal 24, and every input number is used exactly once because each step consumes two
numbers and adds one. ToT's final "Answer: (…) = 24" line is not asked of the model here: the
expression is rebuilt from the steps, so the verdict never depends on the model's bookkeeping.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from .base import InvalidStep, Problem, Prompt, Task, Verdict

DATA = Path(__file__).resolve().parents[2] / "data" / "game24.csv"
TARGET = Fraction(24)

_NUM = r"-?\d+(?:/\d+)?(?:\.\d+)?"
_STEP = re.compile(rf"^\s*({_NUM})\s*([+\-*/×x÷])\s*({_NUM})\s*=\s*({_NUM})")

INSTRUCTION = ("Use the numbers and basic arithmetic operations (+ - * /) to obtain 24. "
               "In each step, combine two of the numbers left.")
FEW_SHOT = """Input: 4 4 6 8
Steps:
4 + 8 = 12 (left: 4 6 12)
6 - 4 = 2 (left: 2 12)
2 * 12 = 24 (left: 24)

Input: 2 9 10 12
Steps:
12 * 2 = 24 (left: 9 10 24)
10 - 9 = 1 (left: 1 24)
24 * 1 = 24 (left: 24)

Input: 1 4 8 8
Steps:
8 / 4 = 2 (left: 1 2 8)
1 + 2 = 3 (left: 3 8)
3 * 8 = 24 (left: 24)

Input: 5 5 5 9
Steps:
5 + 5 = 10 (left: 5 9 10)
10 + 5 = 15 (left: 9 15)
15 + 9 = 24 (left: 24)
"""

VALUE_FEW_SHOT = """Evaluate if the given numbers can reach 24 (sure/likely/impossible)
10 14
10 + 14 = 24
sure

11 12
11 + 12 = 23, 12 - 11 = 1, 11 * 12 = 132
impossible

4 4 10
(10 - 4) * 4 = 24
sure

5 7 8
5 + 7 + 8 = 20, (8 - 5) * 7 = 21
I cannot obtain 24 now, but numbers are within a reasonable range
likely

1 3 3
1 * 3 * 3 = 9, (1 + 3) * 3 = 12
1 3 3 are all too small
impossible
"""


def fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def parse_num(s: str) -> Fraction:
    return Fraction(s)


@dataclass(frozen=True)
class G24State:
    items: tuple[tuple[Fraction, str], ...]  # (value, expression), sorted by value
    steps: tuple[str, ...] = ()

    @property
    def numbers(self) -> list[Fraction]:
        return [v for v, _ in self.items]

    def left(self) -> str:
        return " ".join(fmt(v) for v in self.numbers)


def _state(items, steps=()) -> G24State:
    return G24State(tuple(sorted(items, key=lambda it: it[0])), tuple(steps))


def _combine(a: Fraction, op: str, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


@lru_cache(maxsize=100_000)
def solvable_numbers(nums: tuple[Fraction, ...]) -> bool:
    """Exact: can these numbers (each used once) make 24?"""
    if len(nums) == 1:
        return nums[0] == TARGET
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            rest = nums[:i] + nums[i + 1:j] + nums[j + 1:]
            a, b = nums[i], nums[j]
            for c in {a + b, a - b, b - a, a * b} | ({a / b} if b else set()) | ({b / a} if a else set()):
                if solvable_numbers(tuple(sorted(rest + (c,)))):
                    return True
    return False


class Game24(Task):
    name = "game24"
    title = "Game of 24"
    # the Live page's first puzzle: greedy fails on it, MCTS finds an answer (README: "A first
    # run that shows the gap")
    problem_noun, problem_example, default_problem = "puzzle", "4 5 6 10", "37"
    default_problems = "901-910"  # ranks: middling puzzles, where exploring starts to pay
    max_depth = 3
    step_max_tokens = 40
    protocols = ("constrained", "tot")   # tot: the paper's prompts (tasks/game24_tot.py)

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or DATA
        self._problems: list[Problem] | None = None

    def problems(self) -> list[Problem]:
        if self._problems is None:
            with open(self.path, newline="") as f:
                self._problems = [Problem(id=row["Rank"], text=row["Puzzles"].strip(),
                                          data={"solved_rate": row.get("Solved rate")})
                                  for row in csv.DictReader(f)]
        return self._problems

    def problem_title(self, problem: Problem) -> str:
        return f"rank {problem.id}: {problem.text}"  # the bundled puzzles are ranked by difficulty

    def parse_problem(self, text: str) -> Problem:
        parts = (text or "").replace(",", " ").split()
        if len(parts) != 4 or not all(p.isdigit() and 1 <= int(p) <= 13 for p in parts):
            raise ValueError(f"problem: Game of 24 needs four whole numbers from 1 to 13, "
                             f"got {text!r}")
        return Problem(id=" ".join(parts), text=" ".join(parts))

    def initial_state(self, problem: Problem) -> G24State:
        return _state((Fraction(int(p)), p) for p in problem.text.split())

    # -- prompts -----------------------------------------------------------------------------
    def _steps_block(self, problem: Problem, state: G24State) -> str:
        return f"Input: {problem.text}\nSteps:\n" + "".join(s + "\n" for s in state.steps)

    def prompt(self, problem: Problem, state: G24State, mode: str) -> Prompt:
        if mode == "chat":
            return [{"role": "system", "content": INSTRUCTION + " Reply with exactly one step in "
                     "the form `a op b = c (left: …)` and nothing else.\n\n" + FEW_SHOT},
                    {"role": "user", "content": self._steps_block(problem, state)}]
        return f"{INSTRUCTION}\n\n{FEW_SHOT}\n{self._steps_block(problem, state)}"

    def value_prompt(self, problem: Problem, state: G24State, mode: str) -> Prompt:
        body = f"{state.left()}\n"
        if mode == "chat":
            return [{"role": "system", "content": VALUE_FEW_SHOT},
                    {"role": "user", "content": body + "Answer with sure, likely or impossible."}]
        return f"{VALUE_FEW_SHOT}\n{body}"

    # -- steps -------------------------------------------------------------------------------
    def legal_steps(self, state: G24State) -> list[str]:
        out: dict[str, None] = {}
        items = state.items
        for i in range(len(items)):
            for j in range(len(items)):
                if i == j:
                    continue
                a, b = items[i][0], items[j][0]
                for op in "+-*/":
                    if op in "+*" and (a < b or (a == b and i > j)):
                        continue  # commutative: one order only
                    c = _combine(a, op, b)
                    if c is None:
                        continue
                    left = sorted([v for k, (v, _) in enumerate(items) if k not in (i, j)] + [c])
                    out[f"{fmt(a)} {op} {fmt(b)} = {fmt(c)} (left: {' '.join(map(fmt, left))})"] = None
        return list(out)

    def apply_step(self, problem: Problem, state: G24State, text: str) -> tuple[str, G24State]:
        line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
        m = _STEP.match(line)
        if not m:
            raise InvalidStep(f"invalid step: not of the form 'a op b = c': {line[:60]!r}")
        try:
            a, b, claimed = (parse_num(m.group(k)) for k in (1, 3, 4))
        except (ValueError, ZeroDivisionError):
            raise InvalidStep(f"invalid step: unreadable number in {line[:60]!r}") from None
        op = {"×": "*", "x": "*", "÷": "/"}.get(m.group(2), m.group(2))
        pool = list(state.items)
        picked = []
        for want in (a, b):
            k = next((k for k, (v, _) in enumerate(pool) if v == want), None)
            if k is None:
                raise InvalidStep(f"invalid step: {fmt(want)} is not among the numbers left "
                                  f"({state.left()})")
            picked.append(pool.pop(k))
        c = _combine(a, op, b)
        if c is None:
            raise InvalidStep("invalid step: division by zero")
        if c != claimed:
            raise InvalidStep(f"invalid step: wrong arithmetic, {fmt(a)} {op} {fmt(b)} is {fmt(c)}, "
                              f"not {fmt(claimed)}")
        expr = f"({picked[0][1]} {op} {picked[1][1]})"
        new = _state(pool + [(c, expr)], state.steps + ())
        left = new.left()
        step = f"{fmt(a)} {op} {fmt(b)} = {fmt(c)} (left: {left})"
        return step, G24State(new.items, state.steps + (step,))

    def is_terminal(self, state: G24State) -> bool:
        return len(state.items) == 1

    def verify(self, problem: Problem, state: G24State) -> Verdict:
        if not self.is_terminal(state):
            return Verdict(None, "not finished")
        value, expr = state.items[0]
        expr = expr[1:-1] if expr.startswith("(") and expr.endswith(")") else expr
        if value == TARGET:
            return Verdict(True, f"{expr} = 24", answer=f"{expr} = 24")
        return Verdict(False, f"{expr} = {fmt(value)}, not 24", answer=f"{expr} = {fmt(value)}")

    def describe(self, state: G24State) -> str:
        return f"left: {state.left()}"

    def state_key(self, state: G24State) -> tuple[Fraction, ...]:
        # the numbers left decide everything that can follow (not how they were made)
        return tuple(state.numbers)

    def solvable(self, state: G24State) -> bool:
        return solvable_numbers(tuple(sorted(state.numbers)))
