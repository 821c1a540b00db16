"""Parallel model calls within one run, with a tree that does not depend on how many are in flight.

``ctx.parallel`` (the model's ``capabilities["parallel"]``, from ``--parallel N`` or the model
panel) is how many requests may be in flight at once. The search decides *what* to ask in
batches whose content never depends on N; this module only decides how many of a batch's calls
run at the same time:

* :func:`propose_many` — one proposal per :class:`Ask`. Nodes are created in batch order (so
  ids are the same for any N), the model calls run concurrently, each streaming into its own
  node, and the steps are parsed and recorded in batch order afterwards;
* :func:`rollout_many` — one rollout node per parent (MCTS leaves); their k-th steps are one
  batch, so up to N rollouts stream at once;
* :func:`prefetch` — evaluator calls that are not nodes (value-prompt samples) are made
  concurrently ahead of time; :meth:`SearchContext.call` then takes the stored answer instead of
  calling the model, so its accounting and events stay sequential and in order.

The event log stays gap-free: worker threads only stream tokens, through the Recorder under one
lock; every other event is emitted by the search's own thread once the calls are back. With N = 1
the same batches run one call after another (no threads, the budget checked before each call).
With N > 1 a batch goes N calls at a time and the budget is checked between those groups: the
tree is the same for every N except at the budget's edge, where up to N − 1 more calls finish.
Prefetched calls the search never asks for (the budget ended first) are not counted.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .compute import purpose_of_role
from .engine import (
    BudgetExhausted,
    Cancelled,
    Child,
    SearchContext,
    completion_meta,
    finish_rollout,
    request_key,
    rollout,
)
from .models.base import GenRequest, ModelError
from .tasks.base import InvalidStep


@dataclass
class Ask:
    """One proposal to make: a child of ``parent`` (``exclude``: steps it must not repeat)."""
    parent: int
    temperature: float
    exclude: set[str] | None = None
    seed_k: int = 0
    role: str = "thought"


def propose_many(ctx: SearchContext, asks: list[Ask]) -> list[Child | None]:
    """:meth:`SearchContext.propose` for every ask, the calls ``ctx.parallel`` at a time.

    Returns one entry per ask, in order: None when no legal step is left for it. When the node
    budget cannot hold the whole batch, the nodes that fit are made and recorded and the run then
    ends with the budget (a partial batch is never silently dropped)."""
    if ctx.parallel <= 1:  # one after another: the budget is checked before every call
        return [ctx.propose(a.parent, a.temperature, a.role, a.exclude, a.seed_k) for a in asks]
    out: list[Child | None] = []
    for at in range(0, len(asks), ctx.parallel):  # N in flight, the budget checked between
        out += _propose_chunk(ctx, asks[at:at + ctx.parallel])
    return out


def _propose_chunk(ctx: SearchContext, asks: list[Ask]) -> list[Child | None]:
    ctx.check()
    reqs = [ctx.step_request(ctx.states[a.parent], a.temperature, a.parent, a.seed_k, a.exclude)
            for a in asks]
    room = ctx.budget.max_nodes - len(ctx.tree.nodes)
    wanted = [i for i, r in enumerate(reqs) if r is not None]
    cut = len(wanted) > room
    wanted = wanted[:max(0, room)]
    nodes = {i: ctx.new_node(asks[i].parent, asks[i].role) for i in wanted}
    outs = generate_many(ctx, [(nodes[i], reqs[i]) for i in wanted])
    out: list[Child | None] = [None] * len(asks)
    for i, got in zip(wanted, outs, strict=True):
        out[i] = ctx.finish_step(nodes[i], asks[i].parent, got, asks[i].exclude)
    if cut:
        raise BudgetExhausted(f"max_nodes {ctx.budget.max_nodes} reached")
    return out


def rollout_many(ctx: SearchContext, parents: list[int], temperature: float
                 ) -> list[tuple[int, bool | None, str | None]]:
    """:func:`~reasoning.engine.rollout` from each parent (same nodes, same ids), the rollouts'
    k-th steps made as one batch."""
    if ctx.parallel <= 1 or len(parents) <= 1:
        return [rollout(ctx, p, temperature) for p in parents]
    nodes = [ctx.new_node(p, "rollout") for p in parents]
    states = [ctx.states[p] for p in parents]
    steps: list[list[str]] = [[] for _ in parents]
    totals = [{"prompt_tokens": 0, "completion_tokens": 0} for _ in parents]
    reasons = ["depth limit reached"] * len(parents)
    limits = [ctx.task.max_depth - ctx.depth(p) for p in parents]
    live, failed = list(range(len(parents))), set()
    for k in range(max(limits, default=0)):
        jobs = []
        for i in list(live):
            req = None if k >= limits[i] or ctx.task.is_terminal(states[i]) else \
                ctx.step_request(states[i], temperature, nodes[i], k)
            if req is None:
                if k < limits[i] and not ctx.task.is_terminal(states[i]):
                    reasons[i] = "no legal step left"
                live.remove(i)
                continue
            if k:
                ctx.rec.tokens(nodes[i], "\n")
            jobs.append((i, req))
        if not jobs:
            break
        ctx.check()
        for (i, _), out in zip(jobs, generate_many(ctx, [(nodes[i], r) for i, r in jobs]),
                               strict=True):
            if out is None:  # the node is already failed with the model error
                failed.add(i)
                live.remove(i)
                continue
            text, meta = out
            for key in totals[i]:
                totals[i][key] += meta[key]
            try:
                step, states[i] = ctx.task.apply_step(ctx.problem, states[i], text)
            except InvalidStep as e:
                steps[i].append(text.strip())
                reasons[i] = str(e)
                live.remove(i)
                continue
            steps[i].append(step)
    return [(nodes[i], False, None) if i in failed else
            finish_rollout(ctx, nodes[i], states[i], steps[i], totals[i], reasons[i])
            for i in range(len(parents))]


def generate_many(ctx: SearchContext, jobs: list[tuple[int, GenRequest]]
                  ) -> list[tuple[str, dict[str, Any]] | None]:
    """Stream each request into its node; results (or None on a model error) in job order."""
    if ctx.parallel <= 1 or len(jobs) <= 1:
        return [ctx.generate(nid, req) for nid, req in jobs]
    ctx.rec.flush()  # readers see every node of the batch as generating
    lock = threading.Lock()

    def one(nid: int, req: GenRequest) -> Any:
        def on_chunk(text: str, reasoning: str) -> None:
            with lock:  # the Recorder numbers events: one writer at a time
                ctx.rec.tokens(nid, text, reasoning)
            if ctx.cancel.is_set():
                raise Cancelled()
        if ctx.cancel.is_set():
            return Cancelled()
        try:  # cut off at the time limit like a sequential call (reasoning/deadline.py)
            return ctx._model_call(req, on_chunk)
        except (ModelError, Cancelled, BudgetExhausted) as e:
            return e

    purposes = [purpose_of_role(ctx.tree.nodes[nid].role) for nid, _ in jobs]
    for p in purposes:
        ctx.compute.call(p)
    results = _run_all(ctx, [lambda n=n, r=r: one(n, r) for n, r in jobs], count=False)
    if any(isinstance(r, Cancelled) for r in results):
        raise Cancelled()
    for r in results:
        if isinstance(r, BudgetExhausted):
            raise r
    out: list[tuple[str, dict[str, Any]] | None] = []
    for (nid, _), r, purpose in zip(jobs, results, purposes, strict=True):
        if isinstance(r, ModelError):
            ctx._model_failed(nid, r)   # may end the run (too many errors), like a sequential call
            out.append(None)
        else:
            ctx._errors = 0
            ctx.compute.used(purpose, r.prompt_tokens, r.completion_tokens)
            out.append((r.text, completion_meta(r)))
    return out


def prefetch(ctx: SearchContext, reqs: Iterable[GenRequest]) -> None:
    """Make these non-node calls now, concurrently; ``ctx.call`` later takes their answers."""
    if ctx.parallel <= 1:
        return
    todo: dict[tuple, GenRequest] = {}
    for r in reqs:
        key = request_key(r)
        if key not in ctx.prefetched:
            todo.setdefault(key, r)
    if len(todo) <= 1:
        return

    def one(req: GenRequest) -> Any:
        if ctx.cancel.is_set():
            return None
        try:
            return ctx._model_call(req, None)
        except (BudgetExhausted, Cancelled):
            return None  # never asked for: the run ends before it needs this answer
        except ModelError as e:
            return e

    results = _run_all(ctx, [lambda r=r: one(r) for r in todo.values()], count=False)
    for key, res in zip(todo, results, strict=True):
        if res is not None:
            ctx.prefetched[key] = res


def prefetch_scores(ctx: SearchContext, evaluator: Any, node_ids: list[int]) -> None:
    """Prefetch the calls an evaluator will make for these nodes (if it can say which)."""
    plan = getattr(evaluator, "plan", None)
    if ctx.parallel <= 1 or plan is None:
        return
    reqs: list[GenRequest] = []
    planned: set[str] = set()
    for nid in node_ids:
        mine = plan(ctx, nid)
        if mine and str(mine[0].prompt) in planned:
            continue  # the same prompt as an earlier node: the evaluator's cache answers it
        planned.update(str(r.prompt) for r in mine)
        reqs += mine
    prefetch(ctx, reqs)


def _run_all(ctx: SearchContext, calls: list[Any], count: bool = True) -> list[Any]:
    """Run the calls ``ctx.parallel`` at a time; wall time counts as model time once."""
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(ctx.parallel, len(calls)),
                            thread_name_prefix="thinktree-call") as pool:
        results = [f.result() for f in [pool.submit(c) for c in calls]]
    ctx.model_seconds += time.perf_counter() - t
    if count:
        ctx.model_calls += len(calls)
    return results
