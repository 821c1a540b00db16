"""Thinktree task plug-in: reach the target from 3 numbers with + - * / (positive whole numbers)."""
import re
from dataclasses import dataclass
from itertools import permutations

from reasoning.tasks import InvalidStep, Problem, Task, Verdict

PUZZLES = ["3 5 7 -> 22", "2 6 9 -> 21", "4 8 10 -> 42", "3 4 12 -> 9", "5 6 10 -> 40"]
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b if a > b else None,
       "*": lambda a, b: a * b, "/": lambda a, b: a // b if b and a % b == 0 else None}


@dataclass(frozen=True)
class State:
    left: tuple[int, ...]  # numbers still to use, sorted
    target: int
    steps: tuple[str, ...] = ()


class Countdown3(Task):
    name = "countdown3"
    title = "Countdown with three numbers"
    max_depth, step_max_tokens = 2, 16  # two steps turn three numbers into one
    problem_noun, problem_example = "puzzle", "3 5 7 -> 22"  # how the Live page speaks of problems

    def problems(self):
        return [Problem(id=str(i), text=t) for i, t in enumerate(PUZZLES, start=1)]

    def parse_problem(self, text):
        if not re.fullmatch(r"\s*\d+ \d+ \d+\s*->\s*\d+\s*", text or ""):
            raise ValueError(f"problem: expected 'a b c -> target', got {text!r}")
        return Problem(id=text.strip(), text=text.strip())

    def initial_state(self, problem):
        numbers, target = problem.text.split("->")
        return State(tuple(sorted(int(n) for n in numbers.split())), int(target))

    def prompt(self, problem, state, mode):
        rule = ("Combine two numbers with + - * / to reach the target. One step per line: a op b = c"
                "\n\nNumbers: 2 3 4 -> 20\nSteps:\n2 + 3 = 5\n5 * 4 = 20\n\n")
        board = f"Numbers: {problem.text}\nSteps:\n" + "".join(s + "\n" for s in state.steps)
        if mode == "chat":
            return [{"role": "system", "content": rule},
                    {"role": "user", "content": board + "Write only the next step."}]
        return rule + board

    def apply_step(self, problem, state, text):
        m = re.match(r"\s*(\d+)\s*([-+*/])\s*(\d+)\s*=\s*(\d+)", (text or "").split("\n")[0])
        if not m:
            raise InvalidStep(f"invalid step: not of the form 'a op b = c': {(text or '')[:40]!r}")
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        left = list(state.left)
        for x in (a, b):
            if x not in left:
                raise InvalidStep(f"invalid step: {x} is not among the numbers left")
            left.remove(x)
        if OPS[op](a, b) != c:
            raise InvalidStep(f"invalid step: {a} {op} {b} = {c} is wrong (or not a positive whole number)")
        step = f"{a} {op} {b} = {c}"
        return step, State(tuple(sorted(left + [c])), state.target, state.steps + (step,))

    def is_terminal(self, state):
        return len(state.left) == 1

    def verify(self, problem, state):
        return Verdict(state.left[0] == state.target, f"reached {state.left[0]}, target {state.target}",
                       answer="; ".join(state.steps))

    def describe(self, state):
        return "left: " + " ".join(map(str, state.left))

    # optional extras: legal steps enable constrained proposals, solvable the truth view
    def legal_steps(self, state):
        return list({f"{a} {op} {b} = {OPS[op](a, b)}": None for (i, a), (j, b)
                     in permutations(enumerate(state.left), 2) for op in OPS
                     if OPS[op](a, b) is not None and (op in "-/" or i < j)})

    def solvable(self, state):
        nexts = (self.apply_step(None, state, s)[1] for s in self.legal_steps(state))
        return state.left == (state.target,) or any(map(self.solvable, nexts))
