"""What a model-backed run must show on ANY build of the model server (llama.cpp version, CPU,
BLAS): model-backed tests assert these, never the model's free text, which differs by build.

* every step is what the task parses from the node's text in its parent's state, and (where the
  task lists its legal steps and the run was constrained) one of those legal steps;
* every terminal node's answer and verdict are the task's verdict on its replayed state, and the
  run's answer is its answer node's;
* the events are a well-formed log (seq 1..n, one start, one end, parents before children,
  depth = parent's + 1) and the run's totals are the fold's (nodes, tokens, calls);
* budgets hold (``max_nodes``).
"""
from __future__ import annotations

from typing import Any

from reasoning import events as ev
from reasoning.tree import GENERATING, OPEN, SOLVED, Tree, fold


def check_run(task: Any, problem: Any, events: list[ev.Event], *, constrained: bool = True,
              budget: dict[str, Any] | None = None) -> Tree:
    """Every invariant above on one run's events; returns the folded tree."""
    tree = fold(events)
    check_events(events, tree)
    check_steps(task, problem, tree, constrained=constrained)
    if budget and budget.get("max_nodes"):
        assert len(tree.nodes) <= budget["max_nodes"], (len(tree.nodes), budget)
    return tree


def check_events(events: list[ev.Event], tree: Tree) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].type == ev.RUN_STARTED and events[-1].type == ev.RUN_FINISHED
    assert sum(e.type in (ev.RUN_STARTED, ev.RUN_FINISHED) for e in events) == 2
    depth: dict[int, int] = {}
    streamed: dict[int, str] = {}
    for e in events:
        if e.type == ev.NODE_CREATED:
            parent, d = e.payload.get("parent_id"), e.payload["depth"]
            assert e.node_id not in depth, f"node {e.node_id} created twice"
            assert (parent is None and d == 0 and not depth) or \
                (parent in depth and d == depth[parent] + 1), f"node {e.node_id}: parent {parent}"
            depth[e.node_id] = d
        elif e.node_id is not None:
            assert e.node_id in depth, f"{e.type} for node {e.node_id} before it was created"
        if e.type == ev.TOKENS:
            streamed[e.node_id] = streamed.get(e.node_id, "") + e.payload.get("text", "")
    assert all(n.state != GENERATING for n in tree.nodes.values())
    # a node's streamed text is its final text (each step is one model call, streamed whole)
    for node in tree.nodes.values():
        if node.role == "thought" and node.finish_reason not in ("error", "aborted"):
            assert streamed.get(node.id, "") == node.text, (node.id, streamed.get(node.id), node.text)
    done = tree.finished
    assert done["nodes"] == len(tree.nodes)
    # generated tokens: the nodes' and the evaluator calls' (value prompts are not nodes)
    scored = sum(int(e.payload.get("details", {}).get("tokens", 0) or 0)
                 for e in events if e.type == ev.NODE_SCORED)
    assert done["tokens"] == tree.tokens == \
        sum(n.completion_tokens for n in tree.nodes.values()) + scored
    if done["outcome"] not in ("budget", "cancelled", "error"):   # no call was cut off
        assert scored == done.get("eval_tokens", 0)
        assert done["completion_tokens"] == done["tokens"]
    assert done["model_calls"] == sum(done["calls_by_purpose"].values())
    assert sum(p["completion"] for p in done["tokens_by_purpose"].values()) == done["tokens"]
    assert (tree.outcome, tree.answer_node) == (done["outcome"], done.get("answer_node"))
    if tree.answer_node is not None:
        assert tree.answer == (tree.nodes[tree.answer_node].answer or tree.answer)


def check_steps(task: Any, problem: Any, tree: Tree, *, constrained: bool = True) -> dict[int, Any]:
    """Replay every step from the root through the task; returns each node's state."""
    states = {tree.root_id: task.initial_state(problem)}
    for nid in sorted(tree.nodes):   # a parent is always created (numbered) before its children
        node = tree.nodes[nid]
        if node.parent_id not in states:
            continue
        parent = states[node.parent_id]
        if node.role == "thought" and node.step is not None:
            states[nid] = _step(task, problem, parent, node.text, node.step, constrained, nid)
        elif node.role == "thought" and constrained and task.legal_steps(parent) is not None:
            assert node.prune_kind != "invalid", \
                f"node {nid}: an invalid step on a constrained run: {node.reason}"
        elif node.role == "rollout" and node.text:
            state = parent
            for line in node.text.split("\n"):
                state = _step(task, problem, state, line, None, constrained, nid)
            states[nid] = state
        if nid in states and node.terminal:
            _judged(task, problem, states[nid], node)
    return states


def _step(task, problem, state, text: str, step: str | None, constrained: bool, nid: int):
    parsed, new = task.apply_step(problem, state, text)   # InvalidStep here: a bad tree
    assert step is None or parsed == step, (nid, parsed, step)
    legal = task.legal_steps(state) if constrained else None
    assert legal is None or parsed in legal, f"node {nid}: {parsed!r} is not a legal step"
    return new


def _judged(task, problem, state, node) -> None:
    assert task.is_terminal(state), f"node {node.id} is marked terminal but its state is not"
    verdict = task.verify(problem, state)
    assert node.answer == verdict.answer, (node.id, node.answer, verdict.answer)
    # solved exactly when the task says so (a failed answer may later be marked backtracked)
    assert (node.state == SOLVED) == (verdict.correct is True), (node.id, node.state, verdict)
    assert verdict.correct is not False or node.state != OPEN, (node.id, node.state, verdict)


def shape(tree: Tree) -> dict[int, tuple]:
    """A tree without timing: what two runs of one seed must share."""
    return {nid: (n.parent_id, n.role, n.state, n.text, n.step, n.answer, n.value, n.visits)
            for nid, n in tree.nodes.items()}
