"""Step values (OVM / Math-Shepherd): Monte-Carlo estimates of how often a step leads to a right
answer."""
from __future__ import annotations

from ..tree import Tree
from .common import (
    NO_OUTCOMES,
    STEP_ROLES,
    Filters,
    on_any_solved_path,
    outcome_counts,
    step_text,
    steps_on_path,
)
from .prompts import Prompter, _as_reply, _run_meta, _scores


def values_from_tree(tree: Tree, filters: Filters | None = None) -> tuple[list[dict], str | None]:
    """Monte-Carlo step values of one run (one row per step node with outcomes below it)."""
    f = filters or Filters()
    counts = outcome_counts(tree)
    good = on_any_solved_path(tree)
    prompter = Prompter(tree, f.prompt_format)
    meta = _run_meta(tree)
    rows: list[dict] = []
    for node in sorted(tree.nodes.values(), key=lambda n: n.id):
        if node.role not in STEP_ROLES or node.parent_id is None:
            continue
        n, correct = counts[node.id]
        if n == 0:
            continue
        steps = steps_on_path(tree, node.parent_id)
        prompt, used = prompter(steps)
        rows.append({"prompt": prompt, "step": _as_reply(step_text(node), used),
                     "soft": correct / n, "hard": int(correct > 0), "n": n, "correct": correct,
                     **meta, "depth": node.depth, "steps_so_far": steps, "node": node.id,
                     "state": node.state, "on_solved_path": node.id in good,
                     "scores": _scores(node), "prompt_format": used})
    return rows, (None if rows else NO_OUTCOMES)


