"""The search tree as a pure projection of events.

``fold(events)`` is the only way a :class:`Tree` is built: the live page folds what it has read
so far, replay folds a prefix, tests fold a scripted log. ``Tree.apply`` is the incremental form
(``fold`` is just ``apply`` over a sequence), so a live view can feed new events as they arrive.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import events as ev
from .events import Event

GENERATING, OPEN, PRUNED, BACKTRACKED, FAILED, SOLVED = (
    "generating", "open", "pruned", "backtracked", "failed", "solved")
NODE_STATES = (GENERATING, OPEN, PRUNED, BACKTRACKED, FAILED, SOLVED)


@dataclass
class Node:
    id: int
    parent_id: int | None
    depth: int
    role: str = "thought"
    state: str = GENERATING
    reason: str = ""           # why the node is in its state (pruned/backtracked/failed/solved)
    text: str = ""             # the raw model text (streamed, then final)
    reasoning: str = ""        # reasoning text streamed in a separate field by some servers
    step: str | None = None    # the parsed step, if any
    label: str = ""            # short state description, e.g. "left: 4 6"
    value: float | None = None
    evaluator: str = ""
    score_details: dict[str, Any] = field(default_factory=dict)
    truth: bool | None = None  # exact solvability of the node's state, when the task knows it
    visits: int = 0
    value_sum: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    t_created: float = 0.0
    t_completed: float | None = None
    answer: str | None = None
    mark: str | None = None    # user's verdict after the run: "correct" / "wrong"
    notes: list[int] = field(default_factory=list)  # reflection nodes fed into this prompt
    children: list[int] = field(default_factory=list)

    @property
    def mean_value(self) -> float | None:
        return self.value_sum / self.visits if self.visits else None


@dataclass
class Tree:
    run_id: int | str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    nodes: dict[int, Node] = field(default_factory=dict)
    root_id: int | None = None
    outcome: str | None = None
    answer: str | None = None
    answer_node: int | None = None
    finished: dict[str, Any] = field(default_factory=dict)
    last_seq: int = 0
    t: float = 0.0
    tokens: int = 0
    prompt_tokens: int = 0

    # -- queries ---------------------------------------------------------------------------
    def path_to(self, node_id: int) -> list[int]:
        path = []
        cur: int | None = node_id
        while cur is not None:
            path.append(cur)
            cur = self.nodes[cur].parent_id
        return path[::-1]

    def solved_path(self) -> set[int]:
        """Node ids on the path from the root to the answer node (or to every solved node)."""
        ends = [self.answer_node] if self.answer_node in self.nodes and \
            self.nodes[self.answer_node].state == SOLVED else \
            [n.id for n in self.nodes.values() if n.state == SOLVED]
        out: set[int] = set()
        for end in ends:
            out.update(self.path_to(end))
        return out

    def counts(self) -> dict[str, int]:
        c = {s: 0 for s in NODE_STATES}
        for n in self.nodes.values():
            c[n.state] += 1
        return c

    # -- the fold ----------------------------------------------------------------------------
    def apply(self, e: Event) -> None:
        if e.seq != self.last_seq + 1:
            raise ValueError(f"event seq {e.seq} does not follow {self.last_seq}")
        self.last_seq = e.seq
        self.t = max(self.t, e.t)
        handler = _HANDLERS.get(e.type)
        if handler is not None:
            handler(self, e)


def _created(tree: Tree, e: Event) -> None:
    p = e.payload
    parent = p.get("parent_id")
    node = Node(id=e.node_id, parent_id=parent, depth=int(p.get("depth", 0)),
                role=p.get("role", "thought"), label=p.get("label", ""), t_created=e.t,
                notes=list(p.get("notes", [])))
    tree.nodes[node.id] = node
    if parent is None:
        tree.root_id = node.id if tree.root_id is None else tree.root_id
    else:
        tree.nodes[parent].children.append(node.id)
    if p.get("state"):
        node.state = p["state"]


def _tokens(tree: Tree, e: Event) -> None:
    node = tree.nodes[e.node_id]
    node.text += e.payload.get("text", "")
    node.reasoning += e.payload.get("reasoning", "")


def _completed(tree: Tree, e: Event) -> None:
    p = e.payload
    node = tree.nodes[e.node_id]
    node.text = p.get("text", node.text)
    node.reasoning = p.get("reasoning", node.reasoning)
    node.step = p.get("step")
    node.label = p.get("label", node.label)
    node.prompt_tokens = int(p.get("prompt_tokens", 0))
    node.completion_tokens = int(p.get("completion_tokens", 0))
    node.finish_reason = p.get("finish_reason")
    node.answer = p.get("answer", node.answer)
    node.t_completed = e.t
    tree.tokens += node.completion_tokens
    tree.prompt_tokens += node.prompt_tokens
    if node.state == GENERATING:
        node.state = OPEN


def _scored(tree: Tree, e: Event) -> None:
    p = e.payload
    node = tree.nodes[e.node_id]
    if "value" in p:
        node.value = p["value"]
    node.evaluator = p.get("evaluator", node.evaluator)
    node.score_details = dict(p.get("details", {}))
    # evaluator calls (value prompts) are not nodes, but their tokens are the run's tokens
    tree.tokens += int(node.score_details.get("tokens", 0) or 0)
    if "truth" in p:
        node.truth = p["truth"]
    if "visits" in p:
        node.visits = int(p["visits"])
        node.value_sum = float(p.get("value_sum", node.value_sum))
    if p.get("reason"):  # a score can explain itself without changing the state (majority vote)
        node.reason = p["reason"]


def _set_state(state: str):
    def handler(tree: Tree, e: Event) -> None:
        node = tree.nodes[e.node_id]
        node.state = state
        node.reason = e.payload.get("reason", node.reason)
        if "answer" in e.payload:
            node.answer = e.payload["answer"]
        if "value" in e.payload and e.payload["value"] is not None:
            node.value = e.payload["value"]
        if node.t_completed is None:
            node.t_completed = e.t
    return handler


def _marked(tree: Tree, e: Event) -> None:
    node = tree.nodes[e.node_id]
    node.mark = e.payload["mark"]
    node.state = SOLVED if node.mark == "correct" else FAILED
    node.reason = f"marked {node.mark} by the user"


def _backprop(tree: Tree, e: Event) -> None:
    for node_id, visits, value_sum in e.payload.get("updates", []):
        node = tree.nodes[node_id]
        node.visits, node.value_sum = int(visits), float(value_sum)


def _started(tree: Tree, e: Event) -> None:
    tree.run_id = e.run_id
    tree.info = dict(e.payload)


def _finished(tree: Tree, e: Event) -> None:
    p = e.payload
    tree.outcome = p.get("outcome")
    tree.answer = p.get("answer")
    tree.answer_node = p.get("answer_node")
    tree.finished = dict(p)


_HANDLERS = {
    ev.RUN_STARTED: _started,
    ev.NODE_CREATED: _created,
    ev.TOKENS: _tokens,
    ev.NODE_COMPLETED: _completed,
    ev.NODE_SCORED: _scored,
    ev.NODE_PRUNED: _set_state(PRUNED),
    ev.NODE_BACKTRACKED: _set_state(BACKTRACKED),
    ev.NODE_SOLVED: _set_state(SOLVED),
    ev.NODE_FAILED: _set_state(FAILED),
    ev.NODE_MARKED: _marked,
    ev.MCTS_BACKPROP: _backprop,
    ev.RUN_FINISHED: _finished,
}


def fold(events: Iterable[Event], tree: Tree | None = None) -> Tree:
    """Apply ``events`` (in seq order) to ``tree`` (or a new one) and return it."""
    tree = tree if tree is not None else Tree()
    for e in events:
        tree.apply(e)
    return tree
