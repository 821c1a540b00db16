"""Record a search tree from any Python code into Thinktree's storage.

    with Trace(db="runs.db", task="toy", problem="reach 11", strategy="my_dfs") as t:
        root = t.root("start at 1")
        a = t.step(root, "+3 -> 4")
        t.score(a, 0.8)
        t.solve(a, answer="4")

A ``Trace`` makes one run: the same run row and event log a Thinktree search writes, so the Live
page follows it while the code runs (events reach the database within about 0.1 s), and
Sessions, Compare and the exports read it afterwards. Leaving the ``with`` block finishes the
run: ``solved`` if a node was solved (the first one is the answer), else ``failed``, or the
outcome given to :meth:`finish`; an exception finishes it as ``error`` with the message (and is
re-raised). Node ids are small integers, per trace.
"""
from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reasoning import events as ev
from reasoning.recorder import Recorder
from reasoning.run_events import typed_split
from reasoning.run_facts import solution_end
from reasoning.tree import GENERATING

STREAM_FLUSH_S = 0.1


class TraceError(ValueError):
    """A call that does not fit the trace (unknown node, a second root, after the end)."""


class Trace:
    def __init__(self, db: str | None = None, task: str = "custom", problem: str = "",
                 strategy: str = "custom", params: dict[str, Any] | None = None,
                 model: dict[str, Any] | None = None, seed: int = 0) -> None:
        self.db, self.task, self.problem, self.strategy = db, task, problem, strategy
        self.params = dict(params or {})
        self.model = dict(model or {"name": "external", "kind": "external"})
        self.seed = seed
        self.run_id: int | None = None
        self._rec: Recorder | None = None
        self._last_stream = 0.0
        self._done = False

    # -- the run ----------------------------------------------------------------------------------
    def __enter__(self) -> Trace:
        from storage import open_run, open_store
        run = open_run(open_store(self.db), ev.RunStarted(
            task=self.task, problem=self.problem, strategy=self.strategy, params=self.params,
            model=self.model, seed=self.seed, extra={"source": "thinktree.Trace"}))
        self.run_id = run.run_id
        self._rec = Recorder(self.run_id, run)
        self._rec.resume([run.started])   # the door stored run_started: go on after it
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._rec is None or self._done:
            return False
        if exc is not None:
            detail = f"{exc_type.__name__}: {exc}"
            self.finish("error", detail=detail,
                        traceback="".join(traceback.format_exception(exc_type, exc, tb, limit=5)))
        else:
            self.finish()
        return False   # an exception still propagates to the caller

    def finish(self, outcome: str | None = None, answer: str | None = None,
               detail: str = "", **extra: Any) -> None:
        """End the run (once). Default outcome: ``solved`` if a node was solved, else ``failed``."""
        rec = self._live()
        rec.flush()   # buffered stream text joins its node first
        tree = rec.tree
        first = solution_end(tree)   # the first node solved (one rule: reasoning.run_facts)
        if outcome is None:
            outcome = "solved" if first is not None else "failed"
        if outcome not in ev.OUTCOMES:
            raise TraceError(f"outcome: must be one of {', '.join(ev.OUTCOMES)}, got {outcome!r}")
        node = tree.nodes[first] if first is not None and outcome == "solved" else None
        if answer is None and node is not None:
            answer = node.answer
        for n in list(tree.nodes.values()):   # a node left streaming keeps its text
            if n.state == GENERATING:
                rec.emit(ev.NodeCompleted(text=n.text, finish_reason="aborted"), n.id)
        rec.emit(ev.RunFinished(**typed_split(ev.RunFinished, {
            "outcome": outcome, "answer": answer, "answer_node": node.id if node else None,
            "detail": detail, "nodes": len(tree.nodes), "tokens": tree.tokens,
            "prompt_tokens": tree.prompt_tokens, "seconds": round(rec.elapsed(), 4), **extra})))
        rec.flush()
        self._done = True

    # -- nodes --------------------------------------------------------------------------------------
    def root(self, text: str, label: str = "") -> int:
        """The root node (the problem); exactly one per trace."""
        rec = self._live()
        if rec.tree.root_id is not None:
            raise TraceError(f"root: this trace already has a root (node {rec.tree.root_id})")
        nid = rec.new_node_id()
        rec.emit(ev.NodeCreated(parent_id=None, depth=0, role="problem", label=label or None), nid)
        rec.emit(ev.NodeCompleted(text=str(text), label=label or None), nid)
        return self._flushed(nid)

    def step(self, parent: int, text: str, label: str = "", role: str = "thought",
             **fields: Any) -> int:
        """A completed child of ``parent`` holding ``text``; returns its node id. ``fields`` go
        into the node's ``node_completed`` payload (e.g. ``prompt_tokens``, ``completion_tokens``)."""
        nid = self.open(parent, role=role, label=label)
        return self.complete(nid, str(text), label=label, **fields)

    def open(self, parent: int, role: str = "thought", label: str = "") -> int:
        """A child of ``parent`` that is still generating (drawn blue); stream into it with
        :meth:`stream`, then :meth:`complete` it."""
        rec = self._live()
        depth = self._node(parent, "parent").depth + 1
        nid = rec.new_node_id()
        rec.emit(ev.NodeCreated(parent_id=parent, depth=depth, role=role, label=label or None), nid)
        return self._flushed(nid)

    def stream(self, node: int, chunk: str) -> None:
        """Append ``chunk`` to a generating node's text (batched about every 0.1 s)."""
        rec = self._live()
        if self._node(node).state != GENERATING:
            raise TraceError(f"stream: node {node} is not generating (open it with open())")
        rec.tokens(node, str(chunk))
        # the first chunk after a pause goes out at once; a fast burst is batched (~0.1 s)
        if time.monotonic() - self._last_stream >= STREAM_FLUSH_S:
            rec.flush()
            self._last_stream = time.monotonic()

    def complete(self, node: int, text: str | None = None, label: str = "", **fields: Any) -> int:
        """Finish a generating node; ``text`` defaults to what was streamed into it."""
        rec = self._live()
        n = self._node(node)
        if n.state != GENERATING:
            raise TraceError(f"complete: node {node} is already complete")
        rec.flush()   # streamed text first, so the node's text is whole
        final = n.text if text is None else str(text)
        rec.emit(ev.NodeCompleted(**typed_split(ev.NodeCompleted, {
            "text": final, "step": final.strip() or None, "label": label or n.label or None,
            **fields})), node)
        return self._flushed(node)

    @contextmanager
    def streaming(self, parent: int, role: str = "thought") -> Iterator[_Writer]:
        """``with t.streaming(parent) as w: w.write(chunk)`` — a node that grows as text
        arrives and is completed when the block ends (``w.id`` is its node id)."""
        writer = _Writer(self, self.open(parent, role=role))
        yield writer
        self.complete(writer.id)

    # -- verdicts -------------------------------------------------------------------------------------
    def score(self, node: int, value: float, evaluator: str = "custom", truth: bool | None = None,
              **details: Any) -> None:
        """A value for ``node`` (any scale; shown in the inspector, sizes nodes)."""
        self._node(node)
        self._emit(ev.NodeScored(value=float(value), evaluator=evaluator, details=details,
                                 truth=None if truth is None else bool(truth)), node)

    def prune(self, node: int, reason: str = "", value: float | None = None) -> None:
        self._verdict(ev.NodePruned(reason=reason, value=value), node)

    def backtrack(self, node: int, reason: str = "") -> None:
        self._verdict(ev.NodeBacktracked(reason=reason), node)

    def solve(self, node: int, answer: str | None = None, reason: str = "") -> None:
        self._verdict(ev.NodeSolved(reason=reason or "solved",
                                    answer=None if answer is None else str(answer)), node)

    def fail(self, node: int, reason: str = "", answer: str | None = None) -> None:
        self._verdict(ev.NodeFailed(reason=reason, answer=None if answer is None else str(answer)),
                      node)

    # -- plumbing -------------------------------------------------------------------------------------
    def _verdict(self, data: ev.Payload, node: int) -> None:
        n = self._node(node)
        if n.state == GENERATING:
            self.complete(node)
        self._emit(data, node)

    def _emit(self, data: ev.Payload, node: int | None) -> None:
        self._live().emit(data, node)
        self._flushed(node)

    def _flushed(self, value: Any) -> Any:
        # every call reaches the database at once: the Live page shows the tree as it grows
        self._live().flush()
        return value

    def _live(self) -> Recorder:
        if self._rec is None:
            raise TraceError("use the trace inside 'with Trace(...) as t:'")
        if self._done:
            raise TraceError(f"run {self.run_id} is finished")
        return self._rec

    def _node(self, node: int, what: str = "node"):
        n = self._live().tree.nodes.get(node) if isinstance(node, int) else None
        if n is None:
            raise TraceError(f"{what}: no node {node!r} in this trace")
        return n


class _Writer:
    def __init__(self, trace: Trace, node_id: int) -> None:
        self.trace, self.id = trace, node_id

    def write(self, chunk: str) -> None:
        self.trace.stream(self.id, chunk)
