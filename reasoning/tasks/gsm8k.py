"""GSM8K-style math word problems (Cobbe et al., 2021).

Steps are lines of reasoning. A line that states the final answer ("The answer is N", ``#### N``,
"Answer: N" with a number in it) ends the chain. The answer is read with the GSM8K rule
(``#### N``, "The answer is N", else the last number) and compared as an exact number: commas,
``$``, units and a trailing ``.0`` do not matter. 50 problems from the GSM8K test set ship in
``data/gsm8k_sample.jsonl`` (ids 1–50, in file order). Your own problem: ``question #### answer``
(without ``#### answer`` the chain runs but cannot be verified).
"""
from __future__ import annotations

import json
from pathlib import Path

from .base import Problem, Verdict
from .checkers import extract_number_answer, final_answer, numbers_equal, to_number
from .linesteps import LineState, LineStepsTask, split_gold

DATA = Path(__file__).resolve().parents[2] / "data" / "gsm8k_sample.jsonl"

FEW_SHOT = """Question: Tom has 3 boxes with 12 pencils each. He gives away 10 pencils. How many pencils does he have left?
Solution:
Tom starts with 3 * 12 = 36 pencils.
After giving away 10 he has 36 - 10 = 26 pencils.
The answer is 26.

Question: A bakery sells muffins for $2 each. On Monday it sells 15 muffins and on Tuesday twice as many. How much money does it make on the two days?
Solution:
On Tuesday it sells 2 * 15 = 30 muffins.
In total it sells 15 + 30 = 45 muffins.
It makes 45 * 2 = 90 dollars.
The answer is 90.

Question: Maria reads 20 pages a day. Her book has 180 pages and she has already read 60. How many more days does she need to finish it?
Solution:
She has 180 - 60 = 120 pages left.
She needs 120 / 20 = 6 more days.
The answer is 6."""


class GSM8K(LineStepsTask):
    name = "gsm8k"
    title = "GSM8K math word problems"
    problem_noun = "question"
    problem_example = "A pen costs $2 and a notebook $3. How much do 4 pens and 2 notebooks cost?"
    max_depth = 8
    step_max_tokens = 80
    instruction = "Solve the math word problem step by step, one calculation per line."
    final_hint = "End with a line 'The answer is N.'"
    few_shot = FEW_SHOT

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or DATA
        self._problems: list[Problem] | None = None

    def problems(self) -> list[Problem]:
        if self._problems is None:
            with open(self.path, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            self._problems = [
                Problem(id=str(i), text=r["question"].strip(),
                        data={"answer": r["answer"].rsplit("####", 1)[-1].strip(),
                              "solution": r["answer"]})
                for i, r in enumerate(rows, start=1)]
        return self._problems

    def parse_problem(self, text: str) -> Problem:
        question, gold = split_gold(text)
        if not question:
            raise ValueError("problem: write a math word problem (optionally 'question #### answer'), "
                             f"or a bundled id 1-{len(self.problems())}")
        if gold is not None and to_number(gold) is None:
            raise ValueError(f"problem: the answer after #### must be a number, got {gold!r}")
        return Problem(id=question[:40], text=question, data={"answer": gold})

    def final_from_line(self, line: str) -> str | None:
        ans = final_answer(line)
        return extract_number_answer(line) if ans is not None and to_number(ans) is not None else None

    def verify(self, problem: Problem, state: LineState) -> Verdict:
        if not self.is_terminal(state):
            return Verdict(None, "not finished")
        got = state.answer
        gold = problem.data.get("answer")
        if gold is None:
            return Verdict(None, "no reference answer to compare with", answer=got)
        if numbers_equal(got, gold):
            return Verdict(True, f"{got} equals the reference {gold}", answer=got)
        return Verdict(False, f"{got} is not the reference {gold}", answer=got)
