"""How a strategy's tree grows, as plain data a strategy returns from ``layout_hint(params)``
and the layout (:mod:`reasoning.layout`) reads: strategies know nothing of drawing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Growth:
    """``family(tree, node)``: how many child slots a node with children keeps (its later
    children then land in empty slots and nothing moves); ``family_gap``: units between
    neighbouring families on a level (2 leaves one free slot where a family can grow)."""
    family: Callable[[Any, Any], int] | None = None
    family_gap: float = 1.0

    @classmethod
    def every_family(cls, slots: int, family_gap: float = 1.0) -> Growth:
        """Every node with children keeps ``slots`` child slots (its children arrive together)."""
        return cls(lambda tree, n: slots, family_gap)

    @classmethod
    def root_family(cls, slots: int, family_gap: float = 1.0) -> Growth:
        """The root keeps ``slots`` child slots; deeper families grow one child at a time."""
        return cls(lambda tree, n: slots if n.parent_id is None else 1, family_gap)


def int_setting(params: Mapping, name: str, default: int) -> int:
    """A strategy setting as a slot count from 1 to 16 (``default`` when missing or unreadable)."""
    try:
        return max(1, min(16, int(params.get(name, default))))
    except (TypeError, ValueError):
        return default
