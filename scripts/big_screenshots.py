"""Screenshots of the big cases (headless Chromium, 1440x900): a stored 100,000-node tree on
Sessions (``docs/img/big_100k.png``) and Sessions listing 10,000 stored runs (``docs/img/sessions_10k.png``).

    python scripts/big_screenshots.py [--out docs/img]

Synthetic runs (``runner.synthetic``: no model) in a scratch database; takes a few minutes,
most of it storing the 100,000-node run and folding it on open.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_bigtree import DRAWN, IDLE  # noqa: E402
from benchmarks.browser import browser_page, running_app  # noqa: E402
from runner.synthetic import store_many_runs, store_synthetic  # noqa: E402
from storage import open_store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=10_000)
    args = ap.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as d:
        db = str(Path(d) / "thinktree.db")
        store = open_store(db)
        eids = tuple(store.experiments.create(f"sweep {i}", {}) for i in range(5))
        store_many_runs(store, args.runs - 1, seed=1, experiments=eids)
        big, _ = store_synthetic(store, args.nodes)
        with running_app(db, Path(d) / "streamlit.log") as url, \
                browser_page(1440, 900, timeout_ms=600_000) as page:
            page.goto(f"{url}/sessions")
            page.wait_for_function("document.body.innerText.includes('matching runs')", polling=100)
            page.wait_for_function(IDLE, polling=100)
            page.get_by_role("button", name="Older").wait_for()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "sessions_10k.png"))
            page.goto(f"{url}/sessions?run={big}")
            page.wait_for_function(DRAWN, polling=200)
            page.wait_for_function(IDLE, polling=200)
            page.wait_for_timeout(2000)
            # the tree, with the run's status line above it
            page.evaluate("document.querySelector('.js-plotly-plot').scrollIntoView({block: 'end'})")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(out / "big_100k.png"))
    print(f"wrote {out / 'sessions_10k.png'} and {out / 'big_100k.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
