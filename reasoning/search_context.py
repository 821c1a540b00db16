"""The search context: the one object a strategy (and an evaluator) works through.

A strategy never sees prompts, the model, storage or event fields. It asks the context for a
node (``root``, ``propose``, ``new_node`` + ``generate``, ``call`` for a model call that is not a
node) and says what happened to it (``prune``, ``score``, ``solve``, ``backtrack`` …); the context
builds the task's prompt, calls the model (cut off at the time limit or on Stop), counts the
compute, checks every budget limit before new work, and emits the typed events through its
:class:`~reasoning.recorder.Recorder`. :class:`SearchContext` is one class, read top to bottom:

* what it holds (``__init__``: every attribute, typed);
* budget and cancellation (``check``; a limit raises :class:`~reasoning.compute.BudgetExhausted`);
* model calls (``generate`` into a node, ``call`` for values; repeated errors end the run);
* nodes (``root``, ``new_node``, ``propose`` / ``finish_step``, and questions about a node);
* search events (``complete``, ``prune``, ``score`` …): the only code that builds them.

:func:`reasoning.engine.run_search` creates one per run and always ends the run.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import events as ev
from .compute import BudgetExhausted, Compute, purpose_of_role
from .deadline import call_until
from .models.base import Completion, GenRequest, Model, ModelConnectError, ModelError
from .recorder import Recorder
from .run_events import typed_split
from .settings import Budget
from .tasks.base import InvalidStep, Problem, Task, Verdict, step_prompt
from .tree import SOLVED, Tree


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


class SearchContext:
    """Everything a running search has and does (see the module's docstring for the sections)."""
    MAX_CONSECUTIVE_ERRORS = 3

    def __init__(self, task: Task, problem: Problem, model: Model, recorder: Recorder,
                 budget: Budget, seed: int = 0, cancel: threading.Event | None = None) -> None:
        # what is searched, with what, and where it is recorded
        self.task: Task = task
        self.problem: Problem = problem
        self.model: Model = model
        self.rec: Recorder = recorder            # numbers, emits and folds the events (``tree``)
        # limits and randomness
        self.budget: Budget = budget
        self.seed: int = seed
        self.rng: random.Random = random.Random(seed)
        self.cancel: threading.Event = cancel or threading.Event()   # set by Stop
        # what the search knows beyond the tree
        self.states: dict[int, Any] = {}          # node -> the task's state after its step
        self.answers: dict[int, str | None] = {}  # terminal nodes no verifier judged (answered)
        self.notes: list[tuple[int, str]] = []    # (reflection node, text): fed to step prompts
        self.rejected: set[int] = set()           # nodes an evaluator cut (for false prunes / keeps)
        self.capacity_cut: set[int] = set()       # of those, cut only for room (outside the beam)
        # compute: calls and tokens by purpose (proposal, value, …), time inside the model
        self.compute: Compute = Compute()
        self.model_seconds: float = 0.0           # wall time inside model calls, minus our callbacks
        self.callback_seconds: float = 0.0
        # model calls that are not nodes (value prompts): their tokens still count in the budget
        self.eval_tokens: int = 0
        self.eval_prompt_tokens: int = 0
        self._errors: int = 0                     # consecutive model errors (3 end the run)
        # model calls in flight at once (reasoning.parallel); the tree never depends on it
        self.parallel: int = max(1, int(getattr(model, "capabilities", {}).get("parallel") or 1))
        self.prefetched: dict[tuple, Completion | ModelError] = {}  # request_key -> its answer

    @property
    def tree(self) -> Tree:
        """The tree so far (the recorder folds every event as it is emitted)."""
        return self.rec.tree

    # -- budget and cancellation --------------------------------------------------------------
    @property
    def model_calls(self) -> int:
        return self.compute.n_calls

    @model_calls.setter
    def model_calls(self, value: int) -> None:
        # code that counts a call by bumping this number still counts it, under "other"
        if value > self.compute.n_calls:
            self.compute.call("other", value - self.compute.n_calls)

    def check(self) -> None:
        """Stop here if the user cancelled or a budget limit is reached (before any new work)."""
        if self.cancel.is_set():
            raise Cancelled()
        self.check_budget()

    def check_budget(self) -> None:
        if self.rec.elapsed() >= self.budget.max_seconds:
            raise BudgetExhausted(f"time limit: max_seconds {self.budget.max_seconds:g} reached")
        # evaluator tokens reach tree.tokens through their node_scored details (see tree.py)
        if self.tree.tokens >= self.budget.max_tokens:
            raise BudgetExhausted(f"max_tokens {self.budget.max_tokens} reached")
        over = self.compute.over(self.budget)
        if over:
            raise BudgetExhausted(over)

    def _check_nodes(self) -> None:
        if len(self.tree.nodes) >= self.budget.max_nodes:
            raise BudgetExhausted(f"max_nodes {self.budget.max_nodes} reached")

    # -- model calls --------------------------------------------------------------------------
    def _model_call(self, req: GenRequest, on_chunk: Callable[[str, str], None] | None) -> Completion:
        """The model call, cut off at the time limit or on Stop even mid-answer (deadline.py)."""
        left = self.budget.max_seconds - self.rec.elapsed()
        return call_until(self.model.generate, req, on_chunk, time.monotonic() + left, self.cancel,
                          lambda why: Cancelled() if why == "cancelled" else BudgetExhausted(
                              f"time limit: max_seconds {self.budget.max_seconds:g} reached"))

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
                      **terminal_flag(verdict))
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

    # -- search events: the only code that builds them ----------------------------------------
    def complete(self, node_id: int, text: str, step: str | None = None, **fields: Any) -> None:
        """The node's generation ended (text, parsed step, tokens, finish reason, label …)."""
        self.rec.emit(ev.NodeCompleted(text=text, step=step,
                                       **typed_split(ev.NodeCompleted, fields)), node_id)

    def prune(self, node_id: int, reason: str, value: float | None = None,
              kind: str | None = None, duplicate_of: int | None = None) -> None:
        """Cut the node: ``kind`` says why in one word (threshold, capacity, invalid, duplicate)."""
        self.rec.emit(ev.NodePruned(reason=reason, value=value, kind=kind,
                                    duplicate_of=duplicate_of), node_id)

    def backtrack(self, node_id: int, reason: str, value: float | None = None) -> None:
        """The search returns from the node (dead end, children exhausted, rejected)."""
        self.rec.emit(ev.NodeBacktracked(reason=reason, value=value), node_id)

    def solve(self, node_id: int, answer: str | None, reason: str = "") -> None:
        """The verifier (or the strategy's own check) accepted the node's answer."""
        self.rec.emit(ev.NodeSolved(reason=reason, answer=answer), node_id)

    def fail(self, node_id: int, reason: str, answer: str | None = None) -> None:
        """The node is failed: the verifier rejected it, or its generation failed."""
        self.rec.emit(ev.NodeFailed(reason=reason, answer=answer), node_id)

    def score(self, node_id: int, value: float | None, evaluator: str,
              details: dict[str, Any] | None = None, truth: bool | None = None,
              reason: str | None = None, **fields: Any) -> None:
        """An evaluator's value for the node (native scale) and, where known, the exact truth."""
        self.rec.emit(ev.NodeScored(value=value, evaluator=evaluator, details=details or {},
                                    truth=truth, reason=reason,
                                    **typed_split(ev.NodeScored, fields)), node_id)

    def backprop(self, leaf_id: int, reward: float, path: list[int],
                 updates: list[list[float]]) -> None:
        """One MCTS backpropagation: ``updates`` = [node, visits, value_sum] along ``path``."""
        self.rec.emit(ev.MctsBackprop(reward=reward, path=path, updates=updates), leaf_id)

    def note(self, parent_id: int, text: str, role: str, label: str = "",
             meta: dict[str, Any] | None = None) -> int:
        """A node that is not a step (e.g. a written note): created and completed at once."""
        nid = self.new_node(parent_id, role)
        self.complete(nid, text, label=label or role, **(meta or {}))
        return nid


def completion_meta(comp: Any) -> dict[str, Any]:
    """The node_completed fields of a node's completion (besides its text)."""
    return {"reasoning": comp.reasoning, "finish_reason": comp.finish_reason,
            "prompt_tokens": comp.prompt_tokens, "completion_tokens": comp.completion_tokens,
            "usage_estimated": comp.usage_estimated}


def request_key(req: GenRequest) -> tuple:
    """Identifies a request: equal keys are the same call (same prompt, seed and limits)."""
    return (str(req.prompt), req.seed, req.temperature, req.max_tokens, tuple(req.stop),
            tuple(req.choices) if req.choices is not None else None)


def terminal_flag(verdict: Verdict | None) -> dict[str, Any]:
    """``terminal: true`` (and the answer) in a node_completed payload marks a node that ends
    with an answer — what a user may later mark correct/wrong, even when no verifier judged it."""
    return {"terminal": True, "answer": verdict.answer} if verdict is not None else {}

