"""The Live page around its form: what the first screen shows before any run (a tree of the last
stored run, or of a bundled demo run, with a line saying which), how a run recorded by another
program is shown (as recorded: no Run buttons, the producer named), and what a ``?run=ID`` of a
run that is not stored says."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from reasoning.layout import tidy_layout
from reasoning.tree import Tree

from .tree_figure import tree_figure
from .tree_view import PLOTLY_CONFIG

PREVIEW_NODES = 3_000  # a bigger last run is not redrawn on every first screen: the demo is


def _what(tree: Tree) -> str:
    info = tree.info
    return (f"{info.get('strategy', '?')} on {str(info.get('problem', '?'))[:40]}: "
            f"{tree.outcome or 'running'}, {len(tree.nodes)} nodes")


def preview(last_run: dict[str, Any] | None, final_tree: Callable[[int], Tree]) -> None:
    """The first screen's tree: the last stored run, else a demo run, and a line saying which."""
    if last_run is not None and (last_run.get("nodes") or 0) <= PREVIEW_NODES:
        tree = final_tree(int(last_run["id"]))
        what = f"the last run in this database, #{last_run['id']} ({_what(tree)})"
    else:
        from runner.demo import demo_tree
        got = demo_tree()
        if got is None:
            st.caption("Choose a puzzle and a strategy, then press Run. The tree grows here as the "
                       "model proposes steps.")
            return
        tree = got[0]
        what = f"a bundled demo run ({_what(tree)}), not stored in your database"
    st.text(f"What a run looks like — {what}. Press Run and yours grows here.")   # plain text
    if tree.nodes:
        st.plotly_chart(tree_figure(tree, positions=tidy_layout(tree), uirevision="preview"),
                        key="live_preview", config=PLOTLY_CONFIG)


def safe_name(text: str, limit: int = 60) -> str:
    """A name from outside (a producer's ``source``, a URL's run id) for a message that Streamlit
    renders as markdown: letters, digits and a few plain signs only, so it cannot become markup."""
    return re.sub(r"[^\w .:/()@+-]", "", str(text)).replace("_", " ")[:limit] or "?"


def recorded_notice(run_id: int, producer: str) -> bool:
    """A run recorded by ``producer``: said so, with a way back to the form. True: start over."""
    c1, c2 = st.columns([6, 1], vertical_alignment="center")
    c1.info(f"Run {run_id} was recorded by {safe_name(producer)}. It is shown as recorded: Thinktree did "
            "not search it, so it cannot be run again from here (Sessions replays it; Compare and "
            "Export read it like any run).", icon=":material/history:")
    return c2.button("New run", key="live_new_run", help="Back to the form, to start a run of your own")


def missing_run(wanted: str) -> None:
    st.warning(f"Run {safe_name(wanted, 20)} is not in this database: it was never stored here, or it was deleted "
               "(an ingest whose input broke off deletes its unfinished runs). Start a new run "
               "below, or pick a stored one on Sessions & replay.")
