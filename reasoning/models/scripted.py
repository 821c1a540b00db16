"""A scripted fake model for unit tests of search logic.

Give it a list of responses (consumed in order) or a function ``prompt -> text``. It streams each
response in small chunks, records every request it received, and honours ``choices`` by
checking that the scripted text is one of them (so tests catch a strategy that asks for a
constrained step and gets something else).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .base import Completion, GenRequest, ModelError, OnChunk


class ScriptedModel:
    mode = "completions"

    def __init__(self, responses: Sequence[str | Exception] | Callable[[GenRequest], str],
                 name: str = "scripted", chunk: int = 4) -> None:
        self.name = name
        self._fn = responses if callable(responses) else None
        self._queue = list(responses) if not callable(responses) else []
        self.requests: list[GenRequest] = []
        self.chunk = chunk
        self.capabilities: dict[str, Any] = {"streaming": True, "constraint": "grammar"}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "scripted", "mode": self.mode}

    def generate(self, req: GenRequest, on_chunk: OnChunk | None = None) -> Completion:
        self.requests.append(req)
        if self._fn is not None:
            text = self._fn(req)
        else:
            if not self._queue:
                raise ModelError("scripted model ran out of responses")
            text = self._queue.pop(0)
        if isinstance(text, Exception):
            raise text
        for i in range(0, len(text), self.chunk):
            if on_chunk:
                on_chunk(text[i:i + self.chunk], "")
        return Completion(text=text, finish_reason="stop", prompt_tokens=len(str(req.prompt)) // 4,
                          completion_tokens=max(1, len(text) // 4))
