"""A database written by ``run_finished`` format 2 (commit 3141cad: every strategy's figures at
the top of the payload) reads unchanged with today's format-3 code: ``tests/fixtures/v2.db`` and
its sidecar ``v2.json`` (what that code's ``cli.py show``, ``export events``, runs row, fold and
experiment line said), both written by ``tests/fixtures/make_v2.py`` at 3141cad; never regenerate
them with newer code."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.make_v2 import snapshot

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDED = json.loads((FIXTURES / "v2.json").read_text())
RUNS = RECORDED["runs"]
IDS = sorted(RUNS, key=int)
# the door (storage/door.py) closes a run whose log ended before run_finished as "interrupted";
# format 2's ingest stored it as status "finished" with outcome "interrupted". The stored row
# keeps what it was given; a row rebuilt from the log says what the door says today.
REBUILT_DIFFERENTLY = {"ingest_cut": {"status": "interrupted"}}
# the strategy and evaluator figures format 2's RunFinished had at the top (3141cad
# reasoning/events.py), written out here so a change on today's side cannot hide one
FORMAT_2_FIGURES = ("chains", "chains_correct", "chains_anytime", "final_answers", "correct_any",
                    "correct_top1", "correct_first_valid", "scored_with_truth", "false_prunes",
                    "false_prunes_threshold", "false_prunes_capacity", "false_keeps", "auc",
                    "value_truth")


@pytest.fixture(scope="module")
def old_store(tmp_path_factory):
    """A copy (opening migrates the schema; the committed file stays as written)."""
    from storage import open_store
    path = tmp_path_factory.mktemp("v2") / "v2.db"
    shutil.copy(FIXTURES / "v2.db", path)
    return open_store(str(path))


def events_text(store, run_id: int, path: Path) -> str:
    from runner.cli.interop_verbs import export_events
    export_events(store, [run_id], str(path))
    return path.read_text(encoding="utf-8")


def test_the_fixture_covers_every_kind_of_run_and_figure():
    assert {r["name"] for r in RUNS.values()} >= {
        "greedy", "best_of_n", "beam", "dfs", "mcts", "tot", "trace", "ingest", "ingest_cut",
        "marked", "experiment"}
    types = set().union(*(set(r["types"]) for r in RUNS.values()))
    assert {"node_scored", "node_pruned", "node_backtracked", "node_solved", "node_failed",
            "mcts_backprop", "node_marked", "run_finished"} <= types, types
    figures = set().union(*({k for k, v in (r["run_finished"] or {}).items() if v is not None}
                            for r in RUNS.values()))
    assert {"chains", "chains_correct", "chains_anytime", "false_prunes", "false_prunes_capacity",
            "false_prunes_threshold", "false_keeps", "scored_with_truth", "auc",
            "value_truth", "final_answers", "correct_any", "correct_top1",
            "correct_first_valid"} <= figures, figures
    assert any(n["label"] for r in RUNS.values() if r["name"] == "trace"
               for n in r["tree"]["nodes"].values())
    assert all(json.loads(line)["payload"].get("format_version") == 2
               for r in RUNS.values() for line in r["export_events"].splitlines()
               if json.loads(line)["type"] == "run_started")


@pytest.mark.parametrize("run_id", IDS)
def test_a_format_2_run_folds_to_the_tree_the_v2_code_saw(old_store, run_id):
    from reasoning.tree import fold
    tree = fold(old_store.events(int(run_id)))
    assert json.loads(json.dumps(snapshot(tree))) == RUNS[run_id]["tree"]


@pytest.mark.parametrize("run_id", IDS)
def test_its_top_level_figures_are_read_as_metrics(old_store, run_id):
    from reasoning.tree import fold
    old = RUNS[run_id]["run_finished"]
    fin = fold(old_store.events(int(run_id))).finished
    legacy = {k: v for k, v in old.items() if k in FORMAT_2_FIGURES and v is not None}
    assert {k: fin["metrics"].get(k) for k in legacy} == legacy
    assert not set(FORMAT_2_FIGURES) & set(fin)          # moved, not copied
    assert {k: v for k, v in fin.items() if k != "metrics"} == \
        {k: v for k, v in old.items() if k not in FORMAT_2_FIGURES}


@pytest.mark.parametrize("run_id", IDS)
def test_cli_show_keeps_every_key_and_value_the_v2_line_had(old_store, run_id):
    from runner.cli.common import summary
    now = json.loads(json.dumps(summary(old_store, int(run_id))))
    old = RUNS[run_id]["show"]
    assert {k: now.get(k, "<dropped>") for k in old} == old


def test_the_printed_show_line_of_a_new_process_is_the_v2_line(old_store, tmp_path):
    """The line itself, from ``cli.py show`` in a process of its own (the beam run: every truth
    figure, ``auc`` among them, and its declared ``metrics`` added)."""
    import subprocess
    import sys
    rid = next(k for k, r in RUNS.items() if r["name"] == "beam")
    db = tmp_path / "v2.db"
    shutil.copy(FIXTURES / "v2.db", db)
    out = subprocess.run([sys.executable, "cli.py", "show", rid, "--db", str(db)], check=True,
                         cwd=FIXTURES.parents[1], capture_output=True, text=True).stdout
    now, old = json.loads(out.strip().splitlines()[-1]), RUNS[rid]["show"]
    assert {k: now.get(k, "<dropped>") for k in old} == old
    assert now["metrics"]["auc"] == old["auc"]


@pytest.mark.parametrize("run_id", IDS)
def test_the_runs_row_rebuilt_from_the_log_is_the_stored_row(old_store, run_id):
    from storage.run_row import rebuild
    want = RUNS[run_id]["row"]
    assert {k: old_store.get_run(int(run_id))[k] for k in want} == want
    rebuild(old_store, int(run_id))
    assert {k: old_store.get_run(int(run_id))[k] for k in want} == \
        {**want, **REBUILT_DIFFERENTLY.get(RUNS[run_id]["name"], {})}


@pytest.fixture(scope="module")
def reingested(old_store, tmp_path_factory):
    """Every run exported by today's code and ingested, in id order, into an empty store (so the
    run ids come out the same)."""
    from runner.ingest import ingest_file
    from storage import open_store
    tmp = tmp_path_factory.mktemp("v2-round")
    store = open_store(str(tmp / "again.db"))
    for rid in IDS:
        text = events_text(old_store, int(rid), tmp / f"{rid}.jsonl")
        assert ingest_file(text.splitlines(), store)["run_ids"] == [int(rid)]
    return store, tmp


@pytest.mark.parametrize("run_id", IDS)
def test_export_events_round_trip_is_byte_identical(old_store, reingested, run_id):
    store, tmp = reingested
    first = events_text(old_store, int(run_id), tmp / f"first-{run_id}.jsonl")
    assert first == RUNS[run_id]["export_events"]        # what format 2's export wrote
    assert events_text(store, int(run_id), tmp / f"again-{run_id}.jsonl") == first
    # a mark after run_finished is read back too (the marked run), and the row says the same
    from runner.cli.common import summary
    again, old = summary(store, int(run_id)), RUNS[run_id]["show"]
    assert {k: again[k] for k in ("outcome", "answer", "answer_node", "marks", "nodes", "tokens",
                                  "events")} == {k: old[k] for k in ("outcome", "answer",
                                  "answer_node", "marks", "nodes", "tokens", "events")}


def test_the_experiment_results_table_has_the_pooled_figures(old_store):
    from runner.experiments.results import results, results_csv, summary
    old = RECORDED["experiment"]
    now = json.loads(json.dumps(summary(old_store, old["experiment_id"])))
    assert {k: now.get(k) for k in old if k != "results"} == \
        {k: v for k, v in old.items() if k != "results"}
    assert len(now["results"]) == len(old["results"]) == 2
    for was, row in zip(old["results"], now["results"], strict=True):
        assert {k: row.get(k, "<dropped>") for k in was} == was
    pooled = [r for r in old["results"] if r["strategy"] == "best_of_n"][0]
    assert pooled["chain_runs_until_correct"] == 2        # pooled from the runs' chains figures
    rows = results(old_store, old["experiment_id"])
    assert "chain_runs_until_correct" in results_csv(rows).splitlines()[0]
    from components.experiment_view import results_table
    from runner.run_figures import figure_columns
    columns = figure_columns([r.figures for r in rows])
    table = results_table(rows, columns).set_index("strategy")      # the Experiments page's table
    assert table.loc["best_of_n", columns["chain_runs_until_correct"]] == 2
