"""OpenTelemetry both ways, with real parts: the OTel SDK and its OTLP/HTTP exporter send, our
receiver (``serve-otlp``) stores, and the trees must come back the same (seeded random policy)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from reasoning.models.config import ModelConfig
from runner import RunSpec, execute
from runner.otlp_export import LiveOtlp, OtlpSink, export_runs
from runner.otlp_server import OtlpServer
from runner.views import final_tree
from storage import open_store
from tests.harness import ROOT, free_port

TRACE = "5b8efff798038103d269b633813fc60c"


def _key(n):
    return (n.parent_id, n.depth, n.role, n.state, n.value, n.visits, round(n.value_sum, 6),
            n.text, n.reason if n.state != "open" else "")


def same_tree(a, b) -> None:
    assert sorted(a.nodes) == sorted(b.nodes)
    diff = {i: (_key(n), _key(b.nodes[i])) for i, n in a.nodes.items() if _key(n) != _key(b.nodes[i])}
    assert not diff
    assert b.outcome == a.outcome


@pytest.fixture
def server(tmp_path):
    srv = OtlpServer(open_store(str(tmp_path / "received.db")), port=0, idle_timeout=30).start()
    yield srv
    srv.stop()


def random_run(store, strategy: str, seed: int = 3, **params) -> int:
    rid, _ = execute(RunSpec(task="game24", problem="4 5 6 10", strategy=strategy, params=params,
                             seed=seed, model=ModelConfig(kind="random")), store)
    return rid


def newest_run(store) -> int:
    return max(r["id"] for r in store.list_runs())


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


@pytest.mark.parametrize("strategy,params", [("mcts", {"simulations": 12}), ("dfs", {}),
                                             ("beam", {})])
def test_export_then_receive_gives_the_same_tree(store, server, strategy, params):
    rid = random_run(store, strategy, **params)
    out = export_runs(store, [rid], server.url)
    tree = final_tree(store, rid)
    assert out["runs"][0]["nodes"] == len(tree.nodes) and out["runs"][0]["failed"] == 0
    got = server.receiver.store
    received = final_tree(got, newest_run(got))
    same_tree(tree, received)
    assert received.tokens >= tree.tokens - sum(  # value-call tokens ride on GenAI spans only
        int(n.score_details.get("tokens", 0) or 0) for n in tree.nodes.values())


def test_live_export_while_the_run_goes_gives_the_same_tree(store, server):
    live = LiveOtlp(server.url, store)
    rid, _ = execute(RunSpec(task="game24", problem="4 5 6 10", strategy="mcts",
                             params={"simulations": 15}, seed=5, model=ModelConfig(kind="random")),
                     store, on_events=live)
    sent = live.close()
    assert sent["failed"] == 0 and sent["spans"] > 0
    got = server.receiver.store
    same_tree(final_tree(store, rid), final_tree(got, newest_run(got)))


def test_spans_ids_are_deterministic_and_parents_are_tree_parents(store):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from reasoning.tree import fold
    rid = random_run(store, "mcts", simulations=6)
    events, row = store.events(rid), store.get_run(rid)
    runs = []
    for _ in range(2):
        mem = InMemorySpanExporter()
        sink = OtlpSink(None, rid, row["created_at"], final=fold(events), exporter=mem)
        sink(events)
        sink.close()
        runs.append(mem.get_finished_spans())
    a, b = runs
    assert [(s.context.trace_id, s.context.span_id) for s in a] == \
           [(s.context.trace_id, s.context.span_id) for s in b]
    tree = final_tree(store, rid)
    by_node = {s.attributes["thinktree.node.id"]: s for s in a if "thinktree.node.id" in s.attributes}
    root = [s for s in a if s.parent is None]
    assert len(root) == 1 and root[0].attributes["thinktree.outcome"] == tree.outcome
    for nid, n in tree.nodes.items():
        parent = by_node[n.parent_id].context.span_id if n.parent_id is not None else \
            root[0].context.span_id
        assert by_node[nid].parent.span_id == parent
        assert by_node[nid].attributes["thinktree.state"] == n.state
    calls = [s for s in a if "gen_ai.operation.name" in s.attributes]
    assert calls and all(s.attributes["gen_ai.request.model"] == "random" for s in calls)
    assert sum(s.attributes["gen_ai.usage.output_tokens"] for s in calls) == tree.tokens
    # start/end times: the run's start plus each event's t
    first = min(n.t_created for n in tree.nodes.values())
    assert by_node[0].start_time == int(row["created_at"] * 1e9) + int(round(first * 1e9))


# -- receiving ---------------------------------------------------------------------------------------
def kv(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def span(span_id: str, parent: str = "", name: str = "step", t: int = 1, attrs=None, status=0,
         trace=TRACE):
    start = 1_700_000_000_000_000_000 + t * 1_000_000
    return {"traceId": trace, "spanId": span_id, "parentSpanId": parent, "name": name,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 500_000),
            "attributes": [kv(k, v) for k, v in (attrs or {}).items()],
            "status": {"code": status, "message": "boom" if status == 2 else ""}}


def post(url: str, spans: list[dict] | bytes, ctype: str = "application/json"):
    body = spans if isinstance(spans, bytes) else json.dumps({"resourceSpans": [{
        "resource": {"attributes": [kv("service.name", "test")]},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}).encode()
    req = urllib.request.Request(url + "/v1/traces", data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_json_spans_without_thinktree_attributes_are_nodes_under_their_parents(server):
    status, _ = post(server.url, [
        span("00000000000000a1", name="plan", t=1),
        span("00000000000000a3", "00000000000000a2", name="late child", t=3),   # parent not yet
        span("00000000000000a2", "00000000000000a1", name="tool call", t=2, status=2),
    ])
    assert status == 200
    store = server.receiver.store
    tree = final_tree(store, newest_run(store))
    texts = {n.label: n for n in tree.nodes.values()}
    assert set(texts) == {"plan", "tool call", "late child"}
    assert texts["plan"].parent_id is None
    assert texts["tool call"].parent_id == texts["plan"].id and texts["tool call"].state == "failed"
    assert texts["tool call"].reason == "boom"
    assert texts["late child"].parent_id == texts["tool call"].id
    assert texts["late child"].state == "open"


def test_thinktree_attributes_give_state_value_and_text(server):
    post(server.url, [span("00000000000000b1", name="root", attrs={"thinktree.state": "open"}),
                      span("00000000000000b2", "00000000000000b1", t=2, attrs={
                          "thinktree.state": "pruned", "thinktree.value": 0.25,
                          "thinktree.reason": "below threshold", "output.value": "4 + 4 = 8",
                          "gen_ai.usage.output_tokens": 7}),
                      span("00000000000000b4", "00000000000000ff", t=4, name="orphan",
                           attrs={"thinktree.state": "open"}),
                      span("00000000000000b3", "00000000000000b1", t=3, attrs={
                          "thinktree.state": "solved", "thinktree.outcome": "solved",
                          "thinktree.answer": "24"})])
    store = server.receiver.store
    rid = newest_run(store)
    tree = final_tree(store, rid)
    pruned = tree.nodes[1]
    assert (pruned.state, pruned.value, pruned.reason, pruned.text, pruned.completion_tokens) == \
           ("pruned", 0.25, "below threshold", "4 + 4 = 8", 7)
    assert tree.nodes[2].state == "solved" and tree.outcome == "solved"
    # a span whose parent never came: under the root when the run ends
    assert [(n.label, n.parent_id) for n in tree.nodes.values()][-1] == ("orphan", 0)
    assert store.get_run(rid)["status"] == "finished"


def test_malformed_input_is_a_400_with_the_reason_and_nothing_is_stored(server):
    store = server.receiver.store
    good = span("00000000000000c1", name="fine")
    cases = [
        ([good, span("0000000000000xyz", name="bad id")], "spanId"),
        ([good, span("00000000000000c2", attrs={"thinktree.state": "great"})], "thinktree.state"),
        ([good, span("00000000000000c3", attrs={"thinktree.value": "high"})], "thinktree.value"),
        (b"{not json", "not valid JSON"),
    ]
    for body, reason in cases:
        status, text = post(server.url, body)
        assert status == 400 and reason in json.loads(text)["message"]
    status, text = post(server.url, b"\xff\x00garbage", "application/x-protobuf")
    assert status == 400
    from google.rpc.status_pb2 import Status
    assert "protobuf" in Status.FromString(text).message
    status, _ = post(server.url, [good], "text/plain")
    assert status == 400
    assert store.list_runs() == []


def test_an_idle_trace_is_closed_interrupted(tmp_path):
    store = open_store(str(tmp_path / "idle.db"))
    srv = OtlpServer(store, port=0, idle_timeout=0.4).start()
    try:
        post(srv.url, [span("00000000000000d1", name="root"),
                       span("00000000000000d3", "00000000000000d2", name="orphan", t=2)])
        rid = newest_run(store)
        assert store.get_run(rid)["status"] == "running"
        row = wait_for(lambda: store.get_run(rid)["outcome"] == "interrupted", 5)
        assert row
        tree = final_tree(store, rid)
        # the span whose parent never came hangs under the root
        assert {n.label: n.parent_id for n in tree.nodes.values()} == {"root": None, "orphan": 0}
    finally:
        srv.stop()


def test_otel_sdk_example_streams_into_a_run(server):
    """examples/otel: a script importing only the OTel SDK and exporter, as a user runs it."""
    out = subprocess.run([sys.executable, str(ROOT / "examples/otel/dfs_search.py"), "--endpoint",
                          server.url, "--delay", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    source = (ROOT / "examples/otel/dfs_search.py").read_text()
    assert "thinktree" not in "".join(line for line in source.splitlines() if "import" in line)
    store = server.receiver.store
    rid = wait_for(lambda: [r["id"] for r in store.list_runs() if r["outcome"]], 10)[0]
    tree = final_tree(store, rid)
    assert tree.outcome == "solved" and len(tree.nodes) > 10
    counts = tree.counts()
    assert counts["solved"] == 1 and counts["pruned"] and counts["backtracked"]
    for n in tree.nodes.values():   # the DFS went from each node to its children
        if n.parent_id is not None:
            assert n.text.startswith(tree.nodes[n.parent_id].text.split(" = ")[-1].split(",")[0]
                                     .replace("start at ", ""))


def test_cli_serve_export_and_live(tmp_path):
    """The verbs as a user types them: serve-otlp in one process, export otlp and run --live."""
    port, db, got_db = free_port(), str(tmp_path / "a.db"), str(tmp_path / "got.db")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cli = [sys.executable, str(ROOT / "cli.py")]
    srv = subprocess.Popen(cli + ["serve-otlp", "--port", str(port), "--db", got_db,
                                  "--idle-timeout", "5"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(srv.stderr.readline())["listening"].endswith(f":{port}/v1/traces")
        endpoint = f"http://127.0.0.1:{port}"
        run = subprocess.run(cli + ["run", "--strategy", "dfs", "--model", "random", "--seed", "2",
                                    "--db", db, "--quiet", "--live", "--endpoint", endpoint],
                             env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        assert summary["otlp"]["failed"] == 0 and summary["otlp"]["nodes"] == summary["nodes"]
        exp = subprocess.run(cli + ["export", "otlp", "--runs", str(summary["run_id"]), "--db", db,
                                    "--endpoint", endpoint], env=env, capture_output=True,
                             text=True, timeout=60)
        assert exp.returncode == 0, exp.stderr
        assert json.loads(exp.stdout)["runs"][0]["nodes"] == summary["nodes"]
    finally:
        srv.terminate()
        out, _ = srv.communicate(timeout=10)
    final = json.loads(out.strip().splitlines()[-1])
    # streamed live, then exported again: the same trace id, so one run (not two)
    assert len(final["runs"]) == 1 and final["interrupted"] == []
    store, got = open_store(db), open_store(got_db)
    same_tree(final_tree(store, summary["run_id"]), final_tree(got, final["runs"][0]))


def test_export_to_nowhere_is_a_message(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cli = [sys.executable, str(ROOT / "cli.py")]
    db = str(tmp_path / "a.db")
    subprocess.run(cli + ["run", "--model", "random", "--db", db, "--quiet"], env=env, check=True,
                   capture_output=True, timeout=60)
    out = subprocess.run(cli + ["export", "otlp", "--runs", "1", "--db", db, "--endpoint",
                                f"http://127.0.0.1:{free_port()}"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "cannot connect" in out.stderr
    out = subprocess.run(cli + ["export", "otlp", "--runs", "1", "--db", db, "--endpoint", "ftp://x"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "endpoint" in out.stderr


def test_a_run_exported_while_it_runs_arrives_interrupted(db_path, server):
    from thinktree import Trace
    with Trace(db=db_path, task="toy", problem="reach 11") as t:
        root = t.root("start at 1")
        t.score(t.step(root, "+3 -> 4"), 0.8)
        store = open_store(db_path)
        export_runs(store, [t.run_id], server.url)
        got = server.receiver.store
        received = final_tree(got, newest_run(got))
        assert received.outcome == "interrupted"
        assert [(n.parent_id, n.text, n.value) for n in received.nodes.values()] == \
               [(None, "start at 1", None), (0, "+3 -> 4", 0.8)]
