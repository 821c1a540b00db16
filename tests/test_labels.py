"""Node labels a reader can use: the text keeps its spaces and prefers the producer's own label,
the labels that fit are drawn (never two boxes overlapping, none past the plot's edges), the
telling ones first (problem, solved path, selected node, search hits, nodes being written), and
every node keeps its full text on hover. Boxes are computed from the drawn figure alone
(:func:`components.tree_labels.drawn_label_boxes`), on the demo runs and a 500-node tree."""
from __future__ import annotations

import itertools

import pytest

from components.tree_figure import short_step, tree_figure
from components.tree_labels import (
    LABEL_CHAR_PX,
    LabelScale,
    drawn_label_boxes,
    label_box,
    label_text,
    overlap,
    place_labels,
)
from reasoning import events as ev
from reasoning.events import Event
from reasoning.tree import fold
from runner.synthetic import synthetic_events
from tests.test_figure import build

WIDE = {0: list(range(1, 61))}


def assert_no_overlap(fig) -> int:
    boxes = drawn_label_boxes(fig)
    for (a, ba), (b, bb) in itertools.combinations(boxes.items(), 2):
        assert not overlap(ba, bb), f"labels of nodes {a} and {b} overlap: {ba} {bb}"
    return len(boxes)


def assert_inside(fig) -> None:
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    for nid, (a, b, c, d) in drawn_label_boxes(fig).items():
        assert x0 <= a and b <= x1 and y0 <= c and d <= y1, f"label of node {nid} is clipped"


def labelled(fig) -> set[int]:
    return set(drawn_label_boxes(fig))


def stored_figures(tmp_path) -> list:
    """The figures the Sessions page draws (the run view's tree, positions and x range) for the
    demo runs as ``cli.py demo`` loads them and a 500-node synthetic tree (``cli.py synthetic``)."""
    from runner.demo import load_demo
    from runner.synthetic import store_synthetic
    from runner.views import open_view
    from storage import open_store
    store = open_store(str(tmp_path / "demo.db"))
    ids = [r["run_id"] for r in load_demo(store)["runs"]]
    ids += [store_synthetic(store, 500, seed=s)[0] for s in (0, 1)]
    figs = []
    for run_id in ids:
        view = open_view(store, run_id)
        tree = view.final()
        pos = view.place(tree)
        figs.append((tree, tree_figure(tree, positions=pos, x_range=view.full_range(pos))))
    return figs


# -- what a label says ------------------------------------------------------------------------
def test_labels_keep_their_spaces_and_cut_long_text():
    tree = fold(build({0: [1, 2, 3]}, texts={1: "row 1:  queen in column 3\nmore",
                                           2: "4 + 5 = 9 (left: 6 9 10)",
                                           3: "a step that goes on for far too long"}).events)
    assert label_text(tree.nodes[1]) == "row 1: queen in column 3"
    assert label_text(tree.nodes[3]) == "a step that goes on for…"
    assert label_text(tree.nodes[2]) == "4 + 5 = 9"
    assert short_step(tree.nodes[0]) == "4 5 6 10"


def test_a_producers_label_is_preferred_over_cut_text():
    from thinktree import Trace
    log = build({0: [1]}, texts={1: "row 1: queen in column 3 (the first free column)"})
    log.events[0] = Event(1, 1, 0.0, ev.RUN_STARTED, None, {
        "task": "6-queens", "problem": "p", "strategy": "dfs by hand", "source": "thinktree.Trace"})
    log.add(ev.NODE_COMPLETED, 1, text="row 1: queen in column 3", label="r1 = c3")
    tree = fold(log.events)
    fig = tree_figure(tree)
    assert "r1 = c3" in [a.text for a in fig.layout.annotations]
    assert Trace  # the label Trace users pass (thinktree/trace.py) travels in node_completed


def test_values_mode_shows_values_and_visits():
    log = build({0: [1, 2]})
    log.add(ev.NODE_SCORED, 1, value=0.8333, evaluator="x")
    log.add(ev.MCTS_BACKPROP, None, updates=[[2, 12, 7.32]])
    tree = fold(log.events)
    texts = {a.text for a in tree_figure(tree, label_mode="values").layout.annotations}
    assert {"v 0.833", "n 12 · q 0.61"} <= texts
    with pytest.raises(ValueError, match="mode"):
        tree_figure(tree, label_mode="nonsense")


# -- where it goes ------------------------------------------------------------------------------
def test_small_tree_labels_every_node():
    tree = fold(build({0: [1, 2, 3], 1: [4, 5]}).events)
    fig = tree_figure(tree)
    assert len(fig.layout.annotations) == len(tree.nodes)
    assert_inside(fig)


def test_wide_tree_labels_what_fits_without_overlap():
    tree = fold(build(WIDE).events)
    fig = tree_figure(tree)
    texts = [a.text for a in fig.layout.annotations]
    assert "4 5 6 10" in texts                         # the problem
    assert 8 <= len(texts) < 40                        # a good share, not all 61
    assert_no_overlap(fig)
    assert_inside(fig)
    hovers = [h for t in fig.data if t.hovertext is not None for h in t.hovertext]
    assert len(hovers) == len(tree.nodes)              # the rest: full text on hover


def test_demo_runs_and_a_500_node_tree_have_no_overlapping_or_clipped_labels(tmp_path):
    figs = stored_figures(tmp_path)
    assert len(figs) >= 6 and max(len(t.nodes) for t, _ in figs) == 500
    for tree, fig in figs:
        n = assert_no_overlap(fig)
        assert_inside(fig)
        assert n >= min(len(tree.nodes), 8), f"run {tree.info.get('strategy')}: only {n} labels"
    for seed in (0, 1):   # the tidy layout too (a figure drawn without a run view)
        fig = tree_figure(fold(synthetic_events(500, seed=seed)))
        assert assert_no_overlap(fig) >= 8
        assert_inside(fig)


def test_edge_labels_are_moved_inside_the_plot():
    tree = fold(build({0: [1, 2]}, texts={1: "a rather long first step", 2: "and another long one"}).events)
    pos = {0: (0.5, 0.0), 1: (0.0, -1.0), 2: (1.0, -1.0)}
    scale = LabelScale((-0.2, 1.2), (-1.6, 0.45), 300, 300)
    placed = place_labels({1: "a rather long first", 2: "and another long"}, [1, 2], pos, scale)
    assert len(placed) == 2
    for p in placed:
        x0, x1, _, _ = label_box(p.text, p.x, p.y, scale, p.anchor, p.xshift, p.yshift)
        assert -0.2 <= x0 and x1 <= 1.2
    assert tree  # the figure-level check is test_demo_runs_and_a_500_node_tree_…


def test_a_label_that_would_touch_its_neighbour_moves_beside_its_node_or_is_dropped():
    pos = {1: (0.0, -1.0), 2: (1.0, -1.0), 3: (2.0, -1.0)}
    scale = LabelScale((-3.0, 5.0), (-1.6, 0.45), 8 * 10 * LABEL_CHAR_PX, 300)  # 10 chars a unit
    placed = {p.node_id: p for p in place_labels({1: "x" * 10, 2: "y" * 10, 3: "z" * 10}, [2, 1, 3],
                                                pos, scale)}
    assert placed[2].anchor == "center"
    assert placed[1].anchor == "right" and placed[3].anchor == "left"   # moved aside
    crowded = place_labels({1: "x" * 20, 2: "y" * 20, 3: "z" * 20}, [2, 1, 3], pos, scale)
    assert [p.node_id for p in crowded] == [2]                             # no room: dropped


def test_solved_path_and_generating_nodes_are_labelled_first():
    log = build(WIDE, {31: "solved", 30: "pruned", 32: "pruned", 45: "generating"},
                texts={45: "12 / 3 = 4"})
    tree = fold(log.events)
    fig = tree_figure(tree)
    shown = labelled(fig)
    assert {31, 45} <= shown
    assert not {30, 32} & shown      # their neighbours give way (they would touch)
    assert_no_overlap(fig)


def test_mcts_most_visited_children_win_the_room():
    log = build(WIDE)
    log.add(ev.MCTS_BACKPROP, None, updates=[[8, 9, 3.0], [7, 1, 0.0]])
    tree = fold(log.events)
    pos = {n: (float(n), -1.0) for n in range(1, 61)} | {0: (30.0, 0.0)}
    fig = tree_figure(tree, positions=pos, x_range=(-10.0, 70.0))
    assert 8 in labelled(fig) and 7 not in labelled(fig)  # by visits, not by id
    zoomed = tree_figure(tree, positions=pos, x_range=(0.0, 12.0))   # more px per unit
    assert {7, 8} <= labelled(zoomed)


def test_selected_node_and_search_hits_are_labelled():
    tree = fold(build({0: WIDE[0], 20: [61]}).events)
    pos = {n: (float(n), -1.0) for n in range(1, 61)} | {0: (30.0, 0.0), 61: (20.0, -2.0)}
    plain = tree_figure(tree, positions=pos, x_range=(-30.0, 90.0))
    assert 20 not in labelled(plain)                     # ids 1.. come first at a tie
    assert {20, 61} <= labelled(tree_figure(tree, positions=pos, x_range=(-30.0, 90.0), selected=61))
    assert 44 in labelled(tree_figure(tree, positions=pos, x_range=(-30.0, 90.0), highlight={44}))
