"""The event model: the single source of truth for a run, and a public format.

Every event is an envelope — ``run_id``, ``seq`` (1, 2, 3 … per run, no gaps), ``t`` (seconds
since the run started), ``type``, ``node_id`` (``None`` for run-level events) — around a payload.
The payload of each type is a frozen dataclass with typed fields (:class:`NodeCreated`,
:class:`NodePruned` …); storage keeps it as the JSON object ``to_payload()`` returns, and
``from_payload`` reads it back. ``docs/events.md`` documents every type and field.

Readers are lenient towards newer writers: an event of an unknown type decodes to
:class:`Unknown`, and fields a type does not know are kept in its ``extra`` — both are stored,
folded (shown on the node or the tree) and written out again unchanged, never dropped.
``decode(..., validate=True)`` (used for outside input: ``cli.py ingest``) additionally checks the
type of every known field and raises :class:`EventFormatError` naming the field.

Format versions: 1 = runs written before the typed events (no ``format_version`` in
``run_started``; the payloads are the same), 2 = typed events, 3 = today's: ``run_finished``
holds one ``metrics`` mapping for the figures of the run's strategy and evaluators (versions
1 and 2 wrote them at the top: ``reasoning.figures.upgrade_run_finished`` reads them the new way).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from .figures import metrics_problem, upgrade_run_finished

FORMAT_VERSION = 3

RUN_STARTED = "run_started"
NODE_CREATED = "node_created"
TOKENS = "tokens"
NODE_COMPLETED = "node_completed"
NODE_SCORED = "node_scored"
NODE_PRUNED = "node_pruned"
NODE_BACKTRACKED = "node_backtracked"
NODE_SOLVED = "node_solved"
NODE_FAILED = "node_failed"
NODE_MARKED = "node_marked"  # a user's verdict on an answer node, after the run
MCTS_BACKPROP = "mcts_backprop"
RUN_FINISHED = "run_finished"

# "answered": the run ended on an answer that no verifier could judge (free questions)
OUTCOMES = ("solved", "failed", "budget", "error", "cancelled", "interrupted", "answered")
MARKS = ("correct", "wrong")


class EventFormatError(ValueError):
    """An event that does not follow the format (only raised when validating outside input)."""


# -- payloads ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Payload:
    """Base of every typed payload. ``extra`` holds fields this version does not know."""
    TYPE: ClassVar[str] = ""
    NODE: ClassVar[bool] = True          # does the event belong to a node (node_id required)?
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    def to_payload(self) -> dict[str, Any]:
        """The JSON object stored for this payload: known fields (``None`` left out) + extra."""
        out = {k: v for k, v in self.extra.items()}
        for name, _ in _fields(type(self)):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_payload(cls, d: dict[str, Any], validate: bool = False) -> Payload:
        known = _fields(cls)
        names = {n for n, _ in known}
        kwargs = {k: v for k, v in d.items() if k in names}
        if validate:
            for name, check in known:
                if name in kwargs and not check(kwargs[name]):
                    raise EventFormatError(
                        f"{cls.TYPE}: field {name!r} has the wrong type ({kwargs[name]!r})")
        missing = [n for n in _required(cls) if n not in kwargs]
        if missing:
            if validate:
                raise EventFormatError(f"{cls.TYPE}: missing field(s) {', '.join(missing)}")
            kwargs.update((n, "") for n in missing)  # stored logs are read, never refused
        return cls(**kwargs, extra={k: v for k, v in d.items() if k not in names})


@dataclass(frozen=True)
class RunStarted(Payload):
    """What was run: task, problem, strategy and its settings, model, budget, seed, protocol."""
    TYPE: ClassVar[str] = RUN_STARTED
    NODE: ClassVar[bool] = False
    task: str
    problem: str
    strategy: str
    problem_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    protocol: str | None = None
    task_file: str | None = None
    price_in: float | None = None    # $ per million prompt tokens, when the user priced the model
    price_out: float | None = None   # $ per million generated tokens
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_payload(cls, d: dict[str, Any], validate: bool = False) -> Payload:
        # runs written before the typed events carry no version: they are format 1
        return super().from_payload({"format_version": 1, **d}, validate)


@dataclass(frozen=True)
class NodeCreated(Payload):
    """A node appears (state ``generating`` unless ``state`` says otherwise)."""
    TYPE: ClassVar[str] = NODE_CREATED
    parent_id: int | None = None
    depth: int = 0
    role: str = "thought"   # problem / thought / rollout / reflection / answer …
    label: str | None = None
    state: str | None = None
    notes: list[int] | None = None   # reflection nodes whose text was in this node's prompt


@dataclass(frozen=True)
class Tokens(Payload):
    """Streamed text appended to a node (batched, about every 100 ms)."""
    TYPE: ClassVar[str] = TOKENS
    text: str = ""
    reasoning: str | None = None


@dataclass(frozen=True)
class NodeCompleted(Payload):
    """A node's generation ended: its full text, parsed step, tokens and finish reason."""
    TYPE: ClassVar[str] = NODE_COMPLETED
    text: str = ""
    step: str | None = None
    label: str | None = None
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool | None = None
    terminal: bool | None = None     # the node ends with an answer (what a user may mark)
    answer: str | None = None
    purpose: str | None = None       # what the model call was for: proposal, rollout, answer …
    call_text: str | None = None     # protocol tot: the whole output of the call whose line this is
    call_lines: int | None = None    # … and how many lines (children) it gave


@dataclass(frozen=True)
class NodeScored(Payload):
    """An evaluator's value for a node (native scale), its details and, where known, the truth."""
    TYPE: ClassVar[str] = NODE_SCORED
    value: float | None = None
    evaluator: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    truth: bool | None = None        # exact solvability of the node's state
    visits: int | None = None
    value_sum: float | None = None
    reason: str | None = None        # a score may explain itself (majority vote)


@dataclass(frozen=True)
class NodePruned(Payload):
    """The search cut the node: below threshold, outside the beam, invalid step, duplicate …"""
    TYPE: ClassVar[str] = NODE_PRUNED
    reason: str = ""
    value: float | None = None
    kind: str | None = None          # threshold / capacity / invalid / duplicate
    duplicate_of: int | None = None  # the node that first reached the same state


@dataclass(frozen=True)
class NodeBacktracked(Payload):
    """The search returned from the node: a dead end, children exhausted, rejected."""
    TYPE: ClassVar[str] = NODE_BACKTRACKED
    reason: str = ""
    value: float | None = None


@dataclass(frozen=True)
class _Verdict(Payload):
    reason: str = ""
    answer: str | None = None
    value: float | None = None


@dataclass(frozen=True)
class NodeSolved(_Verdict):
    """A terminal node the verifier accepted."""
    TYPE: ClassVar[str] = NODE_SOLVED


@dataclass(frozen=True)
class NodeFailed(_Verdict):
    """A terminal node the verifier rejected, or a node whose generation failed."""
    TYPE: ClassVar[str] = NODE_FAILED


@dataclass(frozen=True)
class NodeMarked(Payload):
    """A user's verdict on an answer node after the run: ``correct`` or ``wrong``."""
    TYPE: ClassVar[str] = NODE_MARKED
    mark: str

    @classmethod
    def from_payload(cls, d: dict[str, Any], validate: bool = False) -> Payload:
        data = super().from_payload(d, validate)
        if validate and data.mark not in MARKS:
            raise EventFormatError(f"node_marked: field 'mark' must be one of {', '.join(MARKS)}, "
                                   f"got {data.mark!r}")
        return data


@dataclass(frozen=True)
class MctsBackprop(Payload):
    """One MCTS backpropagation: the reward and each node's new visits and value sum."""
    TYPE: ClassVar[str] = MCTS_BACKPROP
    reward: float = 0.0
    path: list[int] = field(default_factory=list)
    updates: list[list[float]] = field(default_factory=list)   # [node_id, visits, value_sum]


@dataclass(frozen=True)
class RunFinished(Payload):
    """The run ended: outcome, answer and the totals the run summary reports."""
    TYPE: ClassVar[str] = RUN_FINISHED
    NODE: ClassVar[bool] = False
    outcome: str
    answer: str | None = None
    answer_node: int | None = None
    detail: str = ""
    nodes: int = 0
    tokens: int = 0                  # generated tokens (nodes + evaluator calls)
    prompt_tokens: int = 0
    model_calls: int = 0
    model_seconds: float | None = None
    seconds: float = 0.0
    traceback: str | None = None
    # compute by purpose (reasoning/compute.py): proposal / value / rollout / answer / reflection
    completion_tokens: int | None = None     # = tokens (generated), counted call by call
    calls_by_purpose: dict | None = None     # {purpose: calls}
    tokens_by_purpose: dict | None = None    # {purpose: {"prompt": n, "completion": n}}
    cost: float | None = None                # $ when the run is priced
    cost_by_purpose: dict | None = None      # {purpose: $}
    # figures of the run's strategy and evaluators (reasoning.figures): name -> number, bool, list
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, d: dict[str, Any], validate: bool = False) -> Payload:
        d = upgrade_run_finished(d)       # versions 1 and 2: figures into metrics
        problem = metrics_problem(d["metrics"])
        if problem and validate:
            raise EventFormatError(f"run_finished: {problem}")
        if not isinstance(d["metrics"], dict):
            d["metrics"] = {}    # stored logs are read, never refused
        return super().from_payload(d, validate)

    @classmethod
    def interrupted(cls) -> RunFinished:
        """The closing event written for a run whose process died."""
        return cls(outcome="interrupted", detail="the process running it stopped")


@dataclass(frozen=True)
class Unknown(Payload):
    """An event of a type this version does not know (a newer writer): kept as it is."""
    NODE: ClassVar[bool] = False
    type: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return dict(self.fields)


PAYLOADS: dict[str, type[Payload]] = {cls.TYPE: cls for cls in (
    RunStarted, NodeCreated, Tokens, NodeCompleted, NodeScored, NodePruned, NodeBacktracked,
    NodeSolved, NodeFailed, NodeMarked, MctsBackprop, RunFinished)}
EVENT_TYPES = frozenset(PAYLOADS)


def decode(type_: str, payload: dict[str, Any], validate: bool = False) -> Payload:
    """The typed payload of an event; an unknown type gives :class:`Unknown`."""
    cls = PAYLOADS.get(type_)
    if cls is None:
        return Unknown(type=type_, fields=dict(payload))
    return cls.from_payload(payload, validate)


# -- the envelope ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    run_id: int | str
    seq: int
    t: float
    type: str
    node_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise ValueError(f"event type must be a non-empty string, got {self.type!r}")
        if self.seq < 1:
            raise ValueError(f"seq must be >= 1, got {self.seq}")

    @classmethod
    def of(cls, run_id: int | str, seq: int, t: float, data: Payload,
           node_id: int | None = None) -> Event:
        """An event around a typed payload."""
        type_ = data.type if isinstance(data, Unknown) else data.TYPE
        e = cls(run_id, seq, t, type_, node_id, data.to_payload())
        e.__dict__["data"] = data  # already typed: no need to decode again
        return e

    @cached_property
    def data(self) -> Payload:
        """The typed payload (decoded once, leniently)."""
        return decode(self.type, self.payload)

    @property
    def known(self) -> bool:
        return self.type in PAYLOADS

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


def validate_event(e: Event) -> Payload:
    """Check an event from outside (ingest): envelope and every known field; its typed payload.

    Unknown types and unknown fields pass (they are kept); wrong types and missing required
    fields raise :class:`EventFormatError`.
    """
    if not isinstance(e.payload, dict):
        raise EventFormatError("payload must be a JSON object")
    if not isinstance(e.t, (int, float)) or e.t < 0:
        raise EventFormatError(f"t must be a number >= 0, got {e.t!r}")
    data = decode(e.type, e.payload, validate=True)
    if e.known and data.NODE and not isinstance(e.node_id, int):
        raise EventFormatError(f"{e.type}: node_id must be an integer, got {e.node_id!r}")
    return data


# -- field type checks (computed once per class) ------------------------------------------------------
_FIELD_CACHE: dict[type, tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, checker) for every field of a payload class except ``extra``."""
    got = _FIELD_CACHE.get(cls)
    if got is None:
        hints = typing.get_type_hints(cls)
        got = tuple((f.name, _checker(hints[f.name])) for f in dataclasses.fields(cls)
                    if f.name != "extra")
        _FIELD_CACHE[cls] = got
    return got


@functools.cache
def _required(cls: type) -> tuple[str, ...]:
    """Fields without a default (all strings: task, problem, strategy, outcome, mark)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                 and f.default_factory is dataclasses.MISSING and f.name != "extra")


def _checker(tp: Any):
    if tp is Any:
        return lambda v: True
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        checks = [_checker(a) for a in typing.get_args(tp)]
        return lambda v: any(c(v) for c in checks)
    if tp is type(None):
        return lambda v: v is None
    base = origin or tp
    if base is float:
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if base is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    return lambda v: isinstance(v, base)
