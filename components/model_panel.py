"""The sidebar's Model panel: embedded default, an OpenAI-compatible endpoint, or the random
baseline (uniformly random legal steps, no server).

Only the *name* of the environment variable holding the API key is kept; the key is read from the
environment when a run starts and shown here masked. Returns a validated ``ModelConfig`` or None
(with the ``ValueError`` message shown)."""
from __future__ import annotations

import os

import streamlit as st

from reasoning.models.config import ModelConfig
from reasoning.models.embedded import INSTALL_HINT
from reasoning.models.embedded import available as embedded_available

EMBEDDED = "Embedded (default, Gemma 3 270M, no key)"
ENDPOINT = "OpenAI-compatible endpoint"
RANDOM = "Baseline: random legal moves (no model, no server)"
PRESETS: dict[str, tuple[str, str]] = {  # name -> (base URL, key variable)
    "OpenAI": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "vLLM": ("http://localhost:8000/v1", ""),
    "llama.cpp": ("http://localhost:8080/v1", ""),
    "Ollama": ("http://localhost:11434/v1", ""),
}


def mask_key(key: str | None) -> str:
    """``sk-…abcd``; short keys show nothing of themselves."""
    if not key:
        return ""
    if len(key) < 12:
        return "…" + "•" * 4
    return f"{key[:3]}…{key[-4:]}"


def _apply_preset() -> None:
    url, env = PRESETS[st.session_state["model_preset"]]
    st.session_state["model_base_url"] = url
    st.session_state["model_key_env"] = env


def model_panel() -> ModelConfig | None:
    st.subheader("Model")
    kind = st.radio("Model source", [EMBEDDED, ENDPOINT, RANDOM], key="model_kind",
                    label_visibility="collapsed")
    if kind == EMBEDDED:
        if not embedded_available():
            st.warning(INSTALL_HINT)
        return ModelConfig()
    if kind == RANDOM:
        st.caption("A floor for every chart: each step is drawn uniformly from the task's legal "
                   "steps (seeded); value prompts get a random verdict. Needs a task with legal "
                   "steps (Game of 24).")
        return ModelConfig(kind="random")
    st.session_state.setdefault("model_preset", "OpenAI")
    st.session_state.setdefault("model_base_url", PRESETS["OpenAI"][0])
    st.session_state.setdefault("model_key_env", PRESETS["OpenAI"][1])
    st.selectbox("Preset", list(PRESETS), key="model_preset", on_change=_apply_preset)
    base_url = st.text_input("Base URL", key="model_base_url")
    model = st.text_input("Model name", key="model_name", placeholder="e.g. gpt-4o-mini")
    key_env = st.text_input("API key environment variable", key="model_key_env",
                            help="The name of the variable, not the key. The key is read from the "
                                 "server's environment when a run starts and is never stored.")
    if key_env.strip():
        value = os.environ.get(key_env.strip())
        if value:
            st.caption(f"{key_env.strip()} is set: {mask_key(value)}")
        else:
            st.warning(f"{key_env.strip()} is not set in the server's environment.")
    mode = st.radio("Mode", ["chat", "completions"], key="model_mode", horizontal=True,
                    help="completions for base models (few-shot prompts), chat for instruct models")
    # a probe's measured slots become the field's value (set before the widget is drawn); only
    # then is the starting value left out (Streamlit warns when a widget gets both), as in
    # run_form._start: a widget drawn without one comes back as 0 if Streamlit drops its state
    slots = st.session_state.pop("model_parallel_probed", None)
    if slots is not None:
        st.session_state["model_parallel"] = slots
    parallel = st.number_input("Requests in flight", min_value=1, max_value=64, step=1,
                               key="model_parallel", **({} if slots is not None else {"value": 1}),
                               help="Model calls a run makes at once (best-of-N chains, beam "
                                    "proposals and values). Match the server's parallel slots "
                                    "(vLLM, llama-server -np N, hosted APIs); the tree is the same "
                                    "for any value.")
    with st.expander("Prices (optional, $ per million tokens)"):
        price_in = st.number_input("input", min_value=0.0, max_value=10_000.0, value=0.0, step=0.1,
                                   key="model_price_in")
        price_out = st.number_input("output", min_value=0.0, max_value=10_000.0, value=0.0, step=0.1,
                                    key="model_price_out")
    try:
        cfg = ModelConfig(kind="endpoint", base_url=base_url.strip(), model=model.strip(),
                          api_key_env=key_env.strip(), mode=mode, price_in=float(price_in),
                          price_out=float(price_out), parallel=int(parallel))
    except ValueError as e:
        st.error(str(e))
        return None
    return probe_panel(cfg)


def probe_panel(cfg: ModelConfig) -> ModelConfig:
    """Probe the endpoint (on request) and show what it supports; the config then uses it."""
    stamp = (cfg.base_url, cfg.model, cfg.api_key_env)
    if st.button("Connect and probe", key="model_probe"):
        from reasoning.models.base import ModelError
        from reasoning.models.probe import probe
        try:
            with st.spinner("Probing the endpoint…"):
                report = probe(cfg.base_url, cfg.model or None,
                               os.environ.get(cfg.api_key_env) if cfg.api_key_env else None, timeout=15)
            st.session_state["model_probe_report"] = (stamp, report)
            slots = report.get("capabilities", {}).get("parallel")
            if isinstance(slots, int) and slots != cfg.parallel:
                st.session_state["model_parallel_probed"] = max(1, min(64, slots))
                st.rerun()   # redraw "Requests in flight" with the measured slots
        except ModelError as e:
            st.session_state.pop("model_probe_report", None)
            st.error(f"probe: {e}")
    saved = st.session_state.get("model_probe_report")
    if not saved or saved[0] != stamp:
        st.caption("Not probed yet: constrained proposals stay off until the endpoint is probed.")
        return cfg
    report = saved[1]
    models = [str(m) for m in report.get("models") or []]
    if models:
        st.caption("Models at this endpoint: " + ", ".join(models[:20]) +
                   (f" … ({len(models)} in all)" if len(models) > 20 else ""))
    lines = [f"{'yes' if v.get('ok') else 'no ':<3}  {k}: {str(v.get('note', ''))[:60]}"
             for k, v in report.get("features", {}).items()]
    st.code("\n".join(lines) or "(nothing reported)", language=None, wrap_lines=True)
    # the field holds the probed slots by now, or what the user chose after the probe
    return cfg.with_probe(report, keep_parallel=True)
