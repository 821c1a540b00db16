"""Running a search: the context strategies work through, and the driver that wraps a run.

A strategy only calls :class:`SearchContext` helpers (``root``, ``propose``, ``rollout`` …); the
context talks to the task and the model, checks budgets and cancellation, and emits events
through the :class:`~reasoning.recorder.Recorder`. Strategies never see prompts or storage.
"""
from __future__ import annotations

import random
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from . import events as ev
from .compute import BudgetExhausted, Compute, Metered, purpose_of_role
from .deadline import call_until
from .making import EventMaker, run_finished, run_started
from .models.base import GenRequest, Model, ModelConnectError, ModelError
from .recorder import Recorder, Sink
from .settings import Budget
from .tasks.base import InvalidStep, Problem, Task, Verdict, step_prompt
from .tree import GENERATING, SOLVED
from .truth import truth_counts


class Cancelled(Exception):
    """The user stopped the run."""


class TooManyModelErrors(Exception):
    """The model failed repeatedly; the run ends with outcome ``error``."""


@dataclass
class Child:
    """A proposed node: its id, the parsed step (None if invalid) and the task state after it."""
    node_id: int
    step: str | None
    state: Any
    terminal: bool = False
    correct: bool | None = None
    reason: str = ""
    error: bool = False  # the model failed (the node is failed, not pruned)


@dataclass
class Result:
    outcome: str
    answer: str | None = None
    answer_node: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class SearchContext(Metered, EventMaker):
    MAX_CONSECUTIVE_ERRORS = 3

    def __init__(self, task: Task, problem: Problem, model: Model, recorder: Recorder,
                 budget: Budget, seed: int = 0, cancel: threading.Event | None = None) -> None:
        self.task, self.problem, self.model, self.rec = task, problem, model, recorder
        self.budget = budget
        self.seed = seed
        self.rng = random.Random(seed)
        self.cancel = cancel or threading.Event()
        self.states: dict[int, Any] = {}
        self.answers: dict[int, str | None] = {}  # terminal nodes no verifier judged (answered)
        self._errors = 0
        self.compute = Compute()       # calls and tokens by purpose (proposal, value, …)
        self.notes: list[tuple[int, str]] = []  # (reflection node, text): fed to step prompts
        self.model_seconds = 0.0       # wall time inside model calls, minus our callbacks
        self.callback_seconds = 0.0
        # model calls that are not nodes (value prompts): their tokens still count in the budget
        self.eval_tokens = 0
        self.eval_prompt_tokens = 0
        self.rejected: set[int] = set()  # nodes an evaluator cut (for false prunes / keeps)
        self.capacity_cut: set[int] = set()  # of those, cut only for room (outside the beam)
        # model calls in flight at once (reasoning.parallel); the tree never depends on it
        self.parallel = max(1, int(getattr(model, "capabilities", {}).get("parallel") or 1))
        self.prefetched: dict[tuple, Any] = {}  # request_key -> Completion | ModelError

    # -- budget and cancellation --------------------------------------------------------------
    @property
    def tree(self):
        return self.rec.tree

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()
        self.check_budget()

    def _model_call(self, req: GenRequest, on_chunk) -> Any:
        """The model call, cut off at the time limit or on Stop even mid-answer (deadline.py)."""
        left = self.budget.max_seconds - self.rec.elapsed()
        return call_until(self.model.generate, req, on_chunk, time.monotonic() + left, self.cancel,
                          lambda why: Cancelled() if why == "cancelled" else BudgetExhausted(
                              f"time limit: max_seconds {self.budget.max_seconds:g} reached"))

    # -- nodes ------------------------------------------------------------------------------
    def root(self) -> int:
        nid = self.rec.new_node_id()
        state = self.task.initial_state(self.problem)
        self.states[nid] = state
        self.rec.emit(ev.NodeCreated(parent_id=None, depth=0, role="problem",
                                     label=self.task.describe(state)), nid)
        self.complete(nid, self.problem.text, label=self.task.describe(state))
        return nid

    def new_node(self, parent_id: int, role: str = "thought") -> int:
        self.check()
        self._check_nodes()
        nid = self.rec.new_node_id()
        depth = self.tree.nodes[parent_id].depth + 1
        notes = [i for i, _ in self.notes] if self.notes and role != "reflection" else None
        self.rec.emit(ev.NodeCreated(parent_id=parent_id, depth=depth, role=role, notes=notes), nid)
        return nid

    def generate(self, node_id: int, req: GenRequest, purpose: str | None = None
                 ) -> tuple[str, dict[str, Any]] | None:
        """Stream one completion into ``node_id``; None (the node failed) on a model error.
        ``purpose`` defaults to the node's role's; budgets are checked before the call."""
        def on_chunk(text: str, reasoning: str) -> None:
            c0 = time.perf_counter()  # our own work inside the call is not model time
            self.rec.tokens(node_id, text, reasoning)
            self.callback_seconds += time.perf_counter() - c0
            if self.cancel.is_set():
                raise Cancelled()
        purpose = purpose or purpose_of_role(self.tree.nodes[node_id].role)
        self.check()
        self.compute.call(purpose)
        self.rec.flush()  # readers see the new node as generating before the model call blocks
        t, cb = time.perf_counter(), self.callback_seconds
        try:
            comp = self._model_call(req, on_chunk)
        except ModelError as e:
            self.model_seconds += time.perf_counter() - t - (self.callback_seconds - cb)
            self._model_failed(node_id, e)
            return None
        self.model_seconds += time.perf_counter() - t - (self.callback_seconds - cb)
        self._errors = 0
        self.compute.used(purpose, comp.prompt_tokens, comp.completion_tokens)
        return comp.text, completion_meta(comp)

    def call(self, req: GenRequest, purpose: str = "value") -> tuple[str, dict[str, Any]] | None:
        """One model call that is not a node (e.g. a value-prompt sample); None on a model error.
        Its tokens count towards the token budget (``eval_tokens``), under ``purpose``; repeated
        errors end the run like errors on nodes do."""
        def on_chunk(text: str, reasoning: str) -> None:
            if self.cancel.is_set():
                raise Cancelled()
        self.check()
        self.compute.call(purpose)
        t = self.rec.elapsed()
        try:  # a parallel batch may already have made this exact call (reasoning.parallel)
            comp = self.prefetched.pop(request_key(req), None) or self._model_call(req, on_chunk)
            if isinstance(comp, ModelError):
                raise comp
        except ModelError as e:
            self.model_seconds += self.rec.elapsed() - t
            self._errors += 1
            if isinstance(e, ModelConnectError) or self._errors >= self.MAX_CONSECUTIVE_ERRORS:
                raise TooManyModelErrors(e.reason()) from e
            return None
        self.model_seconds += self.rec.elapsed() - t
        self._errors = 0
        self.eval_tokens += comp.completion_tokens
        self.eval_prompt_tokens += comp.prompt_tokens
        self.compute.used(purpose, comp.prompt_tokens, comp.completion_tokens)
        return comp.text, {"finish_reason": comp.finish_reason,
                           "prompt_tokens": comp.prompt_tokens,
                           "completion_tokens": comp.completion_tokens}

    def _model_failed(self, node_id: int, e: ModelError) -> None:
        self._errors += 1
        node = self.tree.nodes[node_id]
        self.complete(node_id, e.partial or node.text, finish_reason="error")
        self.fail(node_id, e.reason())
        if isinstance(e, ModelConnectError) or self._errors >= self.MAX_CONSECUTIVE_ERRORS:
            raise TooManyModelErrors(e.reason()) from e

    def request_seed(self, node_id: int, k: int = 0) -> int:
        return (self.seed * 1_000_003 + node_id * 7919 + k) % (2**31 - 1)

    def step_request(self, state: Any, temperature: float, node_id: int, k: int = 0,
                     exclude: set[str] | None = None) -> GenRequest | None:
        choices = None
        if self.model.capabilities.get("constraint"):
            legal = self.task.legal_steps(state)
            if legal is not None:
                choices = [s for s in legal if s not in (exclude or set())]
                if not choices:
                    return None
        return GenRequest(prompt=step_prompt(self.task, self.problem, state, self.model.mode, self.notes),
                          max_tokens=self.task.step_max_tokens, temperature=temperature,
                          seed=self.request_seed(node_id, k), stop=self.task.stop(),
                          choices=choices)

    def propose(self, parent_id: int, temperature: float = 0.0, role: str = "thought",
                exclude: set[str] | None = None, seed_k: int = 0) -> Child | None:
        """Ask the model for one step from ``parent_id``'s state and record the child node.

        Returns None when no legal step is left (all excluded). Invalid or duplicate steps come
        back as a pruned child (``step`` None); terminal steps are verified at once.
        """
        state = self.states[parent_id]
        req = self.step_request(state, temperature, parent_id, seed_k, exclude)
        if req is None:
            return None
        nid = self.new_node(parent_id, role)
        return self.finish_step(nid, parent_id, self.generate(nid, req), exclude)

    def finish_step(self, nid: int, parent_id: int, out: tuple[str, dict[str, Any]] | None,
                    exclude: set[str] | None = None) -> Child:
        """The second half of :meth:`propose`: parse the generated text of ``nid`` into a step
        from ``parent_id``'s state, record it and verify a terminal. Parallel proposals
        (:mod:`reasoning.parallel`) generate first and call this in creation order."""
        state = self.states[parent_id]
        if out is None:
            return Child(nid, None, None, reason=self.tree.nodes[nid].reason, error=True)
        text, meta = out
        try:
            step, new_state = self.task.apply_step(self.problem, state, text)
        except InvalidStep as e:
            self.complete(nid, text, **meta)
            self.prune(nid, str(e), kind="invalid")
            return Child(nid, None, None, reason=str(e))
        terminal = self.task.is_terminal(new_state)
        verdict = self.task.verify(self.problem, new_state) if terminal else None
        self.complete(nid, text, step, label=self.task.describe(new_state), **meta,
                      **_terminal_flag(verdict))
        if exclude is not None and step in exclude:
            self.prune(nid, "duplicate: same step as a sibling", kind="duplicate")
            return Child(nid, None, None, reason="duplicate")
        self.states[nid] = new_state
        child = Child(nid, step, new_state)
        if verdict is not None:
            self._judge(child, verdict)
        return child

    def _judge(self, child: Child, verdict: Verdict) -> None:
        child.terminal, child.correct, child.reason = True, verdict.correct, verdict.reason
        if verdict.correct is True:
            self.solve(child.node_id, verdict.answer, verdict.reason)
        elif verdict.correct is False:
            self.fail(child.node_id, verdict.reason, verdict.answer)
        else:  # no verifier (free questions): the node is *answered*, stays open, never failed
            self.answers[child.node_id] = verdict.answer

    def depth(self, node_id: int) -> int:
        return self.tree.nodes[node_id].depth

    def is_solved(self, node_id: int) -> bool:
        return self.tree.nodes[node_id].state == SOLVED

    def answer_of(self, node_id: int) -> str | None:
        return self.tree.nodes[node_id].answer or self.answers.get(node_id)


def completion_meta(comp: Any) -> dict[str, Any]:
    """The node_completed fields of a node's completion (besides its text)."""
    return {"reasoning": comp.reasoning, "finish_reason": comp.finish_reason,
            "prompt_tokens": comp.prompt_tokens, "completion_tokens": comp.completion_tokens,
            "usage_estimated": comp.usage_estimated}


def request_key(req: GenRequest) -> tuple:
    """Identifies a request: equal keys are the same call (same prompt, seed and limits)."""
    return (str(req.prompt), req.seed, req.temperature, req.max_tokens, tuple(req.stop),
            tuple(req.choices) if req.choices is not None else None)


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
                 **_terminal_flag(verdict))
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


def _terminal_flag(verdict: Verdict | None) -> dict[str, Any]:
    """``terminal: true`` (and the answer) in a node_completed payload marks a node that ends
    with an answer — what a user may later mark correct/wrong, even when no verifier judged it."""
    return {"terminal": True, "answer": verdict.answer} if verdict is not None else {}

