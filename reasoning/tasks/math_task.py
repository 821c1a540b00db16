"""MATH-style problems (Hendrycks et al., 2021): the final answer goes in ``\\boxed{…}``.

Steps are lines; a line with a complete ``\\boxed{…}`` ends the chain (with several boxes the
last one counts). The answer is compared with the reference by ``math-verify`` — symbolic
equivalence, so ``\\frac{1}{2}``, ``0.5`` and ``\\dfrac12`` are the same answer, and ``x = 4``
matches ``4``. Ten small problems written for this project ship with it (ids 1–10); your own
problem: ``problem #### answer`` (LaTeX allowed on both sides).
"""
from __future__ import annotations

from .base import Problem, Verdict
from .checkers import last_boxed, math_equal, math_parse
from .linesteps import LineState, LineStepsTask, split_gold

BUNDLED: list[tuple[str, str]] = [
    ("Compute $\\frac{1}{2} + \\frac{1}{3}$.", "\\frac{5}{6}"),
    ("Solve for $x$: $2x + 3 = 11$.", "4"),
    ("What is the sum of the interior angles of a hexagon, in degrees?", "720"),
    ("Simplify $\\sqrt{50}$.", "5\\sqrt{2}"),
    ("If $f(x) = x^2 - 3x$, what is $f(5)$?", "10"),
    ("How many positive divisors does $36$ have?", "9"),
    ("A fair coin is flipped twice. What is the probability that both flips are heads?",
     "\\frac{1}{4}"),
    ("What is the product of the roots of $x^2 - 5x + 6 = 0$?", "6"),
    ("Compute $3^4 - 2^5$.", "49"),
    ("What is the slope of the line through $(1, 2)$ and $(3, 8)$?", "3"),
]

FEW_SHOT = """Question: What is $\\frac{3}{4}$ of $20$?
Solution:
$\\frac{3}{4} \\cdot 20 = \\frac{60}{4} = 15$.
The answer is $\\boxed{15}$.

Question: Solve for $y$: $5y - 7 = 3$.
Solution:
Add 7 to both sides: $5y = 10$.
Divide by 5: $y = 2$.
The answer is $\\boxed{2}$.

Question: What is the area of a circle with radius $3$?
Solution:
The area is $\\pi r^2 = \\pi \\cdot 3^2 = 9\\pi$.
The answer is $\\boxed{9\\pi}$."""


class MathTask(LineStepsTask):
    name = "math"
    title = "MATH-style problems (boxed answers)"
    problem_example = "What is the sum of the first 20 odd numbers?"
    max_depth = 8
    step_max_tokens = 96
    instruction = "Solve the math problem step by step, one short step per line, using LaTeX."
    final_hint = "Put the final answer in \\boxed{} on the last line."
    few_shot = FEW_SHOT

    def problems(self) -> list[Problem]:
        return [Problem(id=str(i), text=q, data={"answer": a})
                for i, (q, a) in enumerate(BUNDLED, start=1)]

    def parse_problem(self, text: str) -> Problem:
        question, gold = split_gold(text)
        if not question:
            raise ValueError("problem: write a math problem (optionally 'problem #### answer'), or "
                             f"a bundled id 1-{len(BUNDLED)}")
        if gold is not None and not math_parse(gold):
            raise ValueError(f"problem: math-verify cannot read the answer {gold!r}")
        return Problem(id=question[:40], text=question, data={"answer": gold})

    def final_from_line(self, line: str) -> str | None:
        return last_boxed(line)

    def verify(self, problem: Problem, state: LineState) -> Verdict:
        if not self.is_terminal(state):
            return Verdict(None, "not finished")
        got, gold = state.answer, problem.data.get("answer")
        if gold is None:
            return Verdict(None, "no reference answer to compare with", answer=got)
        if math_equal(got, gold):
            return Verdict(True, f"{got} is equivalent to {gold} (math-verify)", answer=got)
        return Verdict(False, f"{got} is not equivalent to {gold} (math-verify)", answer=got)
