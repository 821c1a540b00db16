"""Tasks whose steps are lines of written reasoning (GSM8K, MATH, free questions, task files).

A public helper built only on the :class:`~reasoning.tasks.base.Task` interface (a plug-in may
subclass it too). The state is the lines written so far and, once a line states a final answer,
that answer. A step is the first non-empty line of the model's text; it is rejected when it is
empty, repeats an earlier line (small models loop), or starts a new question (few-shot prompts
invite that). Subclasses set ``instruction``/``few_shot`` and say which line is final
(:meth:`final_from_line`) and how to verify.
"""
from __future__ import annotations

from dataclasses import dataclass

from .base import InvalidStep, Problem, Prompt, Task
from .checkers import final_answer

MAX_STEP_CHARS = 400


@dataclass(frozen=True)
class LineState:
    lines: tuple[str, ...] = ()
    answer: str | None = None  # set when a line states the final answer (terminal)


class LineStepsTask(Task):
    """Shared prompts and steps; subclasses provide ``problems``, ``parse_problem``, ``verify``."""
    max_depth = 8
    step_max_tokens = 96
    instruction = "Solve the problem step by step, one short step per line."
    final_hint = "End with a line 'Answer: <your final answer>'."
    few_shot = ""  # worked examples, each "Question: …\nSolution:\n…" (completions and chat)

    def final_from_line(self, line: str) -> str | None:
        """The final answer this line states, or None (not final yet)."""
        return final_answer(line)

    def initial_state(self, problem: Problem) -> LineState:
        return LineState()

    def examples(self, problem: Problem) -> str:
        """Worked examples for this problem (task files may carry their own)."""
        return self.few_shot.strip()

    def hint(self, problem: Problem) -> str:
        """How the model should state its final answer (may depend on the problem)."""
        return self.final_hint

    # -- prompts -----------------------------------------------------------------------------
    def prompt(self, problem: Problem, state: LineState, mode: str) -> Prompt:
        so_far = "".join(line + "\n" for line in state.lines)
        shots = self.examples(problem)
        head = f"{self.instruction} {self.hint(problem)}"
        if mode == "chat":
            system = head + " Reply with only the NEXT line of the solution, nothing else."
            if shots:
                system += "\n\nExamples:\n\n" + shots
            user = f"Question: {problem.text}\n\nSolution so far:\n{so_far or '(nothing yet)'}\n"
            return [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return (f"{head}\n\n" + (f"{shots}\n\n" if shots else "")
                + f"Question: {problem.text}\nSolution:\n{so_far}")

    # -- steps ---------------------------------------------------------------------------------
    def apply_step(self, problem: Problem, state: LineState, text: str) -> tuple[str, LineState]:
        line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
        if not line:
            raise InvalidStep("invalid step: empty line")
        if line.lower().startswith(("question:", "solution:")):
            raise InvalidStep(f"invalid step: the model started a new question: {line[:60]!r}")
        if line in state.lines:
            raise InvalidStep(f"invalid step: repeats an earlier line: {line[:60]!r}")
        line = line[:MAX_STEP_CHARS]
        return line, LineState(state.lines + (line,), self.final_from_line(line))

    def is_terminal(self, state: LineState) -> bool:
        return state.answer is not None

    def describe(self, state: LineState) -> str:
        if state.answer is not None:
            return f"answer: {state.answer[:40]}"
        return f"{len(state.lines)} step{'s' if len(state.lines) != 1 else ''}"


def split_gold(text: str) -> tuple[str, str | None]:
    """``"question #### answer"`` → (question, answer); without ``####`` the answer is None."""
    q, sep, gold = (text or "").partition("####")
    return q.strip(), (gold.strip() or None) if sep else None
