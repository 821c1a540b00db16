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

A simulation that learns nothing new — its selection ends at a leaf already known to be terminal
(a verified answer, a failed one, a proven dead end), so it makes no model call and adds no node —
still counts its visit (the UCT statistics are exactly those of textbook UCT) but writes no event
of its own: its updated statistics ride on the next ``mcts_backprop`` event (or one last event
when the run ends), whose ``updates`` may then name nodes off its ``path``. Without that an
anytime run that keeps re-selecting a solved path (``c_uct`` 0, ``stop_on_solution`` off) wrote
tens of thousands of rows a second. An anytime run also ends when selection provably repeats
itself for ever (``_stuck``: ``c_uct`` 0, one simulation at a time, a known leaf whose reward keeps
every node of its path the best of its siblings), or after ``IDLE_LIMIT`` such simulations in a
row (with ``c_uct`` > 0 UCT always comes back to what it can still learn, but it may take
exponentially many visits).

The final answer is the first verified solution (``stop_on_solution``) or else the most-visited
path: solved when it ends in a verified solution, and solved too (``detail`` says so) when one was
verified off that path — a run that verified an answer never reports failure.

Width: a node may have ``width`` children; ``width`` 0 means every legal move (the task's legal
step count at that node, or up to 16 proposals where the task cannot list its moves).
A leaf an *exact* evaluator (the oracle) proves dead is pruned ("dead end") and treated as a
known loss. ``pw_alpha`` > 0 turns on progressive widening: ⌈N^alpha⌉ children after N visits (capped by a
positive ``width`` only). A proposed step that reaches a state another node already reached (the
task's ``state_key``) is pruned as a duplicate (``transpositions``) and never proposed again from
that node. ``anytime``: simulations go on until a verified solution, the budget, or a fully
explored tree ends them (``simulations`` is then ignored).

Parallel: ``batch`` simulations are selected at once, each selection counting a *virtual loss*
(a visit with reward 0) on its path so the next one spreads out; their expansions, rollouts and
evaluator calls are one batch each (:mod:`reasoning.parallel`), up to ``--parallel N`` in flight.
The tree depends on ``batch`` and the seed, never on N; ``batch`` 1 is plain sequential UCT.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine import Result, SearchContext
from ..evaluators import check_evaluator, prune_if_dead, score, solution_found
from ..growth import Growth, int_setting
from ..parallel import Ask, prefetch_scores, propose_many, rollout_many
from ..settings import check_range
from .base import Strategy, first_solved
from .transpose import Transpositions

UNLISTED_WIDTH = 16  # width 0 on a task that cannot list its moves: at most this many children
IDLE_LIMIT = 100_000  # anytime: simulations in a row that learn nothing end the run (the doc)


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
    batch: int = 1                 # simulations selected at once (virtual loss); see the doc

    def __post_init__(self) -> None:
        check_range("simulations", self.simulations, 1, 100_000)
        check_range("c_uct", self.c_uct, 0.0, 100.0)
        check_range("width", self.width, 0, 1000)
        check_range("temperature", self.temperature, 0.0, 2.0)
        check_range("rollout_temperature", self.rollout_temperature, 0.0, 2.0)
        check_range("pw_alpha", self.pw_alpha, 0.0, 1.0)
        check_evaluator(self.evaluator, allow_none=True)
        check_range("rollout_weight", self.rollout_weight, 0.0, 1.0)
        check_range("batch", self.batch, 1, 64)


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
    vloss: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))  # virtual losses
    # statistics changed by simulations that wrote no event yet (they learned nothing new)
    pending: dict[int, None] = field(default_factory=dict)
    pending_last: tuple[int, float, list[int]] | None = None   # (leaf, reward, path) of the last
    idle: int = 0                                                # such simulations in a row


class MCTS(Strategy):
    name = "mcts"
    title = "MCTS (UCT with rollouts)"
    Settings = MCTSSettings

    @classmethod
    def layout_hint(cls, params: Mapping[str, Any]) -> Growth:
        # the first simulations give the root its `width` children; below it families grow one
        # child per visit and all run long, so a spare unit between families
        return Growth.root_family(int_setting(params, "width", MCTSSettings.width), 2.0)

    def run(self, ctx: SearchContext) -> Result:
        s = _Stats()
        name = self.settings.evaluator
        self._evaluator = self.make_evaluator(name)
        root = ctx.root()
        self._seen = Transpositions(self.settings.transpositions)
        self._seen.add(ctx, root)
        self._add(s, root)
        try:
            return self._simulations(ctx, s, root)
        finally:  # also when the budget or a cancel cuts the run: the stored visits add up
            self._write_pending(ctx, s)

    def _simulations(self, ctx: SearchContext, s: _Stats, root: int) -> Result:
        done = 0
        while self.settings.anytime or done < self.settings.simulations:
            ctx.check()
            size = self.settings.batch if self.settings.anytime else \
                min(self.settings.batch, self.settings.simulations - done)
            paths = [self._select(ctx, s, root, virtual=True) for _ in range(size)]
            for path in paths:  # the virtual losses only spread one batch's selections
                for n in path:
                    s.vloss[n] -= 1
            known = [p[-1] in s.terminal for p in paths]   # re-selected known leaves: nothing new
            before = (len(ctx.tree.nodes), ctx.model_calls)
            self._expand_many(ctx, s, paths)
            if not s.children[root] and not self._can_expand(ctx, s, root):
                return Result("failed", detail="no legal step from the start")
            solved_node = None
            values = self._simulate_many(ctx, s, [p[-1] for p in paths])
            nothing_new = (len(ctx.tree.nodes), ctx.model_calls) == before
            stuck = False
            for path, idle, (reward, found) in zip(paths, known, values, strict=True):
                stuck = stuck or ((idle or nothing_new) and self._stuck(ctx, s, path, reward))
                self._backprop(ctx, s, path, reward, write=not (idle or nothing_new))
                solved_node = solved_node if solved_node is not None else found
            done += size
            if solved_node is not None and self.settings.stop_on_solution:
                return Result("solved", ctx.answer_of(solved_node), solved_node,
                              "verified solution found")
            if self._exhausted(ctx, s, root):
                break
            if self.settings.anytime and stuck:
                return self._final(ctx, s, root, "; with c_uct 0 every later simulation would re-visit "
                                   "the same known leaf (nothing more to learn), so the search stopped")
            if self.settings.anytime and s.idle >= IDLE_LIMIT:
                return self._final(ctx, s, root, f"; the last {s.idle} simulations only re-visited "
                                   "known leaves (no model call, no new node), so the search stopped")
        return self._final(ctx, s, root)

    # -- phases ---------------------------------------------------------------------------
    def _select(self, ctx: SearchContext, s: _Stats, root: int, virtual: bool = False) -> list[int]:
        """Descend by UCT. ``virtual``: count a lost visit on the path (virtual loss), so the
        next selection of the same batch prefers other paths."""
        path = [root]
        node = root
        while node not in s.terminal and not self._can_expand(ctx, s, node) and s.children[node]:
            n_parent = s.visits[node] + s.vloss[node]
            node = max(s.children[node],
                       key=lambda c: (uct(s.value[c], s.visits[c] + s.vloss[c], n_parent,
                                          self.settings.c_uct), -c))
            path.append(node)
        if virtual:
            for n in path:
                s.vloss[n] += 1
        return path

    def _expand_many(self, ctx: SearchContext, s: _Stats, paths: list[list[int]]) -> None:
        """One new child for every path that ends at an expandable node (one batch of calls);
        each valid child is appended to its path."""
        asks, which = [], []
        for j, path in enumerate(paths):
            leaf = path[-1]
            if self._can_expand(ctx, s, leaf):
                k = s.attempts.get(leaf, 0)
                s.attempts[leaf] = k + 1
                asks.append(Ask(leaf, self.settings.temperature, exclude=s.tried.setdefault(leaf, set()),
                                seed_k=k))
                which.append(j)
        for j, ask, child in zip(which, asks, propose_many(ctx, asks), strict=True):
            leaf, taken = ask.parent, s.tried[ask.parent]
            if child is None:
                s.exhausted.add(leaf)
            elif child.step is None:  # invalid / duplicate / model error: pruned, not in the tree
                continue
            elif child.step in taken:  # one batch expanded this node twice and drew the same step
                ctx.prune(child.node_id, "duplicate: same step as a sibling", kind="duplicate")
            else:
                taken.add(child.step)
                if self._seen.duplicate(ctx, child.node_id) is not None:
                    continue  # a transposition: that state is searched under its first node
                self._add(s, child.node_id, parent=leaf)
                if child.terminal:
                    s.terminal[child.node_id] = bool(child.correct)
                paths[j].append(child.node_id)

    def _simulate_many(self, ctx: SearchContext, s: _Stats, leaves: list[int]
                       ) -> list[tuple[float, int | None]]:
        """Each leaf's value and a verified solution node (or None); the rollouts (and the
        evaluator's calls) of all leaves are one batch each."""
        out: list[list] = [[1.0, leaf] if s.terminal.get(leaf) else [0.0, None] for leaf in leaves]
        open_ = [j for j, leaf in enumerate(leaves) if leaf not in s.terminal]
        w = self.settings.rollout_weight if self._evaluator is not None else 1.0
        if w > 0 and open_:
            rolled = rollout_many(ctx, [leaves[j] for j in open_], self.settings.rollout_temperature)
            for j, (nid, correct, _) in zip(open_, rolled, strict=True):
                if correct:
                    out[j] = [w, nid]
        if w < 1 and open_:
            prefetch_scores(ctx, self._evaluator, [leaves[j] for j in open_])
            for j in open_:
                sc = score(ctx, self._evaluator, leaves[j])
                out[j][0] += (1 - w) * sc.norm
                if out[j][1] is None:  # a rollout evaluator may itself have found a solution
                    out[j][1] = solution_found(ctx, sc)
                if out[j][1] is None and prune_if_dead(ctx, self._evaluator, leaves[j], sc):
                    # proven dead (the oracle): a known loss, like a failed answer — never
                    # expanded, valued 0 without a call, counted as explored. (Taking it out of
                    # its parent's children could leave a solvable parent with no child and no
                    # untried step, which selection would then value at no cost, forever.)
                    s.terminal[leaves[j]] = False
        return [(v, n) for v, n in out]

    def _backprop(self, ctx: SearchContext, s: _Stats, path: list[int], reward: float,
                  write: bool = True) -> None:
        """Add the visit and the reward along ``path``; ``write`` False (the simulation learned
        nothing new): no event now, the next one carries these statistics too."""
        for n in path:
            s.visits[n] += 1
            s.value[n] += reward
        if not write:
            s.pending.update(dict.fromkeys(path))
            s.pending_last, s.idle = (path[-1], reward, path), s.idle + 1
            return
        s.idle = 0
        on_path = set(path)
        rest = [n for n in s.pending if n not in on_path]
        ctx.backprop(path[-1], reward, path, [[n, s.visits[n], s.value[n]] for n in path + rest])
        s.pending, s.pending_last = {}, None

    def _stuck(self, ctx: SearchContext, s: _Stats, path: list[int], reward: float) -> bool:
        """Will every later selection be ``path`` again (before its backprop of ``reward``)? With
        ``c_uct`` 0 and one simulation at a time selection takes the best mean Q/N among siblings.
        A reward no lower than the mean of each node on the path keeps each the best (the
        siblings' means do not move), and when no node on it may ever get a new child, selection
        ends at the same known leaf for ever."""
        return (self.settings.c_uct == 0 and self.settings.batch == 1
                and all(s.visits[n] and reward >= s.value[n] / s.visits[n] for n in path[1:])
                and not any(self._can_expand(ctx, s, n, ever=True) for n in path))

    def _write_pending(self, ctx: SearchContext, s: _Stats) -> None:
        """One event for the simulations since the last one (the run is ending)."""
        if s.pending_last is not None:
            leaf, reward, path = s.pending_last
            ctx.backprop(leaf, reward, path, [[n, s.visits[n], s.value[n]] for n in s.pending])
            s.pending, s.pending_last = {}, None

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

    def _final(self, ctx: SearchContext, s: _Stats, root: int, why: str = "") -> Result:
        """The most-visited path (ties: higher value, then the older node). It is the answer when
        it ends in a verified solution; otherwise a verified solution found elsewhere (the first
        one) still makes the run solved, and ``detail`` says that it is not the most-visited."""
        node = root
        while s.children[node]:
            node = max(s.children[node], key=lambda c: (s.visits[c], s.value[c], -c))
        sims = f"{s.visits[root]} simulations{why}"
        if ctx.is_solved(node):
            return Result("solved", ctx.answer_of(node), node,
                          f"the most-visited path ends in a verified solution after {sims}")
        found = first_solved(ctx)
        if found is not None:
            return Result("solved", ctx.answer_of(found), found,
                          f"verified solution at node {found}; the most-visited path (to node "
                          f"{node}) does not end in one after {sims}")
        return Result("failed", ctx.answer_of(node), node if node != root else None,
                      f"no verified solution after {sims}; answer from the most-visited path")
