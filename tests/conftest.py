"""Shared fixtures.

* ``embedded_url`` — ONE real embedded model server for the whole test session (started through
  the same code the app uses); its URL is exported as ``THINKTREE_EMBEDDED_URL`` so subprocesses
  (CLI, ``streamlit run``) reuse it instead of starting their own.
* ``store`` — a real SQLite file in a temporary folder.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def embedded_url() -> str:
    from reasoning.models.embedded import _SERVER
    url = os.environ.get("THINKTREE_EMBEDDED_URL") or _SERVER.start()
    os.environ["THINKTREE_EMBEDDED_URL"] = url
    return url


@pytest.fixture
def embedded_model(embedded_url):
    from reasoning.models.embedded import embedded_model as make
    return make()


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "thinktree-test.db")


@pytest.fixture
def store(db_path):
    from storage import open_store
    return open_store(db_path)
