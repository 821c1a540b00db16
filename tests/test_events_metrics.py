"""Format 3: the figures of a strategy or evaluator live in ``run_finished.metrics``, declared next to
the code that computes them (``reasoning.figures.Figure``), and every consumer — the CLI's JSON
line, the run summary, Compare, the experiment tables — shows what is declared, pooled as declared.
Version 1 and 2 logs read unchanged: their top-level figures are read into ``metrics``."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reasoning import events as ev
from reasoning.events import Event, EventFormatError, RunFinished, validate_event
from reasoning.figures import LEGACY_METRICS, Figure, pool, shown, upgrade_run_finished
from reasoning.tree import fold

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PLUGINS = ROOT / "examples" / "plugins"


# -- reading versions 1 and 2 ----------------------------------------------------------------------
def test_a_version_2_payload_reads_with_its_figures_in_metrics():
    old = {"outcome": "failed", "nodes": 11, "chains": 8, "chains_correct": 2, "auc": 0.5,
           "value_truth": [[0.0, 0, 5], [1.0, 1, 0]], "correct_any": None, "eval_tokens": 3}
    got = upgrade_run_finished(old)
    assert got["metrics"] == {"chains": 8, "chains_correct": 2, "auc": 0.5,
                              "value_truth": [[0.0, 0, 5], [1.0, 1, 0]]}
    assert not set(LEGACY_METRICS) & set(got)                      # none left at the top
    assert (got["outcome"], got["nodes"], got["eval_tokens"]) == ("failed", 11, 3)
    assert old["chains"] == 8                                         # the stored dict is untouched
    assert upgrade_run_finished(got) == got                           # version 3: as it is
    data = RunFinished.from_payload(old)
    assert data.metrics["chains"] == 8 and "chains" not in data.extra


@pytest.fixture
def v1_store(tmp_path):
    from storage import open_store
    path = tmp_path / "v1.db"
    shutil.copy(FIXTURES / "v1.db", path)
    return open_store(str(path))


def test_the_version_1_fixture_reads_its_figures_into_metrics(v1_store):
    from runner.cli.common import summary
    seen = 0
    for row in v1_store.list_runs():
        events = v1_store.events(row["id"])
        raw = [e for e in events if e.type == "run_finished"][-1].payload
        assert "metrics" not in raw                                       # as written in v1
        figures = {k: raw[k] for k in LEGACY_METRICS if k in raw}
        tree = fold(events)
        assert tree.finished["metrics"] == figures
        line = summary(v1_store, row["id"])
        assert line["metrics"] == {k: v for k, v in figures.items() if k != "value_truth"}
        # the public line keeps every key it had, at the same place, with the same value
        assert {k: line[k] for k in figures if k in line} == \
            {k: v for k, v in figures.items() if k in ("false_prunes", "false_keeps", "auc")}
        seen += bool(figures)
    assert seen >= 3          # the fixture's beam / dfs runs carry truth counts


# -- version 3 --------------------------------------------------------------------------------------
def test_a_version_3_run_finished_round_trips_and_is_checked():
    data = RunFinished(outcome="solved", answer="24", nodes=5, tokens=40,
                       metrics={"tries": 2, "first_try": False, "depths": [3, 1], "auc": 0.75})
    e = Event.of(7, 9, 1.5, data)
    back = Event.from_json(e.to_json())
    assert back.payload == e.payload and back.payload["metrics"] == data.metrics
    assert validate_event(back).metrics == data.metrics
    assert back.data == data
    with pytest.raises(EventFormatError, match=r"metrics\['who'\] must be a number"):
        validate_event(Event(7, 9, 1.5, ev.RUN_FINISHED, None,
                             {"outcome": "solved", "metrics": {"who": "me"}}))
    with pytest.raises(EventFormatError, match="'metrics' has the wrong type"):
        validate_event(Event(7, 9, 1.5, ev.RUN_FINISHED, None, {"outcome": "solved", "metrics": 3}))
    # a stored log is read, never refused: a bad metrics object reads as none
    assert RunFinished.from_payload({"outcome": "solved", "metrics": 3}).metrics == {}


def test_a_run_writes_format_3_with_its_figures_in_metrics():
    from reasoning.engine import run_search
    from reasoning.models.scripted import ScriptedModel
    from reasoning.plugin_check import random_policy
    from reasoning.settings import Budget
    from reasoning.strategies import make_strategy
    from reasoning.tasks import get_task
    task = get_task("game24")
    model = ScriptedModel(random_policy)
    model.capabilities["constraint"] = "grammar"
    _, rec = run_search(make_strategy("best_of_n", {"n": 3}), task, task.resolve_problem("4 5 6 10"),
                        model, run_id=1, budget=Budget(max_nodes=40), seed=2)
    assert rec.events[0].payload["format_version"] == 3
    fin = rec.events[-1].payload
    assert fin["metrics"]["chains"] == 3 and not set(LEGACY_METRICS) & set(fin)


# -- pooling ----------------------------------------------------------------------------------------
def test_figures_pool_as_declared():
    figs = (Figure("n", "count", "sum"), Figure("m", "mean", "mean"), Figure("ok", "flag", "rate"),
            Figure("own", "per run", "none"),
            Figure("best", "a function", lambda runs: max((r["m"] for r in runs if "m" in r), default=None),
                   pooled_as="best_m"),
            Figure("never", "no run has it", "mean"))
    runs = [{"n": 2, "m": 1.0, "ok": True, "own": 5}, {"n": 3, "m": 2.0, "ok": False},
            {"n": 5, "ok": True}, {}]
    assert pool(figs, runs) == {"n": 10, "m": 1.5, "ok_rate": 0.6667, "best_m": 2.0}
    assert pool(figs, []) == {}
    with pytest.raises(ValueError, match="pool must be one of"):
        Figure("x", "bad", "median")


def test_experiment_figures_pool_per_declaration_and_show_undeclared_ones_unpooled():
    from reasoning.strategies import figures_for
    from runner.run_figures import group_figures
    tot = figures_for("beam")
    payloads = [{"outcome": "solved", "correct_any": True, "correct_top1": True, "final_answers": 3},
                {"outcome": "failed", "metrics": {"correct_any": True, "correct_top1": False,
                                                  "final_answers": 1, "mine": 4}}]
    figs = group_figures(payloads, ["tot", "tot"], tot)
    assert figs == {"protocol": "tot", "correct_any_rate": 1.0, "correct_top1_rate": 0.5,
                    "final_answers": 2.0}
    assert "chain_rate" not in figs                              # beam declares no chains
    assert [(f.name, v) for f, v in shown(tot, payloads[1]["metrics"])] == \
        [("correct_any", True), ("correct_top1", False), ("final_answers", 1), ("mine", 4)]


# -- a plug-in's own figure, end to end ---------------------------------------------------------------
def _cli(tmp_path, *args: str) -> dict:
    env = {**os.environ, "THINKTREE_PLUGIN_PATH": str(PLUGINS), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def plugins(monkeypatch):
    from reasoning import plugins as loader
    monkeypatch.setenv("THINKTREE_PLUGIN_PATH", str(PLUGINS))
    assert loader.ensure(reload=True) == []
    yield
    monkeypatch.delenv("THINKTREE_PLUGIN_PATH")
    loader.ensure(reload=True)


def test_a_plugin_figure_shows_in_the_cli_line_and_the_run_summary(tmp_path, plugins):
    from components.status import run_figures, status_text
    from storage import open_store
    db = tmp_path / "t.db"
    line = _cli(tmp_path, "run", "--db", str(db), "--quiet", "--model", "random", "--strategy",
                "restarts", "--tries", "3", "--problem", "4 5 6 10", "--seed", "1")
    tries = line["metrics"]["tries"]
    assert 1 <= tries <= 3 and line["metrics"]["first_try"] == (tries == 1 and line["outcome"] == "solved")
    assert len(line["metrics"]["chain_depths"]) == tries
    assert _cli(tmp_path, "show", str(line["run_id"]), "--db", str(db))["metrics"] == line["metrics"]
    tree = fold(open_store(str(db)).events(line["run_id"]))
    summary = {label: text for label, text, _ in run_figures(tree)}
    assert summary["mean tries"] == str(tries)                   # the declared label and format
    assert summary["solved by the first chain"] == str(line["metrics"]["first_try"])
    assert f"mean tries {tries}" in status_text(tree, running=False)


def test_a_plugin_figure_is_pooled_in_the_experiment_tables(store, plugins):
    from components.experiment_view import results_table
    from reasoning.models.scripted import ScriptedModel
    from reasoning.plugin_check import random_policy
    from runner import experiments as exp
    from runner.run_figures import figure_columns
    from storage import experiments as repo

    def model():
        m = ScriptedModel(random_policy)
        m.capabilities["constraint"] = "grammar"
        return m

    config = exp.ExperimentConfig(problems="1-3", budgets="100000",
                                  strategies="greedy,restarts:tries=2")
    eid = exp.create_experiment(config, store)
    exp.run_experiment(eid, store, model_factory=model)
    runs = [r for r in repo.cell_runs(store, eid) if r["strategy"] == "restarts"]
    fins = repo.finished_payloads(store, [r["id"] for r in runs])
    tries = [fins[r["id"]]["metrics"]["tries"] for r in runs]
    first = [fins[r["id"]]["metrics"]["first_try"] for r in runs]
    assert len(tries) == 3
    rows = {r.strategy: r for r in exp.results(store, eid)}
    figs = rows["restarts:tries=2"].figures
    assert figs["tries"] == round(sum(tries) / 3, 4)                   # "mean"
    assert figs["first_try_rate"] == round(sum(first) / 3, 4)          # "rate"
    assert "chain_depths" not in figs and "tries" not in rows["greedy"].figures   # "none"
    columns = figure_columns([r.figures for r in rows.values()])
    assert columns["tries"] == "mean tries" and columns["first_try_rate"] == "solved by the first chain"
    table = results_table(list(rows.values()), columns)
    assert table.set_index("strategy").loc["restarts:tries=2", "mean tries"] == figs["tries"]
    assert exp.summary(store, eid)["results"][1]["tries"] == figs["tries"]        # the CLI line
    pooled = list(csv.DictReader(io.StringIO(exp.results_csv(list(rows.values())))))
    assert [p["tries"] for p in pooled] == ["", str(figs["tries"])]
    cells = list(csv.DictReader(io.StringIO(exp.cells_csv(store, eid))))
    assert sorted(int(c["tries"]) for c in cells if c["strategy"] == "restarts:tries=2") == sorted(tries)


def test_compare_shows_the_figures_each_run_declares(plugins):
    from components.compare_tables import metrics_table
    from reasoning.compare import compare
    from reasoning.engine import run_search
    from reasoning.models.scripted import ScriptedModel
    from reasoning.plugin_check import random_policy
    from reasoning.settings import Budget
    from reasoning.strategies import make_strategy
    from reasoning.tasks import get_task
    task = get_task("game24")
    model = ScriptedModel(random_policy)
    model.capabilities["constraint"] = "grammar"

    def tree(name, params, run_id):
        _, rec = run_search(make_strategy(name, params), task, task.resolve_problem("4 5 6 10"),
                            model, run_id=run_id, budget=Budget(max_nodes=60), seed=1)
        return rec.tree

    a, b = tree("restarts", {"tries": 2}, 1), tree("best_of_n", {"n": 3}, 2)
    result = compare(a, b)
    assert result["runs"][0]["figures"]["tries"] == a.finished["metrics"]["tries"]
    table = metrics_table(result, 1, 2)
    a_col, b_col = table.columns
    assert table.loc["mean tries", a_col] == str(a.finished["metrics"]["tries"])
    assert table.loc["mean tries", b_col] == "—"
    assert table.loc["chains", b_col] == "3" and table.loc["chains", a_col] == "—"
    assert "value_truth" not in table.index                     # hidden: data behind the AUC


def test_an_evaluator_declares_and_reports_its_own_figure(monkeypatch):
    from components.status import run_figures
    from reasoning.engine import run_search
    from reasoning.evaluators import EVALUATORS, Evaluator, Score
    from reasoning.models.scripted import ScriptedModel
    from reasoning.plugin_check import random_policy
    from reasoning.settings import Budget
    from reasoning.strategies import figures_for, make_strategy
    from reasoning.tasks import get_task

    class Counting(Evaluator):
        name = "counting_doc"
        title = "The same value, counting its calls"
        default_threshold = 0.5
        figures = (Figure("evaluations", "nodes this evaluator scored", "sum", "{:d}", "evaluator calls"),)

        def __init__(self) -> None:
            self.calls = 0

        def evaluate(self, ctx, node_id) -> Score:
            self.calls += 1
            return Score(0.5, 0.5)

        def metrics(self) -> dict:
            return {"evaluations": self.calls}

    monkeypatch.setitem(EVALUATORS, Counting.name, Counting)
    task = get_task("game24")
    model = ScriptedModel(random_policy)
    model.capabilities["constraint"] = "grammar"
    for max_nodes, outcome in ((200, None), (6, "budget")):      # a run cut short reports it too
        strategy = make_strategy("beam", {"evaluator": Counting.name, "beam_width": 2})
        result, rec = run_search(strategy, task, task.resolve_problem("4 5 6 10"), model, run_id=1,
                                 budget=Budget(max_nodes=max_nodes), seed=1)
        scored = sum(1 for e in rec.events if e.type == "node_scored")
        assert rec.events[-1].payload["metrics"]["evaluations"] == scored > 0
        assert outcome is None or result.outcome == outcome
    assert "evaluations" in {f.name for f in figures_for("beam", {"evaluator": Counting.name})}
    assert ("evaluator calls", str(scored), "nodes this evaluator scored") in run_figures(rec.tree)
