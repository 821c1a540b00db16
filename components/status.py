"""The status line of a run and the "now generating" line: plain strings, shown with ``st.text``
(never markdown) because answers and streamed text come from the model."""
from __future__ import annotations

from reasoning.figures import shown
from reasoning.run_facts import cost
from reasoning.strategies import figures_for
from reasoning.tree import GENERATING, Tree

STREAM_TAIL_CHARS = 300


def status_text(tree: Tree, running: bool) -> str:
    """``Run 3 · greedy · nodes 4 · tokens 57 · 3.2 s · outcome: solved · answer: …``."""
    info = tree.info or {}
    parts = [f"Run {tree.run_id}" if tree.run_id is not None else "Run (starting)"]
    if info.get("strategy"):
        parts.append(str(info["strategy"]))
    if info.get("problem"):
        parts.append(f"problem {info['problem']}")
    parts.append(f"nodes {len(tree.nodes)}")
    parts.append(f"tokens {tree.tokens}")
    calls = (tree.finished or {}).get("calls_by_purpose")
    if calls:  # compute by purpose: a forced verdict is cheap to write, not to read
        parts.append(f"prompt tokens {tree.finished.get('prompt_tokens', 0)}")
        parts.append(f"calls {sum(calls.values())} (" +
                     ", ".join(f"{k} {v}" for k, v in calls.items()) + ")")
    cost = run_cost(tree)
    if cost is not None:
        parts.append(f"cost ${cost:.4f}")
    parts.extend(f"{label} {text}" for label, text, _ in run_figures(tree))
    seconds = tree.finished.get("seconds", tree.t) if tree.finished else tree.t
    parts.append(f"{float(seconds):.1f} s")
    if tree.outcome is None:
        parts.append("running…" if running else "not finished")
    else:
        parts.append(f"outcome: {tree.outcome}")
        detail = str(tree.finished.get("detail") or "")
        if tree.answer and tree.answer in detail:  # "… = 1200, not 24" says it all
            parts.append(f"answer: {detail}")
        else:
            if tree.answer:
                parts.append(f"answer: {tree.answer}")
            if detail and tree.outcome != "solved":
                parts.append(f"({detail})")
    return " · ".join(parts)


def run_figures(tree: Tree) -> list[tuple[str, str, str]]:
    """(label, value as declared, meaning) of every figure in the run's ``metrics``: what its
    strategy and evaluators declare (``reasoning.figures``), then undeclared ones by name."""
    info = tree.info or {}
    metrics = (tree.finished or {}).get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return []
    params = info.get("params") if isinstance(info.get("params"), dict) else {}
    declared = figures_for(str(info.get("strategy") or ""), params)
    return [(f.heading, f.text(v), f.meaning) for f, v in shown(declared, metrics)]


def run_cost(tree: Tree, node_id: int | None = None) -> float | None:
    """$ spent (whole run, or one node) at the run's prices; None if unpriced."""
    return cost(tree, node_id)


OUTCOME_COLORS = {"solved": "green", "failed": "red", "budget": "orange", "cancelled": "gray",
                  "error": "violet", "interrupted": "gray"}


def outcome_badge(tree: Tree, running: bool) -> tuple[str, str]:
    """(label, colour) for ``st.badge``; labels are our own words, never model text."""
    if tree.outcome is None:
        return ("running", "blue") if running else ("in progress", "gray")
    return tree.outcome, OUTCOME_COLORS.get(tree.outcome, "gray")


def generating_text(tree: Tree) -> str | None:
    """``Generating node 7: 4 + 5 = …`` for the newest node still streaming, else None."""
    streaming = [n for n in tree.nodes.values() if n.state == GENERATING]
    if not streaming:
        return None
    node = max(streaming, key=lambda n: n.id)
    text = node.text.replace("\n", " ⏎ ")
    if len(text) > STREAM_TAIL_CHARS:
        text = "…" + text[-STREAM_TAIL_CHARS:]
    return f"Generating node {node.id} ({node.role}): {text or '…'}"


def counts_text(tree: Tree) -> str:
    c = tree.counts()
    return " · ".join(f"{state} {n}" for state, n in c.items() if n)
