"""Training data from search trees: preference pairs, Monte-Carlo step values, solved traces.

Everything here works on :class:`~reasoning.tree.Tree` objects (folded from a run's events) and
the task's own prompt text; nothing touches storage or a page. One row is one JSON object.

* **Preference pairs** (Chain of Preference Optimization, Zhang et al. 2024): for each parent on a
  solved path, the step child on that path is ``chosen`` and every sibling step that is pruned,
  failed or backtracked (and not itself on a solved path) is ``rejected`` — and so is an ``open``
  sibling whose rollouts all failed (MCTS leaves its losers open; their evidence is the
  rollouts). Duplicates of a sibling and nodes cut off by a model error or a stop are left out.
  ``prompt`` is the prompt that asked for that step: the task prompt with the steps so far.
  Only step nodes
  (role ``thought`` / ``answer``) take part: a ``rollout`` node is a whole continuation of several
  steps drawn by the search for evaluation, not a step, so it is neither chosen nor rejected (its
  outcome feeds the step values instead).
* **Step values** (Outcome-supervised value models, Yu et al. 2024; Math-Shepherd, Wang et al.
  2024): per step node, the *outcomes below it* — every verified terminal node in its subtree,
  i.e. finished rollouts and terminal steps, the node itself included — give ``n`` samples, of
  which ``correct`` reached a right answer: ``soft = correct / n``, ``hard = 1 if correct else 0``.
  Nodes with no outcome below them are skipped; :func:`compute_rollouts` can draw ``n`` rollouts
  for them (see :func:`estimate_rollout_budget` for the cost first).
* **Solved traces**: the solved path as one clean chain (prompt → steps → answer) for supervised
  fine-tuning, or (``whole=True``) the whole exploration as one long chain of thought with the
  dead ends and backtracks written out in words.

Prompts (``prompt_format``): ``"task"`` (default) is the task's completions prompt for the state
after the steps so far — exactly the text a base model continued during the search, few-shot
examples included; ``"chat"`` is the task's chat messages (conversational format, ``chosen`` /
``rejected`` / ``completion`` then become one assistant message); ``"plain"`` is just
``"<problem>\\n" + one line per step so far``. When the task is unknown or a step cannot be
replayed, the plain rendering is used and the row says so (``prompt_format``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..tree import Tree
from .common import (
    KINDS,
    NO_OUTCOMES,
    NO_REJECTED,
    NO_SOLVED_PATH,
    NOT_SOLVED_FILTER,
    OUTSIDE_DEPTH,
    PROMPT_FORMATS,
    ExportResult,
    Filters,
    has_verdict,
    on_any_solved_path,
    outcome_counts,
    solved_ends,
    step_text,
    steps_on_path,
)
from .pairs import pairs_from_tree
from .prompts import Prompter, task_and_problem
from .rollouts import (
    DEFAULT_SECONDS_PER_STEP,
    compute_rollouts,
    estimate_rollout_budget,
    nodes_needing_rollouts,
)
from .split import is_validation, problem_key, problem_keys, split_rows
from .traces import traces_from_tree, whole_exploration
from .values import values_from_tree

_BUILDERS = {"pairs": pairs_from_tree, "values": values_from_tree, "traces": traces_from_tree}


def _dedupe_key(kind: str, row: dict[str, Any]) -> str:
    fields = {"pairs": ("prompt", "chosen", "rejected"), "values": ("prompt", "step", "n", "correct", "direct_n", "direct_correct"),
              "traces": ("prompt", "completion")}[kind]
    return json.dumps([row[k] for k in fields], sort_keys=True)


def export_trees(kind: str, trees: Iterable[Tree], filters: Filters | None = None) -> ExportResult:
    """Rows of ``kind`` ("pairs" / "values" / "traces") from many runs, filtered and deduplicated."""
    if kind not in _BUILDERS:
        raise ValueError(f"kind: one of {', '.join(KINDS)}, got {kind!r}")
    f = filters or Filters()
    res = ExportResult(kind)
    seen: set[str] = set()
    for tree in trees:
        res.runs += 1
        if f.only_solved and not solved_ends(tree):
            res.reasons[NOT_SOLVED_FILTER] += 1
            continue
        rows, why = pairs_from_tree(tree, f, res.dropped) if kind == "pairs" else \
            _BUILDERS[kind](tree, f)
        if why:
            res.reasons[why] += 1
        kept = [r for r in rows if f.depth_ok(r["depth"])]
        res.filtered += len(rows) - len(kept)
        if rows and not kept:
            res.reasons[OUTSIDE_DEPTH] += 1
        added = 0
        for r in kept:
            key = _dedupe_key(kind, r)
            if f.dedupe and key in seen:
                res.duplicates += 1
                continue
            seen.add(key)
            res.rows.append(r)
            added += 1
        res.runs_with_rows += bool(added)
    return res




__all__ = ["DEFAULT_SECONDS_PER_STEP", "KINDS", "NOT_SOLVED_FILTER", "NO_OUTCOMES", "NO_REJECTED",
           "NO_SOLVED_PATH", "OUTSIDE_DEPTH", "PROMPT_FORMATS", "ExportResult", "Filters",
           "Prompter", "compute_rollouts", "estimate_rollout_budget", "export_trees",
           "has_verdict", "is_validation", "nodes_needing_rollouts", "on_any_solved_path",
           "outcome_counts", "pairs_from_tree", "problem_key", "problem_keys", "solved_ends",
           "split_rows", "step_text", "steps_on_path", "task_and_problem", "traces_from_tree",
           "values_from_tree", "whole_exploration"]
