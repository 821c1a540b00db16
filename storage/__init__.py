"""Storage: the only code that touches the database (SQLAlchemy 2 Core).

``open_store(url)`` gives a :class:`~storage.repo.Store`; migrations run on open. Runs are
written only through :mod:`storage.door` (``open_run`` / ``reserve_run`` / ``reopen``).
"""
from .db import StorageError, default_url, make_engine
from .door import RunHandle, open_run, reopen, reserve_run
from .repo import Store, open_store

__all__ = ["StorageError", "Store", "RunHandle", "default_url", "make_engine", "open_run",
           "open_store", "reopen", "reserve_run"]
