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

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .tree import BACKTRACKED, FAILED, OPEN, PRUNED, SOLVED, Node, Tree

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

    def counts(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": len(self.rows), "runs": self.runs,
                "runs_with_rows": self.runs_with_rows, "duplicates": self.duplicates,
                "filtered": self.filtered, "problems": len({problem_key(r) for r in self.rows}),
                "reasons": dict(self.reasons)}


# -- small tree queries ------------------------------------------------------------------------
def has_verdict(node: Node) -> bool:
    """A verified terminal outcome (solved / failed by the verifier or a user's mark)."""
    return (node.role in OUTCOME_ROLES and node.state in (SOLVED, FAILED)
            and node.finish_reason not in NO_VERDICT_FINISH)


def solved_ends(tree: Tree) -> list[int]:
    """The solved nodes whose paths count: the run's answer node if solved, else every solved node."""
    if tree.answer_node in tree.nodes and tree.nodes[tree.answer_node].state == SOLVED:
        return [tree.answer_node]
    return sorted(n.id for n in tree.nodes.values() if n.state == SOLVED)


def on_any_solved_path(tree: Tree) -> set[int]:
    out: set[int] = set()
    for n in tree.nodes.values():
        if n.state == SOLVED:
            out.update(tree.path_to(n.id))
    return out


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


def problem_key(row: dict[str, Any]) -> str:
    """What 'the same problem' means for the split: the task and the problem text (spaces
    normalised), so a puzzle run by its bundled id and by its text is still one problem."""
    return f"{row.get('task')}:{' '.join(str(row.get('problem') or row.get('problem_id')).split())}"


def _unit_hash(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(16 ** 12)


def is_validation(key: str, fraction: float) -> bool:
    """Deterministic split by problem: the same problem always lands on the same side."""
    return fraction > 0 and _unit_hash(key) < fraction


def problem_keys(trees: Iterable[Tree]) -> set[str]:
    """The problems of a selection of runs (the universe a split is drawn from)."""
    return {problem_key(t.info) for t in trees}


def split_rows(rows: list[dict[str, Any]], fraction: float,
               universe: set[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(train, validation) by problem: a problem's rows are all on one side.

    A problem goes to validation when the hash of its key is below ``fraction``. With few
    problems that can leave one side empty; then (two problems or more) the problem with the
    lowest hash goes to validation, or the one with the highest back to train. ``universe``:
    the problems of the whole selection (:func:`problem_keys`), so that pairs, values and traces
    exported from the same runs put every problem on the same side.
    """
    if not (0.0 <= fraction < 1.0):
        raise ValueError(f"split: must be from 0 to below 1, got {fraction!r}")
    keys = universe if universe is not None else {problem_key(r) for r in rows}
    val_keys = {k for k in keys if is_validation(k, fraction)}
    if fraction > 0 and len(keys) >= 2:
        if not val_keys:
            val_keys = {min(keys, key=_unit_hash)}
        elif val_keys == keys:
            val_keys = keys - {max(keys, key=_unit_hash)}
    train = [r for r in rows if problem_key(r) not in val_keys]
    return train, [r for r in rows if problem_key(r) in val_keys]


# -- prompts -----------------------------------------------------------------------------------
def task_and_problem(info: dict[str, Any]):
    """The run's task and problem, rebuilt from its ``run_started`` payload.

    The problem is looked up among the task's problems (so its data — gold answer, few-shot
    examples of a task file — is there) and else parsed from its text. ``ValueError`` when the
    task is unknown here or its task file is gone.
    """
    from .tasks import JsonlTask, get_task
    from .tasks.base import Problem
    task = JsonlTask(info["task_file"]) if info.get("task_file") else \
        get_task(str(info.get("task")))
    text, pid = str(info.get("problem", "")), str(info.get("problem_id") or "")
    try:
        found = task.problem_by_id(pid) if pid else None
    except (ValueError, OSError):
        found = None
    if found is not None and " ".join(found.text.split()) == " ".join(text.split()):
        return task, found
    try:
        return task, task.resolve_problem(text)
    except ValueError:
        return task, Problem(id=pid or text, text=text)


class Prompter:
    """Renders 'the prompt that asked for the next step' after a list of steps, per run."""

    def __init__(self, tree: Tree, fmt: str = "task") -> None:
        self.tree, self.fmt = tree, fmt
        self.problem_text = str(tree.info.get("problem", ""))
        self.task = self.problem = None
        if fmt != "plain":
            try:
                self.task, self.problem = task_and_problem(tree.info)
            except (ValueError, OSError):
                self.task = None

    def plain(self, steps: list[str]) -> str:
        return self.problem_text + "\n" + "".join(s + "\n" for s in steps)

    def state_after(self, steps: list[str]):
        state = self.task.initial_state(self.problem)
        for s in steps:
            _, state = self.task.apply_step(self.problem, state, s)
        return state

    def __call__(self, steps: list[str]) -> tuple[Any, str]:
        """(prompt, format actually used)."""
        if self.task is None:
            return self.plain(steps), "plain"
        try:
            state = self.state_after(steps)
        except ValueError:  # InvalidStep: a step the task cannot replay
            return self.plain(steps), "plain"
        mode = "chat" if self.fmt == "chat" else "completions"
        return self.task.prompt(self.problem, state, mode), self.fmt


def _as_reply(text: str, fmt: str) -> Any:
    return [{"role": "assistant", "content": text}] if fmt == "chat" else text


def _run_meta(tree: Tree) -> dict[str, Any]:
    info = tree.info
    return {"run_id": tree.run_id, "task": info.get("task"), "problem_id": info.get("problem_id"),
            "problem": info.get("problem"), "strategy": info.get("strategy"),
            "outcome": tree.outcome}


def _scores(node: Node) -> dict[str, Any]:
    return {"value": node.value, "evaluator": node.evaluator or None, "visits": node.visits,
            "mean_value": node.mean_value}


# -- preference pairs --------------------------------------------------------------------------
def pairs_from_tree(tree: Tree, filters: Filters | None = None) -> tuple[list[dict], str | None]:
    """Preference pairs of one run, and the reason when there are none."""
    f = filters or Filters()
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
            prompt, used = prompter(steps)
            for rej in rejected:
                rows.append({"prompt": prompt, "chosen": _as_reply(step_text(chosen), used),
                             "rejected": _as_reply(step_text(rej), used), **meta,
                             "depth": chosen.depth, "steps_so_far": steps,
                             "parent_node": parent_id, "chosen_node": chosen.id,
                             "rejected_node": rej.id, "rejected_state": rej.state,
                             "rejected_reason": _lost_because(rej, outcomes),
                             "chosen_scores": _scores(chosen), "rejected_scores": _scores(rej),
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


# -- step values -------------------------------------------------------------------------------
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


# -- solved traces -----------------------------------------------------------------------------
def traces_from_tree(tree: Tree, filters: Filters | None = None) -> tuple[list[dict], str | None]:
    """One SFT example per solved end: prompt → steps → answer (or the whole exploration)."""
    f = filters or Filters()
    ends = solved_ends(tree)
    if not ends:
        return [], NO_SOLVED_PATH
    prompter = Prompter(tree, f.prompt_format)
    prompt, used = prompter([])
    meta = _run_meta(tree)
    rows = []
    for end in ends:
        steps = steps_on_path(tree, end)
        answer = tree.nodes[end].answer or tree.answer or ""
        body = whole_exploration(tree, end) if f.whole else "\n".join(steps)
        said = bool(steps) and answer in steps[-1]  # line tasks end on "Answer: …" already
        completion = body + (f"\nAnswer: {answer}" if answer and not said else "")
        rows.append({"prompt": prompt, "completion": _as_reply(completion, used), **meta,
                     "steps": steps, "answer": answer, "depth": len(steps), "solved_node": end,
                     "whole": f.whole, "nodes_explored": len(tree.nodes),
                     "prompt_format": used})
    return rows, None


def whole_exploration(tree: Tree, end: int) -> str:
    """The exploration as one chain of thought, depth first, ending on the solved path.

    Siblings are visited in the order the search made them, except that the child leading to
    ``end`` is visited last; every dead end is said in words and followed by going back.
    """
    on_path = set(tree.path_to(end))
    lines: list[str] = []

    def visit(nid: int) -> None:
        node = tree.nodes[nid]
        kids = [c for c in node.children if c not in on_path] + \
            [c for c in node.children if c in on_path]
        for c in kids:
            child = tree.nodes[c]
            if c not in on_path and not _speaks(child):
                continue
            lines.extend(_say(child, c in on_path))
            if c in on_path:
                if c != end:
                    visit(c)
                return
            if child.role == "rollout":
                continue  # a look-ahead from this node: we are still here
            visit(c)
            lines.append(f"Let me go back ({node.label})." if node.label else "Let me go back.")

    visit(tree.root_id)
    return "\n".join(lines)


def _say(node: Node, on_path: bool) -> list[str]:
    if node.role == "rollout":
        steps = [s.strip() for s in node.text.splitlines() if s.strip()]
        if on_path:
            return steps
        verdict = "It works." if node.state == SOLVED else f"It does not work: {node.reason}."
        return [f"Looking ahead: {'; '.join(steps) or '(no step)'}. {verdict}"]
    text = step_text(node)
    if on_path:
        return [text]
    if node.state in (PRUNED, FAILED):
        return [text, f"This does not work: {node.reason}."]
    if node.state == BACKTRACKED:
        return [text, f"This leads nowhere: {node.reason}."]
    if not node.children:
        return [text, "I will not follow this one further."]
    return [text]


# -- many runs ---------------------------------------------------------------------------------
_BUILDERS = {"pairs": pairs_from_tree, "values": values_from_tree, "traces": traces_from_tree}


def _dedupe_key(kind: str, row: dict[str, Any]) -> str:
    fields = {"pairs": ("prompt", "chosen", "rejected"), "values": ("prompt", "step", "n", "correct"),
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
        rows, why = _BUILDERS[kind](tree, f)
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


# -- computing missing rollouts ----------------------------------------------------------------
def nodes_needing_rollouts(tree: Tree, filters: Filters | None = None) -> list[int]:
    """Step nodes with a valid, non-terminal step and no outcome below them yet."""
    f = filters or Filters()
    counts = outcome_counts(tree)
    return [n.id for n in sorted(tree.nodes.values(), key=lambda n: n.id)
            if n.role in STEP_ROLES and n.parent_id is not None and n.step
            and counts[n.id][0] == 0 and n.state not in (SOLVED, FAILED)
            and not n.reason.startswith("duplicate") and f.depth_ok(n.depth)]


DEFAULT_SECONDS_PER_STEP = 0.75  # embedded Gemma 270M, one Game-of-24 step, uncontended


def estimate_rollout_budget(trees: Iterable[Tree], n: int, filters: Filters | None = None,
                            seconds_per_step: float | None = None,
                            max_depth: int | None = None) -> dict[str, Any]:
    """What :func:`compute_rollouts` would cost: nodes, rollouts, model calls (upper bound), time.

    A rollout from depth ``d`` takes at most ``max_depth - d`` model calls (one per step). The
    time per call is, unless given, measured on these runs (their ``model_seconds`` /
    ``model_calls``), else :data:`DEFAULT_SECONDS_PER_STEP`.
    """
    if n < 1:
        raise ValueError(f"rollouts: n must be >= 1, got {n!r}")
    trees = list(trees)
    source = "given"
    if seconds_per_step is None:
        calls_made = sum(int(t.finished.get("model_calls") or 0) for t in trees)
        seconds = sum(float(t.finished.get("model_seconds") or 0.0) for t in trees)
        seconds_per_step, source = (seconds / calls_made, "measured on these runs") if calls_made \
            else (DEFAULT_SECONDS_PER_STEP, "default for the embedded model")
    nodes = calls = 0
    for tree in trees:
        depth_limit = max_depth if max_depth is not None else _task_depth(tree)
        for nid in nodes_needing_rollouts(tree, filters):
            nodes += 1
            calls += n * max(1, depth_limit - tree.nodes[nid].depth)
    return {"nodes": nodes, "rollouts": nodes * n, "max_model_calls": calls,
            "est_seconds": round(calls * seconds_per_step, 1),
            "seconds_per_step": round(seconds_per_step, 3), "seconds_per_step_source": source}


def _task_depth(tree: Tree) -> int:
    try:
        return task_and_problem(tree.info)[0].max_depth
    except (ValueError, OSError):
        return 8


def compute_rollouts(tree: Tree, events: list, model: Any, n: int,
                     filters: Filters | None = None, temperature: float = 1.0,
                     cancel: Any = None) -> list:
    """Draw ``n`` rollouts (role ``rollout``) below every node that has none; return new events.

    ``events`` is the run's full event log (``tree`` is its fold). The new events continue its
    ``seq`` numbering, so appending them to the run's log and folding again gives the tree with
    the rollouts in it; the caller decides whether to store them. The set of nodes is fixed
    before the first rollout, so every such node gets exactly ``n`` (a deeper node's rollouts
    do not excuse its parent). Raises ``ValueError`` when the task is unknown.
    """
    from .engine import Cancelled, Result, SearchContext, TooManyModelErrors, _close_open_generations, rollout
    from .recorder import Recorder
    from .settings import MAX_NODES_LIMIT, MAX_SECONDS_LIMIT, MAX_TOKENS_LIMIT, Budget
    from .tree import fold

    targets = nodes_needing_rollouts(tree, filters)
    if not targets or n < 1:
        return []
    task, problem = task_and_problem(tree.info)
    rec = Recorder(tree.run_id)
    rec.tree = fold(events)  # a private copy that the new events extend
    rec.t0 = rec.clock() - rec.tree.t
    rec._next_node = max(rec.tree.nodes) + 1
    budget = Budget(MAX_NODES_LIMIT, MAX_TOKENS_LIMIT, MAX_SECONDS_LIMIT)
    ctx = SearchContext(task, problem, model, rec, budget, seed=int(tree.info.get("seed", 0) or 0),
                        cancel=cancel)
    prompter = Prompter(tree, "task")
    try:
        for nid in targets:
            ctx.states[nid] = prompter.state_after(steps_on_path(tree, nid))
            for _ in range(n):
                rollout(ctx, nid, temperature)
    except (Cancelled, TooManyModelErrors):
        pass  # keep what was drawn; a rollout cut off mid-way is failed with finish "aborted"
    _close_open_generations(rec, Result("cancelled", detail="rollouts stopped"))
    rec.flush()
    return list(rec.events)
