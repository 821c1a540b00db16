"""What runs (or experiments) this process is running, each with the Event that stops it.

Pages and the CLI ask ``stop(id)``; a worker registers with ``add`` and leaves with ``discard``.
A registry per kind of work; ids are only unique within one."""
from __future__ import annotations

import threading


class CancelRegistry:
    def __init__(self) -> None:
        self._events: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def add(self, key: int, cancel: threading.Event | None = None) -> threading.Event:
        cancel = cancel or threading.Event()
        with self._lock:
            self._events[key] = cancel
        return cancel

    def discard(self, key: int, cancel: threading.Event | None = None) -> None:
        """Forget ``key`` (only if it is still registered with ``cancel``, when given)."""
        with self._lock:
            if cancel is None or self._events.get(key) is cancel:
                self._events.pop(key, None)

    def stop(self, key: int) -> bool:
        """Set the key's cancel event; False if this process is not running it."""
        with self._lock:
            cancel = self._events.get(key)
        if cancel is None:
            return False
        cancel.set()
        return True

    def __contains__(self, key: int) -> bool:
        with self._lock:
            return key in self._events

    def keys(self) -> list[int]:
        with self._lock:
            return list(self._events)
