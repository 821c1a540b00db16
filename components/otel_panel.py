"""The Model panel's OpenTelemetry switch: stream the runs started here as OTLP traces.

Only the endpoint is kept (in the session); the run's worker sends the spans (see
``runner.otlp_export.LiveOtlp`` and ``docs/otel.md``). Returns the endpoint, or "" when off."""
from __future__ import annotations

import os

import streamlit as st

OTLP_KEY = "otlp_endpoint"


def otel_panel() -> str:
    on = st.toggle("Stream runs as OpenTelemetry traces", key="otlp_live",
                   help="Each run started here is also sent, while it runs, as an OpenTelemetry "
                        "trace (OTLP/HTTP) to the endpoint: Phoenix, Jaeger, an OTel Collector, "
                        "or another Thinktree's serve-otlp.")
    if not on:
        return ""
    st.session_state.setdefault("otlp_url", os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                                or "http://127.0.0.1:4318")
    url = st.text_input("OTLP/HTTP endpoint", key="otlp_url",
                        help="/v1/traces is added when missing (Phoenix: http://127.0.0.1:6006)")
    return url.strip()
