"""The tree figure is built without plotly's per-value checks (``tree_figure._checks``): the JSON
must be exactly what a checked build gives, small (SVG) and big (WebGL) figures alike."""
from __future__ import annotations

import json

import plotly
import pytest

import components.tree_figure as tf
from benchmarks.bench_layout import search_events
from reasoning.tree import fold
from reasoning.view_model import ViewOptions, project
from runner.synthetic import synthetic_events


def figure_json(fig) -> dict:
    """What ``st.plotly_chart`` sends for ``fig``."""
    checked = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return json.loads(plotly.io.to_json(checked, validate=False))


TREES = {"synthetic 12": lambda: fold(synthetic_events(12, seed=1)),
         "synthetic 1,500 (SVG, binary arrays)": lambda: fold(synthetic_events(1_500, seed=3)),
         "synthetic 3,500 (WebGL)": lambda: fold(synthetic_events(3_500, seed=2)),
         "mcts": lambda: fold(search_events("mcts", {"simulations": 200, "stop_on_solution": False}, 40)),
         "beam": lambda: fold(search_events("beam", {"beam_width": 2, "proposals": 4}, 50))}


@pytest.mark.parametrize("name", sorted(TREES))
def test_the_unchecked_figure_is_the_checked_one(name, monkeypatch):
    tree = TREES[name]()
    shown = project(tree, ViewOptions(collapse_pruned=False))[0]
    for kw in ({}, {"highlight": {1, 2}, "selected": 3}, {"show_labels": True, "label_mode": "values"}):
        fast = figure_json(tf.tree_figure(shown, **kw))
        with monkeypatch.context() as m:
            m.setattr(tf, "_checks", lambda scatter: {})
            assert figure_json(tf.tree_figure(shown, **kw)) == fast, kw


def test_a_big_svg_figure_sends_its_numbers_as_binary_arrays():
    """Past ``PACKED_NODES`` an SVG figure's coordinates, sizes and ids go as typed arrays (a
    lighter live refresh); the ids stay clickable: one flat number per point, as in WebGL."""
    from components.tree_view import clicked_node
    small = project(fold(synthetic_events(200, seed=3)), ViewOptions(collapse_pruned=False))[0]
    big = project(fold(synthetic_events(1_500, seed=3)), ViewOptions(collapse_pruned=False))[0]
    assert tf.PACKED_NODES < len(big.nodes) <= tf.WEBGL_NODES
    for tree, packed in ((small, False), (big, True)):
        sent = figure_json(tf.tree_figure(tree))
        points = [t for t in sent["data"] if t.get("customdata") is not None and t["x"]]
        assert {t["type"] for t in sent["data"]} == {"scatter"}
        assert points and all(isinstance(t["x"], dict) == packed for t in points), packed
    fig = tf.tree_figure(big)
    ids = sorted(int(i) for t in fig.data if t.customdata is not None for i in t.customdata)
    assert ids == sorted(big.nodes)
    assert clicked_node({"selection": {"points": [{"customdata": ids[5]}]}}) == ids[5]
