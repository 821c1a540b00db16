"""Your own task file: one JSON object per line.

Fields: ``question`` (text), ``answer`` (text or number), ``checker`` — one of

* ``exact``   — equal after trimming spaces and a final full stop (case matters);
* ``numeric`` — the same number (commas, ``$``, units, ``.0`` ignored; ``1/2`` == ``0.5``);
* ``math``    — symbolically equivalent (math-verify; ``\\frac{1}{2}`` == ``0.5``);
* ``regex``   — ``answer`` is a regular expression the whole answer must match (case-insensitive);
* ``choice``  — ``answer`` is a letter; "B", "(B)", "b) 42" all pick B;

and optionally ``id`` (unique; default: the problem's position 1, 2, 3 …) and ``few_shot``
(worked examples placed before the question: a string or a list of strings). Other keys are
ignored. Blank lines are skipped.

The model reasons line by line; a line ``Answer: …`` (or ``The answer is …``, ``#### …``,
``\\boxed{…}``) ends the chain, and the problem's checker judges it.

Loading is all or nothing: every bad line is named (line number + why) in one
:class:`TaskFileError` (a ``ValueError``), and nothing is half-loaded. ``--problem`` picks a
problem by its ``id``, else by its position (1-based).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .base import Problem, Verdict
from .checkers import CHECKERS, validate_gold
from .linesteps import LineState, LineStepsTask

MAX_SHOWN = 8


class TaskFileError(ValueError):
    """A task file that cannot be used; ``bad_lines`` lists (line number, reason)."""

    def __init__(self, path: str, bad_lines: list[tuple[int, str]], message: str = "") -> None:
        self.path, self.bad_lines = path, bad_lines
        if not message:
            shown = "; ".join(f"line {n}: {why}" for n, why in bad_lines[:MAX_SHOWN])
            more = f"; and {len(bad_lines) - MAX_SHOWN} more" if len(bad_lines) > MAX_SHOWN else ""
            message = (f"task file {path}: {len(bad_lines)} bad line"
                       f"{'s' if len(bad_lines) != 1 else ''}, nothing loaded: {shown}{more}")
        super().__init__(message)


def _check_row(row: Any, ids: set[str], position: int) -> tuple[Problem | None, str | None]:
    if not isinstance(row, dict):
        return None, f"expected a JSON object, got {type(row).__name__}"
    question, answer, checker = row.get("question"), row.get("answer"), row.get("checker")
    if not isinstance(question, str) or not question.strip():
        return None, "missing or empty 'question'"
    if answer is None or isinstance(answer, (bool, dict, list)):
        return None, "missing 'answer' (text or number)"
    if not isinstance(checker, str):
        return None, f"missing 'checker' (one of {', '.join(CHECKERS)})"
    why = validate_gold(checker, str(answer))
    if why:
        return None, why
    shots = row.get("few_shot", "")
    if isinstance(shots, list) and all(isinstance(s, str) for s in shots):
        shots = "\n\n".join(s.strip() for s in shots)
    if not isinstance(shots, str):
        return None, "'few_shot' must be a string or a list of strings"
    pid = str(row.get("id", position)).strip()
    if not pid or pid in ids:
        return None, f"duplicate or empty id {pid!r}"
    return Problem(id=pid, text=question.strip(),
                   data={"answer": str(answer).strip(), "checker": checker, "few_shot": shots}), None


def load_task_file(path: str | os.PathLike) -> list[Problem]:
    """All problems of a task file, or :class:`TaskFileError` naming every bad line."""
    path = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise TaskFileError(path, [], f"task file {path}: cannot read it: "
                            f"{getattr(e, 'strerror', None) or e}") from None
    problems: list[Problem] = []
    bad: list[tuple[int, str]] = []
    ids: set[str] = set()
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.rstrip("\r\n"))   # a line cut short: its own column, not line 2's
        except json.JSONDecodeError as e:
            bad.append((n, f"not valid JSON ({e.msg}, column {e.pos + 1})"))
            continue
        problem, why = _check_row(row, ids, len(problems) + len(bad) + 1)
        if why:
            bad.append((n, why))
        else:
            ids.add(problem.id)
            problems.append(problem)
    if bad:
        raise TaskFileError(path, bad)
    if not problems:
        raise TaskFileError(path, [], f"task file {path}: no problems in it")
    return problems


class JsonlTask(LineStepsTask):
    """A task over the problems of one task file (``JsonlTask(path)``)."""
    name = "jsonl"
    title = "Task file"
    max_depth = 8
    step_max_tokens = 96
    instruction = "Solve the problem step by step, one short step per line."

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)
        self._problems = load_task_file(self.path)
        self.title = f"Task file {Path(self.path).name}"
        self.load_report = f"loaded {len(self._problems)} problems from {Path(self.path).name}"

    def problems(self) -> list[Problem]:
        return self._problems

    def resolve_problem(self, text: str) -> Problem:
        """By id first, else by 1-based position in the file."""
        text = (text or "").strip()
        for p in self._problems:
            if p.id == text:
                return p
        if text.isdigit() and 1 <= int(text) <= len(self._problems):
            return self._problems[int(text) - 1]
        raise ValueError(f"problem: no problem {text!r} in {Path(self.path).name} "
                         f"(ids or positions 1-{len(self._problems)})")

    def parse_problem(self, text: str) -> Problem:
        return self.resolve_problem(text)

    def examples(self, problem: Problem) -> str:
        return problem.data.get("few_shot", "")

    def hint(self, problem: Problem) -> str:
        if problem.data.get("checker") == "choice":
            return "End with a line 'Answer: <letter>'."
        return "End with a line 'Answer: <your final answer>'."

    def verify(self, problem: Problem, state: LineState) -> Verdict:
        if not self.is_terminal(state):
            return Verdict(None, "not finished")
        checker, gold = problem.data["checker"], problem.data["answer"]
        if CHECKERS[checker](state.answer, gold):
            return Verdict(True, f"{state.answer} matches {gold} ({checker})", answer=state.answer)
        return Verdict(False, f"{state.answer} does not match {gold} ({checker})",
                       answer=state.answer)
