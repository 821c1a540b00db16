"""Node labels: what placing them without overlaps costs on a big tree, next to the figure
itself. The figure of a synthetic tree is built with its labels (collision-aware placement,
:mod:`components.tree_labels`) and without any (baseline, same run); the best of three each."""
from __future__ import annotations

import time

from components.tree_figure import tree_figure
from components.tree_labels import drawn_label_boxes, overlap
from reasoning.tree import fold
from runner.synthetic import synthetic_events


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(quick: bool) -> list[dict]:
    rows = []
    for n in ((500, 2_000) if quick else (500, 20_000)):
        tree = fold(synthetic_events(n, seed=0))
        with_labels, fig = _best(lambda t=tree: tree_figure(t))
        without, _ = _best(lambda t=tree: tree_figure(t, show_labels=False))
        boxes = list(drawn_label_boxes(fig).values())
        clashes = sum(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        rows.append({
            "what": "tree figure with collision-aware node labels",
            "work": f"{n:,}-node synthetic tree, {len(boxes)} labels placed",
            "measured": f"{with_labels * 1000:.0f} ms; {clashes} overlapping label pairs",
            "target": "no overlaps; labels add at most the figure's own time",
            "baseline": f"the same figure without labels: {without * 1000:.0f} ms",
            "ok": clashes == 0 and with_labels <= 2 * without,
        })
    return rows
