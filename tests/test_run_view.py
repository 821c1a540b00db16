"""The run view: one reader and one position policy for live, replay and compare.

The central test records real scripted runs into a real SQLite file while a second thread polls
them the way the Live page does (events after the last seq, positions refreshed on every poll),
then replays each run from the database and checks that every node of every replay frame sits
exactly where the live view's final frame put it."""
from __future__ import annotations

import random
import threading
import time

import pytest

from reasoning.growth import Growth
from reasoning.layout import growth_of, tidy_layout
from reasoning.models.scripted import ScriptedModel
from reasoning.run_view import EVERY_NODE_UPTO, RunView, as_view
from reasoning.strategies import STRATEGIES
from reasoning.tree import Tree, fold
from reasoning.view_model import ViewOptions, project
from runner.run import RunSpec, execute

RUNS = {  # strategy -> (params, max_nodes): the case is a 31-node MCTS run
    "mcts": ({"simulations": 200, "width": 4, "stop_on_solution": False}, 31),
    "beam": ({"beam_width": 2, "proposals": 4}, 40),
    "dfs": ({"proposals": 3}, 30),
    "best_of_n": ({"n": 6}, 30),
}


def slow_policy(req):
    """A seeded random choice among the legal steps (or a verdict), a little slow, so the
    poller sees the run in many small batches as the Live page does."""
    time.sleep(0.003)
    rng = random.Random(req.seed)
    return rng.choice(req.choices) if req.choices else rng.choice(["sure", "likely", "impossible"])


def record_while_polling(store, strategy: str) -> tuple[int, dict, int]:
    """Run ``strategy`` in a thread; poll it like the Live page. Returns (run id, the live
    view's final positions, how many polls brought new events)."""
    params, max_nodes = RUNS[strategy]
    spec = RunSpec(task="game24", problem="4 5 6 10", strategy=strategy, params=params,
                   budget={"max_nodes": max_nodes}, seed=3)
    started = threading.Event()
    box: dict = {}

    def work() -> None:
        box["run_id"], _ = execute(spec, store, model=ScriptedModel(slow_policy),
                                   on_events=lambda batch: started.set())
    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(30)
    run_id = store.list_runs(limit=1)[0]["id"]
    view = RunView(run_id, lambda after, upto=None: store.events(run_id, after, upto))
    polls, pos = 0, {}
    while True:
        if view.poll():
            polls += 1
            shown, _ = project(view.tree, ViewOptions())   # what the Live page draws
            pos = view.place(shown)
        if view.finished:
            break
        time.sleep(0.002)
    worker.join(30)
    assert box["run_id"] == run_id
    return run_id, pos, polls


@pytest.mark.parametrize("strategy", sorted(RUNS))
def test_every_replay_frame_puts_each_node_where_the_live_view_left_it(store, strategy):
    run_id, live_final, polls = record_while_polling(store, strategy)
    replay = RunView(run_id, lambda after, upto=None: store.events(run_id, after, upto))
    final = replay.final()
    assert polls >= 5, polls                      # the live view saw the run grow in batches
    assert set(live_final) == set(final.nodes) and len(final.nodes) > 10
    assert replay.positions() == live_final       # the live view's final frame == replay's
    checked = 0
    for k in range(1, replay.last_seq + 1):
        frame = replay.frame(k)
        assert frame.last_seq == k
        shown, _ = project(frame, ViewOptions())
        pos = replay.place(shown)
        assert all(pos[n] == live_final[n] for n in shown.nodes), k
        checked += len(shown.nodes)
    assert checked > len(final.nodes) * 5


def test_positions_do_not_depend_on_how_the_log_was_read_in_batches():
    """The same events read in one go, one by one, or in random batches: the same places."""
    from benchmarks.bench_layout import search_events
    from runner.synthetic import synthetic_events
    for events in (search_events("mcts", {"simulations": 400, "stop_on_solution": False}, 60),
                   synthetic_events(900, seed=2, max_depth=7)):   # past EVERY_NODE_UPTO too
        assert_batches_do_not_matter(events)


def assert_batches_do_not_matter(events):
    whole = as_view(1, events).positions()
    rng = random.Random(0)
    for _ in range(5):
        cut = sorted(rng.sample(range(1, len(events)), 12)) + [len(events)]
        stored: list = []   # what a writer has stored so far
        view = RunView(1, lambda after, upto=None, stored=stored: [
            e for e in stored if e.seq > after and (upto is None or e.seq <= upto)])
        for c in cut:
            stored[:] = events[:c]
            view.poll()
            view.positions()   # a refresh between batches must not change the outcome
        assert view.positions() == whole


def test_the_31_node_mcts_run_is_as_wide_in_replay_as_it_was_live():
    """The issue's case: live placed the run with MCTS's growth hint (23 units wide), replay
    with a plain tidy layout (14). Now both come from the run view."""
    from benchmarks.bench_layout import search_events
    events = search_events("mcts", {"simulations": 200, "width": 4, "stop_on_solution": False}, 31)
    view = as_view(1, events)
    pos = view.positions()
    width = max(x for x, _ in pos.values()) - min(x for x, _ in pos.values())
    plain = tidy_layout(view.tree)
    plain_width = max(x for x, _ in plain.values()) - min(x for x, _ in plain.values())
    assert len(view.tree.nodes) == 31
    assert width > plain_width     # the growth hint's room is there in replay too
    frame = view.frame(len(events) // 2)
    assert all(view.place(frame)[n] == pos[n] for n in frame.nodes)


def test_frames_fold_forward_and_restart_backwards(monkeypatch):
    from benchmarks.bench_layout import search_events
    events = search_events("beam", {"beam_width": 2, "proposals": 3}, 25)
    reads = []

    def read(after, upto=None):
        reads.append((after, upto))
        return [e for e in events if e.seq > after and (upto is None or e.seq <= upto)]

    view = RunView(7, read)
    for k in (5, 9, 3, len(events)):
        assert repr(view.frame(k)) == repr(fold(events[:k], Tree(run_id=7)))
    assert all(upto is None for _, upto in reads)   # only the tail is read: frames fold from memory
    import reasoning.run_view as rv
    monkeypatch.setattr(rv, "KEEP_EVENTS", 10)   # a run too big to keep: frames read the store
    reads.clear()
    view = RunView(7, read)
    for k in (5, 9, 3, len(events)):
        assert repr(view.frame(k)) == repr(fold(events[:k], Tree(run_id=7)))
    assert (5, 9) in reads and (0, 3) in reads   # forward: only the new events; back: restart
    assert view.frame(len(events)) is view.tree
    assert view.event_at(4) == events[3]
    assert [s.seq for s in view.timeline] == [e.seq for e in events]


def test_a_projected_view_keeps_the_full_views_places_for_nodes_it_shows():
    from benchmarks.bench_layout import search_events
    events = search_events("beam", {"beam_width": 2, "proposals": 4}, 60)
    view = as_view(1, events)
    opts = ViewOptions(collapse_pruned=True)
    key = (None, None, True)
    shown, _ = project(view.tree, opts)
    pos = view.place(shown, key, lambda t: project(t, opts)[0])
    assert set(pos) == set(shown.nodes) and any(k < 0 for k in pos)   # folded markers placed
    again = view.place(project(view.frame(view.last_seq - 5), opts)[0], key)
    assert all(again[k] == pos[k] for k in again if k in pos and k >= 0)


def test_the_policy_steps_at_every_node_then_geometrically():
    """Cost bound for big runs: past EVERY_NODE_UPTO nodes the layout steps each time the tree
    has grown by a fifth, so a whole replay costs a few full layouts, not one per node."""
    from runner.synthetic import synthetic_events
    events = synthetic_events(3000, seed=1, max_depth=8)
    view = as_view(1, events)
    steps = view.placement().steps
    assert len(view.tree.nodes) == 3000
    assert EVERY_NODE_UPTO <= steps <= EVERY_NODE_UPTO + 20, steps


def test_the_layout_hint_comes_from_the_strategy_class(monkeypatch):
    """No name switch in the layout: a strategy says how its tree grows (``layout_hint``); one
    without a hint (a plug-in) gets the default."""
    class Wide:
        name = "wide"

        @classmethod
        def layout_hint(cls, params):
            return Growth.every_family(int(params.get("k", 7)), 3.0)

    class NoHint:
        name = "nohint"

    monkeypatch.setitem(STRATEGIES, "wide", Wide)
    monkeypatch.setitem(STRATEGIES, "nohint", NoHint)
    g = growth_of({"strategy": "wide", "params": {"k": 5}})
    assert g.family(None, None) == 5 and g.family_gap == 3.0
    fallback = growth_of({"strategy": "nohint"})
    assert fallback.family is None and fallback.family_gap == 2.0
    assert growth_of({"strategy": "not registered"}).family is None
    for name, cls in STRATEGIES.items():
        if name in ("wide", "nohint"):
            continue
        assert "layout_hint" in vars(cls), name   # every built-in strategy gives its own


def test_the_first_placement_uses_the_events_already_read():
    """Opening a big run reads its events once: the first policy replays what the tail read;
    a second way of drawing (another projection) replays them from memory."""
    from benchmarks.bench_layout import search_events
    events = search_events("dfs", {"proposals": 3}, 30)
    reads = []

    def read(after, upto=None):
        reads.append((after, upto))
        return [e for e in events if e.seq > after and (upto is None or e.seq <= upto)]

    view = RunView(1, read)
    view.poll()
    first = view.positions()
    assert reads == [(0, None)] and set(first) == set(view.tree.nodes)
    assert first == as_view(1, events).positions()
    view.positions(key="other")  # (the same identity projection under another name)
    assert reads[1:] == []       # a second way of drawing replays the events kept in memory
