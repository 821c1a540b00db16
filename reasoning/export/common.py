"""What every export shares: filters, the result counts, and small queries on a folded tree."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..run_facts import every_solved_path, solution_ends
from ..tree import BACKTRACKED, FAILED, PRUNED, SOLVED, Node, Tree

STEP_ROLES = frozenset({"thought", "answer"})
OUTCOME_ROLES = frozenset({"thought", "answer", "rollout"})
REJECTED_STATES = frozenset({PRUNED, FAILED, BACKTRACKED})
# a node that ended like this was cut off (model error, stop, budget): no verdict, no sample
NO_VERDICT_FINISH = frozenset({"error", "aborted"})
PROMPT_FORMATS = ("task", "chat", "plain")
KINDS = ("pairs", "values", "traces")

NO_SOLVED_PATH = "no solved path"
NO_REJECTED = ("solved path has no losing sibling step (pruned, failed, backtracked, or open "
               "with only wrong rollouts)")
NO_OUTCOMES = "no step has rollouts or terminal outcomes below it (compute rollouts to label them)"
NOT_SOLVED_FILTER = "skipped: run not solved (only solved runs)"
OUTSIDE_DEPTH = "rows outside the depth filter"


@dataclass
class Filters:
    only_solved: bool = False
    min_depth: int | None = None
    max_depth: int | None = None
    dedupe: bool = True
    include_open: bool = False     # pairs: also reject open siblings never explored (no rollout)
    prompt_format: str = "task"
    whole: bool = False            # traces: the whole exploration as one long chain

    def __post_init__(self) -> None:
        if self.prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format: one of {', '.join(PROMPT_FORMATS)}, "
                             f"got {self.prompt_format!r}")
        for name in ("min_depth", "max_depth"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 0):
                raise ValueError(f"{name}: must be a whole number >= 0, got {v!r}")
        if self.min_depth is not None and self.max_depth is not None and \
                self.min_depth > self.max_depth:
            raise ValueError(f"min_depth: {self.min_depth} is above max_depth {self.max_depth}")

    def depth_ok(self, depth: int) -> bool:
        return (self.min_depth is None or depth >= self.min_depth) and \
            (self.max_depth is None or depth <= self.max_depth)


@dataclass
class ExportResult:
    """The rows of one export and the counts that explain them (why a run gave nothing)."""
    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    runs: int = 0
    runs_with_rows: int = 0
    duplicates: int = 0
    filtered: int = 0
    reasons: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)   # rows left out on purpose, by why

    def counts(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": len(self.rows), "runs": self.runs,
                "runs_with_rows": self.runs_with_rows, "duplicates": self.duplicates,
                "filtered": self.filtered, "problems": len({problem_key(r) for r in self.rows}),
                "reasons": dict(self.reasons), **({"dropped": dict(self.dropped)}
                                                  if self.dropped else {})}


# -- small tree queries ------------------------------------------------------------------------
def has_verdict(node: Node) -> bool:
    """A verified terminal outcome (solved / failed by the verifier or a user's mark)."""
    return (node.role in OUTCOME_ROLES and node.state in (SOLVED, FAILED)
            and node.finish_reason not in NO_VERDICT_FINISH)


# the solved path and its ends: one rule, in reasoning.run_facts
solved_ends = solution_ends
on_any_solved_path = every_solved_path


def step_text(node: Node) -> str:
    """The step as the task parsed it, else the model's raw text (invalid steps)."""
    return node.step if node.step else node.text.strip()


def steps_on_path(tree: Tree, node_id: int) -> list[str]:
    """Steps from the root to ``node_id`` (a rollout node contributes its lines)."""
    out: list[str] = []
    for nid in tree.path_to(node_id)[1:]:
        node = tree.nodes[nid]
        if node.role == "rollout":
            out.extend(line.strip() for line in node.text.splitlines() if line.strip())
        else:
            out.append(step_text(node))
    return out


def outcome_counts(tree: Tree) -> dict[int, tuple[int, int]]:
    """node id -> (n outcomes in its subtree incl. itself, how many correct). One pass."""
    memo: dict[int, tuple[int, int]] = {}
    for nid in sorted(tree.nodes, key=lambda i: -tree.nodes[i].depth):  # leaves first
        node = tree.nodes[nid]
        n, c = (1, int(node.state == SOLVED)) if has_verdict(node) else (0, 0)
        for ch in node.children:
            cn, cc = memo.get(ch, (0, 0))
            n, c = n + cn, c + cc
        memo[nid] = (n, c)
    return memo


def direct_counts(tree: Tree) -> dict[int, tuple[int, int]]:
    """step node id -> (completions drawn from THIS step, how many right), as Math-Shepherd
    estimates a step: its own ``rollout`` children with a verdict. A terminal step with a verdict
    is its own single completion. Outcomes deeper down (below a later step the search chose) are
    not this step's samples: they are counted by :func:`outcome_counts` (the subtree)."""
    out: dict[int, tuple[int, int]] = {}
    for node in tree.nodes.values():
        if node.role not in STEP_ROLES:
            continue
        if has_verdict(node):
            out[node.id] = (1, int(node.state == SOLVED))
            continue
        kids = [tree.nodes[c] for c in node.children]
        done = [k for k in kids if k.role == "rollout" and has_verdict(k)]
        out[node.id] = (len(done), sum(k.state == SOLVED for k in done))
    return out


def problem_key(row: dict[str, Any]) -> str:
    """What 'the same problem' means for the split: the task and the problem text (spaces
    normalised), so a puzzle run by its bundled id and by its text is still one problem."""
    return f"{row.get('task')}:{' '.join(str(row.get('problem') or row.get('problem_id')).split())}"
