"""Node labels as trees grow: the short labels that fit are drawn (never two touching in a row),
the telling ones first (problem, nodes being written, the solved path, answers), every node keeps
its full text on hover."""
from __future__ import annotations

from components.tree_figure import (
    LABEL_CHAR_PX,
    LABEL_GAP_PX,
    PLOT_WIDTH_PX,
    fitting_labels,
    short_step,
    tree_figure,
)
from reasoning import events as ev
from reasoning.tree import fold
from tests.test_figure import build

WIDE = {0: list(range(1, 61))}


def boxes(fig) -> list[tuple[float, float, float]]:
    """(row y, left px, right px) of every label, in the figure's own x scale."""
    lo, hi = fig.layout.xaxis.range
    px = PLOT_WIDTH_PX / (hi - lo)
    out = []
    for a in fig.layout.annotations:
        half = (len(a.text) * LABEL_CHAR_PX + LABEL_GAP_PX) / 2 - 0.01
        out.append((a.y, a.x * px - half, a.x * px + half))
    return out


def assert_no_overlap(fig) -> None:
    rows: dict[float, list[tuple[float, float]]] = {}
    for y, a, b in boxes(fig):
        for c, d in rows.get(y, []):
            assert b <= c or a >= d, f"labels overlap in row {y}"
        rows.setdefault(y, []).append((a, b))


def test_small_tree_labels_every_node():
    tree = fold(build({0: [1, 2, 3], 1: [4, 5]}).events)
    fig = tree_figure(tree)
    assert len(fig.layout.annotations) == len(tree.nodes)


def test_wide_tree_labels_what_fits_without_overlap():
    tree = fold(build(WIDE).events)
    fig = tree_figure(tree)
    texts = [a.text for a in fig.layout.annotations]
    assert "4 5 6 10" in texts                         # the problem
    assert 8 <= len(texts) < 40                        # a good share, not all 61
    assert_no_overlap(fig)
    hovers = [h for t in fig.data if t.hovertext is not None for h in t.hovertext]
    assert len(hovers) == len(tree.nodes)              # the rest: full text on hover


def test_solved_path_and_generating_nodes_are_labelled_first():
    log = build(WIDE, {31: "solved", 30: "pruned", 32: "pruned", 45: "generating"},
                texts={45: "12 / 3 = 4"})
    tree = fold(log.events)
    fig = tree_figure(tree)
    labelled = {a.text for a in fig.layout.annotations}
    assert short_step(tree.nodes[31]) in labelled and short_step(tree.nodes[45]) in labelled
    # their neighbours give way (they would touch)
    assert short_step(tree.nodes[30]) not in labelled and short_step(tree.nodes[32]) not in labelled
    assert_no_overlap(fig)


def test_mcts_most_visited_children_win_the_room():
    log = build(WIDE)
    log.add(ev.MCTS_BACKPROP, None, updates=[[8, 9, 3.0], [7, 1, 0.0]])
    tree = fold(log.events)
    pos = {n: (float(n), -1.0) for n in range(1, 61)} | {0: (30.0, 0.0)}
    # 7 and 8 are one unit apart: at 40 px per unit only one of them fits
    shown = fitting_labels(tree, pos, 40.0, set())
    assert 8 in shown and 7 not in shown  # by visits, not by id
    # zoomed in (more px per unit), both fit
    assert {7, 8} <= fitting_labels(tree, pos, 200.0, set())


def test_selected_path_is_labelled():
    tree = fold(build({0: WIDE[0], 20: [61]}).events)
    pos = {n: (float(n), -1.0) for n in range(1, 61)} | {0: (30.0, 0.0), 61: (20.0, -2.0)}
    assert 20 not in fitting_labels(tree, pos, 30.0, set())  # ids 1.. come first at a tie
    assert {20, 61} <= fitting_labels(tree, pos, 30.0, set(), selected=61)
