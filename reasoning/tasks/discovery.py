"""Task plug-ins: every :class:`~reasoning.tasks.base.Task` subclass in the ``.py`` files of

* each folder named in ``THINKTREE_TASK_PATH`` (several joined with ``os.pathsep``), and
* ``./tasks/`` in the working directory, if it exists.

A file that fails to import, or a class that breaks the interface (abstract methods left, no
``name``/``title``, cannot be made without arguments, ``problems()`` not a list of Problem, a
name already taken), is reported as ``{"file", "error"}`` and skipped; the rest still load.
Files whose name starts with ``_`` are not scanned, but a plug-in may import them (its folder is
on ``sys.path`` while it loads); an abstract class without its own ``name`` is a helper base
class, not an error.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

from .base import Problem, Task

ENV_VAR = "THINKTREE_TASK_PATH"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def plugin_dirs(env: str | None = None, cwd: Path | None = None) -> list[Path]:
    """The folders to search, in order, without duplicates."""
    env = os.environ.get(ENV_VAR, "") if env is None else env
    dirs = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    local = (cwd or Path.cwd()) / "tasks"
    if local.is_dir():
        dirs.append(local)
    out: list[Path] = []
    for d in dirs:
        if d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def _import(path: Path):
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    stem = re.sub(r"\W", "_", path.stem)
    mod_name = f"thinktree_plugin_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError("not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses and pickling look modules up here
    folder = str(path.parent)
    sys.path.insert(0, folder)      # so a plug-in may import a helper module next to it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    finally:
        sys.path.remove(folder)
    return module


def check_task_class(cls: type[Task], taken: dict[str, Any]) -> str | None:
    """Why ``cls`` cannot be used as a task (None when it can)."""
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        return f"class {cls.__name__} does not implement: {', '.join(missing)}"
    name, title = getattr(cls, "name", None), getattr(cls, "title", None)
    if not isinstance(name, str) or not _NAME.match(name):
        return f"class {cls.__name__}: 'name' must be a short identifier, got {name!r}"
    if not isinstance(title, str) or not title.strip():
        return f"class {cls.__name__}: 'title' must be a non-empty string"
    if name in taken:
        return f"class {cls.__name__}: task name {name!r} is already taken by {taken[name]}"
    if not isinstance(cls.max_depth, int) or cls.max_depth < 1:
        return f"class {cls.__name__}: max_depth must be a whole number >= 1"
    try:
        problems = cls().problems()
    except Exception as e:
        return f"class {cls.__name__}: cannot be created and list its problems: " \
               f"{type(e).__name__}: {e}"
    if not isinstance(problems, list) or not all(isinstance(p, Problem) for p in problems):
        return f"class {cls.__name__}: problems() must return a list of Problem"
    return None


def _classes(module) -> list[type[Task]]:
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Task) and obj.__module__ == module.__name__
            and not (inspect.isabstract(obj) and "name" not in vars(obj))]


def load_plugins(dirs: list[Path] | None = None, taken: dict[str, Any] | None = None
                 ) -> tuple[dict[str, type[Task]], list[dict[str, str]]]:
    """Discover plug-in tasks: ``({name: class}, [{"file", "error"}, …])``.

    ``taken`` maps names already in use (the built-ins) to a description, so a plug-in cannot
    silently replace a built-in task.
    """
    taken = dict(taken or {})
    tasks: dict[str, type[Task]] = {}
    errors: list[dict[str, str]] = []
    for folder in (plugin_dirs() if dirs is None else dirs):
        if not folder.is_dir():
            errors.append({"file": str(folder), "error": "not a folder"})
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                module = _import(path)
            except BaseException as e:  # SyntaxError, ImportError, SystemExit … from user code
                if isinstance(e, KeyboardInterrupt):
                    raise
                errors.append({"file": str(path), "error": f"import failed: {type(e).__name__}: {e}"})
                continue
            for cls in _classes(module):
                why = check_task_class(cls, taken)
                if why:
                    errors.append({"file": str(path), "error": why})
                    continue
                tasks[cls.name] = cls
                taken[cls.name] = str(path)
    return tasks, errors


def unknown_task_message(name: str, known: list[str], errors: list[dict[str, str]]) -> str:
    """Why ``name`` is not a task: a plug-in file that failed to load and would have provided it
    (its file is named after it, or it mentions the name in quotes) is named with its error;
    otherwise every failed plug-in file is mentioned, then the known names."""
    def mentions(err: dict[str, str]) -> bool:
        path = Path(err["file"])
        if path.stem == name:
            return True
        try:
            text = path.read_text(errors="replace") if path.is_file() else ""
        except OSError:
            return False
        return f'"{name}"' in text or f"'{name}'" in text
    msg = f"task: unknown task {name!r}"
    culprits = [e for e in errors if mentions(e)]
    for err in culprits:
        msg += f"; the plug-in file {err['file']} failed: {err['error']}"
    if not culprits and errors:
        msg += f"; {len(errors)} plug-in file(s) failed to load ({', '.join(e['file'] for e in errors)}: " \
               "see `python cli.py tasks`)"
    return msg + f"; choose one of {', '.join(sorted(known))}"
