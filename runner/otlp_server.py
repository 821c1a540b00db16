"""The HTTP side of ``serve-otlp``: ``POST /v1/traces`` on the stdlib ThreadingHTTPServer, handed
to a :class:`~runner.otlp_receive.Receiver`, and the thread that closes idle traces."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from storage import Store

from .otlp_decode import OtlpError
from .otlp_receive import Receiver


# -- HTTP ------------------------------------------------------------------------------------------
def _handler(receiver: Receiver):
    from google.rpc.status_pb2 import Status
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:   # quiet: the CLI reports in JSON
            pass

        def _reply(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            ctype = self.headers.get("Content-Type", "")
            is_json = ctype.split(";")[0].strip().lower() == "application/json"
            if self.path.split("?")[0].rstrip("/") != "/v1/traces":
                self._reply(404, b"only POST /v1/traces is served here\n", "text/plain")
                return
            try:
                receiver.accept(body, ctype, self.headers.get("Content-Encoding", ""))
            except OtlpError as e:
                if is_json:
                    self._reply(400, json.dumps({"code": 3, "message": str(e)}).encode(),
                                "application/json")
                else:
                    self._reply(400, Status(code=3, message=str(e)).SerializeToString(),
                                "application/x-protobuf")
                return
            if is_json:
                self._reply(200, b"{}", "application/json")
            else:
                self._reply(200, ExportTraceServiceResponse().SerializeToString(),
                            "application/x-protobuf")

        def do_GET(self) -> None:  # noqa: N802
            self._reply(405, b"POST OTLP traces to /v1/traces\n", "text/plain")

    return Handler


class OtlpServer:
    """The HTTP server and the idle-closing thread around a :class:`Receiver`."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 4318,
                 idle_timeout: float = 30.0) -> None:
        self.receiver = Receiver(store, idle_timeout)
        self.httpd = ThreadingHTTPServer((host, port), _handler(self.receiver))
        self.httpd.daemon_threads = True
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _closer(self) -> None:
        step = max(0.05, min(0.5, self.receiver.idle_timeout / 4))
        while not self._stop.wait(step):
            self.receiver.close_idle()

    def start(self) -> OtlpServer:
        """Serve in background threads (tests, benchmarks); ``stop()`` ends it."""
        threading.Thread(target=self.httpd.serve_forever, name="thinktree-otlp", daemon=True).start()
        threading.Thread(target=self._closer, name="thinktree-otlp-idle", daemon=True).start()
        return self

    def serve_forever(self) -> None:
        threading.Thread(target=self._closer, name="thinktree-otlp-idle", daemon=True).start()
        self.httpd.serve_forever()

    def stop(self) -> list[int]:
        """Stop serving; open traces are closed ``interrupted``."""
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        return self.receiver.close_all()
