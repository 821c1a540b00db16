"""A model call that ends at the run's time limit or on Stop, even while the model is mid-answer.

A model call blocks in the HTTP read until the next chunk (or its own timeout, a minute by
default), so a check between chunks cannot hold a time limit: a silent or slow server would
overshoot it by up to that timeout. Here the call streams in a helper thread while the caller
waits with the deadline. At the deadline (or when ``cancel`` is set) the caller returns at once
with the text streamed so far; the helper is cut off from the run (it may no longer report
chunks) and its stream is closed at its next chunk, or by the request's own timeout.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .models.base import Completion, GenRequest, OnChunk

POLL_S = 0.05  # how often the waiting caller looks at ``cancel``


class StoppedInFlight(Exception):
    """The call was cut off; ``why`` is ``"time limit"`` or ``"cancelled"``."""

    def __init__(self, why: str, partial: str) -> None:
        super().__init__(why)
        self.why, self.partial = why, partial


class _CutOff(Exception):
    """Raised inside the abandoned helper thread to end its stream."""


def call_until(generate: Callable[[GenRequest, OnChunk | None], Completion], req: GenRequest,
               on_chunk: OnChunk | None, deadline: float, cancel: threading.Event | None = None,
               stopped: Callable[[str], Exception] | None = None) -> Completion:
    """``generate(req, on_chunk)``, but return by ``deadline`` (``time.monotonic()`` seconds).

    Chunks reach ``on_chunk`` in order and never after this function returned or raised. At the
    deadline or on cancel it raises ``stopped(why)`` (why: "time limit" / "cancelled"), by default
    :class:`StoppedInFlight` with the text streamed so far; whatever ``generate`` raises (model
    errors, ``on_chunk``'s own exceptions) passes through.
    """
    lock = threading.Lock()
    cut = threading.Event()
    done = threading.Event()
    parts: list[str] = []
    box: dict[str, Any] = {}

    def relay(text: str, reasoning: str) -> None:
        with lock:  # the caller cuts off under this lock: no chunk slips in after it returned
            if cut.is_set():
                raise _CutOff()
            parts.append(text)
            if on_chunk:
                on_chunk(text, reasoning)

    def work() -> None:
        try:
            box["out"] = generate(req, relay)
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            box["err"] = e
        finally:
            done.set()

    threading.Thread(target=work, name="thinktree-model-call", daemon=True).start()
    why = None
    while not done.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            why = "time limit"
        elif cancel is not None and cancel.is_set():
            why = "cancelled"
        if why:
            with lock:
                if done.is_set():  # it finished just now: keep the answer
                    break
                cut.set()
                raise (stopped or (lambda w: StoppedInFlight(w, "".join(parts))))(why)
        done.wait(min(left, POLL_S) if cancel is not None else left)
    if "err" in box:
        raise box["err"]
    return box["out"]
