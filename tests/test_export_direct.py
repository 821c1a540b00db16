"""Step values estimated as Math-Shepherd does (completions of the step itself) beside the subtree
counts, and preference pairs that never oppose two ways to reach the same state."""
from __future__ import annotations

import pytest

from reasoning import events as ev
from reasoning.export import export_trees, pairs_from_tree, values_from_tree
from reasoning.export.common import direct_counts
from reasoning.tree import fold
from runner.export import row_as_text
from tests.helpers import EventLog
from tests.test_export import ANSWER, S1, S2, S3, S5, solved_log, step


def test_values_give_direct_and_subtree_estimates_side_by_side():
    rows, _ = values_from_tree(fold(solved_log()))
    got = {r["node"]: ((r["n"], r["correct"]), (r["direct_n"], r["direct_correct"]))
           for r in rows}
    # node 1: three outcomes below it (5 solved, 6 failed, its rollout 8 solved), but only the
    # rollout 8 was drawn from node 1 itself; node 3 has outcomes below it yet no completion of
    # its own; terminal steps are their own single completion
    assert got == {1: ((3, 2), (1, 1)), 2: ((1, 0), (1, 0)), 3: ((2, 1), (0, 0)),
                   5: ((1, 1), (1, 1)), 6: ((1, 0), (1, 0))}
    by = {r["node"]: r for r in rows}
    assert (by[1]["direct_soft"], by[1]["direct_hard"]) == (1.0, 1)
    assert by[1]["soft"] == pytest.approx(2 / 3)
    assert by[3]["direct_soft"] is None and by[3]["direct_hard"] is None
    assert "direct: no completion of this step yet" in row_as_text("values", by[3])
    assert "direct: 1 of 1 completions" in row_as_text("values", by[1])


def test_direct_counts_ignore_outcomes_below_later_steps():
    counts = direct_counts(fold(solved_log()))
    assert counts[1] == (1, 1) and counts[3] == (0, 0)


def same_state_log():
    """root 0 ─ 1 S1 ─ 3 S3 ─ 5 SOLVED
                 ├ 2 "8 + 4 = 12": the same numbers left as S1 (backtracked)
                 └ 4 S2 (pruned): another state"""
    log = EventLog(7)
    log.add(ev.RUN_STARTED, task="game24", problem="4 4 6 8", problem_id="4 4 6 8", strategy="dfs")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="4 4 6 8")
    step(log, 1, 0, 1, S1)
    step(log, 2, 0, 1, "8 + 4 = 12 (left: 4 6 12)")
    log.add(ev.NODE_BACKTRACKED, 2, reason="children exhausted")
    step(log, 4, 0, 1, S2)
    log.add(ev.NODE_PRUNED, 4, reason="below threshold")
    step(log, 3, 1, 2, S3)
    step(log, 5, 3, 3, S5)
    log.add(ev.NODE_SOLVED, 5, reason=ANSWER, answer=ANSWER)
    log.add(ev.RUN_FINISHED, outcome="solved", answer=ANSWER, answer_node=5)
    return log.events


def test_pairs_drop_a_rejected_sibling_that_reaches_the_same_state():
    rows, why = pairs_from_tree(fold(same_state_log()))
    assert [(r["chosen_node"], r["rejected_node"]) for r in rows] == [(1, 4)]
    res = export_trees("pairs", [fold(same_state_log())])
    assert res.counts()["dropped"] == {"same_state": 1} and res.counts()["rows"] == 1


def test_pairs_carry_each_sides_exact_solvability():
    rows, _ = pairs_from_tree(fold(solved_log()))
    by = {r["rejected_node"]: r for r in rows}
    # 4 4 6 8 -> S1 leaves 4 6 12 (solvable); S2 leaves 6 8 16 (not)
    assert (by[2]["chosen_solvable"], by[2]["rejected_solvable"]) == (True, False)
    assert by[4]["rejected_solvable"] is False            # S4 leaves 12 24
    assert by[7]["rejected_solvable"] is None             # an invalid step reaches no state
    assert (by[6]["chosen_solvable"], by[6]["rejected_solvable"]) == (True, False)  # 24 vs 14


def test_solvability_is_none_without_a_solver():
    log = EventLog(8)
    log.add(ev.RUN_STARTED, task="free", problem="Why?", problem_id="Why?", strategy="dfs")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="Why?")
    step(log, 1, 0, 1, "Because.")
    step(log, 2, 0, 1, "No idea.")
    log.add(ev.NODE_PRUNED, 2, reason="below threshold")
    log.add(ev.NODE_SOLVED, 1, reason="marked", answer="Because.")
    log.add(ev.RUN_FINISHED, outcome="solved", answer="Because.", answer_node=1)
    rows, _ = pairs_from_tree(fold(log.events))
    assert rows and all(r["chosen_solvable"] is None and r["rejected_solvable"] is None
                        for r in rows)


def test_same_numbers_are_the_same_game24_state():
    from reasoning.tasks import Game24
    g = Game24()
    p = g.parse_problem("4 4 6 8")
    a = g.apply_step(p, g.initial_state(p), "4 + 8 = 12")[1]
    b = g.apply_step(p, g.initial_state(p), "8 + 4 = 12")[1]
    assert a != b and g.state_key(a) == g.state_key(b)
