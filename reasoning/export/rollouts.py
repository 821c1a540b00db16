"""Drawing the rollouts step values need: which steps, what it costs, and the draw itself."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..tree import FAILED, SOLVED, Tree
from .common import STEP_ROLES, Filters, outcome_counts, steps_on_path
from .prompts import Prompter, task_and_problem


def nodes_needing_rollouts(tree: Tree, filters: Filters | None = None) -> list[int]:
    """Step nodes with a valid, non-terminal step and no outcome below them yet."""
    f = filters or Filters()
    counts = outcome_counts(tree)
    return [n.id for n in sorted(tree.nodes.values(), key=lambda n: n.id)
            if n.role in STEP_ROLES and n.parent_id is not None and n.step
            and counts[n.id][0] == 0 and n.state not in (SOLVED, FAILED)
            and not n.reason.startswith("duplicate") and f.depth_ok(n.depth)]


DEFAULT_SECONDS_PER_STEP = 0.75  # embedded Gemma 270M, one Game-of-24 step, uncontended


def estimate_rollout_budget(trees: Iterable[Tree], n: int, filters: Filters | None = None,
                            seconds_per_step: float | None = None,
                            max_depth: int | None = None) -> dict[str, Any]:
    """What :func:`compute_rollouts` would cost: nodes, rollouts, model calls (upper bound), time.

    A rollout from depth ``d`` takes at most ``max_depth - d`` model calls (one per step). The
    time per call is, unless given, measured on these runs (their ``model_seconds`` /
    ``model_calls``), else :data:`DEFAULT_SECONDS_PER_STEP`.
    """
    if n < 1:
        raise ValueError(f"rollouts: n must be >= 1, got {n!r}")
    trees = list(trees)
    source = "given"
    if seconds_per_step is None:
        calls_made = sum(int(t.finished.get("model_calls") or 0) for t in trees)
        seconds = sum(float(t.finished.get("model_seconds") or 0.0) for t in trees)
        seconds_per_step, source = (seconds / calls_made, "measured on these runs") if calls_made \
            else (DEFAULT_SECONDS_PER_STEP, "default for the embedded model")
    nodes = calls = 0
    for tree in trees:
        depth_limit = max_depth if max_depth is not None else _task_depth(tree)
        for nid in nodes_needing_rollouts(tree, filters):
            nodes += 1
            calls += n * max(1, depth_limit - tree.nodes[nid].depth)
    return {"nodes": nodes, "rollouts": nodes * n, "max_model_calls": calls,
            "est_seconds": round(calls * seconds_per_step, 1),
            "seconds_per_step": round(seconds_per_step, 3), "seconds_per_step_source": source}


def _task_depth(tree: Tree) -> int:
    try:
        return task_and_problem(tree.info)[0].max_depth
    except (ValueError, OSError):
        return 8


def compute_rollouts(tree: Tree, events: list, model: Any, n: int,
                     filters: Filters | None = None, temperature: float = 1.0,
                     cancel: Any = None) -> list:
    """Draw ``n`` rollouts (role ``rollout``) below every node that has none; return new events.

    ``events`` is the run's full event log (``tree`` is its fold). The new events continue its
    ``seq`` numbering, so appending them to the run's log and folding again gives the tree with
    the rollouts in it; the caller decides whether to store them. The set of nodes is fixed
    before the first rollout, so every such node gets exactly ``n`` (a deeper node's rollouts
    do not excuse its parent). Raises ``ValueError`` when the task is unknown.
    """
    from ..engine import (
        Cancelled,
        Result,
        SearchContext,
        TooManyModelErrors,
        _close_open_generations,
        rollout,
    )
    from ..recorder import Recorder
    from ..settings import MAX_NODES_LIMIT, MAX_SECONDS_LIMIT, MAX_TOKENS_LIMIT, Budget
    from ..tree import fold

    targets = nodes_needing_rollouts(tree, filters)
    if not targets or n < 1:
        return []
    task, problem = task_and_problem(tree.info)
    rec = Recorder(tree.run_id)
    rec.tree = fold(events)  # a private copy that the new events extend
    rec.t0 = rec.clock() - rec.tree.t
    rec._next_node = max(rec.tree.nodes) + 1
    budget = Budget(MAX_NODES_LIMIT, MAX_TOKENS_LIMIT, MAX_SECONDS_LIMIT)
    ctx = SearchContext(task, problem, model, rec, budget, seed=int(tree.info.get("seed", 0) or 0),
                        cancel=cancel)
    prompter = Prompter(tree, "task")
    try:
        for nid in targets:
            ctx.states[nid] = prompter.state_after(steps_on_path(tree, nid))
            for _ in range(n):
                rollout(ctx, nid, temperature)
    except (Cancelled, TooManyModelErrors):
        pass  # keep what was drawn; a rollout cut off mid-way is failed with finish "aborted"
    _close_open_generations(rec, Result("cancelled", detail="rollouts stopped"))
    rec.flush()
    return list(rec.events)
