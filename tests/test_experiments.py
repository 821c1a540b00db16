"""Experiments on a scripted model, on SQLite and PostgreSQL: cells, resume, results, the curve."""
import json
import threading

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect

from reasoning.models.scripted import ScriptedModel
from runner import experiments as exp
from storage.db import make_engine
from storage.migrations import MIGRATIONS, migrate
from tests.helpers import pick_by_seed, pick_first


@pytest.fixture
def store(any_store):
    """The tests below that take a store run on SQLite and on PostgreSQL."""
    return any_store


def counting_factory(policy=pick_by_seed):
    made = []

    def factory():
        m = ScriptedModel(policy)
        made.append(m)
        return m
    return factory, made


def small_config(**kw):
    base = dict(problems="901-902", strategies="greedy,mcts:simulations=3", budgets="2000")
    base.update(kw)
    return exp.ExperimentConfig(**base)


# -- parsing and cells ------------------------------------------------------------------------
def test_parse_ids_and_strategies():
    assert exp.parse_ids("901-903") == ["901", "902", "903"]
    assert exp.parse_ids("1, 4,7-8,4") == ["1", "4", "7", "8"]
    with pytest.raises(ValueError, match="problems"):
        exp.parse_ids("9-3")
    with pytest.raises(ValueError, match="problems"):
        exp.parse_ids("a-b")
    assert exp.parse_strategies("greedy,mcts:width=3,simulations=20") == \
        ["greedy", "mcts:simulations=20,width=3"]


def test_config_validation_names_the_field(store):
    with pytest.raises(ValueError, match="budget_kind"):
        small_config(budget_kind="dollars")
    with pytest.raises(ValueError, match="budgets"):
        small_config(budgets="0")
    with pytest.raises(ValueError, match="concurrency"):
        small_config(concurrency=0)
    with pytest.raises(ValueError, match="strategy"):
        exp.create_experiment(small_config(strategies="greedy,telepathy"), store)
    with pytest.raises(ValueError, match="simulations"):
        exp.create_experiment(small_config(strategies="mcts:simulations=0"), store)
    with pytest.raises(ValueError, match="problems: problem 99999"):
        exp.create_experiment(small_config(problems="99999"), store)
    assert store.experiments.list() == []   # nothing half-made


def test_cells_are_the_full_product_with_distinct_keys():
    cfg = small_config(budgets="100,200", seeds="0,1")
    cells = exp.cells(cfg)
    assert len(cells) == 2 * 2 * 2 * 2 and len({c.key for c in cells}) == len(cells)
    assert cells[0].problem_id == "901" and cells[-1].problem_id == "902"
    spec = exp.cell_spec(cfg, cells[3], 7)
    assert spec.strategy == "greedy" and spec.budget["max_tokens"] == 200 and spec.seed == 1
    assert spec.experiment_id == 7 and spec.cell_key == cells[3].key
    ncfg = small_config(budget_kind="nodes", budgets="30")
    nodes = exp.cell_spec(ncfg, exp.cells(ncfg)[0], None)
    assert nodes.budget["max_nodes"] == 30 and nodes.budget["max_tokens"] > 10**6


def test_task_file_problems_are_positions(tmp_path, store):
    f = tmp_path / "p.jsonl"
    f.write_text('{"question": "2 + 3?", "answer": 5, "checker": "numeric", "id": "a"}\n'
                 '{"question": "2 * 3?", "answer": 6, "checker": "numeric", "id": "b"}\n\n'
                 '{"question": "2 - 3?", "answer": -1, "checker": "numeric"}\n')
    cfg = small_config(problems="0-2", task_file=str(f), strategies="greedy")
    cells = exp.cells(cfg)
    assert [(c.problem, c.problem_id) for c in cells] == [("a", "0"), ("b", "1"), ("3", "2")]
    spec = exp.cell_spec(cfg, cells[1], None)
    task, problem, _, _ = spec.prepare()
    assert spec.task_file == str(f) and problem.text == "2 * 3?" and task.name == "jsonl"
    exp.create_experiment(cfg, store)
    with pytest.raises(ValueError, match="past the end"):
        exp.cells(small_config(problems="0-5", task_file=str(f)))
    (tmp_path / "bad.jsonl").write_text('{"question": "x", "answer": 1, "checker": "numeric"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2"):
        exp.cells(small_config(problems="0", task_file=str(tmp_path / "bad.jsonl")))


# -- running, stopping, resuming -----------------------------------------------------------------
def test_resume_runs_exactly_the_unfinished_cells(store):
    eid = exp.create_experiment(small_config(), store)
    all_keys = [c.key for c in exp.cells(exp.load_config(store, eid))]
    cancel = threading.Event()
    seen = []

    def stop_during_third_cell(p):
        seen.append(p)
        if p.done == 2 and p.current:   # the third cell has started: stop now
            cancel.set()

    factory, made = counting_factory()
    first = exp.run_experiment(eid, store, cancel=cancel, progress=stop_during_third_cell,
                               model_factory=factory)
    assert first.status == "stopped" and first.done == 2 and first.total == 4
    assert store.experiments.get(eid)["status"] == "stopped"
    runs = store.experiments.cell_runs(eid)
    assert [r["cell_key"] for r in runs] == all_keys[:3]
    assert runs[2]["outcome"] == "cancelled"          # stopped mid-cell: to be run again
    assert exp.finished_keys(store, eid) == set(all_keys[:2])
    assert exp.db_progress(store, eid).done == 2

    factory2, made2 = counting_factory()
    second = exp.run_experiment(eid, store, model_factory=factory2)
    assert second.status == "finished" and second.done == 4
    new_runs = store.experiments.cell_runs(eid)[3:]
    assert [r["cell_key"] for r in new_runs] == all_keys[2:]   # the cancelled one and the last
    assert len(made2) == 2
    assert exp.finished_keys(store, eid) == set(all_keys)
    # a third resume has nothing left to do
    factory3, made3 = counting_factory()
    assert exp.run_experiment(eid, store, model_factory=factory3).done == 4 and made3 == []
    assert store.experiments.get(eid)["status"] == "finished"


def test_progress_counts_up_to_total_with_an_eta(store):
    eid = exp.create_experiment(small_config(), store)
    seen = []
    factory, _ = counting_factory()
    exp.run_experiment(eid, store, progress=seen.append, model_factory=factory)
    dones = [p.done for p in seen]
    assert dones == sorted(dones) and dones[-1] == 4 and seen[-1].status == "finished"
    assert any(p.current and "problem 901" in p.current[0] for p in seen)
    assert all(p.eta_s is not None for p in seen if 0 < p.done < 4)


def test_concurrency_runs_every_cell_once(store):
    eid = exp.create_experiment(small_config(concurrency=3, seeds="0,1"), store)
    factory, made = counting_factory()
    done = exp.run_experiment(eid, store, model_factory=factory)
    runs = store.experiments.cell_runs(eid)
    assert done.done == 8 and len(runs) == 8 and len(made) == 8
    assert sorted(r["cell_key"] for r in runs) == sorted(c.key for c in exp.cells(small_config(seeds="0,1")))


def test_model_errors_leave_the_cell_for_resume(store):
    from reasoning.models.base import ModelConnectError
    eid = exp.create_experiment(small_config(strategies="greedy"), store)
    broken = exp.run_experiment(eid, store, model_factory=lambda: ScriptedModel(
        lambda req: (_ for _ in ()).throw(ModelConnectError("down"))))
    assert broken.done == 0 and broken.errors == 2 and broken.status == "stopped"
    assert [r["outcome"] for r in store.experiments.cell_runs(eid)] == ["error", "error"]
    rows = exp.results(store, eid)
    assert rows[0].total == 0 and rows[0].errors == 2
    fixed = exp.run_experiment(eid, store, model_factory=lambda: ScriptedModel(pick_first))
    assert fixed.done == 2 and fixed.status == "finished"


def test_background_start_and_stop(store):
    gate = threading.Event()

    def slow(req):
        gate.wait(5)
        return pick_first(req)
    eid = exp.create_experiment(small_config(strategies="greedy"), store)
    t = exp.start_experiment(eid, store, model_factory=lambda: ScriptedModel(slow))
    assert exp.is_active(eid) and store.experiments.get(eid)["status"] == "running"
    with pytest.raises(ValueError, match="already running"):
        exp.start_experiment(eid, store)
    assert exp.stop_experiment(eid)
    gate.set()
    t.join(10)
    assert not t.is_alive() and not exp.is_active(eid)
    assert store.experiments.get(eid)["status"] == "stopped"
    assert exp.db_progress(store, eid).done < 2


# -- results -------------------------------------------------------------------------------------
def test_wilson_interval_on_known_values():
    lo, hi = exp.wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    lo, hi = exp.wilson(0, 10)
    assert lo == 0.0 and round(hi, 4) == 0.2775
    lo, hi = exp.wilson(10, 10)
    assert round(lo, 4) == 0.7225 and hi == 1.0
    lo, hi = exp.wilson(1, 4)
    assert (round(lo, 4), round(hi, 4)) == (0.0456, 0.6994)
    assert exp.wilson(0, 0) == (0.0, 1.0)


def test_results_curve_and_matrix_agree_with_the_runs(store):
    eid = exp.create_experiment(small_config(budgets="300,2000"), store)
    factory, _ = counting_factory()
    exp.run_experiment(eid, store, model_factory=factory)
    runs = {r["cell_key"]: r for r in store.experiments.cell_runs(eid)}
    rows = exp.results(store, eid)
    assert [(r.strategy, r.budget) for r in rows] == [
        ("greedy", 300), ("greedy", 2000), ("mcts:simulations=3", 300), ("mcts:simulations=3", 2000)]
    for row in rows:
        mine = [r for k, r in runs.items() if f"|s={row.strategy}|b={row.budget}|" in k]
        assert row.total == len(mine) == 2
        assert row.solved == sum(r["outcome"] == "solved" for r in mine)
        assert row.mean_tokens == pytest.approx(sum(r["tokens"] for r in mine) / 2, abs=1e-3)
        assert row.mean_seconds == pytest.approx(sum(r["seconds"] for r in mine) / 2, abs=1e-3)
        assert (row.ci_low, row.ci_high) == tuple(round(x, 4) for x in exp.wilson(row.solved, 2))
    # the curve is made of the table's figures, nothing else
    curve = exp.curve_points(rows)
    assert set(curve) == {"greedy", "mcts:simulations=3"}
    for row in rows:
        (pt,) = [p for p in curve[row.strategy] if p["budget"] == row.budget]
        assert (pt["x"], pt["y"], pt["n"]) == (row.mean_tokens, row.rate, row.total)
    for pts in curve.values():
        assert [p["x"] for p in pts] == sorted(p["x"] for p in pts)
    # the CLI's JSON line has the public fields
    summ = exp.summary(store, eid)
    assert summ["cells"] == 8 and json.loads(json.dumps(summ)) == summ
    assert {"strategy", "budget", "solved", "total", "mean_tokens", "mean_seconds"} <= set(summ["results"][0])
    # matrix: problems × strategy@budget, each cell pointing at its run
    columns, matrix = exp.matrix(store, eid)
    assert columns == ["greedy @ 300", "greedy @ 2000", "mcts:simulations=3 @ 300", "mcts:simulations=3 @ 2000"]
    assert [r["problem"] for r in matrix] == ["901", "902"]
    cell = matrix[1]["mcts:simulations=3 @ 300"]
    assert cell["run_id"] == runs["p=902|s=mcts:simulations=3|b=300|seed=0"]["id"] and cell["n"] == 1
    csv_text = exp.cells_csv(store, eid)
    assert len(csv_text.strip().splitlines()) == 1 + 8
    assert exp.results_csv(rows).splitlines()[0].startswith("strategy,budget,solved,total")


# -- storage -----------------------------------------------------------------------------------
def test_migration_003_from_the_previous_schema(db_path):
    """An old database (runs without cell_key, no experiments table) gains both, once."""
    engine = make_engine(db_path)
    md = MetaData()
    Table("runs", md, Column("id", Integer, primary_key=True), Column("created_at", Float),
          Column("task", String(64)), Column("problem", Text), Column("strategy", String(64)),
          Column("experiment_id", Integer))
    Table("events", md, Column("run_id", Integer, primary_key=True), Column("seq", Integer, primary_key=True))
    md.create_all(engine)
    from storage.schema import schema_migrations
    schema_migrations.create(engine)
    with engine.begin() as conn:
        for name, _ in MIGRATIONS[:2]:
            conn.execute(schema_migrations.insert().values(name=name, applied_at=0))
    assert "003_experiments" in migrate(engine)
    insp = inspect(engine)
    assert "cell_key" in {c["name"] for c in insp.get_columns("runs")}
    assert {"id", "created_at", "name", "config", "status", "updated_at"} <= \
        {c["name"] for c in insp.get_columns("experiments")}
    assert migrate(engine) == []


def test_experiment_rows_round_trip(store):
    eid = store.experiments.create("x", {"a": [1, 2]})
    row = store.experiments.get(eid)
    assert row["name"] == "x" and row["config"] == {"a": [1, 2]} and row["status"] == "stopped"
    store.experiments.set_status(eid, "running")
    assert store.experiments.get(eid)["status"] == "running"
    with pytest.raises(ValueError):
        store.experiments.set_status(eid, "exploded")
    # a 'running' experiment whose process is gone reads as stopped
    from sqlalchemy import update

    from storage.schema import experiments
    with store.engine.begin() as conn:
        conn.execute(update(experiments).where(experiments.c.id == eid).values(pid=2**22 + 12345))
    assert store.experiments.get(eid)["status"] == "stopped"
    assert [e["id"] for e in store.experiments.list()] == [eid]


# -- the pages under AppTest ------------------------------------------------------------------------
def app_with_all_pages(tmp_path, monkeypatch):
    """An AppTest of the real app.py, which must list the Compare and Experiments pages (a page
    removed from ``PAGES`` fails here: no patched copy stands in for it)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("THINKTREE_DB", str(tmp_path / "pages.db"))
    # AppTest resets PagesManager.uses_pages_directory before every run, so the pages' one-off
    # "go through app.py" rerun (app_context.through_app) would fire on every AppTest run
    # and swallow button clicks; on a real server it fires once per process.
    import app_context
    monkeypatch.setattr(app_context, "through_app", lambda: None)
    source = (root / "app.py").read_text()
    for page in ("pages/compare.py", "pages/experiments.py"):
        assert f'st.Page("{page}"' in source, f"app.py does not list {page}"
    return AppTest.from_file(str(root / "app.py"), default_timeout=30)


def test_experiments_page_renders_empty_and_rejects_bad_input(tmp_path, monkeypatch):
    at = app_with_all_pages(tmp_path, monkeypatch)
    at.run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    assert any("No experiments yet" in i.value for i in at.info)
    at.text_input(key="exp_strategies").set_value("greedy,telepathy")
    at.button(key="exp_start").click().run()
    assert not at.exception, at.exception
    assert any("telepathy" in e.value for e in at.error)
    from storage import open_store
    assert open_store(str(tmp_path / "pages.db")).experiments.list() == []


def test_experiments_page_shows_results_curve_and_matrix(tmp_path, monkeypatch):
    at = app_with_all_pages(tmp_path, monkeypatch)
    from storage import open_store
    store = open_store(str(tmp_path / "pages.db"))
    eid = exp.create_experiment(small_config(), store)
    factory, _ = counting_factory()
    exp.run_experiment(eid, store, model_factory=factory)
    at.run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="exp_pick").value == eid
    results_df = at.dataframe[0].value
    assert list(results_df["strategy"]) == ["greedy", "mcts:simulations=3"]
    assert list(results_df["total"]) == [2, 2]
    charts = at.get("plotly_chart")
    assert charts, "no accuracy-vs-compute chart"
    spec = json.loads(charts[0].proto.spec)
    plotted = {t["name"]: (t["x"], t["y"], t["mode"]) for t in spec["data"]}
    for _, r in results_df.iterrows():   # the curve's points are the table's figures
        assert plotted[r["strategy"]][:2] == ([r["mean tokens"]], [r["solved rate"]])
    assert plotted["greedy"][2] == "markers" and plotted["mcts:simulations=3"][2] == "lines+markers"
    assert spec["layout"]["xaxis"]["type"] == "log"
    links = at.get("page_link")
    runs = store.experiments.cell_runs(eid)
    replays = [ln for ln in links if ln.proto.query_string.startswith("run=")]
    assert len(replays) == 4
    assert {ln.proto.query_string for ln in replays} == {f"run={r['id']}" for r in runs}
    # each problem's row opens its pair on Compare (?a=greedy's run&b=mcts's run)
    pairs = [ln.proto.query_string for ln in links if ln.proto.query_string.startswith("a=")]
    by_cell = {(r["problem_id"], r["strategy"]): r["id"] for r in runs}
    assert sorted(pairs) == sorted(f"a={by_cell[(p, 'greedy')]}&b={by_cell[(p, 'mcts')]}"
                                   for p in ("901", "902"))
    assert len(at.get("download_button")) == 2
    assert at.button(key="exp_stop").disabled and at.button(key="exp_resume").disabled


CTRL_C_SCRIPT = r'''
import signal, sys, time
# a shell that starts CI in the background ignores SIGINT, and children inherit that: the
# process a user presses Ctrl-C in has Python's own handler, so this one gets it too
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, sys.argv[2])
from reasoning.models.scripted import ScriptedModel
from runner import experiments as exp
from storage import open_store
from tests.helpers import pick_first

store = open_store(sys.argv[1])
eid = exp.create_experiment(exp.ExperimentConfig(problems="901-903", strategies="greedy",
                                                 budgets="500"), store)
calls = []

def slow(req):
    calls.append(1)
    if len(calls) == 4:       # the second cell has started: tell the parent, then hang
        print("READY", eid, flush=True)
        time.sleep(3)         # "generating" when Ctrl-C arrives; the next chunk sees the cancel
    return pick_first(req)

try:
    exp.run_experiment(eid, store, model_factory=lambda: ScriptedModel(slow))
except KeyboardInterrupt:
    print("INTERRUPTED", flush=True)
    sys.exit(130)
'''


def test_ctrl_c_stops_the_experiment_resumably(tmp_path):
    """SIGINT in the process running an experiment: status stopped, the running cell cancelled,
    and a resume runs exactly the cells that had not finished."""
    import signal
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    db = str(tmp_path / "ctrlc.db")
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C_SCRIPT, db, str(root)],
                            stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        assert first[0] == "READY", first
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "INTERRUPTED" in out
    from storage import open_store
    store = open_store(db)
    eid = int(first[1])
    assert store.experiments.get(eid)["status"] == "stopped"
    runs = store.experiments.cell_runs(eid)
    assert [r["outcome"] for r in runs] == ["failed", "cancelled"]
    factory, made = counting_factory(pick_first)
    assert exp.run_experiment(eid, store, model_factory=factory).status == "finished"
    assert len(made) == 2 and [r["problem_id"] for r in store.experiments.cell_runs(eid)[2:]] == ["902", "903"]


def test_experiments_page_shows_the_executor_cluster_and_dashboard(tmp_path, monkeypatch):
    at = app_with_all_pages(tmp_path, monkeypatch)
    from storage import open_store
    store = open_store(str(tmp_path / "pages.db"))
    local = exp.create_experiment(small_config(), store)
    config = exp.ExperimentConfig(problems="1-2", strategies=["greedy"], executor="ray",
                                  ray_address="127.0.0.1:6379", model={"kind": "random"})
    eid = exp.create_experiment(config, store)
    store.experiments.set_cluster(eid, {"executor": "ray", "gcs": "127.0.0.1:6379", "nodes": 3,
                                        "cpus": 2, "dashboard": "http://127.0.0.1:8265"})
    at.run()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "executor: ray · cluster 127.0.0.1:6379 · 3 node(s), 2 CPUs" in captions
    assert [b.proto.url for b in at.get("link_button")] == ["http://127.0.0.1:8265"]
    at.selectbox(key="exp_pick").set_value(local).run()
    assert "executor: local" in " ".join(c.value for c in at.caption)
    assert not at.get("link_button")
    assert exp.load_config(store, eid).cluster["nodes"] == 3     # stored with the config


def test_the_ray_executor_refuses_the_embedded_model():
    with pytest.raises(ValueError, match="executor: ray .* endpoint"):
        exp.ExperimentConfig(executor="ray")
    with pytest.raises(ValueError, match="executor: must be one of local, ray"):
        exp.ExperimentConfig(executor="dask", model={"kind": "random"})
