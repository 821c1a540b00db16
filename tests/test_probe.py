"""The capability probe against the real embedded server and a loopback server that lacks most
features; the API key never reaches the database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import pytest

from reasoning.models.base import ModelBadResponse, ModelConnectError
from reasoning.models.config import ModelConfig, make_model
from reasoning.models.probe import probe

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-SECRET-do-not-store-9f8e7d"


class Plain(BaseHTTPRequestHandler):
    """A bare OpenAI-style server: /models and /completions (streamed or not) only. It ignores
    grammar, guided_choice, logprobs, n and stream_options, and has no chat endpoint."""
    reply = "4 + 6 = 10 (left: 5 10 10)"
    list_models = True
    seen_auth: list[str] = []
    delay = 0.0          # seconds each completion takes
    slots = 0            # > 0: answer llama-server's /props with this many slots

    def log_message(self, *args):  # keep test output clean
        pass

    def _json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.seen_auth.append(self.headers.get("Authorization", ""))
        if self.path == "/props" and self.slots:
            return self._json(200, {"total_slots": self.slots})
        if self.path == "/v1/models" and self.list_models:
            return self._json(200, {"object": "list", "data": [{"id": "plain-1", "object": "model"}]})
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        self.seen_auth.append(self.headers.get("Authorization", ""))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/completions":
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        time.sleep(self.delay)
        if not body.get("stream"):
            return self._json(200, {"object": "text_completion", "model": body["model"],
                                    "choices": [{"index": 0, "text": self.reply,
                                                 "finish_reason": "stop", "logprobs": None}]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        words = self.reply.split(" ")
        for i, w in enumerate(words):
            chunk = {"id": "c1", "object": "text_completion", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "text": w + (" " if i < len(words) - 1 else ""),
                                  "finish_reason": "stop" if i == len(words) - 1 else None,
                                  "logprobs": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def plain_url():
    Plain.seen_auth = []
    Plain.list_models = True
    Plain.delay, Plain.slots = 0.0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Plain)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def feats(report):
    return {k: v["ok"] for k, v in report["features"].items()}


@pytest.mark.embedded
def test_probe_embedded_server(embedded_url):
    report = probe(embedded_url, timeout=60)
    ok = feats(report)
    assert report["model"] in report["models"] and report["tested_with"] == "completions"
    assert ok["completions"] and ok["chat"] and ok["streaming"]
    assert ok["grammar"] and not ok["guided_choice"]   # llama.cpp honours GBNF, not vLLM's field
    assert ok["logprobs"]
    assert not ok["n"]                                # llama-cpp-python returns one choice
    assert ok["token_count"] and not ok["usage_in_stream"]   # prompts are counted separately
    assert report["capabilities"]["constraint"] == "grammar"
    assert report["capabilities"]["token_count"] is True
    assert report["capabilities"]["parallel"] == 1    # llama-cpp-python answers one at a time
    assert all(isinstance(v["note"], str) and v["note"] for v in report["features"].values())


def test_probe_degrades_on_a_plain_server(plain_url):
    report = probe(plain_url, api_key=SECRET, timeout=10)
    ok = feats(report)
    ok.pop("parallel")              # measured by timing: see the tests below
    assert report["model"] == "plain-1"
    assert ok == {"models": True, "completions": True, "chat": False, "streaming": True,
                  "usage_in_stream": False, "grammar": False, "guided_choice": False,
                  "logprobs": False, "n": False, "token_count": False}
    assert "HTTP 404" in report["features"]["chat"]["note"]
    assert report["features"]["grammar"]["note"].startswith("ignored")
    assert report["capabilities"]["constraint"] is None
    assert SECRET not in json.dumps(report)                       # never in the report …
    assert Plain.seen_auth and set(Plain.seen_auth) == {f"Bearer {SECRET}"}   # … only sent


def _serve(server_class):
    server = server_class(("127.0.0.1", 0), Plain)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/v1"


def test_probe_measures_parallel_slots_and_the_config_defaults_to_them():
    """A server answering requests together is seen as several slots, one answering them in turn
    as one slot, and llama-server's declared slots are taken as they are."""
    Plain.seen_auth, Plain.list_models, Plain.delay, Plain.slots = [], True, 0.4, 0
    cfg = ModelConfig(kind="endpoint", base_url="http://x:1/v1", model="plain-1",
                      mode="completions")
    try:
        seen = {}
        for name, server_class in (("together", ThreadingHTTPServer), ("in turn", HTTPServer)):
            server, url = _serve(server_class)
            try:
                seen[name] = probe(url, timeout=20)
            finally:
                server.shutdown()
                server.server_close()
        together, in_turn = (seen[k]["capabilities"]["parallel"] for k in ("together", "in turn"))
        assert together >= 3 and in_turn == 1, (seen["together"]["features"]["parallel"],
                                                seen["in turn"]["features"]["parallel"])
        assert seen["together"]["features"]["parallel"]["ok"] is True
        assert seen["in turn"]["features"]["parallel"]["ok"] is False
        assert cfg.with_probe(seen["together"]).parallel == together            # the default …
        assert cfg.with_probe(seen["together"], keep_parallel=True).parallel == 1  # … unless chosen
        Plain.delay, Plain.slots = 0.0, 6
        server, url = _serve(HTTPServer)
        try:
            report = probe(url, timeout=20)
        finally:
            server.shutdown()
            server.server_close()
        assert report["capabilities"]["parallel"] == 6
        assert "llama-server" in report["features"]["parallel"]["note"]
    finally:
        Plain.delay, Plain.slots = 0.0, 0


def test_cli_parallel_defaults_to_the_probe_unless_given(tmp_path):
    Plain.seen_auth, Plain.list_models, Plain.delay, Plain.slots = [], True, 0.0, 5
    server, url = _serve(ThreadingHTTPServer)
    try:
        from storage import open_store
        got = []
        for extra in ([], ["--parallel", "2"]):
            db = tmp_path / f"p{len(extra)}.db"
            out = _cli(["run", "--problem", "4 5 6 10", "--base-url", url, "--model", "plain-1",
                        "--mode", "completions", "--probe", "--db", str(db), "--quiet",
                        "--strategy", "greedy", *extra], {})
            assert out.returncode == 0, out.stderr
            rid = json.loads(out.stdout.strip().splitlines()[-1])["run_id"]
            got.append(open_store(str(db)).get_run(rid)["model"]["parallel"])
        db = tmp_path / "x.db"
        out = _cli(["experiment", "--problems", "901", "--strategies", "greedy", "--base-url", url,
                    "--model", "plain-1", "--mode", "completions", "--probe", "--db", str(db),
                    "--quiet", "--max-seconds", "30"], {})
        assert out.returncode == 0, out.stderr
        from runner import experiments as exp
        got.append(exp.load_config(open_store(str(db)), 1).model["parallel"])
        out = _cli(["experiment", "--problems", "901", "--strategies", "greedy", "--base-url", url,
                    "--model", "plain-1", "--mode", "completions", "--parallel", "3",
                    "--db", str(db), "--quiet", "--max-seconds", "30"], {})
        assert out.returncode == 0, out.stderr
        got.append(exp.load_config(open_store(str(db)), 2).model["parallel"])
    finally:
        server.shutdown()
        server.server_close()
        Plain.slots = 0
    assert got == [5, 2, 5, 3]


def test_probe_needs_a_model_when_none_is_listed(plain_url):
    Plain.list_models = False
    with pytest.raises(ModelBadResponse, match="name one with --model"):
        probe(plain_url, timeout=10)
    report = probe(plain_url, model="plain-1", timeout=10)
    assert report["features"]["models"]["ok"] is False and report["features"]["completions"]["ok"]


def test_probe_unreachable_endpoint_raises():
    import socket
    with socket.socket() as s:          # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ModelConnectError, match="cannot reach"):
        probe(f"http://127.0.0.1:{port}/v1", timeout=5)


def test_config_takes_capabilities_from_a_probe():
    report = {"capabilities": {"completions": True, "chat": False, "constraint": "guided_choice",
                               "usage_in_stream": True, "token_count": True}}
    cfg = ModelConfig(kind="endpoint", base_url="http://x:1/v1", model="m", mode="chat")
    got = cfg.with_probe(report)
    assert (got.constraint, got.usage_in_stream, got.mode) == ("guided_choice", True, "completions")
    assert got.token_count and make_model(got).capabilities["token_count"] is True
    assert cfg.constraint == ""                                   # the original is unchanged


def _cli(args, env_extra):
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


def test_cli_probe_json_and_unreachable_message(plain_url):
    out = _cli(["probe", "--base-url", plain_url], {})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["capabilities"]["completions"] is True
    out = _cli(["probe", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "3"], {})
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("error: cannot reach") and out.stderr.count("\n") == 1
    out = _cli(["probe", "--base-url", plain_url, "--api-key-env", "THINKTREE_NO_SUCH_VAR"], {})
    assert out.returncode == 2 and "THINKTREE_NO_SUCH_VAR is not set" in out.stderr


def test_api_key_never_reaches_the_database(plain_url, tmp_path):
    db = tmp_path / "keys.db"
    out = _cli(["run", "--task", "game24", "--problem", "4 5 6 10", "--base-url", plain_url,
                "--model", "plain-1", "--mode", "completions", "--api-key-env", "MY_TEST_KEY",
                "--probe", "--db", str(db), "--quiet"], {"MY_TEST_KEY": SECRET})
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["nodes"] >= 2                                  # the run really used the server
    assert f"Bearer {SECRET}" in Plain.seen_auth                   # the key was sent …
    files = [p for p in tmp_path.iterdir() if p.name.startswith("keys.db")]
    assert files
    for p in files:                                               # … and stored nowhere
        assert SECRET.encode() not in p.read_bytes(), p.name
    assert SECRET not in out.stdout + out.stderr
    from storage import open_store
    model = open_store(str(db)).get_run(summary["run_id"])["model"]
    assert model["api_key_env"] == "MY_TEST_KEY" and model["constraint"] == ""


def test_cli_run_on_an_unreachable_endpoint_exits_non_zero_with_one_line(tmp_path):
    out = _cli(["run", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--quiet",
                "--db", str(tmp_path / "dead.db")], {})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: cannot connect")
    assert "http://127.0.0.1:9/v1" in out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["outcome"] == "error"   # recorded
