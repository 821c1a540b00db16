"""Tasks: problem domains the search runs on. ``TASKS`` maps a task name to its class."""
from .base import InvalidStep, Problem, Task, Verdict
from .game24 import Game24

TASKS: dict[str, type[Task]] = {Game24.name: Game24}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]()
    except KeyError:
        raise ValueError(f"task: unknown task {name!r}; choose one of {', '.join(sorted(TASKS))}") from None


__all__ = ["InvalidStep", "Problem", "Task", "Verdict", "Game24", "TASKS", "get_task"]
