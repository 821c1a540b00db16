"""JSONL events out and in: ``cli.py export events`` then ``cli.py ingest`` gives the same tree; a
bad line names its number and what is wrong and keeps nothing of its run; standard input is
stored while it is written (a run visible before the writer ends); a bash loop is a producer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reasoning.models.scripted import ScriptedModel
from reasoning.plugin_check import random_policy
from reasoning.tree import fold

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, stdin=None, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def searched_runs(db: str) -> list[int]:
    """Two real searches (beam with the value prompt; MCTS) on the scripted policy, stored."""
    from runner import RunSpec, execute
    from storage import open_store
    store = open_store(db)
    ids = []
    for strategy, params in (("beam", {"beam_width": 2, "proposals": 3}),
                             ("mcts", {"simulations": 12})):
        spec = RunSpec(task="game24", problem="4 5 6 10", strategy=strategy, params=params,
                       budget={"max_nodes": 40}, seed=1)
        run_id, _ = execute(spec, store, model=ScriptedModel(random_policy))
        ids.append(run_id)
    return ids


def node_view(tree):
    return [(n.id, n.parent_id, n.depth, n.role, n.state, n.reason, n.text, n.step, n.label,
             n.value, n.evaluator, n.truth, n.visits, n.value_sum, n.answer)
            for n in tree.nodes.values()]


def same_events(a, b):
    return [(e.seq, e.t, e.type, e.node_id, e.payload) for e in a] == \
        [(e.seq, e.t, e.type, e.node_id, e.payload) for e in b]


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_round_trip_gives_the_same_trees(tmp_path, how):
    from storage import open_store
    src, dst = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    ids = searched_runs(src)
    out = tmp_path / "runs.jsonl"
    exported = cli("export", "events", "--runs", ",".join(map(str, ids)), "--out", str(out),
                   "--db", src)
    assert exported.returncode == 0, exported.stderr
    counts = json.loads(exported.stdout)
    assert counts["runs"] == 2 and counts["events"] == len(out.read_text().splitlines())
    if how == "file":
        done = cli("ingest", str(out), "--db", dst)
    else:
        done = cli("ingest", "-", "--db", dst, stdin=out.read_text())
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["run_ids"]) == 2 and result["run_id"] == result["run_ids"][0]
    a, b = open_store(src), open_store(dst)
    for old, new in zip(ids, result["run_ids"], strict=True):
        assert same_events(a.events(old), b.events(new))
        ta, tb = fold(a.events(old)), fold(b.events(new))
        assert node_view(ta) == node_view(tb) and len(ta.nodes) > 5
        assert (ta.outcome, ta.answer, ta.answer_node) == (tb.outcome, tb.answer, tb.answer_node)
        ra, rb = a.get_run(old), b.get_run(new)
        for key in ("task", "problem", "strategy", "params", "outcome", "answer", "nodes",
                    "events", "status"):
            assert ra[key] == rb[key], key


GOOD = [
    {"type": "run_started", "payload": {"task": "t", "problem": "p", "strategy": "s"}},
    {"type": "node_created", "node_id": 0, "payload": {"parent_id": None, "depth": 0}},
    {"type": "node_completed", "node_id": 0, "payload": {"text": "root"}},
    {"type": "node_created", "node_id": 1, "payload": {"parent_id": 0, "depth": 1}},
    {"type": "node_completed", "node_id": 1, "payload": {"text": "a step"}},
    {"type": "node_solved", "node_id": 1, "payload": {"answer": "42"}},
    {"type": "run_finished", "payload": {"outcome": "solved", "answer": "42", "answer_node": 1}},
]


def lines(events):
    return "".join(json.dumps(e) + "\n" for e in events)


def replaced(i, new):
    out = [dict(e) for e in GOOD]
    out[i] = new
    return out


BAD = {
    "json": ("line 4: not valid JSON", lines(GOOD[:3]) + '{"type": "node_created", oops}\n'),
    "no type": ("line 2: every event needs a 'type'", lines(replaced(1, {"node_id": 0}))),
    "seq gap": ("line 3: seq 7 does not follow 2",
                lines(replaced(2, {**GOOD[2], "seq": 7}))),
    "wrong field type": ("line 4: node_created: field 'depth' has the wrong type ('one')",
                         lines(replaced(3, {"type": "node_created", "node_id": 1,
                                            "payload": {"parent_id": 0, "depth": "one"}}))),
    "unknown parent": ("line 4: node_created: parent 9 of node 1 does not exist yet",
                       lines(replaced(3, {"type": "node_created", "node_id": 1,
                                          "payload": {"parent_id": 9}}))),
    "unknown node": ("line 6: node_solved: node 5 does not exist",
                     lines(replaced(5, {"type": "node_solved", "node_id": 5, "payload": {}}))),
    "second root": ("line 4: node_created: a second root",
                    lines(replaced(3, {"type": "node_created", "node_id": 1, "payload": {}}))),
    "before start": ("line 1: node_created before any run_started", lines(GOOD[1:])),
    "after finish": ("line 8: node_created after run_finished",
                     lines(GOOD + [{"type": "node_created", "node_id": 2,
                                    "payload": {"parent_id": 0}}])),
    "bad outcome": ("line 7: run_finished: outcome must be one of",
                    lines(replaced(6, {"type": "run_finished", "payload": {"outcome": "great"}}))),
    "missing field": ("line 1: run_started: missing field(s) strategy",
                      lines(replaced(0, {"type": "run_started",
                                         "payload": {"task": "t", "problem": "p"}}))),
    # a node created twice would leave a corrupt tree (its parent listing it twice, its first
    # children hanging from a node that no longer lists them)
    "node twice": ("line 6: node_created: node 1 is created twice (first on line 4)",
                   lines(GOOD[:5] + [{"type": "node_created", "node_id": 1,
                                      "payload": {"parent_id": 0, "depth": 1}}] + GOOD[5:])),
    "flat payload": ("line 3: unknown top-level field(s) text",
                     lines(replaced(2, {"type": "node_completed", "node_id": 0, "text": "x"}))),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_line_is_named_and_nothing_is_stored(tmp_path, name):
    from storage import open_store
    want, text = BAD[name]
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    for args, stdin in (((str(path),), None), (("-",), text)):
        db = str(tmp_path / f"{name}-{args[0][-1]}.db")
        out = cli("ingest", *args, "--db", db, stdin=stdin)
        assert out.returncode == 2, out.stdout
        assert out.stderr.startswith("error: " + want), out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
        if name == "after finish" and stdin:   # a stream keeps a run it saw finish
            assert [r["outcome"] for r in open_store(db).list_runs()] == ["solved"]
            assert "finished run(s) [1] were kept" in out.stderr
        else:
            assert open_store(db).list_runs() == []


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_input_that_stops_before_run_finished_is_kept_as_interrupted(tmp_path, how):
    from storage import open_store
    db = str(tmp_path / "cut.db")
    path = tmp_path / "cut.jsonl"
    path.write_text(lines(GOOD[:5]))
    out = cli("ingest", "-", "--db", db, stdin=lines(GOOD[:5])) if how == "stdin" else \
        cli("ingest", str(path), "--db", db)
    assert out.returncode == 0, out.stderr
    store = open_store(db)
    run = store.get_run(json.loads(out.stdout)["run_id"])
    assert (run["outcome"], run["nodes"], run["events"]) == ("interrupted", 2, 6)
    # every event before the cut is stored, not only the closing one the run row comes from
    stored = store.events(run["id"])
    assert [(e.seq, e.type, e.node_id) for e in stored[:5]] == \
        [(i, e["type"], e.get("node_id")) for i, e in enumerate(GOOD[:5], 1)]
    assert stored[5].type == "run_finished" and len(fold(stored).nodes) == 2


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_users_mark_after_run_finished_is_kept(tmp_path, how):
    """A mark is written after the run finished, so ``export events`` writes it after
    run_finished: ingest reads it back (the format-2 fixture's marked run round-trips)."""
    from storage import open_store
    db = str(tmp_path / "marked.db")
    text = lines(GOOD + [{"type": "node_marked", "node_id": 1, "payload": {"mark": "correct"}}])
    path = tmp_path / "marked.jsonl"
    path.write_text(text)
    out = cli("ingest", "-", "--db", db, stdin=text) if how == "stdin" else \
        cli("ingest", str(path), "--db", db)
    assert out.returncode == 0, out.stderr
    store = open_store(db)
    rid = json.loads(out.stdout)["run_id"]
    assert [e.type for e in store.events(rid)][-2:] == ["run_finished", "node_marked"]
    assert fold(store.events(rid)).nodes[1].mark == "correct"
    assert store.get_run(rid)["events"] == 8


def test_a_cut_stream_stores_every_event_it_read(tmp_path, monkeypatch):
    """In one process, with no pause-triggered write: the events still pending when the input
    ends are written before the run is closed (run by the CLI the timing may hide a loss)."""
    import io

    from runner import ingest
    from storage import open_store
    monkeypatch.setattr(ingest, "IDLE_FLUSH_S", 60.0)
    store = open_store(str(tmp_path / "cut.db"))
    out = ingest.ingest_stream(io.StringIO(lines(GOOD[:5])), store)
    stored = store.events(out["run_id"])
    assert [e.type for e in stored] == [e["type"] for e in GOOD[:5]] + ["run_finished"]
    assert [e.seq for e in stored] == [1, 2, 3, 4, 5, 6]
    assert fold(stored).nodes[1].text == "a step"


def test_unknown_event_types_and_fields_are_kept_with_a_warning(tmp_path):
    from storage import open_store
    db = str(tmp_path / "new.db")
    newer = GOOD[:5] + [{"type": "node_glowed", "node_id": 1, "payload": {"how": "bright"}},
                        {"type": "node_solved", "node_id": 1,
                         "payload": {"answer": "42", "confidence": 0.9}}] + GOOD[6:]
    out = cli("ingest", "-", "--db", db, stdin=lines(newer))
    assert out.returncode == 0, out.stderr
    assert "warning: run from line 1: kept events of unknown type(s) node_glowed" in out.stderr
    events = open_store(db).events(json.loads(out.stdout)["run_id"])
    assert [e.type for e in events][5] == "node_glowed"
    assert events[6].payload == {"answer": "42", "confidence": 0.9}


def _wait_for(fn, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_stdin_is_stored_while_it_is_written_and_a_bad_line_deletes_the_run(tmp_path):
    from storage import open_store
    db = str(tmp_path / "live.db")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "ingest", "-", "--db", db],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        proc.stdin.write(lines(GOOD[:4]))
        proc.stdin.flush()
        store = open_store(db)
        # the writer has not finished: the run and its first nodes are already readable
        run = _wait_for(lambda: store.list_runs())[0]
        tree = _wait_for(lambda: (t := fold(store.events(run["id"]))) and len(t.nodes) == 2 and t)
        assert run["status"] == "running" and tree.outcome is None
        assert proc.poll() is None
        proc.stdin.write('{"type": "node_pruned", "node_id": 3, "payload": {}}\n')
        proc.stdin.flush()
        assert proc.wait(30) == 2
        assert "line 5: node_pruned: node 3 does not exist" in proc.stderr.read()
        assert store.list_runs() == [] and store.events(run["id"]) == []
    finally:
        proc.kill()
        proc.wait()


def test_a_bash_loop_is_a_producer(tmp_path):
    """The closing note's example: a search written in bash, piped into ingest."""
    from storage import open_store
    db = str(tmp_path / "bash.db")
    script = ROOT / "examples" / "ingest" / "bisect.sh"
    out = subprocess.run(f"bash {script} 37 | {sys.executable} {ROOT / 'cli.py'} ingest - "
                         f"--db {db}", shell=True, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    run_id = json.loads(out.stdout)["run_id"]
    tree = fold(open_store(db).events(run_id))
    assert (tree.outcome, tree.answer) == ("solved", "37")
    solved = [n for n in tree.nodes.values() if n.state == "solved"]
    assert [n.label for n in solved] == ["37..37"]
    path = [tree.nodes[i].label for i in tree.path_to(solved[0].id)]
    assert path[1:4] == ["1..50", "26..50", "26..38"]
    assert all(n.state == "pruned" for n in tree.nodes.values()
               if n.id not in tree.path_to(solved[0].id) and n.parent_id is not None)
    assert tree.nodes[1].text == "is it in 1..50?"      # streamed in two tokens events


def test_ingest_and_a_bad_stream_on_any_database(db_url):
    from storage import open_store
    out = cli("ingest", "-", "--db", db_url, stdin=lines(GOOD))
    assert out.returncode == 0, out.stderr
    kept = json.loads(out.stdout)["run_id"]
    bad = cli("ingest", "-", "--db", db_url, stdin=lines(GOOD[:4]) + "{not json\n")
    assert bad.returncode == 2 and "line 5: not valid JSON" in bad.stderr
    store = open_store(db_url)
    assert [r["id"] for r in store.list_runs()] == [kept]      # the bad stream left nothing
    assert fold(store.events(kept)).answer == "42"


def test_the_hand_written_log_in_the_docs_ingests(tmp_path):
    from storage import open_store
    doc = (ROOT / "docs" / "events.md").read_text()
    block = doc.split("A minimal log, by hand:", 1)[1].split("```", 2)[1]
    db = str(tmp_path / "doc.db")
    out = cli("ingest", "-", "--db", db, stdin=block.strip("\n") + "\n")
    assert out.returncode == 0, out.stderr
    tree = fold(open_store(db).events(json.loads(out.stdout)["run_id"]))
    assert (tree.outcome, tree.answer, len(tree.nodes)) == ("solved", "42", 2)
    assert tree.nodes[1].text == "a first step" and tree.nodes[1].state == "solved"


def test_interleaved_runs_are_told_apart_by_their_run_id(tmp_path):
    from storage import open_store
    db = str(tmp_path / "two.db")
    a = [{**e, "run_id": "a"} for e in GOOD]
    b = [{**e, "run_id": "b"} for e in GOOD[:5]] + \
        [{"run_id": "b", "type": "run_finished", "payload": {"outcome": "failed"}}]
    mixed = [x for pair in zip(a, b, strict=False) for x in pair] + a[len(b):]
    out = cli("ingest", "-", "--db", db, stdin=lines(mixed))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["outcomes"] == ["solved", "failed"] and result["events"] == 13
    store = open_store(db)
    trees = [fold(store.events(i)) for i in result["run_ids"]]
    assert [len(t.nodes) for t in trees] == [2, 2] and trees[0].answer == "42"


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_line_cut_short_names_the_parsers_column(tmp_path, how):
    """A line missing its closing brace is wrong at its own end (column 79 here), not at
    "line 2, column 1" of the text with its line end (what json reports for it)."""
    cut = '{"type": "node_created", "node_id": 1, "payload": {"parent_id": 0, "depth": 1}'
    assert len(cut) + 1 == 79
    text = lines(GOOD[:3]) + cut + "\n" + lines(GOOD[4:])
    db = str(tmp_path / "cut.db")
    if how == "file":
        src = tmp_path / "cut.jsonl"
        src.write_text(text)
        out = cli("ingest", str(src), "--db", db)
    else:
        out = cli("ingest", "-", "--db", db, stdin=text)
    assert out.returncode == 2
    assert "line 4: not valid JSON (Expecting ',' delimiter at column 79)" in out.stderr, out.stderr


def test_a_task_file_line_cut_short_names_its_column(tmp_path):
    from reasoning.tasks.jsonl_task import TaskFileError, load_task_file
    src = tmp_path / "t.jsonl"
    src.write_text('{"id": "a", "question": "1 + 1?", "answer": "2"\n')
    with pytest.raises(TaskFileError, match="column 48"):
        load_task_file(str(src))
