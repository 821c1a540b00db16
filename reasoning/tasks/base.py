"""The Task interface: what a problem domain must tell the search, and nothing about search.

This is the public API every task implements — the built-ins (Game of 24, GSM8K, MATH, free
question, JSONL task files) and plug-ins alike; the engine calls nothing else. A strategy never
knows a task's prompts; a task never knows how it is searched. States are the task's own
(immutable, hashable-if-you-like) objects; the engine only passes them back to the task.

Required (abstract):
  class attributes ``name`` (used by ``--task``) and ``title``;
  ``problems()``          bundled problems (may be empty); ``--problem ID`` picks one by id;
  ``parse_problem(text)`` a problem from user text, or ``ValueError`` saying what is wrong;
  ``initial_state(problem)``;
  ``prompt(problem, state, mode)`` the next-step prompt: a str ("completions", few-shot) or a
                          list of chat messages ("chat");
  ``apply_step(problem, state, text)`` parse the model's text and apply it: ``(step, new_state)``,
                          or raise :class:`InvalidStep` with the reason (the node is pruned);
  ``is_terminal(state)``, ``verify(problem, state) -> Verdict`` (``Verdict.correct`` None when
                          the task cannot judge: the node is *answered*, not failed),
  ``describe(state)``     a short node label.
Optional (the defaults mean "not offered"; :meth:`Task.features` lists what a task overrides):
  ``legal_steps(state)``  every legal next step → constrained proposals on grammar-capable servers;
  ``solvable(state)``     exact truth → the evaluator-vs-truth view;
  ``state_key(state)``    equal keys = the same state reached another way → searched once;
  ``value_prompt(...)`` / ``value_choices()`` the ToT value evaluator's prompt and verdict scores;
  ``prompt_with_notes(problem, state, mode, notes)`` the prompt with reflections fed back (the
                          default puts them before the task's own prompt);
  ``stop()``, ``resolve_problem(text)``, class attributes ``max_depth``, ``step_max_tokens``,
  ``has_verifier`` (False: verify always says None; values come from evaluators only).
How the pages speak of problems (optional): ``problem_noun`` ("puzzle", "question" …),
  ``problem_example`` (the placeholder of the "type my own" box), ``default_problem`` (the id of
  the bundled problem picked first; default: the first), ``default_problems`` (the ids an
  experiment suggests; default: the first ten), ``problem_title(problem)`` (a list entry).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar

Prompt = str | list[dict[str, str]]


@dataclass(frozen=True)
class Problem:
    id: str
    text: str
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Verdict:
    correct: bool | None  # None: this task cannot verify (free questions)
    reason: str
    answer: str | None = None


class InvalidStep(ValueError):
    """The model's text is not a legal step from this state; the message says why."""


class Task(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    max_depth: ClassVar[int] = 8
    step_max_tokens: ClassVar[int] = 64
    has_verifier: ClassVar[bool] = True
    problem_noun: ClassVar[str] = "problem"
    problem_example: ClassVar[str] = ""
    default_problem: ClassVar[str | None] = None
    default_problems: ClassVar[str | None] = None   # an experiment's first suggestion, e.g. "901-910"

    @abstractmethod
    def problems(self) -> list[Problem]:
        """The bundled problems (may be empty)."""

    @abstractmethod
    def parse_problem(self, text: str) -> Problem:
        """A problem from user text; raises ValueError with a message naming what is wrong."""

    @abstractmethod
    def initial_state(self, problem: Problem) -> Any: ...

    @abstractmethod
    def prompt(self, problem: Problem, state: Any, mode: str) -> Prompt:
        """The prompt that asks for the next step from ``state`` ("completions" or "chat")."""

    def prompt_with_notes(self, problem: Problem, state: Any, mode: str,
                          notes: list[str]) -> Prompt:
        """The next-step prompt with notes from earlier attempts (reflect's reflections on dead
        ends). The default keeps the task's own prompt and puts the notes before it — before the
        last user message in chat mode — so every task, plug-ins included, gets them; a task may
        override this to place them where its prompt format reads best."""
        base = self.prompt(problem, state, mode)
        if not notes:
            return base
        block = "Dead ends found so far (do not repeat them):\n" + \
            "".join(f"- {n}\n" for n in notes) + "\n"
        if isinstance(base, str):
            return block + base
        out = [dict(m) for m in base]
        last = max((i for i, m in enumerate(out) if m.get("role") == "user"), default=None)
        if last is None:
            return out + [{"role": "user", "content": block.strip()}]
        out[last]["content"] = block + out[last]["content"]
        return out

    def stop(self) -> list[str]:
        return ["\n"]

    @abstractmethod
    def apply_step(self, problem: Problem, state: Any, text: str) -> tuple[str, Any]:
        """Parse the model's ``text`` into a step and apply it: (step, new state) or InvalidStep."""

    @abstractmethod
    def is_terminal(self, state: Any) -> bool: ...

    @abstractmethod
    def verify(self, problem: Problem, state: Any) -> Verdict:
        """Judge a terminal state."""

    @abstractmethod
    def describe(self, state: Any) -> str:
        """A short label for a node, e.g. ``left: 4 6``."""

    # -- optional extras -----------------------------------------------------------------------
    def legal_steps(self, state: Any) -> list[str] | None:
        return None

    def solvable(self, state: Any) -> bool | None:
        return None

    def state_key(self, state: Any) -> Hashable | None:
        """Equal keys mean equal futures (the same steps are legal and lead to the same
        answers), so a search may treat a state reached by another order of steps as a
        duplicate (a transposition). None: the task cannot tell (no state is a duplicate)."""
        return None

    def value_prompt(self, problem: Problem, state: Any, mode: str) -> Prompt | None:
        return None

    def value_choices(self) -> dict[str, float]:
        """Verdict words of the value prompt and their scores (ToT: sure/likely/impossible)."""
        return {"sure": 20.0, "likely": 1.0, "impossible": 0.001}

    OPTIONAL_FEATURES: ClassVar[tuple[str, ...]] = ("legal_steps", "solvable", "value_prompt")

    def features(self) -> list[str]:
        """The optional extras this task offers (the methods it overrides)."""
        return [f for f in Task.OPTIONAL_FEATURES
                if getattr(type(self), f) is not getattr(Task, f)]

    def problem_title(self, problem: Problem) -> str:
        """How a bundled problem is listed in the pages: ``problem 3: What is …``."""
        return f"{self.problem_noun} {problem.id}: {problem.text}"

    def problem_by_id(self, pid: str) -> Problem:
        for p in self.problems():
            if p.id == str(pid):
                return p
        raise ValueError(f"{self.name}: no bundled problem with id {pid}")

    def resolve_problem(self, text: str) -> Problem:
        """A bundled problem by id when ``text`` is one, else ``parse_problem(text)``."""
        text = (text or "").strip()
        if text.isdigit() and any(p.id == text for p in self.problems()):
            return self.problem_by_id(text)
        return self.parse_problem(text)


def step_prompt(task: Task, problem: Problem, state: Any, mode: str,
                notes: list[tuple[int, str]]) -> Prompt:
    """The next-step prompt, with ``notes`` ((node id, text) of reflections so far) when any."""
    if not notes:
        return task.prompt(problem, state, mode)
    return task.prompt_with_notes(problem, state, mode, [text for _, text in notes])
