"""The browser tests' harness: the app and Chromium come from :mod:`benchmarks.browser` (the
benchmarks and scripts use them too; the product never imports ``tests``), plus page helpers."""
from __future__ import annotations

from benchmarks.browser import (  # noqa: F401  (the tests import these from here)
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    browser_page,
    free_port,
    running_app,
    wait_until_up,
)


def open_more_settings(page, title_start: str = "More settings") -> None:
    """Unfold the Live form's expander whose title starts with ``title_start`` (the strategy's
    settings, the other limits and the seed are folded on the first screen)."""
    details = page.locator("[data-testid='stExpander'] details").filter(
        has=page.locator("summary", has_text=title_start)).first
    if details.get_attribute("open") is None:
        details.locator("summary").click()
        page.wait_for_timeout(500)
