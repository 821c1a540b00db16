"""The search tree as a pure projection of events.

``fold(events)`` is the only way a :class:`Tree` is built: the live page folds what it has read
so far, replay folds a prefix, tests fold a scripted log. ``Tree.apply`` is the incremental form
(``fold`` is just ``apply`` over a sequence), so a live view can feed new events as they arrive.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import events as ev
from .events import Event
from .figures import upgrade_run_finished

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
    terminal: bool = False     # the node ends with an answer (what a user may mark)
    purpose: str | None = None  # what its model call was for (proposal, rollout, answer …)
    duplicate_of: int | None = None  # pruned as a state another node reached first
    prune_kind: str | None = None    # why it was pruned, in one word (threshold, capacity, …)
    extra: dict[str, Any] = field(default_factory=dict)  # fields a newer writer added
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
    started: ev.RunStarted | None = None
    unknown: list[Event] = field(default_factory=list)  # events of types this version lacks

    # -- queries ---------------------------------------------------------------------------
    def path_to(self, node_id: int) -> list[int]:
        path = []
        cur: int | None = node_id
        while cur is not None:
            path.append(cur)
            cur = self.nodes[cur].parent_id
        return path[::-1]

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
        _HANDLERS.get(e.type, _unknown)(self, e)


def _created(tree: Tree, e: Event) -> None:
    d: ev.NodeCreated = e.data
    node = Node(id=e.node_id, parent_id=d.parent_id, depth=d.depth, role=d.role,
                label=d.label or "", t_created=e.t, notes=list(d.notes or []))
    _keep_extra(node, d)
    tree.nodes[node.id] = node
    if d.parent_id is None:
        tree.root_id = node.id if tree.root_id is None else tree.root_id
    else:
        tree.nodes[d.parent_id].children.append(node.id)
    if d.state:
        node.state = d.state


def _tokens(tree: Tree, e: Event) -> None:
    d: ev.Tokens = e.data
    node = tree.nodes[e.node_id]
    node.text += d.text
    node.reasoning += d.reasoning or ""


def _completed(tree: Tree, e: Event) -> None:
    d: ev.NodeCompleted = e.data
    node = tree.nodes[e.node_id]
    _keep_extra(node, d)
    if "text" in e.payload:  # else the streamed text stands
        node.text = d.text
    if d.reasoning is not None:
        node.reasoning = d.reasoning
    node.step = d.step
    if d.label is not None:
        node.label = d.label
    node.prompt_tokens = d.prompt_tokens
    node.completion_tokens = d.completion_tokens
    node.finish_reason = d.finish_reason
    node.terminal = bool(d.terminal)
    node.purpose = d.purpose
    if d.answer is not None:
        node.answer = d.answer
    node.t_completed = e.t
    tree.tokens += node.completion_tokens
    tree.prompt_tokens += node.prompt_tokens
    if node.state == GENERATING:
        node.state = OPEN


def _scored(tree: Tree, e: Event) -> None:
    d: ev.NodeScored = e.data
    node = tree.nodes[e.node_id]
    _keep_extra(node, d)
    if "value" in e.payload:
        node.value = d.value
    if d.evaluator is not None:
        node.evaluator = d.evaluator
    node.score_details = dict(d.details)
    # evaluator calls (value prompts) are not nodes, but their tokens are the run's tokens
    tree.tokens += int(node.score_details.get("tokens", 0) or 0)
    if d.truth is not None:
        node.truth = d.truth
    if d.visits is not None:
        node.visits = d.visits
        node.value_sum = float(d.value_sum if d.value_sum is not None else node.value_sum)
    if d.reason:  # a score can explain itself without changing the state (majority vote)
        node.reason = d.reason


def _set_state(state: str):
    def handler(tree: Tree, e: Event) -> None:
        d = e.data
        node = tree.nodes[e.node_id]
        _keep_extra(node, d)
        node.state = state
        node.reason = d.reason or node.reason
        answer = getattr(d, "answer", None)
        if answer is not None:
            node.answer = answer
        if d.value is not None:
            node.value = d.value
        duplicate_of = getattr(d, "duplicate_of", None)
        if duplicate_of is not None:
            node.duplicate_of = duplicate_of
        if getattr(d, "kind", None) is not None:
            node.prune_kind = d.kind
        if node.t_completed is None:
            node.t_completed = e.t
    return handler


def _marked(tree: Tree, e: Event) -> None:
    d: ev.NodeMarked = e.data
    node = tree.nodes[e.node_id]
    node.mark = d.mark
    node.state = SOLVED if node.mark == "correct" else FAILED
    node.reason = f"marked {node.mark} by the user"


def _backprop(tree: Tree, e: Event) -> None:
    d: ev.MctsBackprop = e.data
    for node_id, visits, value_sum in d.updates:
        node = tree.nodes[int(node_id)]
        node.visits, node.value_sum = int(visits), float(value_sum)


def _started(tree: Tree, e: Event) -> None:
    tree.run_id = e.run_id
    tree.info = dict(e.payload)
    tree.started = e.data


def _finished(tree: Tree, e: Event) -> None:
    d: ev.RunFinished = e.data
    tree.outcome = d.outcome
    tree.answer = d.answer
    tree.answer_node = d.answer_node
    tree.finished = upgrade_run_finished(e.payload)   # one shape, whatever the version


def _unknown(tree: Tree, e: Event) -> None:
    """A newer writer's event: kept on the tree (and on its node, if it names one we know)."""
    tree.unknown.append(e)
    node = tree.nodes.get(e.node_id) if e.node_id is not None else None
    if node is not None:
        node.extra[e.type] = dict(e.payload)


def _keep_extra(node: Node, d: ev.Payload) -> None:
    if d.extra:
        node.extra.update(d.extra)


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


# -- rewinding ---------------------------------------------------------------------------------------
REWIND_GLOBAL = (ev.MCTS_BACKPROP, ev.RUN_FINISHED)   # events that change nodes or the run, not one node


def rewind(tree: Tree, k: int, tail: list[Event],
           history: Callable[[set[int]], tuple[list[Event], float]]) -> Tree | None:
    """The fold of events 1..``k`` made from ``tree`` (the fold of 1..n, n > k) without folding
    from the start: only the nodes the ``tail`` (events k+1..n) touched are refolded, from
    ``history(ids)`` — the events 1..k of those nodes plus every ``REWIND_GLOBAL`` event up to
    k, in seq order, and the largest ``t`` of events 1..k — and the run's totals are taken back
    by what the tail added. ``tree`` is not changed (untouched nodes are shared with it:
    treat the result as read-only). None when the tail holds an event this cannot take back
    (the run's start, an event type this version does not know): fold from the start then."""
    if not tail or any(e.type == ev.RUN_STARTED or e.type not in _HANDLERS for e in tail):
        return None
    out = Tree(run_id=tree.run_id, info=tree.info, root_id=tree.root_id, outcome=tree.outcome,
               answer=tree.answer, answer_node=tree.answer_node, finished=tree.finished,
               last_seq=k, t=0.0, tokens=tree.tokens, prompt_tokens=tree.prompt_tokens,
               started=tree.started, unknown=list(tree.unknown))
    created = {e.node_id for e in tail if e.type == ev.NODE_CREATED}
    touched = {e.node_id for e in tail if e.node_id is not None and e.node_id in tree.nodes} - created
    for e in tail:
        if e.type == ev.MCTS_BACKPROP:
            touched.update(int(u[0]) for u in e.data.updates if int(u[0]) not in created)
        elif e.type == ev.NODE_COMPLETED:
            d = e.data
            out.tokens -= d.completion_tokens
            out.prompt_tokens -= d.prompt_tokens
        elif e.type == ev.NODE_SCORED:
            out.tokens -= int(dict(e.data.details).get("tokens", 0) or 0)
        elif e.type == ev.RUN_FINISHED:
            out.outcome = out.answer = out.answer_node = None
            out.finished = {}
    nodes = dict(tree.nodes)
    for nid in created:
        nodes.pop(nid, None)
        if out.root_id == nid:
            out.root_id = None
    events, t_max = history(touched)
    out.t = max(0.0, t_max)
    # refold the touched nodes alone: a scratch tree holding them and stand-ins for their parents
    scratch = Tree(run_id=tree.run_id)
    for nid in touched:
        parent = tree.nodes[nid].parent_id
        if parent is not None:
            scratch.nodes.setdefault(parent, Node(id=parent, parent_id=None, depth=0))
    for e in events:
        if e.type == ev.RUN_FINISHED:
            _finished(out, e)
        elif e.type == ev.MCTS_BACKPROP:
            for node_id, visits, value_sum in e.data.updates:
                node = scratch.nodes.get(int(node_id)) if int(node_id) in touched else None
                if node is not None:
                    node.visits, node.value_sum = int(visits), float(value_sum)
        elif e.node_id in touched:
            if e.type == ev.NODE_CREATED:
                scratch.nodes.pop(e.node_id, None)   # (a stand-in for a parent made first)
            _HANDLERS.get(e.type, _unknown)(scratch, e)
    for nid in touched:
        node = scratch.nodes[nid]
        node.children = [c for c in tree.nodes[nid].children if c not in created]
        nodes[nid] = node
    for nid in created:   # their parents lose them (a parent touched above is already done)
        parent = tree.nodes[nid].parent_id
        if parent is not None and parent not in created and parent not in touched:
            twin = copy.copy(nodes[parent])
            twin.children = [c for c in twin.children if c not in created]
            nodes[parent] = twin
    out.nodes = nodes
    return out
