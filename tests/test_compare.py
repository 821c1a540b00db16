"""Compare: metrics and divergence on hand-built event logs whose answers are known."""
import pytest

from reasoning import events as ev
from reasoning.compare import compare, divergence, locked_seqs, metrics, path_steps, seq_at_time
from reasoning.tree import fold
from storage import reopen
from tests.helpers import EventLog, new_run

S1 = "8 / 3 = 8/3 (left: 3 8 8/3)"
S2 = "3 - 8/3 = 1/3 (left: 1/3 8)"
S3 = "8 / 1/3 = 24 (left: 24)"
G2 = "3 + 8 = 11 (left: 8/3 11)"          # the shortcut's wrong turn at step 2
G3 = "11 - 8/3 = 25/3 (left: 25/3)"


def greedy_log(steps=(S1, G2, G3), invalid_at: int | None = None, run_id=1):
    """A greedy chain: root 0, then one node per step; the last is failed (not 24)."""
    log = EventLog(run_id)
    log.add(ev.RUN_STARTED, strategy="greedy", problem="3 3 8 8")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="3 3 8 8")
    for i, step in enumerate(steps, start=1):
        log.add(ev.NODE_CREATED, i, parent_id=i - 1, depth=i)
        if invalid_at == i:
            log.add(ev.NODE_COMPLETED, i, text=step, step=None, completion_tokens=6, prompt_tokens=200)
            log.add(ev.NODE_PRUNED, i, reason="invalid step: wrong arithmetic")
            break
        log.add(ev.NODE_COMPLETED, i, text=step, step=step, completion_tokens=10, prompt_tokens=200)
        log.add(ev.NODE_SCORED, i, value=1.0 if i == 2 else 0.5, evaluator="value")
    else:
        log.add(ev.NODE_FAILED, len(steps), reason="25/3, not 24", answer="(3 + 8) - 8/3 = 25/3")
    log.add(ev.RUN_FINISHED, t=2.5, outcome="failed", answer=None, answer_node=None, nodes=4,
            tokens=30, model_calls=3, seconds=2.5)
    return log.events


def mcts_log(run_id=2, solve=True):
    """Root 0 → 1 (S1) → 2 (G2, a dead branch) and 3 (S2) → rollout 4 holding S3 (solved)."""
    log = EventLog(run_id)
    log.add(ev.RUN_STARTED, strategy="mcts", problem="3 3 8 8")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="3 3 8 8")
    log.add(ev.NODE_CREATED, 1, parent_id=0, depth=1)
    log.add(ev.NODE_COMPLETED, 1, text=S1, step=S1, completion_tokens=10, prompt_tokens=200)
    log.add(ev.NODE_CREATED, 2, parent_id=1, depth=2)
    log.add(ev.NODE_COMPLETED, 2, text=G2, step=G2, completion_tokens=10, prompt_tokens=200)
    log.add(ev.NODE_CREATED, 3, parent_id=1, depth=2)
    log.add(ev.NODE_COMPLETED, 3, text=S2, step=S2, completion_tokens=10, prompt_tokens=200)
    log.add(ev.NODE_CREATED, 4, parent_id=3, depth=3, role="rollout")
    log.add(ev.NODE_COMPLETED, 4, t=4.0, text=S3 if solve else G3, step=None, completion_tokens=8,
            prompt_tokens=210)
    if solve:
        log.add(ev.NODE_SOLVED, 4, t=4.25, reason="ok", answer="8 / (3 - 8 / 3) = 24")
    else:
        log.add(ev.NODE_FAILED, 4, t=4.25, reason="not 24")
    log.add(ev.MCTS_BACKPROP, 4, t=4.3, updates=[[0, 3, 1.0], [1, 3, 1.0], [3, 2, 1.0], [4, 1, 1.0]])
    log.add(ev.RUN_FINISHED, t=5.0, outcome="solved" if solve else "failed",
            answer="8 / (3 - 8 / 3) = 24" if solve else None, answer_node=4 if solve else None,
            nodes=5, tokens=38, model_calls=5, seconds=5.0)
    return log.events


def test_metrics_of_a_solved_exploration():
    m = metrics(fold(mcts_log()), price_in=1.0, price_out=2.0)
    assert (m.run_id, m.strategy, m.outcome) == (2, "mcts", "solved")
    assert m.answer == "8 / (3 - 8 / 3) = 24"
    assert m.nodes == 5 and m.model_calls == 5
    assert m.prompt_tokens == 810 and m.completion_tokens == 38
    assert m.seconds == 5.0
    assert m.solution_depth == 3          # S1, S2 and the rollout's one step
    assert m.first_correct_s == 4.0       # when the solved node completed
    assert m.cost == pytest.approx((810 * 1.0 + 38 * 2.0) / 1e6)


def test_metrics_of_a_failed_shortcut():
    m = metrics(fold(greedy_log()))
    assert m.outcome == "failed" and m.answer is None
    assert m.nodes == 4 and m.completion_tokens == 30 and m.prompt_tokens == 600
    assert m.solution_depth is None and m.first_correct_s is None and m.cost is None


def test_metrics_cost_uses_the_prices_the_run_was_started_with():
    events = mcts_log()
    first = events[0]
    events[0] = ev.Event(first.run_id, 1, first.t, first.type, None,
                         {**first.payload, "price_in": 1.0, "price_out": 2.0})
    tree = fold(events)
    expected = (810 * 1.0 + 38 * 2.0) / 1e6
    assert metrics(tree).cost == pytest.approx(expected)          # what Compare shows
    assert metrics(tree, 0.0, 0.0).cost == 0.0                     # explicit prices win
    from reasoning.run_facts import cost
    assert cost(tree) == pytest.approx(expected)                   # what the status line shows


def test_model_calls_counted_from_nodes_when_the_log_has_no_total():
    events = mcts_log()
    last = events[-1]
    payload = {k: v for k, v in last.payload.items() if k != "model_calls"}
    events[-1] = ev.Event(last.run_id, last.seq, last.t, last.type, None, payload)
    assert metrics(fold(events)).model_calls == 4   # 3 thoughts + a rollout of one line


def test_divergence_at_the_first_different_step_with_both_scores():
    d = divergence(fold(greedy_log()), fold(mcts_log()))
    assert d.found and d.step == 2 and d.shared_steps == 1
    assert (d.shortcut_node, d.explore_node) == (2, 3)
    assert (d.shortcut_step, d.explore_step) == (G2, S2)
    assert d.shortcut_score == {"value": 1.0, "evaluator": "value"}
    assert d.explore_score["visits"] == 2 and d.explore_score["mean_value"] == 0.5
    assert "different step" in d.reason


def test_divergence_at_an_invalid_shortcut_step():
    d = divergence(fold(greedy_log(steps=(S1, "3 + 3 = 7"), invalid_at=2)), fold(mcts_log()))
    assert d.found and d.step == 2 and d.shortcut_node == 2 and d.explore_node == 3
    assert d.shortcut_step == "3 + 3 = 7" and "invalid" in d.reason


def test_divergence_inside_a_rollout_node():
    d = divergence(fold(greedy_log(steps=(S1, S2, "8 - 1/3 = 23/3 (left: 23/3)"))), fold(mcts_log()))
    assert d.found and d.step == 3 and d.explore_node == 4 and d.explore_step == S3


def test_no_divergence_when_the_shortcut_follows_the_solved_path():
    d = divergence(fold(greedy_log(steps=(S1, S2, S3))), fold(mcts_log()))
    assert not d.found and d.shared_steps == 3 and "all the way" in d.reason


def test_no_divergence_without_a_solved_path():
    d = divergence(fold(greedy_log()), fold(mcts_log(solve=False)))
    assert not d.found and d.step is None and "no solved path" in d.reason


def test_compare_takes_the_greedy_run_as_the_shortcut_in_any_order():
    g, m = fold(greedy_log()), fold(mcts_log())
    out = compare(m, g)
    assert [r["run_id"] for r in out["runs"]] == [2, 1]
    assert out["shortcut_run"] == 1 and out["explore_run"] == 2
    assert out["divergence"]["step"] == 2 and out["divergence"]["shortcut_node"] == 2


def test_path_steps_expand_rollouts_line_by_line():
    tree = fold(mcts_log())
    steps = path_steps(tree, tree.path_to(4))
    assert [s.text for s in steps] == [S1, S2, S3] and [s.node_id for s in steps] == [1, 3, 4]


def test_locked_replay_positions_by_step_and_by_time():
    a, b = greedy_log(), mcts_log()
    assert locked_seqs(a, b, 5, "step") == (5, 5)
    assert locked_seqs(a, b, 10_000, "step") == (len(a), len(b))
    # by time: EventLog stamps t = seq / 10 unless given
    assert seq_at_time(b, 0.35) == 3 and seq_at_time(b, 0.0) == 0
    # at 4.1 s the shortcut had finished (2.5 s); the exploration had completed the rollout
    # node (4.0 s) but not yet judged it (4.25 s)
    assert locked_seqs(a, b, 4.1, "time") == (len(a), 11)
    assert b[10].type == ev.NODE_COMPLETED and b[11].type == ev.NODE_SOLVED
    with pytest.raises(ValueError):
        locked_seqs(a, b, 1, "nodes")


# -- the Compare page under AppTest -----------------------------------------------------------------
def _store_log(store, events, strategy):
    from dataclasses import replace
    run_id = new_run(store, task="game24", problem="3 3 8 8", problem_id="3 3 8 8",
                              strategy=strategy, params={}, model={"kind": "scripted"}, budget={},
                              seed=0)
    reopen(store, run_id)([replace(e, run_id=run_id) for e in events])
    return run_id


def _divergence_marks(at):
    import json
    out = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out.append([t["customdata"][0][0] for t in spec["data"] if t.get("name") == "divergence"])
    return out


def test_compare_page_shows_both_trees_metrics_and_the_divergence(tmp_path, monkeypatch):
    from storage import open_store
    from tests.test_experiments import app_with_all_pages
    at = app_with_all_pages(tmp_path, monkeypatch)
    store = open_store(str(tmp_path / "pages.db"))
    a = _store_log(store, greedy_log(), "greedy")
    b = _store_log(store, mcts_log(), "mcts")
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == (a, b)
    assert _divergence_marks(at) == [[2], [3]]      # starred in both trees
    import json
    layouts = [json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart")]
    assert layouts[0]["xaxis"]["range"] == layouts[1]["xaxis"]["range"]   # one scale for both
    assert layouts[0]["yaxis"]["range"] == layouts[1]["yaxis"]["range"]
    assert layouts[0]["height"] == layouts[1]["height"]
    metrics_df = at.dataframe[0].value
    assert list(metrics_df.iloc[:, 0])[:3] == ["failed", "—", "4"]
    assert any("different step" in t.value for t in at.text)
    div_df = at.dataframe[1].value
    assert list(div_df["step"]) == [G2, S2]
    # replay locked by step: at event 4 neither divergence node exists yet
    at.slider(key=f"cmp_step_{a}_{b}").set_value(4).run()
    assert not at.exception and _divergence_marks(at) == [[], []]
    # locked by time, then unlocked: one slider per run
    at.radio(key="cmp_by").set_value("elapsed time").run()
    assert not at.exception and at.slider(key=f"cmp_time_{a}_{b}").max == 5.0
    at.toggle(key="cmp_lock").set_value(False).run()
    assert not at.exception
    assert at.slider(key=f"cmp_sa_{a}_{b}").max == len(greedy_log())
    assert at.slider(key=f"cmp_sb_{a}_{b}").max == len(mcts_log())


def test_compare_page_with_too_few_runs_says_so(tmp_path, monkeypatch):
    from tests.test_experiments import app_with_all_pages
    at = app_with_all_pages(tmp_path, monkeypatch)
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception and any("two stored runs" in i.value for i in at.info)


def test_steps_reaching_the_same_state_are_not_a_divergence():
    """'3 * 1 = 3' and '3 / 1 = 3' differ in text but leave the same numbers."""
    log = EventLog(1)
    log.add(ev.RUN_STARTED, strategy="greedy")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="1 1 3 8")
    for i, (step, label) in enumerate([("3 * 1 = 3 (left: 1 3 8)", "left: 1 3 8"),
                                       ("1 + 3 = 4 (left: 4 8)", "left: 4 8")], start=1):
        log.add(ev.NODE_CREATED, i, parent_id=i - 1, depth=i)
        log.add(ev.NODE_COMPLETED, i, text=step, step=step, label=label)
    log.add(ev.RUN_FINISHED, outcome="failed")
    ref = EventLog(2)
    ref.add(ev.RUN_STARTED, strategy="mcts")
    ref.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    ref.add(ev.NODE_COMPLETED, 0, text="1 1 3 8")
    ref.add(ev.NODE_CREATED, 1, parent_id=0, depth=1)
    ref.add(ev.NODE_COMPLETED, 1, text="x", step="3 / 1 = 3 (left: 1 3 8)", label="left: 1 3 8")
    ref.add(ev.NODE_CREATED, 2, parent_id=1, depth=2, role="rollout")
    ref.add(ev.NODE_COMPLETED, 2, text="1 + 1 = 2 (left: 2 3 8)\n2 * 8 = 16 (left: 3 16)\n"
            "16 + 3 = 19 (left: 19)", label="left: 19")
    ref.add(ev.NODE_SOLVED, 2, answer="pretend")
    ref.add(ev.RUN_FINISHED, outcome="solved", answer_node=2)
    d = divergence(fold(log.events), fold(ref.events))
    assert d.found and d.step == 2 and d.shared_steps == 1
    assert (d.shortcut_node, d.explore_node) == (2, 2)
    assert d.explore_step == "1 + 1 = 2 (left: 2 3 8)"


def test_side_by_side_replay_keeps_every_node_at_its_final_place():
    from components.compare_charts import from_zero, side_by_side
    from components.tree_figure import tidy_layout
    from reasoning.run_view import as_view
    events_a, events_b = greedy_log(), mcts_log()
    full_a, full_b = fold(events_a), fold(events_b)
    # the complete runs' places are the run views' (the live view's final frame)
    view_a, view_b = as_view(1, events_a), as_view(2, events_b)
    final_b = from_zero(view_b.positions())   # (a shift of the whole drawing)
    seen = {}
    for cut in range(4, len(events_b) + 1):
        part_b = fold(events_b[:cut])
        _, fig_b = side_by_side(full_a, part_b, view_a.positions(), final_b)
        for t in fig_b.data:
            if t.customdata is None or t.name == "divergence":
                continue
            for (nid,), x, y in zip(t.customdata, t.x, t.y, strict=True):
                assert (x, y) == final_b[nid]
                seen[nid] = True
    assert len(seen) == len(full_b.nodes) > 3
    # the tidy layout of a partial tree would have put some node elsewhere
    assert any(tidy_layout(fold(events_b[:cut]))[n] != final_b[n]
               for cut in range(4, len(events_b)) for n in fold(events_b[:cut]).nodes)


def test_compare_page_shows_each_runs_cost_at_its_own_prices(tmp_path, monkeypatch):
    """The metrics table and the status line above it give one cost (they used to disagree:
    dollars above, "—" in the table)."""
    from components.status import run_cost, status_text
    from reasoning.models.config import ModelConfig
    from reasoning.models.scripted import ScriptedModel
    from runner.run import RunSpec, execute
    from runner.views import final_tree
    from storage import open_store
    from tests.helpers import pick_first
    from tests.test_experiments import app_with_all_pages
    at = app_with_all_pages(tmp_path, monkeypatch)
    store = open_store(str(tmp_path / "pages.db"))
    prices = [ModelConfig(), ModelConfig(price_in=2.0, price_out=8.0)]
    ids = [execute(RunSpec(task="game24", problem="4 5 6 10", strategy=s, model=m,
                           params={"n": 3} if s == "best_of_n" else {}), store,
                   model=ScriptedModel(pick_first))[0]
           for s, m in zip(("greedy", "best_of_n"), prices, strict=True)]
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    costs = list(table.loc["cost ($)"])
    tree_b = final_tree(store, ids[1])
    want = run_cost(tree_b)
    assert costs[0] == "—" and want and costs[1] == f"{want:.4g}"
    assert f"cost ${want:.4f}" in status_text(tree_b, running=False)
    assert any(f"cost ${want:.4f}" in t.value for t in at.text)   # the status line, same figure


def exploratory_log(strategy: str, run_id: int, solve: bool = True):
    """``mcts_log`` under another strategy's name (neither run of a pair is greedy)."""
    events = mcts_log(run_id, solve)
    first = events[0]
    events[0] = type(first)(first.run_id, first.seq, first.t, first.type, None,
                            {**first.payload, "strategy": strategy})
    return events


def test_two_exploratory_runs_are_run_a_and_run_b_in_every_sentence():
    from components.compare_tables import divergence_table, roles_caption
    greedy_b = greedy_log(run_id=2)
    for a, b in ((fold(exploratory_log("beam", 1)), fold(exploratory_log("mcts", 2, solve=False))),
                 (fold(greedy_log()), fold(greedy_b))):
        out = compare(a, b)
        assert not out["named_by_role"] and out["names"] == ["run A", "run B"] or \
            out["names"] == ["run B", "run A"]
        words = " ".join([out["divergence"]["reason"], roles_caption(out, 1, 2),
                          *divergence_table(out)["run"]]).lower()
        assert "shortcut" not in words and "explorat" not in words, words
        assert "run a" in words and "run b" in words
    # only run A solved: run B's chain is held against run A's solved path
    out = compare(fold(exploratory_log("beam", 1)), fold(exploratory_log("mcts", 2, solve=False)))
    assert (out["shortcut_run"], out["explore_run"]) == (2, 1)
    assert out["divergence"]["reason"].startswith("run B ") or "run B" in out["divergence"]["reason"]
    # neither solved
    none = compare(fold(exploratory_log("beam", 1, solve=False)), fold(exploratory_log("dfs", 2, False)))
    assert none["divergence"]["reason"] == "neither run has a solved path to compare with"
    # exactly one greedy: the shortcut and the exploration, whichever side it is on
    named = compare(fold(mcts_log(run_id=1)), fold(greedy_log(run_id=2)))
    assert named["named_by_role"] and named["shortcut_run"] == 2
    assert "the shortcut chose a different step" in named["divergence"]["reason"]


def test_a_pair_in_the_url_opens_on_compare_even_after_another_pair(tmp_path, monkeypatch):
    from storage import open_store
    from tests.test_experiments import app_with_all_pages
    at = app_with_all_pages(tmp_path, monkeypatch)
    store = open_store(str(tmp_path / "pages.db"))
    a = _store_log(store, exploratory_log("beam", 1), "beam")
    b = _store_log(store, exploratory_log("mcts", 2), "mcts")
    c = _store_log(store, greedy_log(), "greedy")
    at.run()
    at.switch_page("pages/compare.py").run()
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == (b, c)
    at.query_params["a"], at.query_params["b"] = str(a), str(b)   # a link to another pair
    at.run()
    assert not at.exception, at.exception
    assert (at.selectbox(key="cmp_a").value, at.selectbox(key="cmp_b").value) == (a, b)
    texts = " ".join(t.value for t in at.text) + " ".join(c.value for c in at.caption)
    assert "shortcut" not in texts.lower() and "run A" in texts
    at.query_params["a"] = "999"
    at.run()
    assert any("999" in w.value and "not in this database" in w.value for w in at.warning)


def test_a_narrow_tree_beside_a_wide_one_keeps_its_own_x_range():
    """One x scale for both while it leaves room per column of nodes; a 6-chain tree beside a
    120-column one would be squeezed into a line, so each then keeps its own x range (the depth
    and height stay shared)."""
    from components.compare_charts import MIN_SHARED_PX, side_by_side
    small = fold(greedy_log())
    narrow = {n: (float(i % 6), -float(i // 6)) for i, n in enumerate(small.nodes)}
    wide = {n: (float(i * 40), -float(i)) for i, n in enumerate(small.nodes)}       # 120+ wide
    fa, fb = side_by_side(small, small, narrow, wide)
    ra, rb = fa.layout.xaxis.range, fb.layout.xaxis.range
    assert ra != rb and ra[1] - ra[0] < 10 and rb[1] - rb[0] > 100
    assert fa.layout.yaxis.range == fb.layout.yaxis.range and fa.layout.height == fb.layout.height
    same = {n: (x / 20, y) for n, (x, y) in wide.items()}     # two columns a node: room to share
    fa, fb = side_by_side(small, small, narrow, same)
    assert fa.layout.xaxis.range == fb.layout.xaxis.range
    assert MIN_SHARED_PX > 0
