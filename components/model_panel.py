"""The sidebar's Model panel: embedded default or an OpenAI-compatible endpoint.

Only the *name* of the environment variable holding the API key is kept; the key is read from the
environment when a run starts and shown here masked. Returns a validated ``ModelConfig`` or None
(with the ``ValueError`` message shown)."""
from __future__ import annotations

import os

import streamlit as st

from reasoning.models.config import ModelConfig

EMBEDDED = "Embedded (default, Gemma 3 270M, no key)"
ENDPOINT = "OpenAI-compatible endpoint"
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
    kind = st.radio("Model source", [EMBEDDED, ENDPOINT], key="model_kind", label_visibility="collapsed")
    if kind == EMBEDDED:
        return ModelConfig()
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
    try:
        return ModelConfig(kind="endpoint", base_url=base_url.strip(), model=model.strip(),
                           api_key_env=key_env.strip(), mode=mode)
    except ValueError as e:
        st.error(str(e))
        return None
