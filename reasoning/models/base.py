"""The model seam: a request in, streamed chunks out through a callback, one Completion back.

Errors are a small typed hierarchy raised deep down and turned into messages at the edge (the
page or CLI). Every error carries the text streamed before it happened (``partial``) so a failed
node keeps what the model already said.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

OnChunk = Callable[[str, str], None]  # (text, reasoning_text)


@dataclass
class GenRequest:
    """One generation. ``prompt`` is a string (completions mode) or chat messages (chat mode)."""
    prompt: str | list[dict[str, str]]
    max_tokens: int = 64
    temperature: float = 0.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    choices: list[str] | None = None  # if set and supported: constrain output to one of these


@dataclass
class Completion:
    text: str
    reasoning: str = ""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = False


class ModelError(Exception):
    """Base of all model failures. ``partial`` is the text streamed before the failure."""
    kind = "model error"

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial

    def reason(self) -> str:
        return f"{self.kind}: {self}"


class ModelConnectError(ModelError):
    kind = "cannot connect"


class ModelTimeout(ModelError):
    kind = "timeout"


class ModelRateLimited(ModelError):
    kind = "rate limited"


class ModelBadResponse(ModelError):
    kind = "bad response"


class ModelIncomplete(ModelError):
    kind = "incomplete stream"


class Model(Protocol):
    name: str
    mode: str  # "completions" or "chat"
    capabilities: dict[str, Any]

    def generate(self, req: GenRequest, on_chunk: OnChunk | None = None) -> Completion: ...

    def describe(self) -> dict[str, Any]: ...
