"""The Task interface: what a problem domain must tell the search, and nothing about search.

A strategy never knows a task's prompts; a task never knows how it is searched. States are the
task's own (immutable) objects; the engine only passes them back to the task.

Required: ``name``/``title``, ``problems``, ``parse_problem``, ``initial_state``, ``prompt``,
``apply_step``, ``is_terminal``, ``verify``, ``describe``.
Optional extras (return ``None`` when not offered): ``legal_steps`` (enables constrained
proposals), ``solvable`` (exact truth for the evaluator-vs-truth view), ``value_prompt`` and
``parse_value`` (the ToT value evaluator).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
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

    def value_prompt(self, problem: Problem, state: Any, mode: str) -> Prompt | None:
        return None

    def value_choices(self) -> dict[str, float]:
        """Verdict words of the value prompt and their scores (ToT: sure/likely/impossible)."""
        return {"sure": 20.0, "likely": 1.0, "impossible": 0.001}

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
