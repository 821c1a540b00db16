"""The node inspector: everything about one node, as plain text (``st.code`` / ``st.text``).

Model output is never rendered as markdown or HTML here."""
from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from reasoning.run_facts import can_mark
from reasoning.tree import Node, Tree

from .status import run_cost


def node_option_label(tree: Tree, node_id: int) -> str:
    """A selectbox label: ``#3 thought · open · 4+5=9 (left: 6 9 10)``."""
    n = tree.nodes[node_id]
    lines = n.text.strip().splitlines()
    what = (n.step or (lines[0] if lines else ""))[:60]
    return f"#{n.id} {n.role} · {n.state}" + (f" · {what}" if what else "")


def facts(node: Node, cost: float | None = None) -> str:
    """The inspector's key/value block."""
    def num(x: float | None, fmt: str = ".4g") -> str:
        return "—" if x is None else format(x, fmt)
    rows = [
        ("node", f"#{node.id}  (parent {node.parent_id if node.parent_id is not None else '—'})"),
        ("role", node.role),
        ("depth", str(node.depth)),
        ("state", node.state),
        ("reason", node.reason or "—"),
        ("label", node.label or "—"),
        ("value", num(node.value) + (f"  ({node.evaluator})" if node.evaluator else "")),
        ("visits", str(node.visits)),
        ("mean value", num(node.mean_value, ".3f")),
        ("tokens", f"prompt {node.prompt_tokens or 'not reported'} · completion "
                   f"{node.completion_tokens}" if node.completion_tokens else
                   f"prompt {node.prompt_tokens} · completion 0"),
        ("finish", node.finish_reason or "—"),
        ("created", f"{node.t_created:.2f} s"),
        ("completed", "—" if node.t_completed is None else f"{node.t_completed:.2f} s"
         f"  (took {node.t_completed - node.t_created:.2f} s)"),
    ]
    if cost is not None:
        rows.append(("cost", f"${cost:.6f}"))
    if node.truth is not None:
        rows.append(("solvable", "yes" if node.truth else "no"))
    if node.answer:
        rows.append(("answer", node.answer))
    if node.mark:
        rows.append(("user mark", node.mark))
    if node.notes:
        rows.append(("reflections in prompt", ", ".join(f"#{i}" for i in node.notes)))
    if node.duplicate_of is not None:
        rows.append(("same state as", f"#{node.duplicate_of}"))
    for key, value in sorted(node.extra.items()):  # fields or events from a newer writer: kept
        rows.append((f"{key} (unknown field)", json.dumps(value, ensure_ascii=False)[:200]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


MarkHandler = Callable[[int, str], None]   # (node id, "correct" | "wrong"): stores the mark


def mark_controls(tree: Tree, node: Node, on_mark: MarkHandler | None) -> None:
    """Mark correct / Mark wrong, for a node that ended with an answer in a finished run."""
    if on_mark is None or not can_mark(tree, node.id):
        return
    now = f"marked {node.mark}" if node.mark else "not marked yet"
    st.caption(f"Your verdict on this answer ({now}); a mark on the run's answer settles its outcome")
    b1, b2 = st.columns(2)
    key = f"mark_{tree.run_id}_{node.id}"
    if b1.button("Mark correct", key=f"{key}_correct", disabled=node.mark == "correct",
                 icon=":material/check:"):
        on_mark(node.id, "correct")
    if b2.button("Mark wrong", key=f"{key}_wrong", disabled=node.mark == "wrong",
                 icon=":material/close:"):
        on_mark(node.id, "wrong")


def notes_text(tree: Tree, node: Node) -> str:
    """The reflections that were in ``node``'s prompt, one per line with their node ids."""
    return "\n".join(f"#{i}: {tree.nodes[i].text.strip()}" if i in tree.nodes else f"#{i}: (not found)"
                     for i in node.notes)


def render_inspector(tree: Tree, node_id: int | None, on_mark: MarkHandler | None = None) -> None:
    """Everything about one node; ``on_mark`` (when given) offers marks on answer nodes."""
    trace = (tree.finished or {}).get("traceback")
    if trace:  # the run ended on an exception in a strategy, evaluator or task plug-in
        st.caption("The run stopped on an error in the code (a strategy, evaluator or task); "
                   "its traceback:")
        st.code(trace, language=None, wrap_lines=True)
    if node_id is None or node_id not in tree.nodes:
        st.caption("Click a node in the tree (or pick one above) to inspect it.")
        return
    node = tree.nodes[node_id]
    st.text(f"Node {node.id} · {node.role} · depth {node.depth} · {node.state}")
    left, right = st.columns([3, 2])
    with left:
        st.caption("Full text")
        st.code(node.text or "(no text yet)", language=None, wrap_lines=True)
        if node.reasoning:
            st.caption("Reasoning (separate field)")
            st.code(node.reasoning, language=None, wrap_lines=True)
        st.caption("Parsed step")
        st.code(node.step or "(none)", language=None, wrap_lines=True)
    with right:
        st.caption("Details")
        st.code(facts(node, run_cost(tree, node.id)), language=None, wrap_lines=True)
        if node.notes:
            st.caption("Reflections in this node's prompt")
            st.code(notes_text(tree, node), language=None, wrap_lines=True)
        mark_controls(tree, node, on_mark)
        if node.score_details:
            st.caption("Score details")
            st.json(node.score_details, expanded=False)
