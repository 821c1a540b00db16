"""Who owns a ``running`` row: this machine's name and whether a process on it is still alive.

A run or an experiment marked ``running`` records the ``host`` and ``pid`` of the process that
runs it. On the same host, a pid that no longer exists means the process died (Ctrl-C, a crash, a
server restart) and the row can be closed; a row of another host is never judged from here.
"""
from __future__ import annotations

import os
import socket

HOST = socket.gethostname()


def pid_alive(pid: int | None) -> bool:
    """True if a process ``pid`` exists on this host (one we may not signal counts as alive)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def left_by_dead_process(host: str | None, pid: int | None) -> bool:
    """A row marked running by a process of this host, not this one, that no longer exists."""
    return host == HOST and pid != os.getpid() and not pid_alive(pid)
