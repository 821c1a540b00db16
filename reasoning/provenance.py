"""Who recorded a run: Thinktree's own search, or an outside program.

Kept apart from :mod:`reasoning.run_facts` because the answer depends on what Thinktree knows (the
task and strategy registries), and the strategies themselves use those rules: imports go one way,
registries below, this above.
"""
from __future__ import annotations

from typing import Any

from .strategies import STRATEGIES
from .tasks import TASKS


def recorded_by(info: dict[str, Any] | None) -> str | None:
    """The outside producer of a run, from its ``run_started`` payload (``tree.info`` or a run
    row); None for a run of Thinktree's own search, which the app can start again.

    ``thinktree.Trace`` names itself (``source``); a writer may do the same in an ingested log.
    Otherwise a run whose model is ``external``, or whose task or strategy is not one Thinktree
    knows (a log written by another program and stored with ``cli.py ingest``), is recorded from
    outside and named by what it says of itself."""
    info = info or {}
    source = info.get("source")
    if isinstance(source, str) and source.strip():
        return source.strip()
    model = info.get("model") if isinstance(info.get("model"), dict) else {}
    if model.get("kind") == "external":
        return str(model.get("name") or "an outside program")
    strategy = str(info.get("strategy") or "").split(":", 1)[0].strip()
    if info.get("task") not in TASKS or strategy not in STRATEGIES:
        return "an outside program (cli.py ingest)"
    return None
