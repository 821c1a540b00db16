"""Where benchmarks write their results.

A benchmark run writes under ``./artifacts/benchmarks/`` (git-ignored; ``THINKTREE_BENCH_DIR``
names another folder), so running ``python -m benchmarks`` never changes a tracked file nor the
installed package. The results committed in ``benchmarks/`` (the README quotes them) change only
when asked: ``python -m benchmarks --update`` (or ``THINKTREE_BENCH_UPDATE=1`` for a benchmark
module run on its own). Recorded runs that a benchmark reuses (the effectiveness runs) are read
from both places.
"""
from __future__ import annotations

import os
from pathlib import Path

COMMITTED = Path(__file__).resolve().parent


def updating() -> bool:
    return os.environ.get("THINKTREE_BENCH_UPDATE", "") not in ("", "0")


def scratch() -> Path:
    return Path(os.environ.get("THINKTREE_BENCH_DIR") or Path.cwd() / "artifacts" / "benchmarks")


def output(name: str) -> Path:
    """The file a benchmark writes ``name`` to (its folder made)."""
    folder = COMMITTED if updating() else scratch()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def recorded(name: str) -> list[Path]:
    """Every existing copy of ``name``: the committed one first, then this machine's."""
    return [p for p in (COMMITTED / name, scratch() / name) if p.exists()]
