"""Thinktree as a library: record a search tree from your own code (:class:`Trace`).

    from thinktree import Trace

The trace writes the same runs and events as Thinktree's own searches, so the Live page, Sessions,
Compare and the exports work on it unchanged. See the README ("Record any search").
"""
from .trace import Trace, TraceError

__all__ = ["Trace", "TraceError"]
