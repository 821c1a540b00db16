"""``cli.py check PATH``: the contract a plug-in author runs on their own folder.

Every file in PATH is loaded the way the app loads it (:func:`reasoning.plugins.load`); load
errors are reported with the file and reason. Then each plug-in is exercised with no server: a
seeded random policy (a uniform choice among the task's legal steps; for value prompts, among
the verdict words) on Game of 24, so a check is quick and gives the same answer every time.

Strategies: runs on default settings and ends with a known outcome (a crash inside ``run`` is a
failure, with its traceback); a solved result points at a solved node; ``max_nodes`` is honoured;
the same seed gives the same tree (compared node by node, and event by event apart from the
streamed token batches and timings, which depend on the machine's load; a difference names the
first node that differs); settings given as strings (as the CLI and forms give them)
are accepted; a cancelled run stops. Evaluators: built from their defaults, they score fresh
nodes with a finite value, ``norm`` in 0..1 and JSON-serialisable details. Tasks: problems load,
prompts in both modes, and a legal step (where offered) applies.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import math
import random
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import events as ev
from . import plugins
from .engine import SearchContext, run_search
from .evaluators import BUILTIN_EVALUATORS, EVALUATORS, make_evaluator, score
from .models.base import GenRequest
from .models.scripted import ScriptedModel
from .recorder import Recorder
from .settings import Budget
from .strategies import BUILTIN_STRATEGIES, STRATEGIES, make_strategy
from .tasks import BUILTIN, TASKS, get_task
from .tree import SOLVED, fold

PROBLEM = "4 5 6 10"
RUN_BUDGET = {"max_nodes": 60, "max_tokens": 100_000, "max_seconds": 60.0}


def random_policy(req: GenRequest) -> str:
    """A seeded uniform choice among the allowed outputs (legal steps or verdict words)."""
    if req.choices:
        return random.Random(req.seed).choice(req.choices)
    return "1 + 1 = 2"


def _model() -> ScriptedModel:
    model = ScriptedModel(random_policy, name="random-policy")
    model.capabilities["constraint"] = "grammar"   # so the engine offers the legal steps
    return model


def _game24():
    task = get_task("game24")
    return task, task.parse_problem(PROBLEM)


def _recorder() -> Recorder:
    """The recorder of each check run (a test swaps it to batch tokens differently)."""
    return Recorder(1)


def _run(strategy, budget: dict[str, Any] | None = None, seed: int = 0,
         cancel: threading.Event | None = None):
    task, problem = _game24()
    return run_search(strategy, task, problem, _model(), run_id=1, seed=seed,
                      budget=Budget(**(budget or RUN_BUDGET)), cancel=cancel,
                      recorder=_recorder())


# what two runs of one seed may differ in: when things happened, and so how the streamed text
# was cut into ``tokens`` events (one about every 100 ms: a loaded machine makes more of them)
TIMING_NODE_FIELDS = ("t_created", "t_completed")
TIMING_PAYLOAD_FIELDS = ("seconds", "model_seconds")


def first_difference(a: list[ev.Event], b: list[ev.Event]) -> str | None:
    """Where two runs' event logs differ beyond timing, in words; None when they agree.

    Trees first (folded, so token batching cannot matter): the first node id present in only
    one, or the first field that differs, with both values. Then the run's result, then the
    events in order without the ``tokens`` batches, ``seq`` and ``t``."""
    ta, tb = fold(a), fold(b)
    for nid in sorted(set(ta.nodes) | set(tb.nodes)):
        if nid not in ta.nodes or nid not in tb.nodes:
            return f"node {nid} is only in run {1 if nid in ta.nodes else 2}"
        na, nb = (dataclasses.asdict(t.nodes[nid]) for t in (ta, tb))
        for name in na:
            if name not in TIMING_NODE_FIELDS and na[name] != nb[name]:
                return f"node {nid} differs in {name}: {_short(na[name])} vs {_short(nb[name])}"
    for name in ("outcome", "answer", "answer_node"):
        if getattr(ta, name) != getattr(tb, name):
            return f"the run's {name} differs: {_short(getattr(ta, name))} vs " \
                   f"{_short(getattr(tb, name))}"
    ea, eb = _untimed(a), _untimed(b)
    for i, (x, y) in enumerate(zip(ea, eb, strict=False)):
        if x != y:
            return f"event {i + 1} (not counting token batches) differs: {_short(x)} vs {_short(y)}"
    if len(ea) != len(eb):
        return f"{len(ea)} vs {len(eb)} events (not counting token batches)"
    return None


def _untimed(events: list[ev.Event]) -> list[tuple]:
    return [(e.type, e.node_id, {k: v for k, v in e.payload.items() if k not in TIMING_PAYLOAD_FIELDS})
            for e in events if e.type != ev.TOKENS]


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_strategy(cls: type) -> list[dict[str, Any]]:
    """Each contract check on strategy ``cls``: ``[{"check", "ok", "detail"}]``."""
    out: list[dict[str, Any]] = []

    def check(name: str, fn: Callable[[], str]) -> None:
        try:
            out.append({"check": name, "ok": True, "detail": fn()})
        except AssertionError as e:
            out.append({"check": name, "ok": False, "detail": str(e)})
        except Exception as e:
            out.append({"check": name, "ok": False, "detail": f"{type(e).__name__}: {e}",
                        "traceback": traceback.format_exc(limit=6)})

    def runs() -> str:
        result, rec = _run(cls())
        tb = result.extra.get("traceback", "")
        assert result.outcome != "error", f"the run ended in error: {result.detail}\n{tb}"
        assert result.outcome in ev.OUTCOMES, f"unknown outcome {result.outcome!r}"
        if result.outcome == "solved":
            node = rec.tree.nodes.get(result.answer_node)
            assert node is not None and node.state == SOLVED, \
                f"outcome solved but answer_node {result.answer_node} is not a solved node"
        return f"{result.outcome} with {len(rec.tree.nodes)} nodes ({result.detail[:80]})"

    def budget() -> str:
        # the same seed makes the same tree, so a capped run is a prefix of the uncapped one: if
        # that one needed more than 3 nodes, the capped run must stop on the budget
        _, full = _run(cls())
        result, rec = _run(cls(), {**RUN_BUDGET, "max_nodes": 3})
        n = len(rec.tree.nodes)
        assert n <= 3, f"max_nodes 3 but {n} nodes were made"
        assert result.outcome != "error", f"the run ended in error: {result.detail}"
        assert len(full.tree.nodes) <= 3 or result.outcome in ("budget", "solved"), \
            f"the run reached max_nodes 3 but ended {result.outcome!r}, not 'budget': does " \
            "run() catch the budget exception (a bare 'except Exception')?"
        return f"{n} nodes, outcome {result.outcome}"

    def same_seed() -> str:
        logs = [_run(cls(), seed=3)[1].events for _ in range(2)]
        diff = first_difference(*logs)
        assert diff is None, f"two runs with seed 3 made different trees: {diff}"
        return f"{len(fold(logs[0]).nodes)} nodes, {len(_untimed(logs[0]))} events, identical"

    def strings() -> str:
        defaults = dataclasses.asdict(cls.Settings())
        s = make_strategy(cls.name, {k: str(v) for k, v in defaults.items() if v is not None})
        assert dataclasses.asdict(s.settings) == defaults, "string settings did not parse back"
        return f"{len(defaults)} settings"

    def cancel() -> str:
        stop = threading.Event()
        stop.set()
        result, _ = _run(cls(), cancel=stop)
        assert result.outcome in ("cancelled", "solved"), \
            f"a cancelled run ended {result.outcome!r}"
        return result.outcome

    for name, fn in (("runs on defaults", runs), ("honours max_nodes", budget),
                     ("same seed, same tree", same_seed), ("settings from strings", strings),
                     ("stops when cancelled", cancel)):
        check(name, fn)
    return out


def check_evaluator(cls: type) -> list[dict[str, Any]]:
    task, problem = _game24()
    try:
        evaluator = make_evaluator(cls.name)
        ctx = SearchContext(task, problem, _model(), Recorder(1), Budget(**RUN_BUDGET))
        root = ctx.root()
        kids = [c for c in (ctx.propose(root, 0.7, seed_k=k) for k in range(3)) if c and c.step]
        assert kids, "the check's policy made no step (report this: a bug in the check)"
        for c in kids:
            s = score(ctx, evaluator, c.node_id)
            assert math.isfinite(s.value), f"value {s.value!r} is not a finite number"
            assert 0.0 <= s.norm <= 1.0, f"norm {s.norm!r} is outside 0..1"
            json.dumps(s.details)
        return [{"check": "scores nodes", "ok": True,
                 "detail": f"{len(kids)} nodes scored, last value {s.value:g}"}]
    except AssertionError as e:
        return [{"check": "scores nodes", "ok": False, "detail": str(e)}]
    except Exception as e:
        return [{"check": "scores nodes", "ok": False, "detail": f"{type(e).__name__}: {e}",
                 "traceback": traceback.format_exc(limit=6)}]


def check_task(cls: type) -> list[dict[str, Any]]:
    try:
        task = cls()
        problem = task.problems()[0] if task.problems() else task.parse_problem("1")
        state = task.initial_state(problem)
        assert isinstance(task.prompt(problem, state, "completions"), str), \
            "prompt(..., 'completions') must return a string"
        msgs = task.prompt(problem, state, "chat")
        assert isinstance(msgs, list) and all("role" in m and "content" in m for m in msgs), \
            "prompt(..., 'chat') must return a list of {role, content} messages"
        legal = task.legal_steps(state)
        if legal:
            task.apply_step(problem, state, legal[0])
        return [{"check": "problems, prompts, a legal step", "ok": True,
                 "detail": f"{len(task.problems())} problems"}]
    except Exception as e:
        return [{"check": "problems, prompts, a legal step", "ok": False,
                 "detail": f"{type(e).__name__}: {e}"}]


def check_folder(path: str | Path) -> dict[str, Any]:
    """Load ``path`` (a folder, or one file's folder) and check every plug-in in it."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    taken = {"task": {n: "a built-in task" for n in BUILTIN},
             "strategy": {n: "a built-in strategy" for n in BUILTIN_STRATEGIES},
             "evaluator": {n: "a built-in evaluator" for n in BUILTIN_EVALUATORS}}
    found = plugins.load([folder], taken)
    # checked the way the app runs them: registered by name
    TASKS.update(found.tasks)
    EVALUATORS.update(found.evaluators)
    STRATEGIES.update(found.strategies)
    report: list[dict[str, Any]] = []
    for kind, table, fn in (("task", found.tasks, check_task),
                            ("evaluator", found.evaluators, check_evaluator),
                            ("strategy", found.strategies, check_strategy)):
        for name, cls in table.items():
            report.append({"kind": kind, "name": name, "file": _file(cls), "checks": fn(cls)})
    errors = list(found.errors)
    if path.is_file():
        report = [r for r in report if Path(r["file"]).resolve() == path.resolve()]
        errors = [e for e in errors if Path(e["file"]).resolve() == path.resolve()]
    ok = not errors and all(c["ok"] for r in report for c in r["checks"]) and bool(report)
    return {"path": str(path), "ok": ok, "plugins": report, "errors": errors}


def _file(cls: type) -> str:
    try:
        return inspect.getsourcefile(cls) or ""
    except TypeError:
        return ""
