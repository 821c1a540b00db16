"""Big trees and many runs: stored positions equal the recomputed ones (also after the log
changed), keyset paging returns every run once and in order, each filter exactly the matching
runs, and the pickers' search — on SQLite and PostgreSQL (``any_store``) where storage is involved."""
from __future__ import annotations

from datetime import datetime

import pytest

from reasoning import events as ev
from reasoning.run_view import RunView, key_name
from reasoning.view_model import default_options, layout_key, project, projector
from runner.synthetic import many_runs, store_many_runs, store_synthetic
from runner.views import open_view
from storage import experiments as exp_repo
from storage import reopen
from storage.run_list import RunFilter, count_runs, find_experiments, find_runs, runs_page
from tests.helpers import new_run


def recomputed(store, run_id: int, key: tuple) -> RunView:
    """A view with no stored positions: the policy stepped through the whole log."""
    view = RunView(run_id, lambda after, upto=None: store.events(run_id, after, upto))
    view.final()
    view.placement(key, projector(key))
    return view


def counting_view(store, run_id: int) -> tuple[RunView, list]:
    view = open_view(store, run_id)
    reads: list = []
    inner = view._read
    view._read = lambda after, upto=None: reads.append((after, upto)) or inner(after, upto)
    return view, reads


def assert_same_places(store, run_id: int, key: tuple, restored: bool) -> None:
    view, reads = counting_view(store, run_id)
    tree = view.final()
    placement = view.placement(key, projector(key))
    assert (placement.steps > 0 and len(reads) == 1) if restored else True, reads
    again = recomputed(store, run_id, key)
    assert view.positions(key) == again.positions(key)
    assert placement.steps == again.placement(key).steps
    for k in (tree.last_seq // 3, tree.last_seq - 4, tree.last_seq):   # replay frames too
        shown = project(view.frame(k), default_options(len(tree.nodes)))[0]
        assert view.place(shown, key) == again.place(shown, key)


def test_a_finished_big_run_keeps_its_positions_and_they_equal_the_replayed_ones(store):
    run_id, _ = store_synthetic(store, 2_500, seed=4)     # past the fold-pruned size
    key = layout_key(default_options(2_500))
    assert open_view(store, run_id)._saved.load(run_id, key_name(key)) is not None
    assert_same_places(store, run_id, key, restored=True)


def test_a_mark_after_the_run_is_folded_and_the_stored_positions_still_hold(store):
    run_id, _ = store_synthetic(store, 1_200, seed=5)
    key = layout_key(default_options(1_200))
    reopen(store, run_id).add(ev.NODE_MARKED, 1_199, {"mark": "wrong"})
    assert_same_places(store, run_id, key, restored=True)
    view = open_view(store, run_id)
    assert view.final().nodes[1_199].state == "failed"   # the mark is drawn


def test_a_node_added_after_the_stored_positions_makes_the_view_replay(store, monkeypatch):
    """A small run (every new node steps the policy there): the stored state no longer holds."""
    import reasoning.run_view as rv
    monkeypatch.setattr(rv, "SAVE_FROM_NODES", 10)
    run_id, _ = store_synthetic(store, 60, seed=6)
    key = layout_key(default_options(60))
    for nid in (5_000, 5_001):
        reopen(store, run_id).add(ev.NODE_CREATED, nid, {"parent_id": 0, "depth": 1, "role": "thought"})
    view, reads = counting_view(store, run_id)
    view.final()
    placement = view.placement(key, projector(key))
    again = recomputed(store, run_id, key)
    assert {5_000, 5_001} <= set(view.positions(key))
    assert view.positions(key) == again.positions(key)
    assert placement.steps == again.placement(key).steps   # the policy's state is the replay's


def test_a_small_run_stores_no_positions(store):
    run_id, _ = store_synthetic(store, 30)
    assert open_view(store, run_id)._saved.load(run_id, key_name(layout_key(default_options(30)))) is None


# -- the runs list -------------------------------------------------------------------------------
N_RUNS = 180


@pytest.fixture
def many(any_store):
    eids = tuple(exp_repo.create_experiment(any_store, f"sweep {i}", {}) for i in range(3))
    ids = store_many_runs(any_store, N_RUNS, seed=9, experiments=eids)
    rows, _ = many_runs(N_RUNS, seed=9, experiments=eids)
    for rid, row in zip(ids, rows, strict=True):
        row["id"] = rid
    return any_store, rows, eids


def all_pages(store, flt: RunFilter, limit: int) -> list[list[int]]:
    pages, before = [], None
    while True:
        page = runs_page(store, flt, before, limit)
        pages.append([r["id"] for r in page.rows])
        if page.next_before is None:
            return pages
        before = page.next_before


def test_keyset_paging_returns_every_run_once_newest_first(many):
    store, rows, _ = many
    for flt in (RunFilter(), RunFilter(task="game24")):
        want = sorted((r["id"] for r in rows if flt.task in (None, r["task"])), reverse=True)
        for limit in (7, 50, len(want), 1_000):
            pages = all_pages(store, flt, limit)
            assert [i for p in pages for i in p] == want
            assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit


def expected(rows: list[dict], flt: RunFilter) -> list[int]:
    def ok(r: dict) -> bool:
        return ((flt.task is None or r["task"] == flt.task)
                and (flt.strategy is None or r["strategy"] == flt.strategy)
                and (flt.outcome is None or r["outcome"] == flt.outcome)
                and flt.model.lower() in r["model"].lower()
                and flt.text.lower() in r["problem"].lower()
                and (flt.since is None or r["created_at"] >= flt.since)
                and (flt.until is None or r["created_at"] < flt.until)
                and (flt.experiment_id is None or r["experiment_id"] == flt.experiment_id))
    return sorted((r["id"] for r in rows if ok(r)), reverse=True)


def test_each_filter_returns_exactly_the_matching_runs(many):
    store, rows, eids = many
    mid = sorted(r["created_at"] for r in rows)[N_RUNS // 2]
    filters = [RunFilter(task="gsm8k"), RunFilter(strategy="mcts"), RunFilter(outcome="solved"),
               RunFilter(model="QWEN"), RunFilter(since=mid), RunFilter(until=mid),
               RunFilter(experiment_id=eids[1]), RunFilter(text="question 1"),
               RunFilter(text="Synthetic QUESTION"), RunFilter(task="game24", strategy="beam", since=mid),
               RunFilter(text="%"), RunFilter(text="_"), RunFilter(task="no such task")]
    for flt in filters:
        want = expected(rows, flt)
        got = [i for p in all_pages(store, flt, 25) for i in p]
        assert got == want, flt
        assert count_runs(store, flt) == len(want)
    assert sum(count_runs(store, RunFilter(task=t)) for t in {r["task"] for r in rows}) == N_RUNS
    assert datetime.fromtimestamp(mid)   # (a real date: the date widget's range maps to these)


def test_the_outcome_filter_finds_a_running_run_by_its_status(any_store):
    rid = new_run(any_store, task="game24", problem="1 2 3 4", problem_id=None, strategy="dfs",
                               params={}, model={}, budget={}, seed=0)
    assert [r["id"] for r in runs_page(any_store, RunFilter(outcome="running")).rows] == [rid]


def test_the_pickers_search_by_id_and_text_within_a_limit(many):
    store, rows, eids = many
    some = rows[40]
    found = find_runs(store, f"#{some['id']}", limit=5)
    assert found[0]["id"] == some["id"] and len(found) <= 5
    hits = find_runs(store, "question 1", limit=8)
    assert len(hits) == 8 and all("question 1" in r["problem"] for r in hits)
    assert [r["id"] for r in hits] == sorted((r["id"] for r in hits), reverse=True)
    assert [r["id"] for r in find_runs(store, "mcts", limit=500)] == \
        sorted((r["id"] for r in rows if r["strategy"] == "mcts"), reverse=True)
    assert find_runs(store, "nothing like this") == []
    assert [e["id"] for e in find_experiments(store, "sweep 2")] == [eids[2]]
    assert [e["id"] for e in find_experiments(store, f"#{eids[0]}")] == [eids[0]]
    assert len(find_experiments(store, "sweep", limit=2)) == 2
