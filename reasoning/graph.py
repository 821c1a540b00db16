"""A run's search tree as a ``networkx.DiGraph``, and files other graph tools read.

``to_networkx(tree)`` gives one node per tree node (key: the node id) and one edge per
parent -> child link, so the whole networkx toolbox applies (``nx.shortest_path``,
``nx.descendants``, ``nx.dag_longest_path`` …). Node attributes are plain scalars (no ``None``:
GraphML has no null, so a missing value is left out rather than written as a fake one):

    text, step, label, role, state, reason, depth, value, visits, mean_value, truth, answer,
    mark, prompt_tokens, completion_tokens, tokens, on_solved_path

Graph attributes carry the run: run_id, task, problem, strategy, outcome, answer, answer_node.
``write_graph`` picks the format from the file name: ``.graphml`` (Gephi, Cytoscape, yEd) or
``.json`` (networkx node-link JSON, what d3 reads). Pure Python: no Streamlit, no SQL.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from .run_facts import solved_nodes
from .tree import Tree

GRAPH_FORMATS = (".graphml", ".json")


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    """Drop None (GraphML cannot say null); keep str / int / float / bool as they are."""
    return {k: v for k, v in attrs.items() if v is not None}


def _num(x: float | None) -> float | None:
    """One type per attribute (GraphML declares it once): values are floats, never int-or-float."""
    return None if x is None else float(x)


def to_networkx(tree: Tree, prefix: str = "") -> nx.DiGraph:
    """The tree as a DiGraph. ``prefix`` (e.g. ``"7:"``) makes node keys strings unique across
    runs, for a graph of several runs; without it the keys are the tree's integer node ids."""
    on_path = solved_nodes(tree)
    info = tree.info or {}
    g = nx.DiGraph(**_clean({
        "run_id": tree.run_id, "task": info.get("task"), "problem": info.get("problem"),
        "strategy": info.get("strategy"), "outcome": tree.outcome, "answer": tree.answer,
        "answer_node": tree.answer_node}))

    def key(nid: int) -> int | str:
        return f"{prefix}{nid}" if prefix else nid

    for n in tree.nodes.values():
        g.add_node(key(n.id), **_clean({
            "text": n.text, "step": n.step, "label": n.label, "role": n.role, "state": n.state,
            "reason": n.reason, "depth": n.depth, "value": _num(n.value), "visits": n.visits,
            "mean_value": _num(n.mean_value), "truth": n.truth, "answer": n.answer, "mark": n.mark,
            "prompt_tokens": n.prompt_tokens, "completion_tokens": n.completion_tokens,
            "tokens": n.prompt_tokens + n.completion_tokens, "on_solved_path": n.id in on_path,
            "run_id": tree.run_id if prefix else None}))
    for n in tree.nodes.values():
        if n.parent_id is not None and n.parent_id in tree.nodes:
            g.add_edge(key(n.parent_id), key(n.id))
    return g


def runs_graph(trees: Iterable[Tree]) -> nx.DiGraph:
    """Several runs in one graph (a forest): node keys ``"RUN:NODE"``, each node with its run_id."""
    trees = list(trees)
    if len(trees) == 1:
        return to_networkx(trees[0])
    g = nx.DiGraph(runs=",".join(str(t.run_id) for t in trees))
    for t in trees:
        g.update(to_networkx(t, prefix=f"{t.run_id}:"))
    return g


def write_graph(g: nx.DiGraph, path: str | Path) -> Path:
    """Write ``g`` as GraphML or node-link JSON, chosen by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRAPH_FORMATS:
        raise ValueError(f"out: a graph file must end in {' or '.join(GRAPH_FORMATS)}, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(graph_bytes(g, suffix))
    return path


def graph_bytes(g: nx.DiGraph, suffix: str = ".graphml") -> bytes:
    """The file's contents (for a download button): GraphML or node-link JSON."""
    if suffix == ".json":
        data = nx.node_link_data(g, edges="edges")
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "\n".join(nx.generate_graphml(g)).encode("utf-8")


def read_graph(path: str | Path) -> nx.DiGraph:
    """Read back what :func:`write_graph` wrote (GraphML keys come back as strings)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return nx.node_link_graph(json.loads(path.read_text("utf-8")), directed=True, edges="edges")
    return nx.read_graphml(path)
