"""A database written by the code of 2026-12-01 (before typed events) opens and replays to the
very trees it recorded: ``tests/fixtures/v1.db`` with its sidecar ``v1.json`` (both written by
``tests/fixtures/make_v1.py`` at that commit; never regenerate them with newer code)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.make_v1 import snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDED = json.loads((FIXTURES / "v1.json").read_text())


@pytest.fixture(scope="module")
def old_store(tmp_path_factory):
    """A copy (opening migrates the schema, add-only; the committed file stays as written)."""
    from storage import open_store
    path = tmp_path_factory.mktemp("v1") / "v1.db"
    shutil.copy(FIXTURES / "v1.db", path)
    return open_store(str(path))


def test_the_fixture_covers_every_kind_of_event_a_run_wrote():
    types = set().union(*(set(r["types"]) for r in RECORDED.values()))
    assert {"run_started", "node_created", "tokens", "node_completed", "node_scored",
            "node_pruned", "node_backtracked", "node_solved", "node_failed", "mcts_backprop",
            "node_marked", "run_finished"} <= types, types


@pytest.mark.parametrize("run_id", sorted(RECORDED, key=int))
def test_an_old_run_replays_to_the_recorded_tree(old_store, run_id):
    from runner.views import open_view
    want = RECORDED[run_id]
    row = old_store.get_run(int(run_id))
    assert {k: row[k] for k in want["run"]} == want["run"]
    view = open_view(old_store, int(run_id))
    tree = view.final()
    assert view.last_seq == want["events"]
    assert json.loads(json.dumps(snapshot(tree))) == want["tree"]
    # replay frames fold the same prefix whichever way the slider went
    middle = view.frame(want["events"] // 2)
    assert middle.last_seq == want["events"] // 2 and set(middle.nodes) <= set(tree.nodes)
    assert view.frame(want["events"]) is tree
