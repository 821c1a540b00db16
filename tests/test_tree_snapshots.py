"""Stored folded trees (``storage.tree_snapshots``) and rewound replay frames
(``reasoning.tree.rewind``): both are shortcuts that must give exactly the fold of the log."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from benchmarks.bench_layout import search_events
from reasoning import events as ev
from reasoning.events import Event
from reasoning.run_view import SAVE_FROM_NODES, RunView, as_view
from reasoning.tree import fold, rewind
from runner.synthetic import store_synthetic, synthetic_events
from runner.views import open_view
from storage import placements, reopen, tree_snapshots
from storage.schema import placements as placements_table

BIG = SAVE_FROM_NODES + 200


def stored_text(store, run_id: int) -> str | None:
    from sqlalchemy import select
    with store.engine.connect() as conn:
        return conn.execute(select(placements_table.c.state).where(
            placements_table.c.run_id == run_id,
            placements_table.c.view_key == tree_snapshots.KEY)).scalar()


def set_stored_text(store, run_id: int, text: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(placements_table).where(
            placements_table.c.run_id == run_id,
            placements_table.c.view_key == tree_snapshots.KEY).values(state=text))


def test_a_finished_big_run_stores_its_fold_and_a_view_starts_from_it(any_store):
    run_id, n_events = store_synthetic(any_store, BIG)
    assert tree_snapshots.load(any_store, run_id) is not None   # made when the run finished
    view = open_view(any_store, run_id)
    tree = view.final()
    assert view._base == n_events                    # it read one row, not the events
    assert tree == fold(any_store.events(run_id))    # and it is the fold of the log
    # the events under it are read when first needed: timeline, positions, an early frame
    assert [s.seq for s in view.timeline] == list(range(1, n_events + 1))
    assert view.frame(5) == fold(any_store.events(run_id, upto_seq=5))


def test_events_after_the_stored_fold_are_folded_on_top(any_store):
    run_id, n_events = store_synthetic(any_store, BIG)
    reopen(any_store, run_id).add(ev.NODE_MARKED, BIG - 1, {"mark": "wrong"})
    view = open_view(any_store, run_id)
    tree = view.final()
    assert view._base == n_events and tree.last_seq == n_events + 1
    assert tree == fold(any_store.events(run_id))
    assert tree.nodes[BIG - 1].mark == "wrong"


@pytest.mark.parametrize("spoil", ["absent", "other format", "stale", "garbled"])
def test_an_absent_stale_or_unknown_stored_fold_falls_back_to_the_log(any_store, spoil):
    run_id, n_events = store_synthetic(any_store, BIG)
    good = stored_text(any_store, run_id)
    data = json.loads(good)
    if spoil == "absent":
        placements.drop(any_store, run_id)
    elif spoil == "other format":
        data["format"] = "tree/0:" + data["format"].split(":", 1)[1]
        set_stored_text(any_store, run_id, json.dumps(data))
    elif spoil == "stale":   # folded up to an event that is not the one stored at its seq
        data["check"][1] += 1.0
        data["tree"]["answer"] = "not what the log says"
        set_stored_text(any_store, run_id, json.dumps(data))
    else:
        set_stored_text(any_store, run_id, good[: len(good) // 2])
    view = open_view(any_store, run_id)
    assert view.final() == fold(any_store.events(run_id))
    assert view._base == 0                                    # the log was folded
    assert json.loads(stored_text(any_store, run_id)) == json.loads(good)   # and saved again


def test_a_small_run_stores_no_fold(store):
    run_id, _ = store_synthetic(store, 50)
    assert stored_text(store, run_id) is None
    assert open_view(store, run_id).final() == fold(store.events(run_id))


def test_encode_decode_keeps_every_field():
    events = search_events("mcts", {"simulations": 200, "width": 4, "stop_on_solution": False}, 40)
    events.append(Event(1, len(events) + 1, 99.0, "some_future_event", 3, {"x": [1, 2]}))
    tree = fold(events)
    got = tree_snapshots.decode(tree_snapshots.encode(tree, ("some_future_event", 99.0)))
    assert got is not None and got[0] == tree and got[1] == ("some_future_event", 99.0)
    assert got[0].unknown and got[0].started == tree.started


# -- rewinding: frame k from the run's tree equals the fold of events 1..k ----------------------
def logs() -> dict[str, list[Event]]:
    marked = synthetic_events(300, seed=4)
    n = len(marked)
    marked += [Event(1, n + 1, marked[-1].t, ev.NODE_MARKED, 299, {"mark": "correct"}),
               Event(1, n + 2, marked[-1].t, ev.NODE_MARKED, 120, {"mark": "wrong"})]
    return {"synthetic + marks": marked,
            "mcts": search_events("mcts", {"simulations": 300, "stop_on_solution": False}, 60),
            "beam": search_events("beam", {"beam_width": 2, "proposals": 4}, 50),
            "dfs": search_events("dfs", {"proposals": 3}, 40)}


@pytest.mark.parametrize("name", sorted(logs()))
def test_every_rewound_frame_is_the_fold_of_its_prefix(name):
    events = logs()[name]
    assert name != "mcts" or any(e.type == ev.MCTS_BACKPROP for e in events)
    view = as_view(1, events)
    whole = fold(events)
    n = len(events)
    for k in range(n - 1, 0, -1):   # the slider stepped back from the end, one event at a time
        assert view.frame(k) == fold(events[:k]), k
    assert view.tree == whole   # rewinding shares nodes with the tree but never changes it
    view.frame(n - 3)
    assert view.frame(n - 1) == fold(events[:-1]) and view.tree == whole   # forward again


def test_rewind_gives_up_on_what_it_cannot_take_back():
    events = synthetic_events(30)
    tree = fold(events)
    future = Event(1, len(events) + 1, 1.0, "some_future_event", 3, {})
    assert rewind(fold([*events, future]), len(events), [future], lambda ids: ([], 0.0)) is None
    assert rewind(tree, 0, events, lambda ids: ([], 0.0)) is None   # the run's start


def test_frames_of_a_stored_run_are_rewound_from_the_database(any_store):
    run_id, n_events = store_synthetic(any_store, BIG)
    reopen(any_store, run_id).add(ev.NODE_MARKED, 7, {"mark": "correct"})
    view = open_view(any_store, run_id)
    view.final()
    for k in (n_events + 1, n_events, n_events - 1, n_events - 40, n_events - 900):
        assert view.frame(k) == fold(any_store.events(run_id, upto_seq=k)), k
    assert view._base == n_events    # none of it needed the whole log
    assert view.tree == fold(any_store.events(run_id))


def test_a_view_without_stored_folds_still_works(store):
    run_id, _ = store_synthetic(store, BIG)
    view = RunView(run_id, lambda after, upto=None: store.events(run_id, after, upto))
    assert view.final() == fold(store.events(run_id)) and view._base == 0
