"""Thinktree: see how language models reason by search.

Entry point (``streamlit run app.py``): page config, the sidebar (model panel, database in use),
the one cached store, and the page list. To add a page, add one ``st.Page`` line to ``PAGES``.
"""
from __future__ import annotations

import streamlit as st

from app_context import MODEL_KEY, db_url, get_store, keep_widget_state, recorded_run_on_live
from components.live_start import safe_name
from components.model_panel import model_panel
from components.otel_panel import OTLP_KEY, otel_panel
from reasoning import plugins
from storage import StorageError
from storage.db import display_url

PAGES = [
    st.Page("pages/live.py", title="Live run", icon=":material/account_tree:", default=True),
    st.Page("pages/sessions.py", title="Sessions & replay", icon=":material/history:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("pages/experiments.py", title="Experiments", icon=":material/science:"),
    st.Page("pages/export.py", title="Export", icon=":material/dataset:"),
]

st.set_page_config(page_title="Thinktree", page_icon=":material/account_tree:", layout="wide")
plugins.ensure()   # plug-in tasks, strategies and evaluators join the registries (once per process)
page = st.navigation(PAGES)
# less empty room above each page's title, so a tree is in view on a laptop screen (our own CSS,
# no model text)
st.html("<style>[data-testid='stMainBlockContainer'] {padding-top: 2.2rem;}</style>")

with st.sidebar:
    st.title("Thinktree")
    producer = recorded_run_on_live(page.title)
    if producer is None:
        st.session_state[MODEL_KEY] = model_panel()
    else:   # a recorded run: nothing to run, so no model to choose (the choice is kept)
        st.subheader("Model")
        st.caption(f"The run shown was recorded by {safe_name(producer)}; its model is in its settings. "
                   "Start a new run to choose a model.")
        keep_widget_state("model_")
    st.session_state[OTLP_KEY] = otel_panel()
    st.caption(f"Database: {display_url(db_url())}")  # relative, or without its password

try:
    get_store()
except StorageError as e:
    st.error(str(e))
    st.stop()

page.run()
