"""A real Arize Phoenix server for the OTel tests, in a virtual environment of its own.

Phoenix's dependencies would move the app's pins, so it lives in
``~/.cache/thinktree-tests/phoenix-<version>`` (made once with ``python -m venv`` and ``pip install
arize-phoenix==<version>``, then reused; a ``.thinktree-ready`` file marks a finished install).
:func:`running_phoenix` starts ``python -m phoenix.server.main serve`` on 127.0.0.1 with its own
working directory, free HTTP and gRPC ports and telemetry off, and stops it afterwards.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.browser import free_port, stop_group, wait_until_up

PHOENIX_VERSION = "20.26.1"
CACHE = Path(os.environ.get("THINKTREE_TEST_CACHE", Path.home() / ".cache" / "thinktree-tests"))
INSTALL_TIMEOUT_S = 1800
START_TIMEOUT_S = 300


class PhoenixUnavailable(RuntimeError):
    """Phoenix could not be installed or started; the message says why."""


def phoenix_python() -> Path:
    """The Python of Phoenix's own venv, installing it the first time (under a file lock)."""
    venv = CACHE / f"phoenix-{PHOENIX_VERSION}"
    python = venv / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"phoenix-{PHOENIX_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # two test sessions never install at once
        if (venv / ".thinktree-ready").exists():
            return python
        started = time.monotonic()
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                           capture_output=True, timeout=300)
            subprocess.run([str(python), "-m", "pip", "install", "-q",
                            f"arize-phoenix=={PHOENIX_VERSION}"], check=True, capture_output=True,
                           text=True, timeout=INSTALL_TIMEOUT_S)
        except subprocess.CalledProcessError as e:
            raise PhoenixUnavailable(f"pip install arize-phoenix=={PHOENIX_VERSION} failed: "
                                     f"{(e.stderr or '')[-1500:]}") from None
        except subprocess.TimeoutExpired as e:
            raise PhoenixUnavailable(f"installing Phoenix took more than {e.timeout} s") from None
        (venv / ".thinktree-ready").write_text(f"installed in {time.monotonic() - started:.0f} s\n")
        return python


@contextlib.contextmanager
def running_phoenix(workdir: Path) -> Iterator[str]:
    """A Phoenix server on 127.0.0.1 (HTTP and OTLP/HTTP on one port); yields its URL."""
    python = phoenix_python()
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PHOENIX_WORKING_DIR=str(workdir), PHOENIX_PORT=str(port),
               PHOENIX_GRPC_PORT=str(free_port()), PHOENIX_HOST="127.0.0.1",
               PHOENIX_TELEMETRY_ENABLED="false")
    env.pop("PHOENIX_SQL_DATABASE_URL", None)
    log_path = workdir / "phoenix.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([str(python), "-m", "phoenix.server.main", "serve"], env=env,
                            cwd=str(workdir), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/healthz", proc, START_TIMEOUT_S,
                      lambda: PhoenixUnavailable("Phoenix did not start: " + log_path.read_text()[-2000:]))
        yield url
    finally:
        stop_group(proc, 20)
        log.close()
