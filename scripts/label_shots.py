"""Screenshots of the readable tree at 1440x900 (headless Chromium), for a look by eye:

    python scripts/label_shots.py --out docs/shots

``live_first`` (an empty database: the demo preview and the essential settings), ``live_last``
(the first screen once runs are stored), ``trace_queens`` (a 6-queens ``Trace`` run, shown as
recorded), ``compare_explore`` (demo MCTS vs demo beam: run A / run B), ``sessions_demo`` (the
demo DFS replayed). Uses the harness of ``scripts/screenshots.py``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.browser import CHROMIUM_ARGS  # noqa: E402
from runner.demo import load_demo  # noqa: E402
from scripts.screenshots import HEIGHT, WIDTH, settle, start_app  # noqa: E402
from storage import open_store  # noqa: E402


def folder_with(demo: bool, queens: bool) -> tuple[Path, dict]:
    folder = Path(tempfile.mkdtemp(prefix="thinktree-label-shots-"))
    shutil.copytree(ROOT / ".streamlit", folder / ".streamlit")
    db = str(folder / "thinktree.db")
    store = open_store(db)
    ids: dict = {}
    if demo:
        made = load_demo(store)
        for r in made["runs"]:
            ids.setdefault(store.get_run(r["run_id"])["strategy"], r["run_id"])
    if queens:
        out = subprocess.run([sys.executable, str(ROOT / "examples" / "trace_queens.py"), "--db", db],
                             capture_output=True, text=True, check=True)
        ids["queens"] = int(out.stdout.strip())
    return folder, ids


def shoot(folder: Path, out: Path, shots: list[tuple[str, str, bool | str]]) -> None:
    proc, url = start_app(folder)
    from playwright.sync_api import sync_playwright
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(60_000)
            for name, path, full in shots:
                page.goto(url + path)
                page.wait_for_selector(".js-plotly-plot")
                settle(page, 3000)
                if full == "scroll":   # the replay's tree, under its slider
                    page.evaluate("""() => {
                        const main = document.querySelector('[data-testid="stMain"]');
                        const el = [...document.querySelectorAll('[data-testid="stText"], p')].find(e => e.innerText.startsWith('seq '));
                        main.scrollTop += el.getBoundingClientRect().top - 20; }""")
                    page.wait_for_timeout(1200)
                elif full:
                    tall = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
                    page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(tall))})
                    page.wait_for_timeout(1500)
                page.screenshot(path=str(out / f"{name}.png"))
                page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
                print(out / f"{name}.png", flush=True)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "shots"))
    ap.add_argument("--only", default="", help="comma separated shot names")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(filter(None, args.only.split(",")))

    def keep(shots):
        return [s for s in shots if not only or s[0] in only]

    empty, _ = folder_with(demo=False, queens=False)
    if keep([("live_first", "/", False)]):
        shoot(empty, out, keep([("live_first", "/", False)]))
    folder, ids = folder_with(demo=True, queens=True)
    shots = keep([("live_last", "/", False), ("trace_queens", f"/?run={ids['queens']}", False),
                  ("compare_explore", f"/compare?a={ids['mcts']}&b={ids['beam']}", True),
                  ("sessions_demo", f"/sessions?run={ids['dfs']}", "scroll")])
    if shots:
        shoot(folder, out, shots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
