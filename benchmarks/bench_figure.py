"""Figure: time to lay out and build the plotly tree figure, and the JSON sent to the browser."""
from __future__ import annotations

import time

from components.tree_figure import tree_figure
from reasoning.tree import fold
from runner.synthetic import synthetic_events

TARGETS = {1_000: 0.1, 10_000: 1.0}


def run(quick: bool) -> list[dict]:
    rows = []
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    base = None
    for n in sizes:
        tree = fold(synthetic_events(n))
        t = time.perf_counter()
        fig = tree_figure(tree)
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        size = len(fig.to_json())
        t_json = time.perf_counter() - t
        base = base or t_build / n
        target = TARGETS.get(n)
        rows.append({"what": f"tree figure, {n:,} nodes", "work": f"JSON {size / 1e6:.1f} MB "
                     f"(serialised in {t_json:.2f} s)", "measured": f"{t_build:.3f} s to lay out + build",
                     "target": f"≤ {target:g} s" if target else "still works",
                     "baseline": f"{t_build / n * 1e6:.0f} µs/node (1,000-node run: {base * 1e6:.0f} µs/node)",
                     "ok": t_build <= target if target else True})
    return rows
