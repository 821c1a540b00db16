"""``thinktree.Trace``: the manual's example (docs/record.md) runs as printed, a trace is readable while it runs (the
Live page's view), exceptions finish the run as ``error``, misuse is a clear error, and the same
code works on PostgreSQL."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reasoning.tree import fold
from thinktree import Trace, TraceError

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (ROOT / "docs" / "record.md").read_text()
    return re.search(r"<!-- trace-example -->\n```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_example_runs_as_printed(tmp_path):
    code = readme_example()
    assert 25 <= len(code.strip().splitlines()) <= 40
    (tmp_path / "toy.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "toy.py"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "run 1: solved"
    from storage import open_store
    store = open_store(str(tmp_path / "toy.db"))
    row = store.get_run(1)
    assert (row["status"], row["outcome"], row["answer"], row["nodes"]) == \
        ("finished", "solved", "11", 8)
    tree = fold(store.events(1))
    got = [(n.id, n.parent_id, n.state, n.text, n.reason) for n in tree.nodes.values()]
    assert got == [
        (0, None, "open", "Start at 1", ""),
        (1, 0, "open", "Plan: try +3 first, then *2.", ""),
        (2, 1, "open", "1 +3 = 4", ""),
        (3, 2, "backtracked", "4 +3 = 7", "dead end"),
        (4, 3, "failed", "7 +3 = 10", "out of moves"),
        (5, 3, "pruned", "7 *2 = 14", "14 is past 11"),
        (6, 2, "open", "4 *2 = 8", ""),
        (7, 6, "solved", "8 +3 = 11", "solved"),
    ]
    assert tree.nodes[7].value == 1.0 and tree.nodes[7].evaluator == "closeness"
    assert (tree.outcome, tree.answer, tree.answer_node) == ("solved", "11", 7)
    # the streamed node was written as it grew: tokens events before its completion
    kinds = [e.type for e in store.events(1) if e.node_id == 1]
    assert kinds[0] == "node_created" and "tokens" in kinds and kinds[-1] == "node_completed"


def test_a_reader_sees_every_call_while_the_trace_runs(tmp_path):
    """What the Live page does: another connection reads the events while the trace is open."""
    from storage import open_store
    db = str(tmp_path / "live.db")
    ready = [threading.Event(), threading.Event()]
    read = [threading.Event(), threading.Event()]

    def program():
        with Trace(db=db, task="t", problem="p", strategy="mine") as t:
            root = t.root("root")
            ready[0].set()
            read[0].wait(10)
            node = t.open(root)
            t.stream(node, "half")     # the first chunk goes out at once
            ready[1].set()
            read[1].wait(10)

    worker = threading.Thread(target=program)
    worker.start()
    reader = open_store(db)
    seen = []
    for k in range(2):
        assert ready[k].wait(10)
        tree = fold(reader.events(1))
        seen.append((reader.get_run(1)["status"], len(tree.nodes), tree.nodes[len(tree.nodes) - 1].text))
        read[k].set()
    worker.join(10)
    assert seen == [("running", 1, "root"), ("running", 2, "half")]
    tree = fold(reader.events(1))
    assert tree.nodes[1].text == "half" and tree.outcome == "failed"   # nothing was solved


def test_an_exception_finishes_the_run_as_error_and_propagates(tmp_path):
    from storage import open_store
    db = str(tmp_path / "err.db")
    with pytest.raises(RuntimeError, match="policy crashed"):
        with Trace(db=db, task="t", problem="p") as t:
            root = t.root("root")
            node = t.open(root)
            t.stream(node, "partial text")
            raise RuntimeError("policy crashed")
    row = open_store(db).get_run(t.run_id)
    assert (row["status"], row["outcome"]) == ("finished", "error")
    tree = fold(open_store(db).events(t.run_id))
    assert tree.finished["detail"] == "RuntimeError: policy crashed"
    assert "policy crashed" in tree.finished["traceback"]
    assert tree.nodes[1].text == "partial text"       # the streaming node keeps its text


def test_misuse_is_a_clear_error(tmp_path):
    with Trace(db=str(tmp_path / "m.db")) as t:
        root = t.root("r")
        with pytest.raises(TraceError, match="^root: this trace already has a root"):
            t.root("again")
        with pytest.raises(TraceError, match="^parent: no node 42"):
            t.step(42, "x")
        a = t.step(root, "a")
        with pytest.raises(TraceError, match="^stream: node 1 is not generating"):
            t.stream(a, "more")
        t.finish("budget", detail="my own limit")
        with pytest.raises(TraceError, match="is finished"):
            t.step(root, "late")
    with pytest.raises(TraceError, match="inside 'with Trace"):
        Trace().root("r")
    with pytest.raises(TraceError, match="^outcome: must be one of"):
        with Trace(db=str(tmp_path / "m.db")) as t2:
            t2.finish("great")


def test_the_same_trace_on_any_database(db_url):
    from storage import open_store
    with Trace(db=db_url, task="t", problem="p", strategy="s") as t:
        root = t.root("r")
        a = t.step(root, "a", prompt_tokens=5, completion_tokens=3)
        t.score(a, 0.7, evaluator="mine", truth=True, note="kept")
        t.solve(a, answer="42")
    tree = fold(open_store(db_url).events(t.run_id))
    assert (tree.outcome, tree.answer, tree.tokens) == ("solved", "42", 3)
    n = tree.nodes[a]
    assert (n.value, n.evaluator, n.truth, n.score_details) == (0.7, "mine", True, {"note": "kept"})
