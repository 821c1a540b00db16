"""Drawing the rollouts step values need: which steps, what it costs, and the draw itself."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
from ..tree import FAILED, SOLVED, Tree
from .common import STEP_ROLES, Filters, direct_counts, steps_on_path
from .prompts import Prompter, task_and_problem


def rollouts_needed(tree: Tree, filters: Filters | None = None, n: int = 1) -> dict[int, int]:
    """Step node id -> how many more completions of that step give it ``n`` direct ones.

    Every valid, non-terminal step node with fewer than ``n`` completions of its own
    (:func:`~reasoning.export.common.direct_counts`) — outcomes further down the search do not
    count, they are not samples of this step.
    """
    f = filters or Filters()
    direct = direct_counts(tree)
    return {node.id: n - direct[node.id][0]
            for node in sorted(tree.nodes.values(), key=lambda x: x.id)
            if node.role in STEP_ROLES and node.parent_id is not None and node.step
            and direct[node.id][0] < n and node.state not in (SOLVED, FAILED)
            and not node.reason.startswith("duplicate") and f.depth_ok(node.depth)}


def nodes_needing_rollouts(tree: Tree, filters: Filters | None = None, n: int = 1) -> list[int]:
    """The step nodes with fewer than ``n`` completions of their own (see :func:`rollouts_needed`)."""
    return list(rollouts_needed(tree, filters, n))


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
    nodes = calls = rollouts = 0
    for tree in trees:
        depth_limit = max_depth if max_depth is not None else _task_depth(tree)
        for nid, k in rollouts_needed(tree, filters, n).items():
            nodes += 1
            rollouts += k
            calls += k * max(1, depth_limit - tree.nodes[nid].depth)
    return {"nodes": nodes, "rollouts": rollouts, "max_model_calls": calls,
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
    """Give every step ``n`` completions of its own: draw the missing rollouts (role ``rollout``)
    below each step that has fewer; return the new events.

    ``events`` is the run's full event log (``tree`` is its fold). The new events continue its
    ``seq`` numbering, so appending them to the run's log and folding again gives the tree with
    the rollouts in it; the caller decides whether to store them. The set of nodes is fixed
    before the first rollout, so every such node ends with exactly ``n`` direct completions (a
    deeper node's rollouts do not excuse its parent). A step the task cannot replay is skipped.
    Raises ``ValueError`` when the task is unknown.
    """
    targets = rollouts_needed(tree, filters, n) if n >= 1 else {}
    if not targets:
        return []
    task, problem = task_and_problem(tree.info)
    rec = Recorder(tree.run_id)
    rec.resume(events)  # a private copy of the run that the new events extend
    budget = Budget(MAX_NODES_LIMIT, MAX_TOKENS_LIMIT, MAX_SECONDS_LIMIT)
    ctx = SearchContext(task, problem, model, rec, budget, seed=int(tree.info.get("seed", 0) or 0),
                        cancel=cancel)
    prompter = Prompter(tree, "task")
    try:
        for nid, missing in targets.items():
            try:
                ctx.states[nid] = prompter.state_after(steps_on_path(tree, nid))
            except ValueError:   # not a step this task replays (e.g. a ToT "Answer:" line)
                continue
            for _ in range(missing):
                rollout(ctx, nid, temperature)
    except (Cancelled, TooManyModelErrors):
        pass  # keep what was drawn; a rollout cut off mid-way is failed with finish "aborted"
    _close_open_generations(rec, Result("cancelled", detail="rollouts stopped"))
    rec.flush()
    return list(rec.events)
