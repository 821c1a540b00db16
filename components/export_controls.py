"""The Export page's widgets: the row filters and the per-kind counts line."""
from __future__ import annotations

from typing import Any

import streamlit as st


def filter_settings(prompt_formats: list[str] | tuple[str, ...]) -> tuple[dict[str, Any], float]:
    """The filter widgets: (``reasoning.export.Filters`` keyword arguments, validation share)."""
    c1, c2, c3, c4 = st.columns(4)
    only_solved = c1.checkbox("Only solved runs", key="export_only_solved")
    dedupe = c1.checkbox("Drop duplicate rows", value=True, key="export_dedupe")
    min_depth = c2.number_input("Min depth (0 = any)", 0, 100, 0, key="export_min_depth")
    max_depth = c2.number_input("Max depth (0 = any)", 0, 100, 0, key="export_max_depth")
    prompt_format = c3.selectbox("Prompt", prompt_formats, key="export_prompt_format",
                                 help="task: the task's completions prompt (what the model saw); "
                                      "chat: messages; plain: problem + steps so far")
    include_open = c3.checkbox("Pairs: also untried siblings", key="export_include_open",
                               help="Reject open siblings the search never tried (no rollout below them)")
    whole = c4.checkbox("Traces: whole exploration", key="export_whole",
                        help="The exploration with its dead ends and backtracks as one chain of thought")
    split = c4.slider("Validation share (by problem)", 0.0, 0.5, 0.0, 0.05, key="export_split")
    return ({"only_solved": only_solved, "dedupe": dedupe, "min_depth": min_depth or None,
             "max_depth": max_depth or None, "prompt_format": prompt_format,
             "include_open": include_open, "whole": whole}, split)


def counts_caption(counts: dict[str, Any], n_train: int, n_val: int) -> None:
    st.caption(f"{counts['rows']} rows from {counts['runs_with_rows']} of {counts['runs']} "
               f"runs, {counts['problems']} problems · train {n_train} · validation "
               f"{n_val} · duplicates dropped {counts['duplicates']} · outside the depth "
               f"filter {counts['filtered']}")
    if counts["reasons"]:
        st.caption("Runs that gave nothing, and why:")
        st.json(counts["reasons"])
