"""The tree figure on hand-built event logs: tidy layout, legend, solved path, escaping."""
from __future__ import annotations

import itertools

import pytest

from components.status import generating_text, status_text
from components.tree_figure import (
    STATE_COLORS,
    edge_groups,
    hover_text,
    tidy_layout,
    tree_figure,
)
from reasoning import events as ev
from reasoning.tree import NODE_STATES, fold
from tests.helpers import EventLog


def build(shape: dict[int, list[int]], states: dict[int, str] | None = None, texts=None) -> EventLog:
    """A log creating ``shape`` (parent -> children, node 0 the root), completing every node,
    then moving nodes into ``states`` (pruned / failed / solved / backtracked / generating)."""
    log = EventLog()
    log.add(ev.RUN_STARTED, None, task="game24", problem="4 5 6 10", strategy="test")
    log.add(ev.NODE_CREATED, 0, parent_id=None, depth=0, role="problem")
    log.add(ev.NODE_COMPLETED, 0, text="4 5 6 10")
    depth = {0: 0}
    order = [0]
    for parent in order:
        for c in shape.get(parent, []):
            depth[c] = depth[parent] + 1
            order.append(c)
            log.add(ev.NODE_CREATED, c, parent_id=parent, depth=depth[c],
                    role="rollout" if c >= 100 else "thought")
    states = states or {}
    for nid in order[1:]:
        if states.get(nid) == "generating":
            log.add(ev.TOKENS, nid, text=(texts or {}).get(nid, "4 + 5"))
            continue
        text = (texts or {}).get(nid, f"step {nid}")
        log.add(ev.NODE_COMPLETED, nid, text=text, step=text, completion_tokens=3)
        kind = {"pruned": ev.NODE_PRUNED, "failed": ev.NODE_FAILED, "solved": ev.NODE_SOLVED,
                "backtracked": ev.NODE_BACKTRACKED}.get(states.get(nid, ""))
        if kind:
            log.add(kind, nid, reason=f"because {states[nid]}")
    return log


BUSHY = {0: [1, 2, 3], 1: [4, 5, 6, 7], 2: [8], 3: [9, 10], 4: [11, 12], 9: [13, 14, 15],
         8: [16], 16: [100]}


def test_tidy_layout_no_overlaps_and_parents_centred():
    tree = fold(build(BUSHY).events)
    pos = tidy_layout(tree)
    assert set(pos) == set(tree.nodes)
    assert pos[0][1] == 0 and all(y == -tree.nodes[n].depth for n, (_, y) in pos.items())
    for a, b in itertools.combinations(pos, 2):  # same level: at least one unit apart
        if pos[a][1] == pos[b][1]:
            assert abs(pos[a][0] - pos[b][0]) >= 1.0 - 1e-9, (a, b, pos[a], pos[b])
    for node in tree.nodes.values():
        if node.children:
            first, last = pos[node.children[0]][0], pos[node.children[-1]][0]
            assert pos[node.id][0] == pytest.approx((first + last) / 2)
            xs = [pos[c][0] for c in node.children]
            assert xs == sorted(xs)  # children keep their creation order left to right
    assert min(x for x, _ in pos.values()) == 0


def test_tidy_layout_is_compact_where_subtrees_allow():
    # two deep chains side by side do not need more than one unit between them
    tree = fold(build({0: [1, 2], 1: [3], 2: [4], 3: [5], 4: [6]}).events)
    pos = tidy_layout(tree)
    assert pos[2][0] - pos[1][0] == pytest.approx(1.0)
    assert pos[0][0] == pytest.approx(0.5)


def test_every_state_has_a_legend_trace_with_design_colours():
    states = {1: "solved", 2: "pruned", 3: "failed", 5: "backtracked", 6: "generating", 7: "open"}
    tree = fold(build(BUSHY, states).events)
    fig = tree_figure(tree)
    legend = {t.name: t for t in fig.data if t.showlegend is not False}
    nodes = {t.name: t for t in fig.data if t.customdata is not None}
    assert set(NODE_STATES) <= set(legend) and set(nodes) == set(NODE_STATES)
    for state in NODE_STATES:
        assert legend[state].marker.color == STATE_COLORS[state]
        assert nodes[state].marker.color == STATE_COLORS[state]
        assert nodes[state].legendgroup == legend[state].legendgroup == state
        ids = sorted(c[0] for c in nodes[state].customdata)
        assert ids == sorted(n.id for n in tree.nodes.values() if n.state == state)
    generating = nodes["generating"]
    assert generating.marker.line.width[0] > nodes["open"].marker.line.width[0]  # bold outline
    # an empty tree still shows the whole legend
    empty = tree_figure(fold(build({}).events))
    assert set(NODE_STATES) <= {t.name for t in empty.data if t.showlegend is not False}
    assert fig.layout.showlegend is True


def edge_segments(path: str) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The edges an edge shape's ``path`` (``M x0,y0 L x1,y1`` per edge) draws."""
    out = []
    for part in path.split("M")[1:]:
        a, b = part.split("L")
        x0, y0 = (float(v) for v in a.split(","))
        x1, y1 = (float(v) for v in b.split(","))
        out.append(((x0, y0), (x1, y1)))
    return out


def test_solved_path_edges_are_the_highlighted_ones():
    tree = fold(build(BUSHY, {13: "solved", 10: "pruned"}).events)
    pos = tidy_layout(tree)
    groups = edge_groups(tree, pos)
    expected = {(pos[a], pos[b]) for a, b in [(0, 3), (3, 9), (9, 13)]}
    assert set(groups["solved"]) == expected
    assert groups["pruned"] == [(pos[3], pos[10])]
    fig = tree_figure(tree)
    shapes = {s.name: s for s in fig.layout.shapes}
    solved, normal, pruned = shapes["solved path"], shapes["edges"], shapes["pruned edges"]
    assert solved.line.width > normal.line.width and solved.line.color != normal.line.color
    assert pruned.line.dash == "dash" and normal.line.dash == "solid"
    # each style's path draws exactly its group's edges, under the nodes, in data coordinates
    for shape, group in ((solved, "solved"), (normal, "normal"), (pruned, "pruned")):
        drawn = edge_segments(shape.path)
        assert len(drawn) == len(groups[group])
        for (a, b), (c, d) in zip(drawn, groups[group], strict=True):
            assert a == pytest.approx(c, abs=1e-4) and b == pytest.approx(d, abs=1e-4)
        assert (shape.layer, shape.xref, shape.yref) == ("below", "x", "y")
    assert len(edge_segments(solved.path)) == 3  # three edges on the path
    assert not [t for t in fig.data if t.mode == "lines"]  # no edge is a trace


def test_rollout_nodes_have_another_symbol_and_visits_grow_nodes():
    log = build(BUSHY)
    log.add(ev.MCTS_BACKPROP, 100, updates=[[0, 9, 3.0], [2, 4, 1.0], [8, 4, 1.0], [16, 1, 0.0]])
    tree = fold(log.events)
    fig = tree_figure(tree)
    open_trace = next(t for t in fig.data if t.name == "open")
    ids = [c[0] for c in open_trace.customdata]
    symbol = dict(zip(ids, open_trace.marker.symbol, strict=True))
    size = dict(zip(ids, open_trace.marker.size, strict=True))
    assert symbol[100] == "diamond" and symbol[16] == "circle"
    assert size[0] > size[16] > size[100]


def test_an_unverified_answer_is_a_star_not_a_green_node():
    log = build(BUSHY)
    log.add(ev.RUN_FINISHED, outcome="answered", answer="yes", answer_node=12, detail="vote")
    fig = tree_figure(fold(log.events))
    open_trace = next(t for t in fig.data if t.name == "open")
    symbol = dict(zip([c[0] for c in open_trace.customdata], open_trace.marker.symbol, strict=True))
    assert symbol[12] == "star" and symbol[11] == "circle"
    assert "answer (not verified)" in [t.name for t in fig.data]
    assert not next(t for t in fig.data if t.name == "solved").x  # nothing drawn green
    # a user's mark settles it: then the node is solved-green and no longer a star
    log.add(ev.NODE_MARKED, 12, mark="correct")
    fig = tree_figure(fold(log.events))
    solved = next(t for t in fig.data if t.name == "solved")
    assert [c[0] for c in solved.customdata] == [12] and list(solved.marker.symbol) == ["circle"]
    assert "answer (not verified)" not in [t.name for t in fig.data]
    # a solved run's answer is never a star
    log = build(BUSHY, {12: "solved"})
    log.add(ev.RUN_FINISHED, outcome="solved", answer="24", answer_node=12, detail="ok")
    assert "answer (not verified)" not in [t.name for t in tree_figure(fold(log.events)).data]


def test_hover_escapes_html_from_the_model():
    evil = '<img src=x onerror=alert(1)> 4 + 5 = 9 <b>bold</b>'
    tree = fold(build({0: [1, 2]}, {2: "generating"}, texts={1: evil, 2: "<script>x</script>"}).events)
    fig = tree_figure(tree)
    hovers = [h for t in fig.data if t.hovertext is not None for h in t.hovertext]
    joined = " ".join(hovers)
    assert "<img" not in joined and "<script" not in joined and "<b>bold" not in joined
    assert "&lt;img src=x onerror=alert(1)&gt;" in joined
    assert "&lt;script&gt;" in joined
    assert "&lt;img" in hover_text(tree.nodes[1])
    labels = [a.text for a in fig.layout.annotations]
    assert labels and not any("<" in s for s in labels)
    assert "&lt;img" in " ".join(labels)


def test_figure_keeps_zoom_per_run_and_carries_node_ids():
    tree = fold(build(BUSHY).events)
    fig = tree_figure(tree, uirevision="live-7")
    assert fig.layout.uirevision == "live-7"
    ids = sorted(c[0] for t in fig.data if t.customdata is not None for c in t.customdata)
    assert ids == sorted(tree.nodes)


def test_status_and_streaming_lines_are_plain_text():
    log = build({0: [1, 2]}, {1: "solved", 2: "generating"}, texts={2: "6 * 4 = <b>"})
    tree = fold(log.events)
    assert generating_text(tree) == "Generating node 2 (thought): 6 * 4 = <b>"
    assert "running…" in status_text(tree, running=True)
    log.add(ev.RUN_FINISHED, None, outcome="solved", answer="(10 - 6) * ... = 24", seconds=1.5)
    tree = fold(log.events)
    line = status_text(tree, running=False)
    assert "outcome: solved" in line and "answer: (10 - 6) * ... = 24" in line and "1.5 s" in line


def test_wide_trees_get_smaller_markers_that_do_not_touch():
    from components.tree_figure import MIN_MARKER_PX, PLOT_WIDTH_PX, base_size
    assert base_size(3) > base_size(40) > base_size(120) >= MIN_MARKER_PX
    for units in (10, 40, 100):
        assert base_size(units) < PLOT_WIDTH_PX / units  # a gap between neighbours
    wide = {0: list(range(1, 61))}
    fig = tree_figure(fold(build(wide).events))
    open_trace = next(t for t in fig.data if t.name == "open" and t.customdata is not None)
    assert max(open_trace.marker.size) < PLOT_WIDTH_PX / 60 * 1.6
    # too dense for every label: those that fit (tests/test_labels.py), the rest on hover
    assert 0 < len(fig.layout.annotations) < 60 / 2


def test_status_line_does_not_repeat_the_answer():
    log = build({0: [1]}, {1: "failed"})
    log.add(ev.RUN_FINISHED, None, outcome="failed", answer="(10 * 6) * 20 = 1200",
            detail="(10 * 6) * 20 = 1200, not 24", seconds=2.0)
    line = status_text(fold(log.events), running=False)
    assert line.count("1200") == 1 and "answer: (10 * 6) * 20 = 1200, not 24" in line
