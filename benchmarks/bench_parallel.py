"""Parallel model calls within one run: sequential vs 8 in flight, against a loopback
OpenAI-compatible server that sleeps a fixed time per request and serves requests in parallel.

The server answers a constrained request (a llama.cpp grammar of choices, as the client sends it)
with one of the choices drawn from the request's seed, so both runs see the same answers and must
build the same tree; the row says whether they did.
"""
from __future__ import annotations

import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reasoning.engine import run_search
from reasoning.models.openai_client import OpenAIModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task

_ALT = re.compile(r'"((?:[^"\\]|\\.)*)"')


class SleepyServer:
    """127.0.0.1 server: every completion takes ``delay`` seconds; ``peak`` = most in flight."""

    def __init__(self, delay: float) -> None:
        self.delay, self.inflight, self.peak, self.requests = delay, 0, 0, 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with lock:
                    server.inflight += 1
                    server.requests += 1
                    server.peak = max(server.peak, server.inflight)
                time.sleep(server.delay)
                choices = [json.loads(f'"{m}"') for m in _ALT.findall(req.get("grammar", ""))]
                text = random.Random(req.get("seed")).choice(choices) if choices else "?"
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for piece, finish in ((text, None), ("", "stop")):
                    chunk = {"id": "x", "object": "text_completion", "created": 0, "model": "sleepy",
                             "choices": [{"index": 0, "text": piece, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True
                with lock:
                    server.inflight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> SleepyServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def timed_run(url: str, strategy: str, params: dict[str, Any], parallel: int,
              puzzle: str = "1 6 6 6") -> tuple[float, Any, Any]:
    task = get_task("game24")
    model = OpenAIModel(url, "sleepy", mode="completions",
                        capabilities={"constraint": "grammar", "parallel": parallel})
    t = time.perf_counter()
    result, rec = run_search(make_strategy(strategy, params), task, task.resolve_problem(puzzle),
                             model, run_id=1, budget=Budget(max_nodes=10_000, max_tokens=10**7),
                             seed=0)
    return time.perf_counter() - t, result, rec


def _shape(rec: Any) -> list[tuple]:
    return [(n.id, n.parent_id, n.text, n.state, n.value) for n in rec.tree.nodes.values()]


CASES = [("best_of_n n=16", "best_of_n", {"n": 16}),
         ("beam b=5 k=5 (value prompt, 3 samples)", "beam", {"beam_width": 5, "proposals": 5})]


def run(quick: bool) -> list[dict]:
    delay = 0.25  # long enough that a loaded 2-core machine does not blur the ratio
    rows = []
    with SleepyServer(delay) as server:
        for label, name, params in CASES:
            seq, res1, rec1 = timed_run(server.url, name, params, 1)
            server.peak = 0
            par, res8, rec8 = timed_run(server.url, name, params, 8)
            same = _shape(rec1) == _shape(rec8) and res1.outcome == res8.outcome
            calls = rec1.events[-1].payload["model_calls"]
            rows.append({
                "what": f"parallel model calls in one run: {label}, 8 in flight vs 1",
                "work": f"{calls} calls, {len(rec1.tree.nodes)} nodes; loopback server "
                        f"{delay * 1000:.0f} ms/request",
                "measured": f"{par:.1f} s with 8 in flight (×{seq / par:.1f}; peak {server.peak} "
                            f"in flight; same tree: {'yes' if same else 'NO'})",
                "target": "≤ 1/4 of sequential, same tree",
                "baseline": f"sequential: {seq:.1f} s",
                "ok": par <= seq / 4 and same})
    return rows
