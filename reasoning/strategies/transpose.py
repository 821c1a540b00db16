"""Transpositions: a state reached again by another order of steps is searched once.

The first node to reach a state (by the task's ``state_key``) owns it; a later node with the same
key is pruned with the reason "duplicate state: same as node N" and ``duplicate_of`` N, so the
tree shows where the search already went instead of searching that subtree again.
"""
from __future__ import annotations

from collections.abc import Hashable

from ..engine import SearchContext


class Transpositions:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.first: dict[Hashable, int] = {}

    def add(self, ctx: SearchContext, node_id: int) -> None:
        """Register a node that is searched anyway (e.g. the root)."""
        key = self._key(ctx, node_id)
        if key is not None:
            self.first.setdefault(key, node_id)

    def duplicate(self, ctx: SearchContext, node_id: int) -> int | None:
        """The first node with ``node_id``'s state (and ``node_id`` is pruned), or None (and
        ``node_id`` now owns its state)."""
        key = self._key(ctx, node_id)
        if key is None:
            return None
        first = self.first.setdefault(key, node_id)
        if first == node_id:
            return None
        ctx.prune(node_id, f"duplicate state: same as node {first}", kind="duplicate",
                  duplicate_of=first)
        return first

    def _key(self, ctx: SearchContext, node_id: int) -> Hashable | None:
        state = ctx.states.get(node_id)
        if not self.enabled or state is None or ctx.task.is_terminal(state):
            return None  # a terminal is judged by the verifier, never skipped
        return ctx.task.state_key(state)
