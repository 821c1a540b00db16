"""Plug-ins: tasks, strategies and evaluators from Python files in the user's folders.

Folders searched, in order: ``THINKTREE_PLUGIN_PATH`` and ``THINKTREE_TASK_PATH`` (several folders
joined with ``os.pathsep``), then ``./plugins/`` and ``./tasks/`` of the working directory. Every
``.py`` file not starting with ``_`` is imported once; each class in it that subclasses
:class:`~reasoning.tasks.Task`, :class:`~reasoning.strategies.Strategy` or
:class:`~reasoning.evaluators.Evaluator` is checked against its contract and registered under its
``name`` (``TASKS``, ``STRATEGIES``, ``EVALUATORS``), so the Live page, the experiment form and
``cli.py run`` list it with its settings. A file that fails to import, or a class that breaks its
contract, is reported as ``{"file", "error"}`` (kept in ``reasoning.tasks.PLUGIN_ERRORS``) and
skipped: the rest still loads.

Imports go one way: this loader imports the registries and fills them; the registries never
import it. So whoever uses a plug-in by name calls :func:`ensure` first — the entry points do
(``cli.py`` at start-up, the app, :meth:`runner.run.RunSpec.prepare` for every run, in any
process); a notebook calls it once.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from . import tasks
from .evaluators import BUILTIN_EVALUATORS, EVALUATORS
from .evaluators.base import Evaluator
from .strategies import BUILTIN_STRATEGIES, STRATEGIES
from .strategies.base import Strategy
from .tasks import BUILTIN, TASKS, discovery
from .tasks.base import Task

PLUGIN_ENV = "THINKTREE_PLUGIN_PATH"
# ``cli.py run`` flags that a setting must not shadow (settings become ``--flag`` options)
RESERVED = frozenset({
    "task", "problem", "task_file", "strategy", "max_nodes", "max_tokens", "max_seconds", "seed",
    "db", "base_url", "model", "api_key_env", "mode", "price_in", "price_out", "probe", "quiet",
    "parallel", "help", "h"})
SCALARS = (bool, int, float, str)


def plugin_dirs(cwd: Path | None = None) -> list[Path]:
    """Every plug-in folder, without duplicates (``THINKTREE_PLUGIN_PATH`` first)."""
    cwd = cwd or Path.cwd()
    env = os.pathsep.join(os.environ.get(v, "") for v in (PLUGIN_ENV, discovery.ENV_VAR))
    dirs = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    dirs += [d for d in (cwd / "plugins", cwd / "tasks") if d.is_dir()]
    out: list[Path] = []
    for d in dirs:
        if d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


@dataclass
class Found:
    tasks: dict[str, type] = field(default_factory=dict)
    strategies: dict[str, type] = field(default_factory=dict)
    evaluators: dict[str, type] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)  # file -> "kind name" it gave


def settings_problem(owner: str, settings: Any) -> str | None:
    """Why a ``Settings`` class cannot become widgets and flags (None when it can)."""
    if not (inspect.isclass(settings) and dataclasses.is_dataclass(settings)):
        return f"{owner}: 'Settings' must be a @dataclass"
    try:
        hints = get_type_hints(settings)
    except Exception as e:
        return f"{owner}: cannot read the Settings type hints: {e}"
    for f in dataclasses.fields(settings):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            return f"{owner}: setting {f.name!r} needs a default"
        if f.name in RESERVED:
            return f"{owner}: setting {f.name!r} clashes with the run option --{f.name}"
        hint = hints[f.name]
        args = [a for a in get_args(hint) if a is not type(None)]
        if not (hint in SCALARS or get_origin(hint) is Literal or (args and args[0] in SCALARS)):
            return f"{owner}: setting {f.name!r} must be bool, int, float, str or a Literal"
    try:
        settings()
    except Exception as e:
        return f"{owner}: its defaults are rejected: {type(e).__name__}: {e}"
    return None


def _common(cls: type, kind: str, taken: dict[str, str], method: str, base: type) -> str | None:
    name, title = getattr(cls, "name", None), getattr(cls, "title", None)
    if not isinstance(name, str) or not discovery._NAME.match(name):
        return f"class {cls.__name__}: 'name' must be a short identifier, got {name!r}"
    if not isinstance(title, str) or not title.strip():
        return f"class {cls.__name__}: 'title' must be a non-empty string"
    if name in taken:
        return f"class {cls.__name__}: {kind} name {name!r} is already taken by {taken[name]}"
    if getattr(cls, method) is getattr(base, method):
        return f"class {cls.__name__} does not implement {method}()"
    return None


def check_strategy_class(cls: type, taken: dict[str, str]) -> str | None:
    """Why ``cls`` cannot be used as a strategy (None when it can)."""
    why = _common(cls, "strategy", taken, "run", Strategy)
    if why:
        return why
    why = settings_problem(f"class {cls.__name__}", getattr(cls, "Settings", None))
    if why:
        return why
    try:
        cls()
    except Exception as e:
        return f"class {cls.__name__}: cannot be created with default settings: " \
               f"{type(e).__name__}: {e}"
    return None


def check_evaluator_class(cls: type, taken: dict[str, str]) -> str | None:
    """Why ``cls`` cannot be used as an evaluator (None when it can)."""
    why = _common(cls, "evaluator", taken, "evaluate", Evaluator)
    if why:
        return why
    if not isinstance(getattr(cls, "default_threshold", None), int | float):
        return f"class {cls.__name__}: 'default_threshold' must be a number"
    settings = getattr(cls, "Settings", None)
    if settings is not None:
        why = settings_problem(f"class {cls.__name__}", settings)
        if why:
            return why
    try:
        cls() if settings is None else cls(settings())
    except Exception as e:
        return f"class {cls.__name__}: cannot be created with default settings: " \
               f"{type(e).__name__}: {e}"
    return None


def _classes(module, base: type) -> list[type]:
    # a class without its own ``name`` is a helper base class, not a plug-in
    return [obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, base) and obj is not base
            and obj.__module__ == module.__name__ and "name" in vars(obj)]


def load(dirs: list[Path], taken: dict[str, dict[str, str]]) -> Found:
    """Import every plug-in file in ``dirs`` once and sort its classes by kind.

    ``taken`` maps kind ("task", "strategy", "evaluator") to the names already in use, so a
    plug-in cannot silently replace a built-in. Evaluators that pass are registered in
    ``EVALUATORS`` as soon as they are found (before strategies are checked): a strategy's
    settings validate their ``evaluator`` against that registry, and may name one from the
    same folder.
    """
    found = Found()
    # evaluators before strategies: a strategy's defaults may name one from the same folder
    kinds = (("task", Task, discovery.check_task_class, found.tasks),
             ("evaluator", Evaluator, check_evaluator_class, found.evaluators),
             ("strategy", Strategy, check_strategy_class, found.strategies))
    names = {k: dict(taken.get(k, {})) for k, *_ in kinds}
    modules = []
    for folder in dirs:
        if not folder.is_dir():
            found.errors.append({"file": str(folder), "error": "not a folder"})
            continue
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                modules.append((path, discovery._import(path)))
            except BaseException as e:  # SyntaxError, ImportError, SystemExit … from user code
                if isinstance(e, KeyboardInterrupt):
                    raise
                found.errors.append({"file": str(path),
                                     "error": f"import failed: {type(e).__name__}: {e}"})
    for kind, base, check, out in kinds:
        for path, module in modules:
            for cls in _classes(module, base):
                why = check(cls, names[kind])
                if why:
                    found.errors.append({"file": str(path), "error": why})
                    continue
                out[cls.name] = cls
                names[kind][cls.name] = str(path)
                found.files.setdefault(str(path), []).append(f"{kind} {cls.name}")
                if kind == "evaluator":
                    EVALUATORS[cls.name] = cls
    return found


_LOCK = threading.RLock()
_STATE: dict[str, Any] = {"loaded": False, "files": {}}


def ensure(reload: bool = False) -> list[dict[str, str]]:
    """Discover plug-ins once (again with ``reload``) into the registries; returns the errors."""
    with _LOCK:
        if _STATE["loaded"] and not reload:
            return errors()
        registries = (TASKS, STRATEGIES, EVALUATORS)
        builtins = (BUILTIN, BUILTIN_STRATEGIES, BUILTIN_EVALUATORS)
        for registry, builtin in zip(registries, builtins, strict=True):
            for name in [n for n in registry if n not in builtin]:
                del registry[name]
        taken = {k: {n: f"a built-in {k}" for n in b}
                 for k, b in zip(("task", "strategy", "evaluator"), builtins, strict=True)}
        found = load(plugin_dirs(), taken)
        TASKS.update(found.tasks)
        STRATEGIES.update(found.strategies)
        EVALUATORS.update(found.evaluators)
        tasks.PLUGIN_ERRORS[:] = found.errors
        _STATE.update(loaded=True, files=found.files)
        return errors()


def errors() -> list[dict[str, str]]:
    """The plug-in files that failed to load at the last :func:`ensure`."""
    return list(tasks.PLUGIN_ERRORS)
