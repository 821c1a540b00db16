"""Numbers a researcher quotes: best-of-N's per-chain success, false prunes split by why, and the
evaluator's AUC against exact solvability — on the scripted Letters task (see test_strategies)."""
from __future__ import annotations

import pytest

from reasoning.evaluator_accuracy import auc_of, merge_value_truth, truth_counts, value_truth
from reasoning.settings import Budget
from reasoning.tree import Node, Tree
from tests.test_strategies import Letters, by_seed_at_root, policy, run


# -- best_of_n: chains and chains_correct ---------------------------------------------------------
def test_best_of_n_reports_chains_and_how_many_were_right():
    result, tree, _, rec = run("best_of_n", {"n": 3}, by_seed_at_root, Letters(target="ba"))
    fin = rec.events[-1].payload
    assert (fin["metrics"]["chains"], fin["metrics"]["chains_correct"]) == (3, 1)       # aa, ba, ca: one is right
    assert result.extra["chains_correct"] == 1


def test_best_of_n_anytime_says_its_chains_stopped_at_a_right_one():
    fin = run("best_of_n", {"n": 2, "anytime": True}, by_seed_at_root,
              Letters(target="ca"))[3].events[-1].payload
    # waves of 2 (aa, ba), then (ca, …): stops after the wave with a right chain
    assert (fin["metrics"]["chains"], fin["metrics"]["chains_correct"], fin["metrics"]["chains_anytime"]) == (4, 1, True)
    assert "chains_anytime" not in run("best_of_n", {"n": 2}, by_seed_at_root,
                                       Letters(target="ca"))[3].events[-1].payload


def test_best_of_n_all_chains_right_and_all_wrong():
    fin = run("best_of_n", {"n": 4}, policy(), Letters(target="aa"))[3].events[-1].payload
    assert (fin["metrics"]["chains"], fin["metrics"]["chains_correct"]) == (4, 4)
    fin = run("best_of_n", {"n": 2}, policy(), Letters(target="cc"))[3].events[-1].payload
    assert (fin["metrics"]["chains"], fin["metrics"]["chains_correct"]) == (2, 0)


def test_best_of_n_without_a_verifier_claims_no_correct_chains():
    fin = run("best_of_n", {"n": 3}, by_seed_at_root,
              Letters(target="aa", verifier=False))[3].events[-1].payload
    assert fin["metrics"]["chains"] == 3 and fin["metrics"].get("chains_correct") is None   # null = left out


def test_best_of_n_cut_by_the_budget_counts_only_chains_that_ended():
    # chains run in lockstep: root, five first steps, then the second steps of chains 1 and 2
    # (aa, ba) before the node budget of 8 cuts the other three
    _, tree, _, rec = run("best_of_n", {"n": 5}, by_seed_at_root, Letters(target="ba"),
                          budget=Budget(max_nodes=8))
    fin = rec.events[-1].payload
    assert fin["outcome"] == "solved"                 # chain 2 (ba) was found before the cut
    assert (fin["metrics"]["chains"], fin["metrics"]["chains_correct"]) == (2, 1)


# -- false prunes: the evaluator's "no" vs no room in the beam -----------------------------------
def test_beam_false_prune_is_a_capacity_prune():
    verdicts = {"a": "impossible", "b": "likely", "c": "likely"}
    fin = run("beam", {"beam_width": 1, "proposals": 3},
              policy(verdicts=verdicts))[3].events[-1].payload
    assert fin["metrics"]["false_prunes"] == 1
    assert (fin["metrics"]["false_prunes_capacity"], fin["metrics"]["false_prunes_threshold"]) == (1, 0)


def test_dfs_false_prune_is_a_threshold_prune():
    verdicts = {"a": "impossible", "b": "likely", "c": "likely"}
    fin = run("dfs", {"proposals": 3}, policy(verdicts=verdicts))[3].events[-1].payload
    assert fin["metrics"]["false_prunes"] == 1
    assert (fin["metrics"]["false_prunes_capacity"], fin["metrics"]["false_prunes_threshold"]) == (0, 1)


def test_truth_counts_splits_by_the_capacity_set():
    t = Tree()
    for nid, truth in ((1, True), (2, True), (3, False)):
        t.nodes[nid] = Node(nid, None, 1, state="pruned", truth=truth, evaluator="value_prompt",
                            value=float(nid))
    out = truth_counts(t, {1, 2, 3}, capacity={2, 3})
    assert (out["false_prunes"], out["false_prunes_threshold"], out["false_prunes_capacity"]) == \
        (2, 1, 1)


# -- AUC of the value against solvability ---------------------------------------------------------
def test_auc_by_hand():
    # solvable: 3, 2; unsolvable: 1, 2 -> pairs (3>1, 3>2, 2>1, 2=2) = 3.5 of 4
    assert auc_of([[1.0, 0, 1], [2.0, 1, 1], [3.0, 1, 0]]) == pytest.approx(0.875)
    assert auc_of([[1.0, 1, 0], [5.0, 0, 2]]) == 0.0          # ranks backwards
    assert auc_of([[1.0, 2, 3]]) == 0.5                       # one value for all: chance
    assert auc_of([[1.0, 2, 0]]) is None                      # one class: undefined
    assert auc_of([]) is None


def test_value_truth_leaves_out_the_verifier_and_unknown_truth():
    nodes = [Node(1, 0, 1, value=3.0, truth=True, evaluator="value_prompt"),
             Node(2, 0, 1, value=3.0, truth=False, evaluator="value_prompt"),
             Node(3, 0, 2, value=1.0, truth=True, evaluator="rollout",
                  score_details={"source": "verifier"}),
             Node(4, 0, 1, value=0.5, truth=None, evaluator="value_prompt")]
    assert value_truth(nodes) == [[3.0, 1, 1]]
    assert merge_value_truth([[[3.0, 1, 1]], None, [[3.0, 0, 2], [9.0, 1, 0]]]) == \
        [[3.0, 1, 3], [9.0, 1, 0]]


@pytest.mark.parametrize("verdicts,auc", [
    ({"a": "sure", "b": "likely", "c": "impossible"}, 1.0),     # the solvable one ranks first
    ({"a": "impossible", "b": "sure", "c": "likely"}, 0.0),     # it ranks last
    ({"a": "likely", "b": "likely", "c": "likely"}, 0.5),       # no information
])
def test_run_reports_the_evaluators_auc(verdicts, auc):
    fin = run("beam", {"beam_width": 3, "proposals": 3},
              policy(verdicts=verdicts), Letters(target="ab"))[3].events[-1].payload
    # depth 1: a (solvable) vs b, c (hopeless); depth 2 nodes are terminal (verified, unscored)
    assert fin["metrics"]["auc"] == auc
    assert sum(p for _, p, _ in fin["metrics"]["value_truth"]) == 1
    assert sum(q for _, _, q in fin["metrics"]["value_truth"]) == 2


# -- the run summary (cli.py run / show) repeats them ---------------------------------------------
def test_cli_summary_carries_chains_truth_counts_and_protocol(store):
    import cli
    from reasoning.models.scripted import ScriptedModel
    from runner import RunSpec, execute
    from tests.helpers import pick_by_seed
    rid, _ = execute(RunSpec(task="game24", problem="4 5 6 10", strategy="best_of_n",
                             params={"n": 4}), store, model=ScriptedModel(pick_by_seed))
    out = cli.summary(store, rid)
    fin = [e for e in store.events(rid) if e.type == "run_finished"][0].payload
    assert out["chains"] == 4 and out["chains_correct"] == fin["metrics"]["chains_correct"]
    assert out["protocol"] == "constrained"
    rid, _ = execute(RunSpec(task="game24", problem="4 5 6 10", strategy="beam",
                             params={"beam_width": 1, "proposals": 2}), store,
                     model=ScriptedModel(lambda r: r.choices[0] if r.choices[0][0].isdigit()
                                         else "likely"))
    out = cli.summary(store, rid)
    fin = [e for e in store.events(rid) if e.type == "run_finished"][0].payload
    assert {"false_prunes", "false_prunes_threshold", "false_prunes_capacity"} <= set(out)
    assert out.get("auc") == fin["metrics"].get("auc")      # undefined (one class only) is left out
    assert out["false_prunes_capacity"] + out["false_prunes_threshold"] == out["false_prunes"]


def test_a_failed_prompt_count_is_not_remembered_as_zero():
    """A count that failed (server busy, timed out, no counter) must not stick: under load the
    embedded server's counts timed out and every later call of that prompt then read 0."""
    from benchmarks.fault_server import FaultServer
    from reasoning.models.base import GenRequest
    from reasoning.models.openai_client import OpenAIModel
    with FaultServer(count_tokens=False) as s:
        model = OpenAIModel(s.url, "ok", capabilities={"token_count": True}, timeout=5)
        assert model.generate(GenRequest(prompt="four five six ten", max_tokens=20)).prompt_tokens == 0
        s.count_tokens = True                              # the counter answers now
        assert model.generate(GenRequest(prompt="four five six ten", max_tokens=20)).prompt_tokens == 4


def test_capacity_prunes_are_read_back_from_a_stored_log():
    """The prune split comes from the events (``kind``), so a replayed or ingested run reports
    the same false prunes as the process that made it."""
    from reasoning import events as ev
    from reasoning.evaluator_accuracy import truth_counts
    from reasoning.tree import fold
    from tests.helpers import EventLog
    log = EventLog()
    log.add(ev.RUN_STARTED, task="game24", problem="4 5 6 10", strategy="beam")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    for nid, kind in [(1, "capacity"), (2, "threshold")]:
        log.add(ev.NODE_CREATED, nid, parent_id=0, depth=1)
        log.add(ev.NODE_SCORED, nid, value=1.0, evaluator="value_prompt", truth=True)
        log.add(ev.NODE_PRUNED, nid, reason="cut", kind=kind)
    counts = truth_counts(fold(log.events), set())
    assert counts["false_prunes_capacity"] == 1 and counts["false_prunes_threshold"] == 1
