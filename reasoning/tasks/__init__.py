"""Tasks: problem domains the search runs on.

``TASKS`` maps a task name to its class: the built-ins plus the plug-ins discovered in
``THINKTREE_PLUGIN_PATH`` / ``THINKTREE_TASK_PATH`` folders, ``./plugins/`` and ``./tasks/``.
The registry does not load them: the plug-in loader (:func:`reasoning.plugins.ensure`, called by
the entry points — ``cli.py``, the app, :meth:`runner.run.RunSpec.prepare`) adds them here and
keeps its file errors in :data:`PLUGIN_ERRORS`. A task file (JSONL) is not a named task: build it
with :class:`JsonlTask`.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .base import InvalidStep, Problem, Task, Verdict
from .discovery import unknown_task_message
from .free import FreeQuestion
from .game24 import Game24
from .gsm8k import GSM8K
from .jsonl_task import JsonlTask, TaskFileError
from .math_task import MathTask

BUILTIN: dict[str, type[Task]] = {cls.name: cls for cls in (Game24, GSM8K, MathTask, FreeQuestion)}
TASKS: dict[str, type[Task]] = dict(BUILTIN)
# the plug-in files that failed to load ({"file", "error"}), written by the loader, so that an
# unknown task's message can name the file that would have provided it
PLUGIN_ERRORS: list[dict[str, str]] = []


def get_task(name: str) -> Task:
    try:
        cls = TASKS[name]
    except KeyError:
        raise ValueError(unknown_task_message(name, list(TASKS), PLUGIN_ERRORS)) from None
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
    """Every named task (built-ins first, then the plug-ins loaded) with :func:`task_info`."""
    return [task_info(cls()) for cls in TASKS.values()]


__all__ = ["InvalidStep", "Problem", "Task", "Verdict", "Game24", "GSM8K", "MathTask",
           "FreeQuestion", "JsonlTask", "TaskFileError", "TASKS", "BUILTIN", "get_task",
           "list_tasks", "task_info", "PLUGIN_ERRORS"]
