"""Which model a run uses: the embedded default, an OpenAI-compatible endpoint, or the random
baseline (uniformly random legal steps, no server: :mod:`.random_policy`).

The API key is never part of the config: only the *name* of the environment variable that holds
it, so configs can be stored and logged safely.
"""
from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlparse

from .base import ModelError


@dataclass
class ModelConfig:
    kind: str = "embedded"          # "embedded", "endpoint" or "random" (the baseline, no server)
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""           # name of the environment variable holding the key
    mode: str = "completions"       # "completions" (base models) or "chat"
    timeout: float = 60.0
    constraint: str = ""            # "", "grammar" (llama.cpp) or "guided_choice" (vLLM)
    usage_in_stream: bool = False   # ask for a usage chunk (stream_options.include_usage)
    token_count: bool = False       # no usage in streams: count prompts at /extras/tokenize/count

    parallel: int = 1               # model calls a run may have in flight at once (server slots)

    price_in: float = 0.0           # optional: $ per million prompt tokens (for cost figures)
    price_out: float = 0.0          # optional: $ per million generated tokens

    def __post_init__(self) -> None:
        for name in ("price_in", "price_out"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not (0 <= value <= 10_000):
                raise ValueError(f"{name}: must be a price in $ per million tokens from 0 to 10000, "
                                 f"got {value!r}")
        if self.kind not in ("embedded", "endpoint", "random"):
            raise ValueError(f"model kind: must be 'embedded', 'endpoint' or 'random', "
                             f"got {self.kind!r}")
        if self.mode not in ("completions", "chat"):
            raise ValueError(f"mode: must be 'completions' or 'chat', got {self.mode!r}")
        if self.kind == "endpoint":
            url = urlparse(self.base_url or "")
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(f"base_url: must be an http(s) URL, got {self.base_url!r}")
            if not self.model:
                raise ValueError("model: name the model to use at the endpoint")
        if self.constraint not in ("", "grammar", "guided_choice"):
            raise ValueError(f"constraint: must be '', 'grammar' or 'guided_choice', got "
                             f"{self.constraint!r}")
        if isinstance(self.parallel, bool) or not isinstance(self.parallel, int) or \
                not (1 <= self.parallel <= 64):
            raise ValueError(f"parallel: must be a whole number from 1 to 64, got {self.parallel!r}")
        if not (0.5 <= float(self.timeout) <= 3600):
            raise ValueError(f"timeout: must be between 0.5 and 3600 seconds, got {self.timeout!r}")

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """$ for these tokens, or None when no price is set."""
        if not (self.price_in or self.price_out):
            return None
        return (prompt_tokens * self.price_in + completion_tokens * self.price_out) / 1e6

    def with_probe(self, report: dict[str, Any], keep_parallel: bool = False) -> ModelConfig:
        """This config with the capabilities a :func:`~reasoning.models.probe.probe` found:
        the constraint the server really honours, whether it reports usage in streams and, unless
        ``keep_parallel`` (the user chose a number), the parallel slots it measured.
        The mode is switched only when the chosen one does not work there at all."""
        caps = report.get("capabilities", {})
        slots = caps.get("parallel")
        parallel = self.parallel if keep_parallel or not isinstance(slots, int) \
            else max(1, min(64, slots))
        mode = self.mode
        if not caps.get(mode) and caps.get("chat" if mode == "completions" else "completions"):
            mode = "chat" if mode == "completions" else "completions"
        return replace(self, constraint=caps.get("constraint") or "", mode=mode,
                       usage_in_stream=bool(caps.get("usage_in_stream")),
                       token_count=bool(caps.get("token_count")), parallel=parallel)


def make_model(cfg: ModelConfig, api_key: str | None = None):
    """Build the model for ``cfg``. The key comes from ``api_key`` or ``cfg.api_key_env``."""
    if cfg.kind == "embedded":
        from .embedded import embedded_model
        model = embedded_model()
        if cfg.parallel > 1:  # a copy: the shared embedded client stays as it is
            model = copy.copy(model)
            model.capabilities = {**model.capabilities, "parallel": cfg.parallel}
        return model
    if cfg.kind == "random":
        from .random_policy import RandomPolicy
        return RandomPolicy()
    from .openai_client import OpenAIModel
    if api_key is None and cfg.api_key_env:
        api_key = os.environ.get(cfg.api_key_env)
        if not api_key:
            raise ModelError(f"the environment variable {cfg.api_key_env} is not set")
    caps = {"streaming": True, "constraint": cfg.constraint or None,
            "usage_in_stream": cfg.usage_in_stream, "token_count": cfg.token_count,
            "parallel": cfg.parallel}
    return OpenAIModel(cfg.base_url, cfg.model, api_key=api_key, mode=cfg.mode,
                       timeout=cfg.timeout, capabilities=caps)
