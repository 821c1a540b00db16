"""Session glue shared by app.py and the pages: the one cached store, the session's run views
and the sidebar's model. (Components draw; they never open the database — this module does.)

``THINKTREE_DB`` (a path or SQLAlchemy URL; default ./thinktree.db) is resolved on each call, and
the store for that URL is opened once per server process with ``st.cache_resource``. A page
reads a run through :func:`run_view`: one :class:`~reasoning.run_view.RunView` per page slot and
run, kept in the session, so the live tail, replay frames and positions are never folded twice
and every page follows the same rules for when to start over (another run, another database)."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from reasoning.models.config import ModelConfig
from reasoning.run_view import RunView
from runner.views import open_view
from storage import RunFilter as RunFilter  # the runs list's filter: pages reach storage only here
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


def otlp_endpoint() -> str:
    """Where the Model panel's OpenTelemetry switch streams runs ("" when it is off)."""
    return st.session_state.get("otlp_endpoint", "")


def run_view(run_id: int, slot: str) -> RunView:
    """The session's view of ``run_id`` for one page ``slot`` (e.g. "live", "replay", "cmp_a");
    a new view when the slot shows another run or the database changed."""
    store = get_store()
    key = f"{slot}_run_view"
    kept = st.session_state.get(key)
    if kept is None or kept[0] != (run_id, store.url):
        kept = ((run_id, store.url), open_view(store, run_id))
        st.session_state[key] = kept
    return kept[1]


def mark_handler(run_id: int, after: Callable[[], None] | None = None) -> Callable[[int, str], None]:
    """What the inspector's Mark correct / wrong buttons call: store the user's mark on a node of
    ``run_id`` (a message when it cannot be marked), then ``after()`` and a rerun, so the view
    folds the new ``node_marked`` event."""
    def mark(node_id: int, verdict: str) -> None:
        from runner.marks import mark_node
        try:
            mark_node(get_store(), run_id, node_id, verdict)
        except ValueError as e:
            st.error(str(e))
            return
        if after is not None:
            after()
        st.rerun()
    return mark


def recorded_run_on_live(page_title: str) -> str | None:
    """The producer of the run the Live page is about to show, when another program recorded it
    (then there is no model to choose: the sidebar says so instead of offering one)."""
    if page_title != "Live run":
        return None
    run_id = st.session_state.get("live_run_id")
    wanted = st.query_params.get("run")
    if run_id is None and wanted and wanted.isdigit():
        run_id = int(wanted)
    if run_id is None:
        return None
    from runner.views import run_producer
    try:
        store = get_store()
        return run_producer(store, int(run_id)) if store.get_run(int(run_id)) else None
    except Exception:  # noqa: BLE001 - a broken database is reported by app.py itself
        return None


def keep_widget_state(prefix: str) -> None:
    """Keep the values of widgets not drawn on this run (Streamlit forgets them otherwise)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        st.session_state[key] = st.session_state[key]
