"""Thinktree's search engine: pure Python, no Streamlit, no database.

Data flow: a strategy drives a task and a model and *emits events*;
``tree.fold(events)`` turns any prefix of those events into a :class:`~reasoning.tree.Tree`.
Live view, replay, storage, export and compare are all consumers of the same event stream.
"""
