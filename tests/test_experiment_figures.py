"""Experiment statistics beyond the solved rate: per-chain success (ToT's CoT), the protocol, the
paper's two ToT metrics, and the evaluator's AUC pooled over every run of a group."""
from __future__ import annotations

import csv
import io

import pytest

from reasoning.models.scripted import ScriptedModel
from runner import experiments as exp
from runner.run_figures import group_figures, run_protocol
from storage import experiments as repo
from tests.helpers import pick_by_seed
from tests.test_tot_protocol import tot_model


def test_chain_rate_is_pooled_over_chains():
    # 1 of 4 and 2 of 2: 3 of 6 chains (a mean of the runs' rates would say 0.625)
    figs = group_figures([{"chains": 4, "chains_correct": 1}, {"chains": 2, "chains_correct": 2},
                          {"chains": 2, "chains_correct": None}, {"outcome": "solved"}],
                         ["constrained"] * 4)
    assert (figs["chains"], figs["chains_correct"], figs["chain_rate"]) == (6, 3, 0.5)
    assert figs["protocol"] == "constrained"
    assert "chains" not in group_figures([{"outcome": "solved"}], ["constrained"])
    # chains drawn until one is right are not a sample of one chain's success: left out, counted
    figs = group_figures([{"chains": 4, "chains_correct": 1},
                          {"chains": 12, "chains_correct": 1, "chains_anytime": True}], ["constrained"] * 2)
    assert (figs["chains"], figs["chain_rate"], figs["chain_runs_until_correct"]) == (4, 0.25, 1)


def test_auc_is_pooled_over_runs_not_averaged():
    # each run alone has one class only (AUC undefined); together: the solvable state has the
    # lower value, so the evaluator ranks backwards
    a = {"scored_with_truth": 1, "value_truth": [[1.0, 1, 0]], "false_prunes_threshold": 1}
    b = {"scored_with_truth": 1, "value_truth": [[2.0, 0, 1]], "false_prunes_capacity": 2,
         "false_keeps": 1}
    figs = group_figures([a, b], ["constrained", "constrained"])
    assert figs["auc"] == 0.0 and figs["scored_with_truth"] == 2
    assert (figs["false_prunes_threshold"], figs["false_prunes_capacity"], figs["false_keeps"]) == \
        (1, 2, 1)


def test_tot_rates_and_mixed_protocols():
    figs = group_figures([{"correct_any": True, "correct_top1": False},
                          {"correct_any": True, "correct_top1": True},
                          {"correct_any": False, "correct_top1": False}], ["tot", "tot", "constrained"])
    assert (figs["correct_any_rate"], figs["correct_top1_rate"]) == (pytest.approx(2 / 3, abs=1e-4),
                                                                    pytest.approx(1 / 3, abs=1e-4))
    assert figs["protocol"] == "mixed"
    assert run_protocol({}) == "constrained" and run_protocol({"protocol": "tot"}) == "tot"


def test_experiment_results_carry_the_figures_of_their_runs(store):
    config = exp.ExperimentConfig(problems="901-902", budgets="4000",
                                  strategies="greedy,best_of_n:anytime=false,n=4,beam:beam_width=1,proposals=2")
    eid = exp.create_experiment(config, store)
    exp.run_experiment(eid, store, model_factory=lambda: ScriptedModel(pick_by_seed))
    rows = {r.strategy: r for r in exp.results(store, eid)}
    runs = repo.cell_runs(store, eid)
    fins = repo.finished_payloads(store, [r["id"] for r in runs])
    bon = [fins[r["id"]]["metrics"] for r in runs if r["strategy"] == "best_of_n"]
    figs = rows["best_of_n:anytime=false,n=4"].figures
    assert figs["chains"] == 8 == sum(p["chains"] for p in bon)
    assert figs["chain_rate"] == round(sum(p["chains_correct"] for p in bon) / 8, 4)
    assert "chains" not in rows["greedy"].figures
    beam = rows["beam:beam_width=1,proposals=2"].figures
    assert beam["scored_with_truth"] == sum(fins[r["id"]]["metrics"]["scored_with_truth"] for r in runs
                                            if r["strategy"] == "beam")
    assert {r.figures["protocol"] for r in rows.values()} == {"constrained"}
    # the CLI's JSON line, the results CSV and the cells CSV say the same
    public = {r["strategy"]: r for r in exp.summary(store, eid)["results"]}
    assert public["best_of_n:anytime=false,n=4"]["chain_rate"] == figs["chain_rate"]
    table = list(csv.DictReader(io.StringIO(exp.results_csv(list(rows.values())))))
    assert [t["chain_rate"] for t in table if t["strategy"] == "best_of_n:anytime=false,n=4"] == \
        [str(figs["chain_rate"])]
    cells = list(csv.DictReader(io.StringIO(exp.cells_csv(store, eid))))
    assert {c["protocol"] for c in cells} == {"constrained"}
    assert sorted(int(c["chains"]) for c in cells if c["strategy"] == "best_of_n:anytime=false,n=4") == [4, 4]


def test_an_experiment_under_the_tot_protocol(store):
    config = exp.ExperimentConfig(problems="1", budgets="100000", strategies="greedy,beam:beam_width=2",
                                  protocol="tot")
    eid = exp.create_experiment(config, store)
    exp.run_experiment(eid, store, model_factory=lambda: tot_model())
    runs = {r["strategy"]: r for r in repo.cell_runs(store, eid)}
    assert runs["beam"]["params"]["protocol"] == "tot"        # the experiment's protocol
    assert "protocol" not in runs["greedy"]["params"]         # greedy has none to set
    rows = {r.strategy: r for r in exp.results(store, eid)}
    beam = rows["beam:beam_width=2"].figures
    assert (beam["protocol"], beam["correct_any_rate"], beam["correct_top1_rate"],
            beam["correct_first_valid_rate"]) == ("tot", 1.0, 1.0, 1.0)
    assert exp.summary(store, eid)["protocol"] == "tot"


def test_tot_protocol_experiments_need_game24():
    with pytest.raises(ValueError, match="^protocol: tot is defined for Game of 24 only"):
        exp.validate(exp.ExperimentConfig(task="gsm8k", problems="1", strategies="beam",
                                          protocol="tot"))
    with pytest.raises(ValueError, match="^protocol:"):
        exp.ExperimentConfig(protocol="paper")
