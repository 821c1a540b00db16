"""Train / validation split by problem: a problem's rows all land on one side."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from ..tree import Tree
from .common import problem_key


def _unit_hash(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(16 ** 12)


def is_validation(key: str, fraction: float) -> bool:
    """Deterministic split by problem: the same problem always lands on the same side."""
    return fraction > 0 and _unit_hash(key) < fraction


def problem_keys(trees: Iterable[Tree]) -> set[str]:
    """The problems of a selection of runs (the universe a split is drawn from)."""
    return {problem_key(t.info) for t in trees}


def split_rows(rows: list[dict[str, Any]], fraction: float,
               universe: set[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(train, validation) by problem: a problem's rows are all on one side.

    A problem goes to validation when the hash of its key is below ``fraction``. With few
    problems that can leave one side empty; then (two problems or more) the problem with the
    lowest hash goes to validation, or the one with the highest back to train. ``universe``:
    the problems of the whole selection (:func:`problem_keys`), so that pairs, values and traces
    exported from the same runs put every problem on the same side.
    """
    if not (0.0 <= fraction < 1.0):
        raise ValueError(f"split: must be from 0 to below 1, got {fraction!r}")
    keys = universe if universe is not None else {problem_key(r) for r in rows}
    val_keys = {k for k in keys if is_validation(k, fraction)}
    if fraction > 0 and len(keys) >= 2:
        if not val_keys:
            val_keys = {min(keys, key=_unit_hash)}
        elif val_keys == keys:
            val_keys = keys - {max(keys, key=_unit_hash)}
    train = [r for r in rows if problem_key(r) not in val_keys]
    return train, [r for r in rows if problem_key(r) in val_keys]


