"""The prompt that asked for a step, rebuilt from a run's task, and the row fields every kind shares."""
from __future__ import annotations

from typing import Any

from ..tasks import JsonlTask, get_task
from ..tasks.base import Problem
from ..tree import Node, Tree


# -- prompts -----------------------------------------------------------------------------------
def task_and_problem(info: dict[str, Any]):
    """The run's task and problem, rebuilt from its ``run_started`` payload.

    The problem is looked up among the task's problems (so its data — gold answer, few-shot
    examples of a task file — is there) and else parsed from its text. ``ValueError`` when the
    task is unknown here or its task file is gone.
    """
    task = JsonlTask(info["task_file"]) if info.get("task_file") else \
        get_task(str(info.get("task")))
    text, pid = str(info.get("problem", "")), str(info.get("problem_id") or "")
    try:
        found = task.problem_by_id(pid) if pid else None
    except (ValueError, OSError):
        found = None
    if found is not None and " ".join(found.text.split()) == " ".join(text.split()):
        return task, found
    try:
        return task, task.resolve_problem(text)
    except ValueError:
        return task, Problem(id=pid or text, text=text)


class Prompter:
    """Renders 'the prompt that asked for the next step' after a list of steps, per run."""

    def __init__(self, tree: Tree, fmt: str = "task") -> None:
        self.tree, self.fmt = tree, fmt
        self.problem_text = str(tree.info.get("problem", ""))
        self.task = self.problem = None
        if fmt != "plain":
            try:
                self.task, self.problem = task_and_problem(tree.info)
            except (ValueError, OSError):
                self.task = None

    def plain(self, steps: list[str]) -> str:
        return self.problem_text + "\n" + "".join(s + "\n" for s in steps)

    def state_after(self, steps: list[str]):
        state = self.task.initial_state(self.problem)
        for s in steps:
            _, state = self.task.apply_step(self.problem, state, s)
        return state

    def __call__(self, steps: list[str]) -> tuple[Any, str]:
        """(prompt, format actually used)."""
        if self.task is None:
            return self.plain(steps), "plain"
        try:
            state = self.state_after(steps)
        except ValueError:  # InvalidStep: a step the task cannot replay
            return self.plain(steps), "plain"
        mode = "chat" if self.fmt == "chat" else "completions"
        return self.task.prompt(self.problem, state, mode), self.fmt


def _as_reply(text: str, fmt: str) -> Any:
    return [{"role": "assistant", "content": text}] if fmt == "chat" else text


def _run_meta(tree: Tree) -> dict[str, Any]:
    info = tree.info
    return {"run_id": tree.run_id, "task": info.get("task"), "problem_id": info.get("problem_id"),
            "problem": info.get("problem"), "strategy": info.get("strategy"),
            "outcome": tree.outcome}


def _scores(node: Node) -> dict[str, Any]:
    return {"value": node.value, "evaluator": node.evaluator or None, "visits": node.visits,
            "mean_value": node.mean_value}




class States:
    """The task state after a list of steps, replayed from a run's task (for same-state checks
    and exact solvability); ``None`` where the task is unknown or a step does not replay."""

    def __init__(self, tree: Tree) -> None:
        try:
            self.task, self.problem = task_and_problem(tree.info)
        except (ValueError, OSError):
            self.task = self.problem = None

    def after(self, steps: list[str]) -> Any:
        if self.task is None:
            return None
        try:
            state = self.task.initial_state(self.problem)
            for s in steps:
                _, state = self.task.apply_step(self.problem, state, s)
        except ValueError:   # InvalidStep: e.g. a rejected step the model wrote wrongly
            return None
        return state

    def key(self, state: Any) -> Any:
        """What makes two states the same (``Task.state_key``; Game of 24: the numbers left);
        where the task cannot tell, the state itself (equal only if reached by equal steps)."""
        if state is None:
            return None
        key_of = getattr(self.task, "state_key", None)
        key = key_of(state) if key_of else None
        return ("state", state) if key is None else ("key", key)

    def solvable(self, state: Any) -> bool | None:
        if state is None:
            return None
        truth = self.task.solvable(state)
        return None if truth is None else bool(truth)
