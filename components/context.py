"""Session glue shared by app.py and the pages: the one cached store and the sidebar's model.

``THINKTREE_DB`` (a path or SQLAlchemy URL; default ./thinktree.db) is resolved on each call, and
the store for that URL is opened once per server process with ``st.cache_resource``."""
from __future__ import annotations

import streamlit as st

from reasoning.models.config import ModelConfig
from storage import Store, default_url, open_store

MODEL_KEY = "model_config"


@st.cache_resource(show_spinner=False)
def _store_for(url: str) -> Store:
    return open_store(url)


def through_app() -> None:
    """Make sure this page runs inside app.py (sidebar, page config), then return.

    Streamlit treats a folder named ``pages/`` as a legacy (v1) multipage app until app.py
    calls ``st.navigation``. On a freshly started server, a deep link such as
    ``/sessions?run=3`` would therefore run the page file alone: no sidebar, no wide layout, a
    page list built from the folder. Every page calls this first: in that case it switches
    Streamlit to ``st.navigation`` mode and reruns, which goes through app.py and lands on the
    same page with the same query. (Renaming ``pages/`` would avoid this altogether.)
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without this internal: nothing to fix
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def db_url() -> str:
    return default_url()


def get_store() -> Store:
    """The store for the current ``THINKTREE_DB``; raises ``StorageError`` (app.py shows it).

    Every page asks for the store first, so this is also where a page opened outside app.py is
    sent back through it (see ``through_app``)."""
    through_app()
    return _store_for(db_url())


def model_config() -> ModelConfig | None:
    """The config built by the sidebar's Model panel in this session (None when invalid)."""
    return st.session_state.get(MODEL_KEY, ModelConfig())
