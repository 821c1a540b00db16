"""The event model: the single source of truth for a run.

Every event carries ``run_id``, ``seq`` (1, 2, 3 … per run, no gaps), ``t`` (seconds since
the run started), ``type``, ``node_id`` (or ``None`` for run-level events) and a small JSON
``payload``. Events are immutable and round-trip through JSON exactly.

We use one frozen dataclass with a validated ``type`` rather than a class per type: the
payload is already free-form JSON in storage, and consumers switch on ``type`` anyway.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

RUN_STARTED = "run_started"
NODE_CREATED = "node_created"
TOKENS = "tokens"
NODE_COMPLETED = "node_completed"
NODE_SCORED = "node_scored"
NODE_PRUNED = "node_pruned"
NODE_BACKTRACKED = "node_backtracked"
NODE_SOLVED = "node_solved"
NODE_FAILED = "node_failed"
NODE_MARKED = "node_marked"  # a user's verdict on a terminal node, after the run
MCTS_BACKPROP = "mcts_backprop"
RUN_FINISHED = "run_finished"

EVENT_TYPES = frozenset({
    RUN_STARTED, NODE_CREATED, TOKENS, NODE_COMPLETED, NODE_SCORED, NODE_PRUNED,
    NODE_BACKTRACKED, NODE_SOLVED, NODE_FAILED, NODE_MARKED, MCTS_BACKPROP, RUN_FINISHED,
})

# "answered": the run ended on an answer that no verifier could judge (free questions)
OUTCOMES = ("solved", "failed", "budget", "error", "cancelled", "interrupted", "answered")


@dataclass(frozen=True)
class Event:
    run_id: int | str
    seq: int
    t: float
    type: str
    node_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.seq < 1:
            raise ValueError(f"seq must be >= 1, got {self.seq}")

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "seq": self.seq, "t": self.t, "type": self.type,
                "node_id": self.node_id, "payload": self.payload}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(run_id=d["run_id"], seq=int(d["seq"]), t=float(d["t"]), type=d["type"],
                   node_id=d.get("node_id"), payload=dict(d.get("payload") or {}))

    @classmethod
    def from_json(cls, s: str) -> Event:
        return cls.from_dict(json.loads(s))
