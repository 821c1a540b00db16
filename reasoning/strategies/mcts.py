"""Monte-Carlo Tree Search with UCT (Kocsis & Szepesvári, 2006), over reasoning steps.

Each simulation runs four named phases:

* ``_select``   — from the root, descend by UCT  Q/N + c·sqrt(ln N_parent / N_child)  while the
  node is fully expanded (unvisited children first);
* ``_expand``   — sample one new step (temperature > 0; where the server constrains output,
  steps already taken are excluded so every expansion is new);
* ``_simulate`` — the leaf's value: a Monte-Carlo rollout to a terminal state, drawn as one
  ``rollout`` node (1 if the verifier accepts it, else 0), and/or an evaluator's score mapped to
  0..1 (``evaluator`` set): value = rollout_weight·rollout + (1 − rollout_weight)·evaluator, as
  AlphaGo mixes its value network with rollouts; rollout_weight 0 skips the rollout. A terminal
  leaf is valued by the verifier alone;
* ``_backprop`` — add 1 visit and the reward to every node on the path (one event).

The final answer is the first verified solution (``stop_on_solution``) or else the most-visited
path.

Width: a node may have ``width`` children; ``width`` 0 means every legal move (the task's legal
step count at that node, or up to 16 proposals where the task cannot list its moves).
``pw_alpha`` > 0 turns on progressive widening: ⌈N^alpha⌉ children after N visits (capped by a
positive ``width`` only). A proposed step that reaches a state another node already reached (the
task's ``state_key``) is pruned as a duplicate (``transpositions``) and never proposed again from
that node. ``anytime``: simulations go on until a verified solution, the budget, or a fully
explored tree ends them (``simulations`` is then ignored).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from .. import events as ev
from ..engine import Result, SearchContext, rollout
from ..evaluators import check_evaluator, score, solution_found
from ..settings import check_range
from .base import Strategy
from .transpose import Transpositions

UNLISTED_WIDTH = 16  # width 0 on a task that cannot list its moves: at most this many children


@dataclass
class MCTSSettings:
    simulations: int = 50
    c_uct: float = 1.4
    width: int = 0                 # 0: every legal move (see the module doc)
    temperature: float = 1.0
    rollout_temperature: float = 1.0
    pw_alpha: float = 0.0
    stop_on_solution: bool = True
    evaluator: str = ""            # "" (rollouts only) or an evaluator name
    rollout_weight: float = 0.5    # with an evaluator: share of the rollout in the leaf value
    anytime: bool = False          # simulate until a solution or the budget (not `simulations`)
    transpositions: bool = True    # prune a step whose state another node already reached

    def __post_init__(self) -> None:
        check_range("simulations", self.simulations, 1, 100_000)
        check_range("c_uct", self.c_uct, 0.0, 100.0)
        check_range("width", self.width, 0, 1000)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_range("rollout_temperature", self.rollout_temperature, 0.0, 2.0)
        check_range("pw_alpha", self.pw_alpha, 0.0, 1.0)
        check_evaluator(self.evaluator, allow_none=True)
        check_range("rollout_weight", self.rollout_weight, 0.0, 1.0)


def uct(q_sum: float, n: int, n_parent: int, c: float) -> float:
    """The UCT score; an unvisited child scores +inf so it is tried first."""
    if n == 0:
        return math.inf
    return q_sum / n + c * math.sqrt(math.log(max(n_parent, 1)) / n)


@dataclass
class _Stats:
    visits: dict[int, int] = field(default_factory=dict)
    value: dict[int, float] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    exhausted: set[int] = field(default_factory=set)
    terminal: dict[int, bool] = field(default_factory=dict)  # node -> verified correct?
    tried: dict[int, set[str]] = field(default_factory=dict)  # steps proposed from a node
    width: dict[int, int] = field(default_factory=dict)       # node -> children it may have


class MCTS(Strategy):
    name = "mcts"
    title = "MCTS (UCT with rollouts)"
    Settings = MCTSSettings

    def run(self, ctx: SearchContext) -> Result:
        s = _Stats()
        name = self.settings.evaluator
        self._evaluator = self.make_evaluator(name)
        root = ctx.root()
        self._seen = Transpositions(self.settings.transpositions)
        self._seen.add(ctx, root)
        self._add(s, root)
        sims = itertools.count() if self.settings.anytime else range(self.settings.simulations)
        for _ in sims:
            ctx.check()
            path = self._select(ctx, s, root)
            leaf = path[-1]
            if self._can_expand(ctx, s, leaf):
                child = self._expand(ctx, s, leaf)
                if child is not None:
                    path.append(child)
                    leaf = child
            if leaf == root and not self._can_expand(ctx, s, root) and not s.children[root]:
                return Result("failed", detail="no legal step from the start")
            reward, solved_node = self._simulate(ctx, s, leaf)
            self._backprop(ctx, s, path, reward)
            if solved_node is not None and self.settings.stop_on_solution:
                return Result("solved", ctx.answer_of(solved_node), solved_node,
                              "verified solution found")
            if self._exhausted(ctx, s, root):
                break
        return self._final(ctx, s, root)

    # -- phases ---------------------------------------------------------------------------
    def _select(self, ctx: SearchContext, s: _Stats, root: int) -> list[int]:
        path = [root]
        node = root
        while node not in s.terminal and not self._can_expand(ctx, s, node) and s.children[node]:
            n_parent = s.visits[node]
            node = max(s.children[node],
                       key=lambda c: (uct(s.value[c], s.visits[c], n_parent, self.settings.c_uct), -c))
            path.append(node)
        return path

    def _expand(self, ctx: SearchContext, s: _Stats, node: int) -> int | None:
        taken = s.tried.setdefault(node, set())
        k = s.attempts.get(node, 0)
        s.attempts[node] = k + 1
        child = ctx.propose(node, self.settings.temperature, exclude=taken, seed_k=k)
        if child is None:
            s.exhausted.add(node)
            return None
        if child.step is None:  # invalid / duplicate / model error: pruned, not in the tree
            return None
        taken.add(child.step)
        if self._seen.duplicate(ctx, child.node_id) is not None:
            return None  # a transposition: that state is searched under its first node
        self._add(s, child.node_id, parent=node)
        if child.terminal:
            s.terminal[child.node_id] = bool(child.correct)
        return child.node_id

    def _simulate(self, ctx: SearchContext, s: _Stats, leaf: int) -> tuple[float, int | None]:
        if leaf in s.terminal:
            return (1.0, leaf) if s.terminal[leaf] else (0.0, None)
        w = self.settings.rollout_weight if self._evaluator is not None else 1.0
        value, solved = 0.0, None
        if w > 0:
            nid, correct, _ = rollout(ctx, leaf, self.settings.rollout_temperature)
            value, solved = (w, nid) if correct else (0.0, None)
        if w < 1:
            sc = score(ctx, self._evaluator, leaf)
            value += (1 - w) * sc.norm
            if solved is None:  # a rollout evaluator may itself have found a solution
                solved = solution_found(ctx, sc)
        return value, solved

    def _backprop(self, ctx: SearchContext, s: _Stats, path: list[int], reward: float) -> None:
        for n in path:
            s.visits[n] += 1
            s.value[n] += reward
        ctx.rec.emit(ev.MCTS_BACKPROP, path[-1], reward=reward, path=path,
                     updates=[[n, s.visits[n], s.value[n]] for n in path])

    # -- helpers ------------------------------------------------------------------------------
    def _add(self, s: _Stats, node: int, parent: int | None = None) -> None:
        s.visits[node], s.value[node], s.children[node] = 0, 0.0, []
        if parent is not None:
            s.children[parent].append(node)

    def _width(self, ctx: SearchContext, s: _Stats, node: int) -> int:
        if self.settings.width > 0:
            return self.settings.width
        if node not in s.width:  # every legal move (asked once per node)
            legal = ctx.task.legal_steps(ctx.states[node])
            s.width[node] = len(legal) if legal is not None else UNLISTED_WIDTH
        return s.width[node]

    def _allowed_children(self, ctx: SearchContext, s: _Stats, node: int) -> int:
        width = self._width(ctx, s, node)
        if self.settings.pw_alpha <= 0:
            return width
        return min(width, max(1, math.ceil(max(1, s.visits[node]) ** self.settings.pw_alpha)))

    def _can_expand(self, ctx: SearchContext, s: _Stats, node: int, ever: bool = False) -> bool:
        """May ``node`` get a new child now (or ``ever``: when widening allows it later)?"""
        room = self._width(ctx, s, node) if ever else self._allowed_children(ctx, s, node)
        return (node not in s.terminal and node not in s.exhausted
                and ctx.depth(node) < ctx.task.max_depth
                and len(s.children[node]) < room
                and s.attempts.get(node, 0) < 2 * self._width(ctx, s, node))

    def _exhausted(self, ctx: SearchContext, s: _Stats, node: int) -> bool:
        """True when nothing below ``node`` can still be expanded (the whole tree is known)."""
        if node in s.terminal:
            return True
        if self._can_expand(ctx, s, node, ever=True) or (s.visits[node] and not s.children[node]
                                              and ctx.depth(node) < ctx.task.max_depth
                                              and node not in s.exhausted):
            return False
        return all(self._exhausted(ctx, s, c) for c in s.children[node])

    def _final(self, ctx: SearchContext, s: _Stats, root: int) -> Result:
        node = root
        while s.children[node]:
            node = max(s.children[node], key=lambda c: (s.visits[c], s.value[c], -c))
        answer = ctx.answer_of(node)
        return Result("failed", answer, node if node != root else None,
                      f"no verified solution after {s.visits[root]} simulations; "
                      "answer from the most-visited path")
