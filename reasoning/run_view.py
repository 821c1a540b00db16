"""One run as every view sees it: the events read so far, their fold, and where nodes are drawn.

A :class:`RunView` is fed by a *reader* — ``read(after_seq, upto_seq) -> events`` in seq order
(``Store.events`` bound to a run id, or a list in a test) — and offers:

* :meth:`RunView.poll` — the live tail: the events after the last seq read, folded into
  :attr:`RunView.tree` (the Live page calls it on every refresh);
* :meth:`RunView.frame` — replay: the fold of events 1..k (moving forward folds only what is new);
* :meth:`RunView.final` — the whole run as stored now;
* :meth:`RunView.place` — positions for drawing any of those, from **one position policy**
  (:class:`Placement`).

The position policy is a function of the event log alone, never of when a page happened to
refresh: a :class:`~reasoning.layout.StableLayout` with the strategy's layout hint is advanced
at fixed points of the log (every ``node_created`` while the tree is small, then each time the
tree has grown by a fifth, or doubled past ``BIG_TREE`` nodes, and at ``run_finished``). The
live view, a replay and Compare all advance it through the same events, so the live view's
final frame and every replay frame put each node at the same place. Between two fixed points a live view places the newest nodes
provisionally (they may shift once at the next fixed point).

**Stored positions.** The policy's state is a function of the log, so it can be kept as a
projection (``saved``: ``load(run_id, key) / save(run_id, key, state)``, see
``storage.placements``): a finished run's state is saved when it is stored (or first opened), and
a view of it restores that instead of stepping the layout through the whole log again. It is used
only when no event after the saved seq could have moved the policy (a ``node_created`` or
``run_finished``); a later mark, say, is folded as usual and the places stay exactly those of a
replay. Anything else (no saved state, an older one) replays the log, as before.

**Stored trees.** In the same way the fold itself is kept (``load_tree`` / ``save_tree``, see
``storage.tree_snapshots``): a view of a finished big run starts from the stored fold of events
1..S and reads only the events after S; the events before S (replay frames, the timeline) are
read on first use.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple, Protocol

from . import events as ev
from .events import Event
from .layout import Positions, StableLayout, ViewRange
from .tree import REWIND_GLOBAL, Tree, fold, rewind

Reader = Callable[[int, int | None], list[Event]]
Projection = Callable[[Tree], Tree]

EVERY_NODE_UPTO = 256   # the policy steps at every new node up to this tree size, then each
GROWTH_STEP = 1.2       # time the tree has grown by a fifth, and past BIG_TREE nodes each time
BIG_TREE = 10_000       # it has doubled: following a whole run costs a few full layouts
KEEP_EVENTS = 100_000   # a run with up to this many events keeps them in memory for its frames
SAVE_FROM_NODES = 1_000  # runs this big keep their policy's state (smaller ones replay in ms)
REWIND_EVENTS = 2_000   # a frame this close to the last event is taken back from the run's tree
STEPPING = (ev.NODE_CREATED, ev.RUN_FINISHED)   # the only events that can move the policy


class SavedPlacements(Protocol):
    """Where a run's policy states are kept (``storage.placements.SavedPlacements``)."""
    def load(self, run_id: Any, key: str) -> dict | None: ...
    def save(self, run_id: Any, key: str, state: dict) -> None: ...
    # optional: def load_tree(run_id) -> (Tree, (type, t)) | None; def save_tree(run_id, tree, check)


def key_name(key: Hashable) -> str | None:
    """A projection key as stored text (``None`` when it cannot be written as JSON)."""
    try:
        return json.dumps(list(key) if isinstance(key, tuple) else key)
    except (TypeError, ValueError):
        return None


class Stamp(NamedTuple):
    """When an event happened: enough to align two replays by time
    (:func:`reasoning.compare.locked_seqs` reads ``seq`` and ``t``)."""
    seq: int
    t: float


def _identity(tree: Tree) -> Tree:
    return tree


class Placement:
    """The one position policy: a stable layout advanced at fixed points of the event log.

    ``project`` maps the tree to the tree actually drawn (a view that folds pruned subtrees or
    limits the depth); the layout is of that projection. Feed every event with :meth:`observe`
    after applying it to the tree; :meth:`positions` gives the places for the tree now."""

    def __init__(self, project: Projection = _identity) -> None:
        self.project = project
        self.layout = StableLayout()
        self._next = 1   # the tree size at which the layout next steps
        self.steps = 0   # how often it stepped (the cost of following a run)
        self._memo: tuple[int, int, Positions] | None = None   # (id(tree), last_seq, positions)

    def state(self, seq: int) -> dict:
        """What to save after observing events 1..``seq``: enough to go on as if replayed."""
        return {"seq": seq, "next": self._next, "steps": self.steps,
                "pos": [[k, x, y] for k, (x, y) in self.layout.pos.items()]}

    @classmethod
    def restored(cls, state: dict, project: Projection = _identity) -> Placement:
        """The placement whose :meth:`state` this was."""
        placement = cls(project)
        placement.layout.pos = {int(k): (float(x), float(y)) for k, x, y in state["pos"]}
        placement._next, placement.steps = int(state["next"]), int(state["steps"])
        return placement

    def observe(self, tree: Tree, event: Event) -> None:
        if event.type == ev.NODE_CREATED and len(tree.nodes) >= self._next:
            self._step(tree)
        elif event.type == ev.RUN_FINISHED:
            self._step(tree)

    def _step(self, tree: Tree) -> None:
        self.layout.update(self.project(tree))
        self.steps += 1
        n = len(tree.nodes)
        self._next = n + 1 if n < EVERY_NODE_UPTO else \
            math.ceil(n * (GROWTH_STEP if n < BIG_TREE else 2.0))

    def positions(self, tree: Tree) -> Positions:
        """Places for the projection of ``tree`` (the tree this placement observed): the
        layout's, with nodes that arrived since its last step placed on a copy of it."""
        memo = self._memo
        if memo is not None and memo[0] == id(tree) and memo[1] == tree.last_seq:
            return memo[2]   # (a figure asks twice per refresh: places and the chart's range)
        shown = self.project(tree)
        pos = self.layout.pos
        if all(k in pos for k in shown.nodes):
            out = {k: pos[k] for k in shown.nodes}
        else:
            out = StableLayout(tol=self.layout.tol, positions=pos).update(shown)
        self._memo = (id(tree), tree.last_seq, out)
        return out


class RunView:
    """The live tail, replay frames, the final tree and node positions of one run."""

    def __init__(self, run_id: int | str | None, read: Reader,
                 saved: SavedPlacements | None = None) -> None:
        self.run_id = run_id
        self._read = read
        self._saved = saved
        self.tree = Tree(run_id=run_id)   # every event read so far, folded
        self._frame: Tree | None = None   # the last replay frame (a prefix of the events)
        self._placements: dict[Hashable, Placement] = {}   # made on first use (see placement)
        self._unplaced: list[Event] = []  # events read before the first placement existed
        self._timeline: list[Stamp] = []  # (seq, t) of every event read after seq _base
        # every event read (already decoded), while the run is small enough: a frame before the
        # last one folds from here instead of reading and decoding the log again
        self._log: list[Event] | None = []
        self._base = 0   # the tree started from a stored fold of events 1.._base (none read)
        self._fresh = True   # nothing polled yet (a stored tree is looked for on the first poll)
        self._frame_shared = False   # the last frame was rewound from the tree (shares its nodes)

    @property
    def timeline(self) -> list[Stamp]:
        """(seq, t) of every event read (those under a stored tree are read on first use)."""
        self._fill_base()
        return self._timeline

    @property
    def last_seq(self) -> int:
        return self.tree.last_seq

    @property
    def finished(self) -> bool:
        return self.tree.outcome is not None

    # -- reading ----------------------------------------------------------------------------------
    def poll(self) -> list[Event]:
        """The live tail: read and fold the events after the last seq read; returns them."""
        fresh, self._fresh = self._fresh, False
        new = self._restore_tree() if fresh else None
        if new is None:
            new = self._read(self.tree.last_seq, None)
        for e in new:
            self.tree.apply(e)
            self._timeline.append(Stamp(e.seq, e.t))
            for placement in self._placements.values():
                placement.observe(self.tree, e)
        if not self._placements:  # kept for the first placement, so it need not read them again
            self._unplaced.extend(new)
        if self._log is not None:
            self._log.extend(new)
            if len(self._log) > KEEP_EVENTS:
                self._log = None
        if fresh and not self._base and new and self._worth_saving() and \
                hasattr(self._saved, "save_tree"):
            self._saved.save_tree(self.run_id, self.tree, (new[-1].type, new[-1].t))
        return new

    def _restore_tree(self) -> list[Event] | None:
        """Start from the stored fold of events 1..S (if any, and event S is still the one it
        was folded up to): the tree becomes it and the events after S are returned (to fold);
        None when there is nothing usable stored."""
        load = getattr(self._saved, "load_tree", None)
        got = load(self.run_id) if load is not None else None
        if got is None:
            return None
        tree, (type_, t) = got
        seq = tree.last_seq
        new = self._read(seq - 1, None) if seq > 0 else []
        if not new or new[0].seq != seq or new[0].type != type_ or new[0].t != t:
            return None
        self.tree, self._base = tree, seq
        return new[1:]

    def _fill_base(self) -> None:
        """Read the events under a stored tree (1..S) into memory, once, when first needed."""
        if not self._base:
            return
        head = self._read(0, self._base)
        self._base = 0
        self._timeline[:0] = [Stamp(e.seq, e.t) for e in head]
        if self._log is not None:
            self._log[:0] = head
            if len(self._log) > KEEP_EVENTS:
                self._log = None
        if not self._placements:
            self._unplaced[:0] = head

    def _events(self, after_seq: int, upto_seq: int) -> list[Event]:
        """Events after_seq+1 .. upto_seq, from memory when kept (seq n is ``_log[n - 1 - _base]``)."""
        if after_seq < self._base:
            if self._log is None or self._base + len(self._log) > KEEP_EVENTS:
                return self._read(after_seq, upto_seq)   # (too many to keep: read them)
            self._fill_base()
        off = self._base
        if self._log is not None and upto_seq <= off + len(self._log):
            return self._log[after_seq - off:upto_seq - off]
        return self._read(after_seq, upto_seq)

    def final(self) -> Tree:
        """The whole run as stored now (what is new is read first)."""
        self.poll()
        return self.tree

    def frame(self, k: int) -> Tree:
        """Replay: the fold of events 1..k. At or past the last event read this is the run's
        tree itself; moving forward folds only the events between the two frames."""
        if k >= self.tree.last_seq:
            self.poll()
            if k >= self.tree.last_seq:
                return self.tree
        f = self._frame
        if f is None or f.last_seq > k or self._frame_shared:
            back = self._rewound(k)
            self._frame_shared = back is not None
            if back is not None:
                self._frame = back
                return back
            f = Tree(run_id=self.run_id)
        if f.last_seq < k:
            fold(self._events(f.last_seq, k), f)
        self._frame = f
        return f

    def _rewound(self, k: int) -> Tree | None:
        """Frame ``k`` taken back from the run's tree when only a few events follow it
        (:func:`reasoning.tree.rewind`; its nodes are shared with the tree, so it is never folded
        forward); None when that is not possible here."""
        last = self.tree.last_seq
        if k < 1 or not 0 < last - k <= REWIND_EVENTS:
            return None
        stored = getattr(self._saved, "history", None)
        if stored is not None and (self._base or self._log is None):
            tail = self._events(k, last) if k >= self._base else self._read(k, last)
            return rewind(self.tree, k, tail, lambda ids: stored(self.run_id, ids, k))
        if self._log is None or self._base:
            return None
        head = self._log[:k]

        def history(ids: set[int]) -> tuple[list[Event], float]:
            return ([e for e in head if e.node_id in ids or e.type in REWIND_GLOBAL],
                    max((e.t for e in head), default=0.0))
        return rewind(self.tree, k, self._log[k:last], history)

    def event_at(self, seq: int) -> Event | None:
        got = self._read(seq - 1, seq)
        return got[0] if got else None

    # -- positions --------------------------------------------------------------------------------
    def placement(self, key: Hashable = None, project: Projection | None = None) -> Placement:
        """The policy for one way of drawing the run (``key`` names the ``project`` function:
        equal keys must mean equal projections). A new one is advanced through every event read
        so far, so it is where it would be had it watched the run from the start."""
        if key not in self._placements:
            placement = self._restore(key, project or _identity)
            if placement is None:
                placement = Placement(project or _identity)
                replay = Tree(run_id=self.run_id)
                self._fill_base()
                events = self._unplaced if not self._placements else \
                    self._events(0, self.tree.last_seq) if self.tree.last_seq else []
                for e in events:
                    replay.apply(e)
                    placement.observe(replay, e)
                self._save(key, placement)
            self._placements[key] = placement
            self._unplaced = []
        return self._placements[key]

    def _worth_saving(self) -> bool:
        return self._saved is not None and self.finished and len(self.tree.nodes) >= SAVE_FROM_NODES

    def _restore(self, key: Hashable, project: Projection) -> Placement | None:
        """The saved policy state for ``key``, if no event read since could have moved it."""
        name = key_name(key)
        if not self._worth_saving() or name is None:
            return None
        state = self._saved.load(self.run_id, name)
        if not state or int(state.get("seq", 0)) > self.tree.last_seq:
            return None
        seq = int(state["seq"])
        tail = [e for e in self._unplaced if e.seq > seq] \
            if self._unplaced and not self._placements and seq >= self._base else self._events(seq, self.tree.last_seq) if seq < self.tree.last_seq else []
        if any(e.type in STEPPING for e in tail):
            return None
        return Placement.restored(state, project)

    def _save(self, key: Hashable, placement: Placement) -> None:
        name = key_name(key)
        if self._worth_saving() and name is not None:
            self._saved.save(self.run_id, name, placement.state(self.tree.last_seq))

    def positions(self, key: Hashable = None) -> Positions:
        """Places of the nodes of the run read so far (drawn with the ``key`` projection)."""
        return self.placement(key).positions(self.tree)

    def place(self, shown: Tree, key: Hashable = None, project: Projection | None = None) -> Positions:
        """Positions for ``shown``: the run's tree, a replay frame, or their projection by
        ``project`` (named ``key``). Every node keeps its place in the run read so far; a node
        only ``shown`` has (a frame's node that the whole run's view folds away) is fitted in
        without moving the others."""
        base = self.placement(key, project).positions(self.tree)
        if all(k in base for k in shown.nodes):
            return {k: base[k] for k in shown.nodes}
        return StableLayout(positions=base).update(shown)

    def full_range(self, pos: Positions, key: Hashable = None) -> tuple[float, float]:
        """A replay chart's x range: the whole run's, so scrubbing never rescales."""
        rng = ViewRange()
        rng.fit(self.positions(key))
        return rng.fit(pos)


def list_reader(events: list[Event]) -> Reader:
    """A reader over events in memory (tests, notebooks, an imported trace)."""
    def read(after_seq: int, upto_seq: int | None = None) -> list[Event]:
        return [e for e in events if e.seq > after_seq and (upto_seq is None or e.seq <= upto_seq)]
    return read


def as_view(run_id: Any, events: list[Event]) -> RunView:
    """A view of a complete event list, read at once."""
    view = RunView(run_id, list_reader(events))
    view.poll()
    return view
