"""Tasks: problem domains the search runs on.

``TASKS`` maps a task name to its class: the built-ins plus the plug-ins discovered in
``THINKTREE_PLUGIN_PATH`` / ``THINKTREE_TASK_PATH`` folders, ``./plugins/`` and ``./tasks/``
(see :mod:`reasoning.plugins`). Plug-ins are loaded once,
on the first :func:`get_task` / :func:`list_tasks` / :func:`ensure_plugins` call; errors are kept
in :func:`plugin_errors`. A task file (JSONL) is not a named task: build it with
:class:`JsonlTask`.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .base import InvalidStep, Problem, Task, Verdict
from .free import FreeQuestion
from .game24 import Game24
from .gsm8k import GSM8K
from .jsonl_task import JsonlTask, TaskFileError
from .math_task import MathTask

BUILTIN: dict[str, type[Task]] = {cls.name: cls for cls in (Game24, GSM8K, MathTask, FreeQuestion)}
TASKS: dict[str, type[Task]] = dict(BUILTIN)


def ensure_plugins(reload: bool = False) -> list[dict[str, str]]:
    """Discover plug-ins (tasks, strategies, evaluators: :mod:`reasoning.plugins`) once, or again
    with ``reload``; returns the plug-in errors."""
    from ..plugins import ensure
    return ensure(reload)


def plugin_errors() -> list[dict[str, str]]:
    from ..plugins import errors
    return errors()


def get_task(name: str) -> Task:
    if name not in TASKS:
        ensure_plugins()
    try:
        cls = TASKS[name]
    except KeyError:
        from .discovery import unknown_task_message
        raise ValueError(unknown_task_message(name, list(TASKS), plugin_errors())) from None
    return cls()


def task_info(task: Task) -> dict[str, Any]:
    """What the page and ``cli.py tasks`` show about a task."""
    try:
        source = inspect.getsourcefile(type(task)) or ""
    except TypeError:
        source = ""
    return {"name": task.name, "title": task.title, "problems": len(task.problems()),
            "has_verifier": task.has_verifier, "features": task.features(),
            "max_depth": task.max_depth, "builtin": task.name in BUILTIN and
            type(task) is BUILTIN[task.name], "source": str(Path(source)) if source else ""}


def list_tasks() -> list[dict[str, Any]]:
    """Every named task (built-ins first, then plug-ins) with :func:`task_info`."""
    ensure_plugins()
    return [task_info(cls()) for cls in TASKS.values()]


__all__ = ["InvalidStep", "Problem", "Task", "Verdict", "Game24", "GSM8K", "MathTask",
           "FreeQuestion", "JsonlTask", "TaskFileError", "TASKS", "BUILTIN", "get_task",
           "list_tasks", "task_info", "ensure_plugins", "plugin_errors"]
