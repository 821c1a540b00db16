"""Layouts on real searches (engine + scripted model): the stable layout keeps drawn nodes in
place while staying a valid, tidy-looking drawing; a replay never moves a node."""
from __future__ import annotations

import random

import pytest

from benchmarks.bench_layout import search_events as bench_search_events
from reasoning.layout import StableLayout, growth_of, motion, off_centre, tidy_layout
from reasoning.tree import Tree
from reasoning.view_model import ViewOptions, marker_id, project

SEARCHES = {
    "mcts": {"simulations": 400, "stop_on_solution": False},
    "beam": {"beam_width": 3, "proposals": 4},
    "dfs": {"proposals": 4},
    "best_of_n": {"n": 12},
}


def search_events(strategy: str, max_nodes: int = 150):
    return bench_search_events(strategy, SEARCHES[strategy], max_nodes)


def assert_valid(tree: Tree, pos) -> None:
    """Every node placed, one level per depth, >= 1 unit apart on a level, and the level order is
    the tree's left-to-right order (so no two edges cross)."""
    assert set(pos) == set(tree.nodes)
    reference = tidy_layout(tree)
    rows: dict[float, list[int]] = {}
    for nid, (_, y) in pos.items():
        assert y == reference[nid][1]
        rows.setdefault(y, []).append(nid)
    for row in rows.values():
        by_x = sorted(row, key=lambda n: pos[n][0])
        for a, b in zip(by_x, by_x[1:], strict=False):
            assert pos[b][0] - pos[a][0] >= 1.0 - 1e-9, (a, b, pos[a], pos[b])
        assert by_x == sorted(row, key=lambda n: reference[n][0])


def grow(events, layout, every: int = 1):
    """Fold ``events`` and lay out after every ``every``-th node creation: [(tree size, motion)]."""
    tree, prev, out, created = Tree(), None, [], 0
    for e in events:
        tree.apply(e)
        if e.type != "node_created":
            continue
        created += 1
        if created % every:
            continue
        pos = layout(tree)
        assert_valid(tree, pos)
        if prev is not None:
            out.append(motion(prev, pos))
        prev = pos
    return tree, prev, out


@pytest.mark.parametrize("strategy", sorted(SEARCHES))
def test_stable_layout_moves_far_fewer_nodes_than_the_tidy_one(strategy):
    events = search_events(strategy)
    tree, pos, stable = grow(events, StableLayout().update)
    _, _, tidy = grow(events, tidy_layout)
    assert len(tree.nodes) > 20
    moved_stable = sum(m.moved for m in stable) / sum(m.existing for m in stable)
    moved_tidy = sum(m.moved for m in tidy) / sum(m.existing for m in tidy)
    calm_stable = sum(1 for m in stable if not m.moved) / len(stable)
    # most refreshes move nothing at all, and overall a fraction of what tidy moves
    assert calm_stable >= 0.8, (strategy, calm_stable)
    assert moved_stable <= max(0.05, moved_tidy / 3), (strategy, moved_stable, moved_tidy)
    # and the drawing stays tidy: parents within a unit of their children's middle on average
    assert off_centre(tree, pos) <= 1.0


def test_refresh_batches_do_not_matter_for_validity():
    events = search_events("mcts", max_nodes=120)
    layout = StableLayout()
    tree, pos, moves = grow(events, layout.update, every=7)  # a refresh every 7 new nodes
    assert layout.placed > 0 and moves


def test_a_family_filling_its_kept_slots_moves_nothing():
    """Beam search: proposals of one node arrive one by one into the room kept for them."""
    events = search_events("beam", max_nodes=40)
    layout = StableLayout()
    tree = Tree()
    sizes = []
    prev = None
    for e in events:
        tree.apply(e)
        if e.type != "node_created":
            continue
        pos = layout.update(tree)
        parent = tree.nodes[e.node_id].parent_id
        siblings_before = len(tree.nodes[parent].children) - 1 if parent is not None else 0
        if prev is not None and siblings_before >= 1:  # not the first of its family
            sizes.append(motion(prev, pos).moved)
        prev = pos
    assert sizes and sum(sizes) == 0


def test_a_replay_seeded_with_the_final_positions_never_moves_a_node():
    events = search_events("mcts", max_nodes=80)
    final = Tree()
    for e in events:
        final.apply(e)
    final_pos = tidy_layout(final)
    tree = Tree()
    for e in events:
        tree.apply(e)
        pos = StableLayout(positions=final_pos).update(tree)
        assert pos == {k: final_pos[k] for k in tree.nodes}


def test_nodes_folded_away_leave_the_others_in_place():
    events = search_events("beam", max_nodes=60)
    tree = Tree()
    for e in events:
        tree.apply(e)
    layout = StableLayout()
    full = layout.update(tree)
    shown, _ = project(tree, ViewOptions(collapse_pruned=True))
    assert len(shown.nodes) < len(tree.nodes)
    folded = layout.update(shown)
    assert_valid(shown, folded)
    kept = [k for k in shown.nodes if k >= 0]
    assert all(folded[k] == full[k] for k in kept)
    # folded markers have ids that depend only on their parent, so they keep their place too
    markers = [k for k in shown.nodes if k < 0]
    assert markers and all(k == marker_id(shown.nodes[k].parent_id, "pruned") for k in markers)
    again, _ = project(tree, ViewOptions(collapse_pruned=True))
    assert layout.update(again) == folded


def test_growth_hints_follow_the_strategy_settings():
    beam = growth_of({"strategy": "beam", "params": {"proposals": 3}})
    assert beam.family is not None and beam.family(None, None) == 3 and beam.family_gap == 1.0
    assert growth_of({"strategy": "mcts", "params": {"width": 4}}).family_gap == 2.0
    assert growth_of({"strategy": "beam", "params": {"proposals": "lots"}}).family(None, None) == 5
    assert growth_of({}).family is None


def test_kept_slots_centre_the_parent_over_its_whole_family():
    events = search_events("beam", max_nodes=3)  # root + its first two proposals of four
    tree = Tree()
    for e in events:
        tree.apply(e)
    growth = growth_of(tree.info)
    pos = tidy_layout(tree, growth)
    kids = tree.nodes[tree.root_id].children
    assert len(kids) == 2
    # four slots kept: the two children sit left of the root, which is over the block's middle
    assert pos[kids[0]][0] == pos[tree.root_id][0] - 1.5
    assert pos[kids[1]][0] == pos[tree.root_id][0] - 0.5


def test_view_range_only_grows_and_then_by_a_quarter_at_least():
    layout = StableLayout()
    r0 = layout.view_range({0: (0.0, 0.0), 1: (4.0, -1.0)})
    assert r0 == (-0.7, 4.7)
    assert layout.view_range({0: (0.0, 0.0), 1: (2.0, -1.0)}) == r0      # narrower: unchanged
    r1 = layout.view_range({0: (0.0, 0.0), 1: (5.0, -1.0)})             # one unit wider
    assert r1[0] == r0[0] and r1[1] >= 5.7 + 0.25 * (r0[1] - r0[0]) - 1e-9
    assert layout.view_range({0: (0.0, 0.0), 1: (5.5, -1.0)}) == r1      # fits: no rescale


@pytest.mark.parametrize("seed", range(6))
def test_random_growth_with_changing_views_always_gives_a_valid_drawing(seed):
    """Random trees (synthetic events), refreshed in random batches while the view switches
    between folding, depth limits and focus: every drawing is valid, whatever came before."""
    from runner.synthetic import synthetic_events
    rng = random.Random(seed)
    events = synthetic_events(400, seed=seed, max_depth=6)
    tree, layout = Tree(), StableLayout()
    views = [ViewOptions(), ViewOptions(collapse_pruned=True), ViewOptions(max_depth=2),
             ViewOptions(collapse_pruned=True, max_depth=3)]
    view = views[0]
    i = 0
    while i < len(events):
        step = rng.randint(1, 60)
        for e in events[i:i + step]:
            tree.apply(e)
        i += step
        if rng.random() < 0.2:
            view = rng.choice(views)
        if rng.random() < 0.1 and len(tree.nodes) > 5:
            view = ViewOptions(focus=rng.choice(sorted(tree.nodes)))
        shown, _ = project(tree, view)
        before = dict(layout.pos)
        redraws = layout.local + layout.whole + layout.fresh
        pos = layout.update(shown)
        assert_valid(shown, pos)
        # a drawn node moves only through a counted redraw, never silently
        if any(before[k] != pos[k] for k in before if k in pos):
            assert layout.local + layout.whole + layout.fresh > redraws
