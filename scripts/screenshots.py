"""Take the README's screenshots from the bundled demo sessions, in headless Chromium at 1440x900.

    python scripts/screenshots.py                 # writes docs/*.png
    python scripts/screenshots.py --out /tmp/shots --only live_mcts,compare

The app runs from a fresh folder holding ``thinktree.db`` with the demo sessions loaded (so the
sidebar says ``Database: thinktree.db``, no machine path). "Live, mid-run" is a demo MCTS run
written again event by event by this script (its real events, at a faster pace), which the Live
page follows as it follows any run of another process. Needs Debian's ``chromium`` and
Playwright (``requirements-dev.txt``); no model.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import CHROMIUM_ARGS, free_port  # noqa: E402
from reasoning.events import Event  # noqa: E402
from runner.demo import DEMO_FILE, load_demo  # noqa: E402
from storage import open_run, open_store  # noqa: E402

WIDTH, HEIGHT = 1440, 900
SHOTS = ("live_start", "live_mid", "live_mcts", "sessions", "compare", "compare_explore", "experiments")


def start_app(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "THINKTREE_DB"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.headless", "true", "--server.port", str(port)],
                            cwd=folder, env=env, stdout=open(folder / "streamlit.log", "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the app did not start: " + (folder / "streamlit.log").read_text()[-2000:])


def replay_as_running(store, run_id: int, seconds: float = 40.0) -> tuple[int, threading.Thread]:
    """A new running run that receives ``run_id``'s events over about ``seconds`` (the live page
    follows it); returns its id and the writing thread."""
    events = store.events(run_id)
    write = open_run(store, events[0])   # the row is made from the run's own run_started
    new = write.run_id
    scale = seconds / max(events[-1].t, 1e-3)

    def work() -> None:
        start = time.monotonic()
        for e in events[1:]:
            time.sleep(max(0.0, e.t * scale - (time.monotonic() - start)))
            write([Event(new, e.seq, e.t, e.type, e.node_id, e.payload)])
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return new, thread


def settle(page, ms: int = 2500) -> None:
    """Wait for Streamlit to finish running the page (no spinner), then a little longer."""
    page.wait_for_timeout(800)
    try:
        page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=30_000)
    except Exception:  # noqa: BLE001 - some versions keep the widget; the pause below still helps
        pass
    page.wait_for_timeout(ms)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--only", default=",".join(SHOTS), help="comma separated: " + ", ".join(SHOTS))
    ap.add_argument("--demo", default=str(DEMO_FILE))
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="thinktree-shots-"))
    shutil.copytree(ROOT / ".streamlit", folder / ".streamlit")
    store = open_store(str(folder / "thinktree.db"))
    made = load_demo(store, args.demo)
    runs = {r["run_id"]: store.get_run(r["run_id"]) for r in made["runs"]}
    notes = {r["run_id"]: r["note"] for r in made["runs"]}

    def pick(strategy: str, word: str = "") -> int | None:
        return next((i for i, r in runs.items() if r["strategy"] == strategy and word in notes[i]),
                    None)

    mcts, greedy = pick("mcts", "solves") or pick("mcts", "MCTS"), pick("greedy", "fails")
    proc, url = start_app(folder)
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(60_000)

            def shot(name: str, path: str, wait: str = ".js-plotly-plot", ms: int = 2500,
                     full: bool = False, scroll_to: str = "") -> None:
                if name not in only:
                    return
                page.goto(url + path)
                if wait:
                    page.wait_for_selector(wait)
                settle(page, ms)
                if scroll_to:  # e.g. the replay's slider: its tree under it
                    page.evaluate("""(text) => {
                        const main = document.querySelector('[data-testid="stMain"]');
                        const el = [...document.querySelectorAll('label, p')].find(e => e.innerText === text);
                        main.scrollTop += el.getBoundingClientRect().top - 20; }""", scroll_to)
                    page.wait_for_timeout(1200)
                if full:  # Streamlit scrolls inside its main area: a taller window shows it all
                    tall = page.evaluate("document.querySelector('[data-testid=\"stMain\"]')"
                                         ".scrollHeight")
                    page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(tall))})
                    page.wait_for_timeout(1500)
                page.screenshot(path=str(out / f"{name}.png"))
                page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
                print(out / f"{name}.png", flush=True)

            shot("live_start", "/")   # the first screen previews a tree: wait for it
            if "live_mid" in only:
                new, thread = replay_as_running(store, mcts)
                page.goto(f"{url}/?run={new}")
                page.wait_for_selector(".js-plotly-plot")
                page.wait_for_timeout(18_000)
                page.screenshot(path=str(out / "live_mid.png"))
                print(out / "live_mid.png", flush=True)
                thread.join()
            shot("live_mcts", f"/?run={mcts}")
            shot("sessions", f"/sessions?run={pick('dfs') or mcts}", scroll_to="Event (seq)")
            # the whole page: the metrics table under the two trees is the gap in figures
            shot("compare", f"/compare?a={greedy}&b={mcts}", full=True)
            # two exploratory runs: neither is "the shortcut", they are run A and run B
            shot("compare_explore", f"/compare?a={pick('best_of_n')}&b={mcts}", full=True)
            shot("experiments", f"/experiments?experiment={made['experiments'][0]}", ms=4000, full=True)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
