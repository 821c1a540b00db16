"""Storage: the only code that touches the database (SQLAlchemy 2 Core).

``open_store(url)`` gives a :class:`~storage.repo.Store`; migrations run on open. What the rest of
Thinktree may use of it is :class:`~storage.interface.Storage` (runs, events, experiments, cell
claims, positions).
"""
from .db import StorageError, default_url, make_engine
from .interface import Claims, Experiments, Placements, Storage
from .liveness import pid_alive
from .repo import RunWriter, Store, close_store, open_store
from .run_list import RunFilter, RunPage

__all__ = ["Claims", "Experiments", "Placements", "RunFilter", "RunPage", "RunWriter", "Storage",
           "StorageError", "Store", "close_store", "default_url", "make_engine", "open_store",
           "pid_alive"]
