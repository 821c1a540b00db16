"""Game of 24 as the Tree-of-Thoughts paper ran it (``--protocol tot``): its prompts and its judge.

Yao et al. (2023) search Game of 24 in four steps: three arithmetic steps, each proposed by ONE
call of a one-shot "Possible next steps" prompt whose every output line is a candidate, then an
"Answer: (expression) = 24" line written after the chain-of-thought prompt. Candidates are valued
by an 8-example prompt (sure / likely / impossible, read from the last line the model wrote,
scored 20 / 1 / 0.001, three samples summed); an answer line by a separate last-step prompt. The
final answers are checked like ToT's ``test_output``: the expression must use exactly the four
input numbers and equal 24 — independently of the steps above it.

The few-shot examples below are the paper's (they are part of the protocol being reproduced);
the code around them is Thinktree's. Where Thinktree deviates, the README says so.
"""
from __future__ import annotations

import re
from fractions import Fraction

from .base import Verdict

VALUES = {"sure": 20.0, "likely": 1.0, "impossible": 0.001}
PROPOSE_MAX_TOKENS = 160
ANSWER_MAX_TOKENS = 60
VALUE_MAX_TOKENS = 80
# a completions model goes on to invent the next few-shot example: end the call where it does
STOP = ["\nInput:", "\n\n"]

_PROPOSE = """Input: 2 8 8 14
Possible next steps:
2 + 8 = 10 (left: 8 10 14)
8 / 2 = 4 (left: 4 8 14)
14 + 2 = 16 (left: 8 8 16)
2 * 8 = 16 (left: 8 14 16)
8 - 2 = 6 (left: 6 8 14)
14 - 8 = 6 (left: 2 6 8)
14 /  2 = 7 (left: 7 8 8)
14 - 2 = 12 (left: 8 8 12)
Input: {numbers}
Possible next steps:
"""

_COT_EXAMPLES = [
    ("4 4 6 8", ["4 + 8 = 12 (left: 4 6 12)", "6 - 4 = 2 (left: 2 12)", "2 * 12 = 24 (left: 24)"],
     "(6 - 4) * (4 + 8) = 24"),
    ("2 9 10 12", ["12 * 2 = 24 (left: 9 10 24)", "10 - 9 = 1 (left: 1 24)",
                   "24 * 1 = 24 (left: 24)"], "(12 * 2) * (10 - 9) = 24"),
    ("4 9 10 13", ["13 - 10 = 3 (left: 3 4 9)", "9 - 3 = 6 (left: 4 6)", "4 * 6 = 24 (left: 24)"],
     "4 * (9 - (13 - 10)) = 24"),
    ("1 4 8 8", ["8 / 4 = 2 (left: 1 2 8)", "1 + 2 = 3 (left: 3 8)", "3 * 8 = 24 (left: 24)"],
     "(1 + 8 / 4) * 8 = 24"),
    ("5 5 5 9", ["5 + 5 = 10 (left: 5 9 10)", "10 + 5 = 15 (left: 9 15)",
                 "15 + 9 = 24 (left: 24)"], "((5 + 5) + 5) + 9 = 24"),
]
_COT_HEAD = ("Use numbers and basic arithmetic operations (+ - * /) to obtain 24. Each step, you "
             "are only allowed to choose two of the remaining numbers to obtain a new number.\n")

# (numbers, the example's working lines, verdict)
_VALUE_EXAMPLES = [
    ("10 14", ["10 + 14 = 24"], "sure"),
    ("11 12", ["11 + 12 = 23", "12 - 11 = 1", "11 * 12 = 132", "11 / 12 = 0.91"], "impossible"),
    ("4 4 10", ["4 + 4 + 10 = 8 + 10 = 18", "4 * 10 - 4 = 40 - 4 = 36",
                "(10 - 4) * 4 = 6 * 4 = 24"], "sure"),
    ("4 9 11", ["9 + 11 + 4 = 20 + 4 = 24"], "sure"),
    ("5 7 8", ["5 + 7 + 8 = 12 + 8 = 20", "(8 - 5) * 7 = 3 * 7 = 21",
               "I cannot obtain 24 now, but numbers are within a reasonable range"], "likely"),
    ("5 6 6", ["5 + 6 + 6 = 17", "(6 - 5) * 6 = 1 * 6 = 6",
               "I cannot obtain 24 now, but numbers are within a reasonable range"], "likely"),
    ("10 10 11", ["10 + 10 + 11 = 31", "(11 - 10) * 10 = 10", "10 10 10 are all too big"],
     "impossible"),
    ("1 3 3", ["1 * 3 * 3 = 9", "(1 + 3) * 3 = 12", "1 3 3 are all too small"], "impossible"),
]
_VALUE_HEAD = "Evaluate if given numbers can reach 24 (sure/likely/impossible)\n"

# (input, answer, judgement)
_LAST_STEP_EXAMPLES = [
    ("4 4 6 8", "(4 + 8) * (6 - 4) = 24", "sure"),
    ("2 9 10 12", "2 * 12 * (10 - 9) = 24", "sure"),
    ("4 9 10 13", "(13 - 9) * (10 - 4) = 24", "sure"),
    ("4 4 6 8", "(4 + 8) * (6 - 4) + 1 = 25", "impossible"),
    ("2 9 10 12", "2 * (12 - 10) = 24", "impossible"),
    ("4 9 10 13", "(13 - 4) * (10 - 9) = 24", "impossible"),
]
_LAST_STEP_HEAD = ("Use numbers and basic arithmetic operations (+ - * /) to obtain 24. Given an "
                   "input and an answer, give a judgement (sure/impossible) if the answer is "
                   "correct, i.e. it uses each input exactly once and no other numbers, and reach "
                   "24.\n")


def propose_prompt(numbers_left: str) -> str:
    """ToT's one-shot proposal prompt for the numbers still left."""
    return _PROPOSE.format(numbers=numbers_left)


def answer_prompt(problem_text: str, steps: list[str]) -> str:
    """The chain-of-thought prompt with the three steps so far: the model writes 'Answer: …'."""
    shots = "".join(f"Input: {x}\nSteps:\n" + "".join(s + "\n" for s in ss) + f"Answer: {a}\n"
                    for x, ss, a in _COT_EXAMPLES)
    return (_COT_HEAD + shots + f"Input: {problem_text}\nSteps:\n"
            + "".join(s + "\n" for s in steps))


def value_prompt(numbers_left: str) -> str:
    """ToT's full 8-example value prompt for the numbers still left."""
    shots = "".join(f"{x}\n" + "".join(w + "\n" for w in work) + f"{v}\n"
                    for x, work, v in _VALUE_EXAMPLES)
    return _VALUE_HEAD + shots + f"{numbers_left}\n"


def last_step_prompt(problem_text: str, answer_line: str) -> str:
    """ToT's last-step judge: is this answer correct (sure / impossible)?"""
    shots = "".join(f"Input: {x}\nAnswer: {a}\nJudge: \n{j}\n" for x, a, j in _LAST_STEP_EXAMPLES)
    answer = re.sub(r"^\s*answer:\s*", "", answer_line.strip().lower())
    return _LAST_STEP_HEAD + shots + f"Input: {problem_text}\nAnswer: {answer}\nJudge:"


def read_verdict(text: str) -> str | None:
    """The verdict of one free-text evaluation: its last line, if that line is a verdict word.

    The evaluation ends at its first line that is only a verdict word (a completions model may go
    on to invent another example after it); ToT reads the last line of what the model wrote.
    """
    lines = [ln.strip().lower() for ln in (text or "").splitlines() if ln.strip()]
    for k, ln in enumerate(lines):
        if ln in VALUES:
            lines = lines[:k + 1]
            break
    return lines[-1] if lines and lines[-1] in VALUES else None


def proposal_lines(text: str) -> list[str]:
    """Every non-empty line of one proposal call (ToT splits the output on newlines)."""
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def uses_the_numbers(problem_text: str, line: str) -> bool:
    """An 'Answer:' line whose expression uses exactly the input numbers (right or wrong)."""
    low = line.strip().lower()
    if not low.startswith("answer:"):
        return False
    expr = low[len("answer:"):].split("=")[0]
    return sorted(re.findall(r"\d+", expr)) == sorted(re.findall(r"\d+", problem_text))


def check_answer(problem_text: str, line: str) -> Verdict:
    """ToT's test: the expression on an 'Answer:' line uses exactly the input numbers and is 24."""
    low = line.strip().lower()
    if not low.startswith("answer:"):
        return Verdict(False, f"not an answer line: {line.strip()[:60]!r}")
    expr = low[len("answer:"):].split("=")[0].strip()
    if not uses_the_numbers(problem_text, line):
        return Verdict(False, f"{expr} does not use exactly the numbers {problem_text}",
                       answer=expr)
    value = evaluate(expr)
    if value is None:
        return Verdict(False, f"{expr} cannot be computed", answer=expr)
    if value == 24:
        return Verdict(True, f"{expr} = 24", answer=f"{expr} = 24")
    shown = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return Verdict(False, f"{expr} = {shown}, not 24", answer=f"{expr} = {shown}")


_TOKEN = re.compile(r"\s*(\d+|[()+\-*/×x÷])")


def evaluate(expr: str) -> Fraction | None:
    """Exact value of an arithmetic expression (+ - * / and brackets), or None if unreadable."""
    tokens, pos = [], 0
    while pos < len(expr.rstrip()):
        m = _TOKEN.match(expr, pos)
        if not m:
            return None
        tokens.append({"×": "*", "x": "*", "÷": "/"}.get(m.group(1), m.group(1)))
        pos = m.end()
    try:
        value, rest = _sum(tokens)
    except (IndexError, ValueError, ZeroDivisionError):
        return None
    return value if not rest else None


def _sum(t: list[str]) -> tuple[Fraction, list[str]]:
    value, t = _product(t)
    while t and t[0] in "+-":
        op, (rhs, t) = t[0], _product(t[1:])
        value = value + rhs if op == "+" else value - rhs
    return value, t


def _product(t: list[str]) -> tuple[Fraction, list[str]]:
    value, t = _atom(t)
    while t and t[0] in "*/":
        op, (rhs, t) = t[0], _atom(t[1:])
        value = value * rhs if op == "*" else value / rhs
    return value, t


def _atom(t: list[str]) -> tuple[Fraction, list[str]]:
    if t[0] == "(":
        value, rest = _sum(t[1:])
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced bracket")
        return value, rest[1:]
    if t[0] == "-":
        value, rest = _atom(t[1:])
        return -value, rest
    return Fraction(int(t[0])), t[1:]
