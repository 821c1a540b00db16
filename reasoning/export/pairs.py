"""Preference pairs (Chain of Preference Optimization): the solved path's step against each losing
sibling step."""
from __future__ import annotations

from collections import Counter

from ..tree import OPEN, SOLVED, Node, Tree
from .common import (
    NO_REJECTED,
    NO_SOLVED_PATH,
    NO_VERDICT_FINISH,
    REJECTED_STATES,
    STEP_ROLES,
    Filters,
    on_any_solved_path,
    outcome_counts,
    solved_ends,
    step_text,
    steps_on_path,
)
from .prompts import Prompter, States, _as_reply, _run_meta, _scores

SAME_STATE = "same_state"


def pairs_from_tree(tree: Tree, filters: Filters | None = None,
                    dropped: Counter | None = None) -> tuple[list[dict], str | None]:
    """Preference pairs of one run, and the reason when there are none.

    A rejected sibling that reaches the same state as the chosen step (Game of 24: the same
    numbers left, e.g. ``4 + 6`` and ``6 + 4``) teaches nothing and is dropped (counted in
    ``dropped["same_state"]``). Each side carries its exact solvability where the task has a
    solver (``chosen_solvable`` / ``rejected_solvable``; None otherwise).
    """
    f = filters or Filters()
    dropped = dropped if dropped is not None else Counter()
    states = States(tree)
    ends = solved_ends(tree)
    if not ends:
        return [], NO_SOLVED_PATH
    # every solved path counts (the answer's first), so a parent with two solved children
    # gives pairs for both
    ends += sorted(n.id for n in tree.nodes.values() if n.state == SOLVED and n.id not in ends)
    good = on_any_solved_path(tree)
    outcomes = outcome_counts(tree)
    prompter = Prompter(tree, f.prompt_format)
    meta = _run_meta(tree)
    rows: list[dict] = []
    seen: set[tuple[int, int]] = set()
    for end in ends:
        path = tree.path_to(end)
        for parent_id, child_id in zip(path, path[1:], strict=False):
            chosen = tree.nodes[child_id]
            if (parent_id, child_id) in seen or chosen.role not in STEP_ROLES:
                continue
            seen.add((parent_id, child_id))
            rejected = [tree.nodes[s] for s in tree.nodes[parent_id].children
                        if _is_rejected(tree.nodes[s], good, outcomes, f)
                        and step_text(tree.nodes[s]) != step_text(chosen)]
            if not rejected:
                continue
            steps = steps_on_path(tree, parent_id)
            mine = states.after(steps + [step_text(chosen)])
            theirs = {r.id: states.after(steps + [step_text(r)]) for r in rejected}
            same = [r for r in rejected if mine is not None and theirs[r.id] is not None
                    and states.key(theirs[r.id]) == states.key(mine)]
            dropped[SAME_STATE] += len(same)
            rejected = [r for r in rejected if r not in same]
            if not rejected:
                continue
            prompt, used = prompter(steps)
            for rej in rejected:
                rows.append({"prompt": prompt, "chosen": _as_reply(step_text(chosen), used),
                             "rejected": _as_reply(step_text(rej), used), **meta,
                             "depth": chosen.depth, "steps_so_far": steps,
                             "parent_node": parent_id, "chosen_node": chosen.id,
                             "rejected_node": rej.id, "rejected_state": rej.state,
                             "rejected_reason": _lost_because(rej, outcomes),
                             "chosen_scores": _scores(chosen), "rejected_scores": _scores(rej),
                             "chosen_solvable": states.solvable(mine),
                             "rejected_solvable": states.solvable(theirs[rej.id]),
                             "prompt_format": used})
    return rows, (None if rows else NO_REJECTED)


def _is_rejected(node: Node, good: set[int], outcomes: dict[int, tuple[int, int]],
                 f: Filters) -> bool:
    """Pruned / failed / backtracked; or open with only wrong outcomes below it (MCTS leaves
    such siblings open: every rollout from them failed); or, on request, any open sibling."""
    if node.id in good or node.role not in STEP_ROLES:
        return False
    if not _speaks(node):
        return False
    if node.state in REJECTED_STATES:
        return True
    if node.state != OPEN or not node.step:
        return False
    # not on a solved path, so none of its outcomes is right: n > 0 means all were wrong
    return outcomes[node.id][0] > 0 or f.include_open


def _speaks(node: Node) -> bool:
    """False for nodes that say nothing about their step: cut off by a model error or a stop,
    or pruned as a duplicate of a sibling."""
    return node.finish_reason not in NO_VERDICT_FINISH and not node.reason.startswith("duplicate")


def _lost_because(node: Node, outcomes: dict[int, tuple[int, int]]) -> str:
    if node.state == OPEN:
        n = outcomes[node.id][0]
        if n:
            return f"rollouts: none of the {n} outcome(s) below it was right"
        return "not chosen: never explored; the search found the solution through a sibling"
    return f"{node.state}: {node.reason}" if node.reason else node.state


