"""Level of detail on hand-built and synthetic trees: folding, depth limit, focus, search, WebGL."""
from components.tree_figure import tidy_layout, tree_figure
from reasoning import events as ev
from reasoning.tree import PRUNED, fold
from reasoning.view_model import DRAW_BUDGET, ViewOptions, automatic_depth, project
from runner.synthetic import synthetic_events
from tests.helpers import EventLog


def small_tree():
    """0 -> 1 (open) -> 3, 4 ; 0 -> 2 (pruned) -> 5 ; 0 -> 6 (pruned)."""
    log = EventLog()
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    for nid, parent, depth in [(1, 0, 1), (2, 0, 1), (3, 1, 2), (4, 1, 2), (5, 2, 2), (6, 0, 1)]:
        log.add(ev.NODE_CREATED, nid, parent_id=parent, depth=depth)
        log.add(ev.NODE_COMPLETED, nid, text=f"step {nid}", step=f"step {nid}")
    log.add(ev.NODE_PRUNED, 2, reason="outside beam")
    log.add(ev.NODE_PRUNED, 6, reason="outside beam")
    return fold(log.events)


def test_no_options_is_the_tree_itself():
    tree = small_tree()
    shown, hits = project(tree, ViewOptions(collapse_pruned=False))
    assert shown is tree and hits == set()


def test_pruned_children_fold_into_one_marker_with_the_subtree_count():
    tree = small_tree()
    shown, _ = project(tree, ViewOptions(collapse_pruned=True))
    markers = [n for n in shown.nodes.values() if n.role == "collapsed"]
    assert len(markers) == 1
    m = markers[0]
    assert m.id < 0 and m.parent_id == 0 and m.state == PRUNED
    assert m.text == "3 pruned"          # nodes 2, 5 and 6
    assert set(shown.nodes) == {0, 1, 3, 4, m.id}
    assert shown.nodes[0].children == [1, m.id]
    assert tree.nodes[0].children == [1, 2, 6]  # the input is untouched


def test_depth_limit_folds_what_is_below():
    shown, _ = project(small_tree(), ViewOptions(max_depth=1, collapse_pruned=False))
    assert {n.id for n in shown.nodes.values() if n.id >= 0} == {0, 1, 2, 6}
    folded = {shown.nodes[c].text for c in shown.nodes[1].children}
    assert folded == {"2 nodes below"}


def test_focus_keeps_the_path_and_the_subtree():
    shown, _ = project(small_tree(), ViewOptions(focus=1, collapse_pruned=False))
    assert set(shown.nodes) == {0, 1, 3, 4}
    assert shown.nodes[0].children == [1]


def test_search_hits_stay_visible_even_inside_folded_parts():
    shown, hits = project(small_tree(), ViewOptions(collapse_pruned=True, search="STEP 5"))
    assert hits == {5}
    assert {2, 5} <= set(shown.nodes)  # the pruned path to the hit is not folded


def test_large_trees_fold_automatically_and_draw_with_webgl():
    tree = fold(synthetic_events(5_000))
    shown, _ = project(tree, ViewOptions())
    assert len(shown.nodes) < len(tree.nodes)
    assert any(n.role == "collapsed" for n in shown.nodes.values())
    fig = tree_figure(tree)
    assert {t.type for t in fig.data if t.x is not None and len(t.x) > 1} == {"scattergl"}
    fig_small = tree_figure(small_tree())
    assert "scattergl" not in {t.type for t in fig_small.data}


def test_layout_of_a_very_deep_chain_has_no_recursion_limit():
    log = EventLog()
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0)
    for i in range(1, 5000):
        log.add(ev.NODE_CREATED, i, parent_id=i - 1, depth=i)
    pos = tidy_layout(fold(log.events))
    assert len(pos) == 5000 and pos[4999] == (0.0, -4999.0)


def _wide_tree(per_level: list[int]):
    """A tree with ``per_level[d]`` nodes at depth d + 1, each hanging under the first node of the
    level above (so every level but the last has exactly one node with children)."""
    log = EventLog()
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    nid, parent = 1, 0
    for depth, count in enumerate(per_level, start=1):
        first = nid
        for _ in range(count):
            log.add(ev.NODE_CREATED, nid, parent_id=parent, depth=depth)
            nid += 1
        parent = first
    return fold(log.events)


# levels of a, b, c and B/2 nodes under the root, where 1 + a + b + c = B (the budget)
B = DRAW_BUDGET
A_, B_ = 3 * B // 10, 4 * B // 10
C_ = B - 1 - A_ - B_


def test_automatic_folding_keeps_the_drawing_within_the_budget_at_the_deepest_level_that_fits():
    # depth 3 alone fits exactly, but its node with children needs a marker: B + 1, so depth 2
    tree = _wide_tree([A_, B_, C_, B // 2])
    shown, _ = project(tree, ViewOptions())
    assert automatic_depth(tree, ViewOptions()) == 2
    assert len(shown.nodes) == 1 + A_ + B_ + 1 <= B
    marker = [n for n in shown.nodes.values() if n.role == "collapsed"]
    assert len(marker) == 1 and marker[0].text == f"{C_ + B // 2} nodes below"
    # one node fewer at depth 3: depth 3 fits with its marker, the drawing is exactly the budget
    tree = _wide_tree([A_, B_, C_ - 1, B // 2])
    shown, _ = project(tree, ViewOptions())
    assert automatic_depth(tree, ViewOptions()) == 3
    assert len(shown.nodes) == B
    # a tree within the budget is drawn whole
    small = _wide_tree([A_, B_, C_])
    assert project(small, ViewOptions())[0] is small and automatic_depth(small, ViewOptions()) is None


def test_automatic_folding_keeps_at_least_the_first_level_and_yields_to_the_user():
    wide = _wide_tree([2 * B, 10])
    shown, _ = project(wide, ViewOptions())
    assert automatic_depth(wide, ViewOptions()) == 1 and len(shown.nodes) == 1 + 2 * B + 1
    tree = _wide_tree([A_, B_, C_, B // 2])
    for opts in (ViewOptions(collapse_pruned=True), ViewOptions(collapse_pruned=False),
                 ViewOptions(max_depth=4), ViewOptions(focus=1)):
        assert automatic_depth(tree, opts) is None, opts
    assert len(project(tree, ViewOptions(collapse_pruned=False))[0].nodes) == len(tree.nodes)
    # a search hit below the automatic limit stays visible, with its path
    deep = max(tree.nodes)
    tree.nodes[deep].text = "needle"   # (a test tree: the projection reads text only)
    shown, hits = project(tree, ViewOptions(search="needle"))
    assert hits == {deep} and set(tree.path_to(deep)) <= set(shown.nodes)


def test_the_view_says_what_automatic_folding_hides():
    from components.tree_view import folded_text
    tree = _wide_tree([A_, B_, C_, B // 2])
    text = folded_text(tree, ViewOptions())
    assert f"Drawing {1 + A_ + B_:,} of {len(tree.nodes):,} nodes" in text, text
    assert "below depth 2" in text and f"{B:,} nodes" in text
    assert folded_text(tree, ViewOptions(collapse_pruned=False)) == ""
    assert "below depth" not in folded_text(tree, ViewOptions(max_depth=1))
