"""Which process wrote a run: this host's name and whether a process id is still alive."""
from __future__ import annotations

import os
import socket

HOST = socket.gethostname()


def pid_alive(pid: int | None) -> bool:
    """Is process ``pid`` of this host still running (a zombie-free check, no signal sent)?"""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
