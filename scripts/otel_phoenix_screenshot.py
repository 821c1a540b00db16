"""docs/otel_phoenix.png: a Thinktree MCTS run exported to a running Arize Phoenix, in its UI.

    python cli.py run --strategy mcts --model random --simulations 40 --seed 7 --db shot.db
    python cli.py export otlp --runs 1 --db shot.db --endpoint http://127.0.0.1:6006
    python scripts/otel_phoenix_screenshot.py http://127.0.0.1:6006 "((6 * 5) + 4) - 10 = 24"

(the second argument: the run's answer, as Phoenix lists it; headless Chromium, 1440x900)
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.browser import browser_page  # noqa: E402


def main(url: str, answer: str, out: Path = ROOT / "docs" / "otel_phoenix.png") -> None:
    with browser_page(width=1440, height=900, timeout_ms=60_000) as page:
        page.goto(url + "/projects")
        page.get_by_text("thinktree", exact=True).first.click()
        page.get_by_text(answer).first.click()           # the run span's output
        page.get_by_text("thought 1 ·").first.click()    # a node span
        page.get_by_role("tab", name="Attributes").click()
        page.wait_for_timeout(2500)
        page.screenshot(path=str(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
