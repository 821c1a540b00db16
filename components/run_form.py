"""Widgets for a run's settings: task, problem, strategy settings (generated from the strategy's
``Settings`` dataclass, so new strategies appear without page changes), budget and seed."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin, get_type_hints

import streamlit as st

from reasoning import plugins
from reasoning.evaluators import EVALUATORS
from reasoning.settings import MAX_NODES_LIMIT, MAX_SECONDS_LIMIT, MAX_TOKENS_LIMIT, Budget
from reasoning.strategies import STRATEGIES
from reasoning.tasks import TASKS, get_task
from reasoning.tasks.base import Problem

BUNDLED, TYPED = "Bundled puzzle", "Type my own"


def _field_choices(name: str, hint: Any, default: Any) -> list[Any] | None:
    """Choices for a field: a ``Literal[...]`` type, or a registry for known names."""
    if get_origin(hint) is Literal:
        return list(get_args(hint))
    if name == "evaluator":
        names = list(EVALUATORS)
        return ([""] if default in ("", None) else []) + names
    return None


def _choice_label(name: str, choice: Any) -> str:
    """What a choice reads as; evaluators show their titles (so baselines say they are)."""
    if choice == "":
        return "(none)"
    if name == "evaluator":
        if choice in EVALUATORS:
            return f"{choice} — {EVALUATORS[choice].title}"
    return str(choice)


def _concrete(hint: Any) -> tuple[Any, bool]:
    """(scalar type, optional?) of a field's type hint."""
    if isinstance(hint, type):
        return hint, False
    args = [a for a in get_args(hint) if a is not type(None)]
    optional = type(None) in get_args(hint)
    return (args[0] if args and isinstance(args[0], type) else str), optional


def _label(name: str) -> str:
    return name.replace("_", " ")


# The first run a user sees: "Run both" on the task's default problem runs greedy (the shortcut)
# and this exploration; chosen by measurement on the embedded model (README: "A first run that
# shows the gap"). Only starting values: every widget can be changed.
DEMO_STRATEGY = "mcts"
DEMO_BUDGET: dict[str, Any] = {"max_tokens": 1500}


PREFILLED = "live_prefilled"   # widget keys prefill_from_run set through session state


def _start(key: str, **default: Any) -> dict[str, Any]:
    """A widget's starting value, always given — except for a key :func:`prefill_from_run` has
    just set (Streamlit warns when a widget gets both; the state holds the value then). Leaving
    the value out on every later run let a widget whose state Streamlit dropped between runs (a
    rerun interrupting another under load) come back as 0 ("batch: … got 0"); with the value
    given it comes back at its default, and a kept state still wins over it."""
    pending = st.session_state.get(PREFILLED)
    if pending and key in pending:
        pending.discard(key)
        return {}
    return default


def dataclass_inputs(cls: type, prefix: str, columns: int = 2,
                     start: dict[str, Any] | None = None,
                     only: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """One input per dataclass field, starting at the field's default; returns ``{field: value}``.

    Optional fields whose default is None start empty (None = "use the default"); ``from_dict``
    then drops them. Validation stays in the dataclass: the Run button shows its message.
    ``only``: draw just the fields it accepts (the rest are left to another call)."""
    hints = get_type_hints(cls)
    out: dict[str, Any] = {}
    fields = [f for f in dataclasses.fields(cls) if only is None or only(f.name)]
    if not fields:
        return out
    cols = st.columns(min(columns, max(1, len(fields))))
    for i, f in enumerate(fields):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        default = (start or {}).get(f.name, default)
        kind, optional = _concrete(hints[f.name])
        choices = _field_choices(f.name, hints[f.name], default)
        key, label = f"{prefix}_{f.name}", _label(f.name)
        with cols[i % len(cols)]:
            if choices:
                out[f.name] = st.selectbox(label, choices, key=key, **_start(
                    key, index=choices.index(default) if default in choices else 0),
                                           format_func=lambda c, n=f.name: _choice_label(n, c))
            elif kind is bool:
                out[f.name] = st.checkbox(label, key=key, **_start(key, value=bool(default)))
            elif kind is int:
                out[f.name] = st.number_input(label, step=1, key=key, **_start(
                    key, value=None if default is None else int(default)),
                                              placeholder="default" if optional else None)
            elif kind is float:
                out[f.name] = st.number_input(label, step=0.1, format="%g", key=key, **_start(
                    key, value=None if default is None else float(default)),
                                              placeholder="default" if optional else None)
            else:
                out[f.name] = st.text_input(label, key=key, **_start(
                    key, value="" if default is None else str(default)))
    return out


def task_and_problem(puzzle_col: Any = None) -> tuple[str, str]:
    """(task name, problem text or bundled id) as the user chose them. Plug-in tasks are listed
    too, and each task names its own problems (a Game of 24 "puzzle" by rank, a "question" …).
    ``puzzle_col``: draw the problem in this column (beside the task), its bundled / typed
    choice under it."""
    plugins.ensure()
    names = list(TASKS)
    task_name = st.selectbox("Task", names, format_func=lambda n: TASKS[n].title, key="live_task")
    task = get_task(task_name)
    problems = task.problems()
    noun = task.problem_noun
    where = puzzle_col if puzzle_col is not None else st.container()
    with where:
        box = st.container()       # the problem first, its bundled / typed choice under it
        how = st.radio("Problem", [BUNDLED, TYPED] if problems else [TYPED], horizontal=True,
                       key=f"live_problem_how_{task_name}", label_visibility="collapsed",
                       format_func=lambda h: f"Bundled {noun}" if h == BUNDLED else h)
    with box:
        if how == BUNDLED:
            by_id = {p.id: p for p in problems}
            ids = list(by_id)
            first = ids.index(task.default_problem) if task.default_problem in by_id else 0
            pid = st.selectbox(f"{noun.capitalize()} ({len(problems)} bundled; type to search)", ids,
                               key=f"live_problem_{task_name}",
                               **_start(f"live_problem_{task_name}", index=first),
                               format_func=lambda i: task.problem_title(by_id[i]))
            return task_name, pid
        text = st.text_input(f"Your {noun}", key=f"live_problem_text_{task_name}",
                             placeholder=f"e.g. {task.problem_example}" if task.problem_example else None)
    return task_name, text


def problem_ids_hint(task_name: str) -> tuple[str, str]:
    """(a default, the help) for an experiment's problems box, in the task's own words: Game of
    24 suggests puzzle ranks 901-910, a task with bundled problems its first ten ids."""
    task = get_task(task_name)
    ids = [p.id for p in task.problems()]
    noun = task.problem_noun
    if task.default_problems:
        default = task.default_problems
    elif ids and all(i.isdigit() for i in ids[:10]):
        first = ids[:10]
        contiguous = [int(i) for i in first] == list(range(int(first[0]), int(first[0]) + len(first)))
        default = f"{first[0]}-{first[-1]}" if contiguous and len(first) > 1 else ",".join(first)
    else:
        default = ""
    where = f"{len(ids)} bundled {noun}s" if ids else f"no bundled {noun}s: use a task file"
    return default, (f"{noun} ids or ranges, e.g. {default or '1-10'} ({where}); with a task file: "
                     "line indices, e.g. 0-9")


def prefill_from_run(run: dict[str, Any]) -> None:
    """Put a stored run's own task, problem, strategy, settings, budget and seed into the form's
    widgets (before they are drawn), so ``?run=ID`` shows what that run was started with."""
    plugins.ensure()
    task_name, strategy = run["task"], run["strategy"]
    state = st.session_state
    keys: set[str] = set()

    def put(key: str, value: Any) -> None:
        state[key] = value
        keys.add(key)

    if task_name in TASKS:
        put("live_task", task_name)
        ids = {p.id for p in get_task(task_name).problems()}
        bundled = run.get("problem_id") in ids
        put(f"live_problem_how_{task_name}", BUNDLED if bundled else TYPED)
        if bundled:
            put(f"live_problem_{task_name}", run["problem_id"])
        else:
            put(f"live_problem_text_{task_name}", run["problem"])
    if strategy in STRATEGIES:
        put("live_strategy", strategy)
        names = {f.name for f in dataclasses.fields(STRATEGIES[strategy].Settings)}
        for k, v in (run.get("params") or {}).items():
            if k in names:
                put(f"live_param_{strategy}_{k}", v)
    budget_fields = {f.name for f in dataclasses.fields(Budget)}
    for k, v in (run.get("budget") or {}).items():
        if k in budget_fields:
            put(f"live_budget_{k}", v)
    put("live_seed", int(run.get("seed") or 0))
    state[PREFILLED] = keys   # these widgets take their value from the state, once


def settings_summary(run: dict[str, Any]) -> str:
    """One line for the folded settings: ``Game of 24 · rank 950: 1 6 6 6 · mcts (simulations
    20) · budget 200 nodes, 20000 tokens, 300 s · seed 0`` (only settings that differ from the
    strategy's defaults are named)."""
    task = TASKS.get(run["task"])
    problem = run["problem"]
    if task is not None and run.get("problem_id") and run["problem_id"] != problem:
        problem = get_task(run["task"]).problem_title(Problem(run["problem_id"], problem))
    cls = STRATEGIES.get(run["strategy"])
    defaults = dataclasses.asdict(cls.Settings()) if cls is not None else {}
    params = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (run.get("params") or {}).items()
                       if v not in (None, "", {}) and defaults.get(k, object()) != v)
    b = run.get("budget") or {}
    # a limit at its ceiling is "no limit" (experiments lift the budget they do not count)
    ceiling = {"max_nodes": MAX_NODES_LIMIT, "max_tokens": MAX_TOKENS_LIMIT, "max_seconds": MAX_SECONDS_LIMIT}
    budget = ", ".join(f"{b[k]:,g} {unit}" for k, unit in (("max_nodes", "nodes"), ("max_tokens", "tokens"),
                                                          ("max_seconds", "s"))
                       if b.get(k) is not None and b[k] < ceiling[k])
    parts = [task.title if task else run["task"], problem,
             run["strategy"] + (f" ({params})" if params else "")]
    return " · ".join(parts + ([f"budget {budget}"] if budget else []) + [f"seed {run.get('seed', 0)}"])


MAIN_BUDGET = "max_tokens"   # the one limit on the first screen; the others are folded


def strategy_choice() -> str:
    """The strategy selectbox (plug-in strategies and evaluators join the lists first)."""
    st.session_state["live_broken_plugins"] = plugins.ensure()   # failures are listed under More settings
    names = list(STRATEGIES)
    return st.selectbox("Strategy", names, format_func=lambda n: STRATEGIES[n].title,
                        key="live_strategy", **_start(
                            "live_strategy",
                            index=names.index(DEMO_STRATEGY) if DEMO_STRATEGY in names else 0))


def strategy_params(name: str) -> dict[str, Any]:
    """The chosen strategy's settings, and its evaluator's (e.g. the prm grader's endpoint)."""
    st.caption(f"{STRATEGIES[name].title} settings")
    params = dataclass_inputs(STRATEGIES[name].Settings, f"live_param_{name}")
    ev_cls = EVALUATORS.get(str(params.get("evaluator") or ""))
    if ev_cls is not None and ev_cls.Settings is not None:
        st.caption(f"{ev_cls.title} settings")
        ev_params = dataclass_inputs(ev_cls.Settings, f"live_eval_{ev_cls.name}")
        params.update({f"{ev_cls.name}_{k}": v for k, v in ev_params.items()})
    broken = st.session_state.get("live_broken_plugins") or []
    if broken:
        st.caption(f"{len(broken)} plug-in(s) failed to load")
        for e in broken:
            st.text(f"{e['file']}: {e['error']}")
    return params


def main_budget() -> dict[str, Any]:
    return dataclass_inputs(Budget, "live_budget", columns=1, start=DEMO_BUDGET,
                            only=lambda n: n == MAIN_BUDGET)


def other_budget_and_seed() -> tuple[dict[str, Any], int]:
    st.caption("Other limits (whichever comes first ends the run) and seed")
    budget = dataclass_inputs(Budget, "live_budget", columns=2, start=DEMO_BUDGET,
                              only=lambda n: n != MAIN_BUDGET)
    seed = st.number_input("seed", min_value=0, max_value=2**31 - 1, step=1, key="live_seed",
                           **_start("live_seed", value=0))
    return budget, int(seed)


def run_settings() -> tuple[str, str, str, dict[str, Any], dict[str, Any], int]:
    """The Live form: the essential settings in one row (task, puzzle, strategy, token budget)
    and the rest folded (the strategy's settings, other limits, seed). Returns (task, problem,
    strategy, params, budget, seed)."""
    c1, c2, c3, c4 = st.columns([2, 3, 2, 1.4])
    with c1:
        task_name, problem = task_and_problem(puzzle_col=c2)
    with c3:
        strategy = strategy_choice()
    with c4:
        budget = main_budget()
    with st.expander(f"More settings · {STRATEGIES[strategy].title} settings, other limits, seed",
                     expanded=False):
        m1, m2 = st.columns([3, 2])
        with m1:
            params = strategy_params(strategy)
        with m2:
            rest, seed = other_budget_and_seed()
    return task_name, problem or "", strategy, params, {**budget, **rest}, seed


def strategies_help() -> str:
    """Every strategy (plug-ins included) with its settings, for the experiment form's help."""
    plugins.ensure()
    lines = [f"- **{n}**: " + ", ".join(f"{f.name}={f.default}" for f in
                                        dataclasses.fields(c.Settings)) for n, c in STRATEGIES.items()]
    evals = [f"- evaluator **{n}**: " + ", ".join(f"{n}_{f.name}" for f in dataclasses.fields(c.Settings))
             for n, c in EVALUATORS.items() if c.Settings is not None]
    return ("Comma separated, each with optional settings: greedy,mcts:simulations=20,width=3. "
            "Available (with defaults):\n" + "\n".join(lines + evals))
