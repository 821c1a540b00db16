"""Running a search: the driver that wraps a run, and the rollout helper strategies share.

A strategy only calls :class:`~reasoning.search_context.SearchContext` helpers (``root``,
``propose``, ``prune`` …; the class lives in :mod:`reasoning.search_context` and is importable from
here); :func:`run_search` creates the context, runs the strategy and always ends the run with one
``run_finished`` event. Strategies never see prompts or storage.
"""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

from . import events as ev
from .compute import BudgetExhausted
from .evaluator_accuracy import truth_counts
from .models.base import Model
from .recorder import Recorder, Sink
from .run_events import run_finished, run_started
from .search_context import (
    Cancelled,
    Child,
    SearchContext,
    TooManyModelErrors,
    completion_meta,
    request_key,
    terminal_flag,
)
from .settings import Budget
from .tasks.base import InvalidStep, Problem, Task
from .tree import GENERATING

# strategies, evaluators and plug-ins import these from here (``from reasoning.engine import …``)
__all__ = ["BudgetExhausted", "Cancelled", "Child", "Result", "SearchContext", "TooManyModelErrors",
           "completion_meta", "finish_rollout", "request_key", "rollout", "run_search",
           "truth_counts"]


@dataclass
class Result:
    outcome: str
    answer: str | None = None
    answer_node: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def run_search(strategy: Any, task: Task, problem: Problem, model: Model, *, run_id: int | str,
               budget: Budget, seed: int = 0, sink: Sink | None = None,
               cancel: threading.Event | None = None, info: dict[str, Any] | None = None,
               recorder: Recorder | None = None) -> tuple[Result, Recorder]:
    """Run ``strategy`` and always end with one ``run_finished`` event (whatever happens)."""
    rec = recorder or Recorder(run_id, sink)
    ctx = SearchContext(task, problem, model, rec, budget, seed, cancel)
    rec.emit(run_started(task, problem, strategy, model.describe(), budget, seed,
                         {"protocol": getattr(strategy, "protocol", "constrained"), **(info or {})}))
    try:
        result = strategy.run(ctx)
    except BudgetExhausted as e:
        result = strategy.best_effort(ctx, "budget", str(e))
    except Cancelled:
        result = strategy.best_effort(ctx, "cancelled", "stopped by the user")
    except TooManyModelErrors as e:
        result = Result("error", detail=str(e))
    except Exception as e:  # a bug or an unexpected failure: still end the run cleanly
        result = Result("error", detail=f"{type(e).__name__}: {e}",
                        extra={"traceback": traceback.format_exc(limit=-8)})
    result = _answered_if_unverifiable(ctx, result)
    tree = rec.tree
    _close_open_generations(rec, result)
    metrics = {**truth_counts(tree, ctx.rejected, ctx.capacity_cut),
               **(strategy.evaluator_metrics() if hasattr(strategy, "evaluator_metrics") else {}),
               **result.extra}
    extra: dict[str, Any] = {}
    if ctx.eval_tokens or ctx.eval_prompt_tokens:
        extra.update(eval_tokens=ctx.eval_tokens, eval_prompt_tokens=ctx.eval_prompt_tokens)
    rec.emit(run_finished(result, metrics, nodes=len(tree.nodes), tokens=tree.tokens,
                          prompt_tokens=tree.prompt_tokens + ctx.eval_prompt_tokens,
                          model_calls=ctx.model_calls, model_seconds=round(ctx.model_seconds, 4),
                          seconds=round(rec.elapsed(), 4), **ctx.compute.summary(info), **extra))
    rec.flush()
    return result, rec


def _answered_if_unverifiable(ctx: SearchContext, result: Result) -> Result:
    """A task without a verifier cannot *fail* on an answer: a strategy's "failed" (no verified
    solution) becomes "answered" when the search reached an answer — preferably on the path it
    chose (``answer_node`` or below it), else the latest answer found. Without any answer it
    stays "failed"."""
    if ctx.task.has_verifier or result.outcome != "failed" or not ctx.answers:
        return result
    below = [n for n in ctx.answers
             if result.answer_node is not None and result.answer_node in ctx.tree.path_to(n)]
    node = max(below or ctx.answers)
    return Result("answered", ctx.answers[node], node,
                  f"no verifier; answer from node {node} ({result.detail})" if result.detail
                  else f"no verifier; answer from node {node}", result.extra)


def _close_open_generations(rec: Recorder, result: Result) -> None:
    """A node still streaming when the run ends keeps its text and is marked failed."""
    why = {"cancelled": "stopped by the user while generating",
           "budget": f"budget reached while generating ({result.detail})"}
    for node in list(rec.tree.nodes.values()):
        if node.state == GENERATING:
            rec.emit(ev.NodeCompleted(text=node.text, finish_reason="aborted"), node.id)
            rec.emit(ev.NodeFailed(reason=why.get(result.outcome, f"run ended: {result.detail}")),
                     node.id)


def rollout(ctx: SearchContext, parent_id: int, temperature: float, max_steps: int | None = None,
            role: str = "rollout") -> tuple[int, bool | None, str | None]:
    """Play steps from ``parent_id`` to a terminal state inside ONE node (role ``rollout``).

    Each step is a separate model call (constrained to legal moves where supported); the node's
    text is the steps, one per line. Returns (node id, verdict correct?, answer). An invalid step
    or the depth limit ends the rollout as failed.
    """
    nid = ctx.new_node(parent_id, role)
    state = ctx.states[parent_id]
    steps: list[str] = []
    totals = {"prompt_tokens": 0, "completion_tokens": 0}
    limit = max_steps if max_steps is not None else ctx.task.max_depth - ctx.depth(parent_id)
    reason = "depth limit reached"
    for k in range(max(0, limit)):
        if ctx.task.is_terminal(state):
            break
        req = ctx.step_request(state, temperature, nid, k)
        if req is None:
            reason = "no legal step left"
            break
        if k:
            ctx.rec.tokens(nid, "\n")
        out = ctx.generate(nid, req)
        if out is None:
            return nid, False, None
        text, meta = out
        for key in totals:
            totals[key] += meta[key]
        try:
            step, state = ctx.task.apply_step(ctx.problem, state, text)
        except InvalidStep as e:
            steps.append(text.strip())
            reason = str(e)
            break
        steps.append(step)
    return finish_rollout(ctx, nid, state, steps, totals, reason)


def finish_rollout(ctx: SearchContext, nid: int, state: Any, steps: list[str],
                   totals: dict[str, int], reason: str) -> tuple[int, bool | None, str | None]:
    """Record a played-out rollout node (its steps, the final verdict); see :func:`rollout`."""
    verdict = ctx.task.verify(ctx.problem, state) if ctx.task.is_terminal(state) else None
    ctx.complete(nid, "\n".join(steps), label=ctx.task.describe(state), **totals,
                 **terminal_flag(verdict))
    if verdict is None:
        ctx.fail(nid, f"rollout ended: {reason}")
        return nid, False, None
    ctx.states[nid] = state
    if verdict.correct:
        ctx.solve(nid, verdict.answer, verdict.reason)
    elif verdict.correct is False:
        ctx.fail(nid, verdict.reason, verdict.answer)
    else:
        ctx.answers[nid] = verdict.answer
    return nid, verdict.correct, verdict.answer

