"""Start ``streamlit run app.py`` and a headless Debian Chromium: shared by the browser
benchmarks, the screenshot scripts and the browser tests (``tests/harness.py`` adds the tests'
page helpers). Everything runs on 127.0.0.1 and is stopped on exit."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float,
                  failure: Callable[[], Exception]) -> None:
    """Poll ``url`` until it answers; ``failure()`` is raised when ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise failure() from None
            time.sleep(0.3)


@contextlib.contextmanager
def running_app(db: str, log_path: Path, extra_env: dict[str, str] | None = None,
                started: list[subprocess.Popen] | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with database ``db``; yields its URL. The process
    is appended to ``started`` (a test that kills the server itself needs it)."""
    port = free_port()
    env = dict(os.environ, THINKTREE_DB=db, **(extra_env or {}))
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if started is not None:
        started.append(proc)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/_stcore/health", proc, 60,
                      lambda: RuntimeError("streamlit did not start: " + log_path.read_text()[-2000:]))
        yield url
    finally:
        stop_group(proc, 10)
        log.close()


def stop_group(proc: subprocess.Popen, grace_s: float) -> None:
    """Stop ``proc``'s process group (started with ``start_new_session``): SIGTERM, then SIGKILL
    after ``grace_s`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000, timeout_ms: int = 30_000):
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()

