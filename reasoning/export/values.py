"""Step values (OVM / Math-Shepherd): Monte-Carlo estimates of how often a step leads to a right
answer."""
from __future__ import annotations

from ..tree import Tree
from .common import (
    NO_OUTCOMES,
    STEP_ROLES,
    Filters,
    direct_counts,
    on_any_solved_path,
    outcome_counts,
    step_text,
    steps_on_path,
)
from .prompts import Prompter, _as_reply, _run_meta, _scores


def values_from_tree(tree: Tree, filters: Filters | None = None) -> tuple[list[dict], str | None]:
    """Monte-Carlo step values of one run (one row per step node with outcomes below it).

    Two estimates side by side: ``direct_*`` from the completions drawn from the step itself
    (Math-Shepherd; unbiased, :func:`~reasoning.export.rollouts.compute_rollouts` draws them),
    and ``n`` / ``correct`` / ``soft`` / ``hard`` from every outcome in its subtree (pooled from
    the search's own continuations, so biased towards where the search chose to go).
    """
    f = filters or Filters()
    counts = outcome_counts(tree)
    direct = direct_counts(tree)
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
        dn, dc = direct[node.id]
        rows.append({"prompt": prompt, "step": _as_reply(step_text(node), used),
                     "soft": correct / n, "hard": int(correct > 0), "n": n, "correct": correct,
                     "direct_n": dn, "direct_correct": dc,
                     "direct_soft": dc / dn if dn else None,
                     "direct_hard": int(dc > 0) if dn else None,
                     **meta, "depth": node.depth, "steps_so_far": steps, "node": node.id,
                     "state": node.state, "on_solved_path": node.id in good,
                     "scores": _scores(node), "prompt_format": used})
    return rows, (None if rows else NO_OUTCOMES)


