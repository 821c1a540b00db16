"""Shortcut vs exploration: the figures of one run and where two runs part ways.

Everything here reads a folded :class:`~reasoning.tree.Tree` (or an event list), so the Compare
page, the CLI and tests share one definition of every number:

* :func:`metrics` — outcome and answer, nodes, model calls, prompt / completion tokens, optional
  cost, wall time, depth of the solution (in steps), time to the first correct answer, and the
  figures the run's strategy and evaluators declared (``run_finished.metrics``).
* :func:`divergence` — the first step where the shortcut's chain differs from the exploratory
  run's solved path, with the evaluator's scores of both steps when the runs scored them.

Two steps are the same when their texts match or, where the task labelled the states they reach
(``left: 1 3 8``), when they reach the same state. A *step* is one move of the task. A ``thought`` node holds one step; a ``rollout`` node (MCTS)
holds several, one per line of its text, so both runs are compared step by step even when one
of them packed the end of its path into a rollout. A node whose text did not parse as a step
(pruned as invalid) still counts as a step — the raw text — since that is where a chain broke.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .events import Event
from .run_facts import cost as run_cost
from .run_facts import is_shortcut, shortcut_first, solution_end, solved_path, totals
from .tree import SOLVED, Node, Tree


@dataclass
class Metrics:
    run_id: int | str | None
    strategy: str
    outcome: str | None
    answer: str | None
    nodes: int
    model_calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    solution_depth: int | None       # steps from the problem to the answer, when solved
    first_correct_s: float | None    # elapsed seconds when the first verified solution appeared
    cost: float | None = None        # only when prices are given
    # run_finished.metrics: the figures its strategy and evaluators declare (reasoning.figures)
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def metrics(tree: Tree, price_in: float | None = None, price_out: float | None = None) -> Metrics:
    """The figures of one run. Prices are per million prompt / completion tokens (optional)."""
    spent = totals(tree)
    generated = [n for n in tree.nodes.values() if n.parent_id is not None]
    calls = spent.model_calls
    if calls is None:  # older logs: a rollout node is one call per step, others one call
        calls = sum(len(_rollout_lines(n)) if n.role == "rollout" else 1 for n in generated)
    solved = [n for n in tree.nodes.values() if n.state == SOLVED]
    first = min((n.t_completed for n in solved if n.t_completed is not None), default=None)
    end = solution_end(tree)
    given = (price_in or 0.0, price_out or 0.0) if (price_in is not None or price_out is not None) \
        else None
    cost = run_cost(tree, price=given)  # the run's own prices unless others are given
    return Metrics(
        run_id=tree.run_id, strategy=str(tree.info.get("strategy", "")), outcome=tree.outcome,
        answer=tree.answer, nodes=len(tree.nodes), model_calls=int(calls),
        prompt_tokens=spent.prompt_tokens, completion_tokens=spent.generated_tokens,
        seconds=spent.seconds,
        solution_depth=len(path_steps(tree, tree.path_to(end))) if end is not None else None,
        first_correct_s=first, cost=cost, figures=dict(_metrics_of(tree)))


def _metrics_of(tree: Tree) -> dict[str, Any]:
    metrics = (tree.finished or {}).get("metrics")
    return metrics if isinstance(metrics, dict) else {}


# -- steps along a path ------------------------------------------------------------------------
@dataclass
class StepRef:
    """One step on a path: the node holding it and that node's scores."""
    node_id: int
    text: str
    valid: bool
    score: dict[str, Any] = field(default_factory=dict)
    state: str = ""   # the task's label of the state after the step, when known

    def same_as(self, other: StepRef) -> bool:
        """The same step, or a different wording that reaches the same state (3 * 1 vs 3 / 1)."""
        if not (self.valid and other.valid):
            return False
        if self.state and other.state:
            return self.state == other.state
        return _norm(self.text) == _norm(other.text)


def _rollout_lines(node: Node) -> list[str]:
    return [line.strip() for line in node.text.splitlines() if line.strip()]


def _score(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node.value is not None:
        out["value"] = node.value
    if node.evaluator:
        out["evaluator"] = node.evaluator
    if node.visits:
        out["visits"] = node.visits
        out["mean_value"] = node.mean_value
    if node.truth is not None:
        out["truth"] = node.truth
    return out


def path_steps(tree: Tree, path: Sequence[int]) -> list[StepRef]:
    """The steps along ``path`` (node ids from the root); the problem node holds none."""
    steps: list[StepRef] = []
    for nid in path:
        node = tree.nodes[nid]
        if node.parent_id is None or node.role == "problem":
            continue
        if node.role == "rollout":   # only the last line's state is known (the node's label)
            lines = _rollout_lines(node)
            steps.extend(StepRef(nid, line, True, _score(node),
                                 node.label if k == len(lines) - 1 else "")
                         for k, line in enumerate(lines))
        elif node.step:
            steps.append(StepRef(nid, node.step.strip(), True, _score(node), node.label))
        else:
            steps.append(StepRef(nid, node.text.strip() or "(no step)", False, _score(node)))
    return steps


def chain_end(tree: Tree) -> int | None:
    """Where the shortcut's chain ends: its answer node, else the last node it created."""
    if tree.answer_node in tree.nodes:
        return tree.answer_node
    if not tree.nodes:
        return None
    return max(tree.nodes)


# -- divergence --------------------------------------------------------------------------------
@dataclass
class Divergence:
    found: bool
    reason: str
    step: int | None = None                 # 1-based step number where the runs part
    shortcut_node: int | None = None
    explore_node: int | None = None
    shortcut_step: str | None = None
    explore_step: str | None = None
    shortcut_score: dict[str, Any] = field(default_factory=dict)
    explore_score: dict[str, Any] = field(default_factory=dict)
    shared_steps: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm(text: str) -> str:
    return " ".join(text.split())


SHORTCUT_NAMES = ("the shortcut", "the exploration")


def divergence(shortcut: Tree, explore: Tree,
               names: tuple[str, str] = SHORTCUT_NAMES) -> Divergence:
    """The first step where ``shortcut``'s chain leaves ``explore``'s solved path. ``names``:
    what the sentences call the two runs (``run A`` / ``run B`` when neither is the shortcut)."""
    me, ref = names
    ref_path = solved_path(explore)
    if not ref_path:
        if names == SHORTCUT_NAMES:
            return Divergence(False, f"{ref} has no solved path to compare with")
        return Divergence(False, "neither run has a solved path to compare with")
    end = chain_end(shortcut)
    if end is None:
        return Divergence(False, f"{me} has no nodes")
    mine = path_steps(shortcut, shortcut.path_to(end))
    theirs = path_steps(explore, ref_path)
    shared = 0
    while shared < min(len(mine), len(theirs)) and mine[shared].same_as(theirs[shared]):
        shared += 1
    if shared == len(mine) == len(theirs):
        return Divergence(False, f"{me} followed {ref}'s solved path all the way",
                          shared_steps=shared)
    a = mine[shared] if shared < len(mine) else None
    b = theirs[shared] if shared < len(theirs) else None
    if a is None:
        why = f"{me} stopped after {shared} step(s) on {ref}'s solved path"
    elif b is None:
        why = f"{me} went on past the {shared} step(s) of {ref}'s solved path"
    elif not a.valid:
        why = f"step {shared + 1}: {me}'s step is invalid"
    else:
        why = f"step {shared + 1}: {me} chose a different step from {ref}'s solved path"
    return Divergence(
        True, why, step=shared + 1,
        shortcut_node=a.node_id if a else None, explore_node=b.node_id if b else None,
        shortcut_step=a.text if a else None, explore_step=b.text if b else None,
        shortcut_score=a.score if a else {}, explore_score=b.score if b else {},
        shared_steps=shared)


def roles(a: Tree, b: Tree) -> tuple[Tree, Tree, bool]:
    """(shortcut, exploratory, swapped): see :func:`reasoning.run_facts.shortcut_first`."""
    return shortcut_first(a, b)


def pair_roles(a: Tree, b: Tree) -> tuple[Tree, Tree, tuple[str, str]]:
    """(compared run, reference run, their names). Only when exactly one run is the shortcut
    (:func:`reasoning.run_facts.is_shortcut`) are they "the shortcut" and "the exploration";
    otherwise "run A" and "run B", run A's chain held against run B's solved path (or the other
    way round when only run A solved it)."""
    if is_shortcut(a) != is_shortcut(b):
        shortcut, explore, _ = shortcut_first(a, b)
        return shortcut, explore, SHORTCUT_NAMES
    if not solved_path(b) and solved_path(a):
        return b, a, ("run B", "run A")
    return a, b, ("run A", "run B")


def compare(a: Tree, b: Tree, price_in: float | None = None,
            price_out: float | None = None) -> dict[str, Any]:
    """Metrics of both runs (in the order given) and their divergence, as plain JSON data.
    ``named_by_role``: one run is the shortcut (``shortcut_run``) and the other the exploration
    (``explore_run``); else both are named ``run A`` / ``run B`` (``shortcut_run`` is then the
    run whose chain is compared, ``explore_run`` the one whose solved path it is compared with)."""
    mine, ref, names = pair_roles(a, b)
    return {"runs": [metrics(a, price_in, price_out).to_dict(),
                     metrics(b, price_in, price_out).to_dict()],
            "shortcut_run": mine.run_id, "explore_run": ref.run_id,
            "named_by_role": names == SHORTCUT_NAMES, "names": list(names),
            "divergence": divergence(mine, ref, names).to_dict()}


# -- replay alignment --------------------------------------------------------------------------
def seq_at_time(events: Sequence[Event], t: float) -> int:
    """The last ``seq`` whose event happened at or before ``t`` seconds (0 if none)."""
    last = 0
    for e in events:
        if e.t > t:
            break
        last = e.seq
    return last


def locked_seqs(events_a: Sequence[Event], events_b: Sequence[Event], position: float,
                by: str = "step") -> tuple[int, int]:
    """Replay positions of two runs driven by one slider.

    ``by="step"``: ``position`` is an event count, clamped to each run's length.
    ``by="time"``: ``position`` is elapsed seconds; each run shows what it had done by then.
    """
    if by == "time":
        return seq_at_time(events_a, position), seq_at_time(events_b, position)
    if by != "step":
        raise ValueError(f"by: must be 'step' or 'time', got {by!r}")
    n = max(0, int(position))
    return min(n, len(events_a)), min(n, len(events_b))
