"""Free questions: any text, no verifier.

The model reasons line by line and ends with a line ``Answer: …``; that line makes the state
terminal. There is no reference, so :meth:`FreeQuestion.verify` returns ``Verdict(None, …)``:
a terminal node is *answered*, never failed, and a greedy run that ends on it has outcome
``answered``. Values come from evaluators only; the user may later mark a terminal node correct
or wrong (a ``node_marked`` event, see :func:`runner.marks.mark_node`).
"""
from __future__ import annotations

import re

from .base import Problem, Verdict
from .linesteps import LineState, LineStepsTask

_ANSWER = re.compile(r"^\s*(?:\*\*)?(?:final\s+)?answer(?:\*\*)?\s*:(?:\*\*)?\s*(.*\S)\s*$", re.I)

BUNDLED = [
    "Why is the sky blue?",
    "Is 91 a prime number?",
    "Which is heavier: a kilogram of feathers or a kilogram of iron?",
    "What is the capital of Australia?",
    "Name a good first step when a program crashes only on some inputs.",
]

FEW_SHOT = """Question: Is 51 a prime number?
Solution:
51 = 3 * 17, so it has divisors other than 1 and itself.
Answer: No, 51 is not prime.

Question: What is the largest planet in the Solar System?
Solution:
Jupiter is more massive than all the other planets combined.
Answer: Jupiter."""


class FreeQuestion(LineStepsTask):
    name = "free"
    title = "Free question (no verifier)"
    problem_noun, problem_example = "question", "Why do leaves change colour in autumn?"
    has_verifier = False
    max_depth = 6
    step_max_tokens = 96
    instruction = "Think step by step, one short line at a time."
    final_hint = "End with a line 'Answer: <your answer>'."
    few_shot = FEW_SHOT

    def problems(self) -> list[Problem]:
        return [Problem(id=str(i), text=q) for i, q in enumerate(BUNDLED, start=1)]

    def parse_problem(self, text: str) -> Problem:
        text = (text or "").strip()
        if not text:
            raise ValueError("problem: write a question")
        return Problem(id=text[:40], text=text)

    def final_from_line(self, line: str) -> str | None:
        m = _ANSWER.match(line)
        return m.group(1).strip() if m else None

    def verify(self, problem: Problem, state: LineState) -> Verdict:
        if not self.is_terminal(state):
            return Verdict(None, "not finished")
        return Verdict(None, "answered; no verifier (mark it correct or wrong)", answer=state.answer)
