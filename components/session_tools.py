"""Sessions page helpers: the empty database's offer of the demo sessions, and a run's graph as
a file (networkx: GraphML or node-link JSON). Drawing only; the page passes what stores."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from reasoning.graph import graph_bytes, to_networkx
from reasoning.tree import Tree

DEMO_TEXT = ("No runs stored yet. Start one on the Live run page, or load the demo sessions: real "
             "runs recorded from the embedded model (a Game of 24 puzzle where greedy fails and MCTS "
             "solves it, a beam search that prunes, a DFS that backtracks, a small experiment).")


def demo_offer(load: Callable[[], dict[str, Any]]) -> None:
    """Shown on an empty database: one button that loads the bundled demo sessions."""
    st.info(DEMO_TEXT)
    if st.button("Load the demo sessions", type="primary", key="load_demo",
                 icon=":material/download:"):
        made = load()
        st.toast(f"Loaded {len(made['runs'])} demo runs and {len(made['experiments'])} experiment(s).")
        st.rerun()


GRAPH_FILE_NODES = 20_000   # past this, the files are made by the CLI (seconds of work per file)


def _file(tree: Tree, suffix: str):
    """The graph file, made only when its button is clicked (a big run's GraphML takes seconds,
    which every first draw of the replay used to pay)."""
    return lambda: graph_bytes(to_networkx(tree), suffix)


def graph_downloads(tree: Tree) -> None:
    """The whole run as a networkx graph file, for Gephi, Cytoscape, d3 or a notebook."""
    if len(tree.nodes) > GRAPH_FILE_NODES:
        st.caption(f"Graph file: `python cli.py export graph --runs {tree.run_id} --out "
                   f"run.graphml` (or .json)")
        return
    name = f"thinktree-run-{tree.run_id}"
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button("Graph (GraphML)", _file(tree, ".graphml"), f"{name}.graphml",
                       "application/graphml+xml", key="graph_graphml", icon=":material/hub:")
    c2.download_button("Graph (JSON)", _file(tree, ".json"), f"{name}.json", "application/json",
                       key="graph_json", icon=":material/data_object:")
