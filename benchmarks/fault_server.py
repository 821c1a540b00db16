"""A small misbehaving OpenAI-compatible server for fault tests (127.0.0.1 only).

The behaviour is chosen by the request's ``model`` field:

ok · slow (ok, 0.15 s per chunk) · silent (never sends the first byte) · stall (two chunks, then
nothing) · 429 (first request of each model name gets 429 + Retry-After: 1, then ok) · 500 ·
nofinish (stream ends without finish_reason) · badjson (an invalid JSON chunk) · huge (an enormous
answer, ignoring max_tokens) · html (an answer full of HTML / script) · hostile (HTML, script,
``javascript:`` links and markdown, streamed slowly: 0.1 s per 6 characters) · hostile-answer (the
same as a final ``Answer:`` line, at once) · echo-auth (ok; records
the Authorization header). ``hits[model]`` counts requests, ``hits["hung up"]`` streams the client
closed mid-answer; every wait is bounded so the server always
stops by itself. With ``count_tokens``, ``POST /extras/tokenize/count`` answers like llama.cpp's
Python server (one token per word; ``hits["count"]`` counts the calls); without, it is a 404.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "4 + 6 = 10 (left: 5 10 10)"
HTML_ANSWER = '<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3))'
# What a hostile (or just unlucky) model may write: every piece would run or render if a page ever
# treated model text as HTML or markdown. Each alert() has its own number so a dialog says which.
HOSTILE_ANSWER = ('# Heading **bold** <script>alert(1)</script> <img src=x onerror=alert(2)> '
                  '[click](javascript:alert(3)) <a href="javascript:alert(4)">link</a> '
                  '<svg onload=alert(5)></svg> `code` | a | b |')
MAX_WAIT = 8.0


class FaultServer:
    def __init__(self, answer: str = ANSWER, count_tokens: bool = False) -> None:
        self.answer = answer
        self.count_tokens = count_tokens
        self.hits: Counter[str] = Counter()
        self.auth: list[str] = []
        self.inflight = self.peak = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "ok", "object": "model"}]}).encode()
                self._send(200, body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                req = json.loads(self.rfile.read(length) or b"{}")
                if self.path.endswith("/extras/tokenize/count"):
                    if not server.count_tokens:
                        self._send(404, b'{"detail": "Not Found"}')
                        return
                    server.hits["count"] += 1
                    self._send(200, json.dumps({"count": len(str(req.get("input", "")).split())}).encode())
                    return
                server.auth.append(self.headers.get("Authorization", ""))
                mode = req.get("model", "ok")
                server.hits[mode] += 1
                chat = self.path.endswith("/chat/completions")
                with server._lock:
                    server.inflight += 1
                    server.peak = max(server.peak, server.inflight)
                try:
                    if mode.startswith("sleep-"):
                        time.sleep(min(MAX_WAIT, float(mode[6:])))
                        mode = "ok"
                    getattr(self, "mode_" + mode.replace("-", "_"), self.mode_ok)(req, chat)
                finally:
                    with server._lock:
                        server.inflight -= 1

            # -- plumbing ------------------------------------------------------------------
            def _send(self, code, body, headers=None):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _start_stream(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()

            def _chunk(self, text, chat, finish=None):
                choice = {"index": 0, "finish_reason": finish}
                if chat:
                    choice["delta"] = {"content": text}
                else:
                    choice["text"] = text
                obj = {"id": "x", "object": "chat.completion.chunk" if chat else "text_completion",
                       "created": 0, "model": "fault", "choices": [choice]}
                self._raw("data: " + json.dumps(obj) + "\n\n")

            def _raw(self, s):
                self.wfile.write(s.encode())
                self.wfile.flush()

            def _stream(self, text, chat, delay=0.0, finish="stop", pieces=4):
                self._start_stream()
                try:
                    for i in range(0, len(text), pieces):
                        self._chunk(text[i:i + pieces], chat)
                        if delay:
                            time.sleep(delay)
                    self._chunk("", chat, finish)
                    self._raw("data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    server.hits["hung up"] += 1  # the client closed the stream mid-answer
                self.close_connection = True

            # -- behaviours ----------------------------------------------------------------
            def mode_ok(self, req, chat):
                self._stream(server.answer, chat)

            def mode_echo_auth(self, req, chat):
                self._stream(server.answer, chat)

            def mode_html(self, req, chat):
                self._stream(HTML_ANSWER, chat)

            def mode_hostile(self, req, chat):
                self._stream(HOSTILE_ANSWER, chat, delay=0.1, pieces=6)

            def mode_hostile_answer(self, req, chat):  # a final answer line (free questions)
                self._stream("Answer: " + HOSTILE_ANSWER, chat, pieces=12)

            def mode_slow(self, req, chat):
                self._stream(server.answer, chat, delay=0.15, pieces=2)

            def mode_silent(self, req, chat):
                time.sleep(MAX_WAIT)
                self.close_connection = True

            def mode_stall(self, req, chat):
                self._start_stream()
                self._chunk("4 + 6", chat)
                self._chunk(" = 10", chat)
                time.sleep(MAX_WAIT)
                self.close_connection = True

            def mode_429(self, req, chat):
                if server.hits["429"] == 1:
                    body = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}).encode()
                    self._send(429, body, {"Retry-After": "1"})
                else:
                    self._stream(server.answer, chat)

            def mode_500(self, req, chat):
                body = json.dumps({"error": {"message": "internal failure", "type": "server"}}).encode()
                self._send(500, body)

            def mode_nofinish(self, req, chat):
                self._start_stream()
                self._chunk("4 + 6 = 10", chat)
                self._raw("data: [DONE]\n\n")
                self.close_connection = True

            def mode_badjson(self, req, chat):
                self._start_stream()
                self._chunk("4 + 6", chat)
                self._raw("data: {this is not json\n\n")
                self._chunk(" = 10", chat, "stop")
                self._raw("data: [DONE]\n\n")
                self.close_connection = True

            def mode_huge(self, req, chat):
                self._start_stream()
                block = "24 " * 2000
                try:
                    for _ in range(500):  # ~3 MB unless the client hangs up first
                        self._chunk(block, chat)
                except (BrokenPipeError, ConnectionResetError):
                    return
                self._chunk("", chat, "stop")
                self._raw("data: [DONE]\n\n")
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
