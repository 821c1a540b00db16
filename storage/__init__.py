"""Storage: the only code that touches the database (SQLAlchemy 2 Core).

``open_store(url)`` gives a :class:`~storage.repo.Store`; migrations run on open.
"""
from .db import StorageError, default_url, make_engine
from .repo import RunWriter, Store, open_store

__all__ = ["StorageError", "Store", "RunWriter", "default_url", "make_engine", "open_store"]
