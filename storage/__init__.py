"""Storage: the only code that touches the database (SQLAlchemy 2 Core).

``open_store(url)`` gives a :class:`~storage.repo.Store`; migrations run on open. What the rest of
Thinktree may read of it is :class:`~storage.interface.Storage` (runs, events, experiments, cell
claims, positions); runs are written only through :mod:`storage.door` (``open_run`` /
``reserve_run`` / ``reopen``).
"""
from .db import StorageError, default_url, make_engine
from .door import RunHandle, open_run, reopen, reserve_run
from .interface import Claims, Experiments, Placements, Storage
from .liveness import pid_alive
from .repo import Store, close_store, open_store
from .run_list import RunFilter, RunPage

__all__ = ["Claims", "Experiments", "Placements", "RunFilter", "RunHandle", "RunPage", "Storage",
           "StorageError", "Store", "close_store", "default_url", "make_engine", "open_run",
           "open_store", "pid_alive", "reopen", "reserve_run"]
