"""Model access: one small seam (``Model.generate``) and its implementations.

* :mod:`.openai_client` — any OpenAI-compatible endpoint via the ``openai`` package.
* :mod:`.embedded` — starts the bundled llama.cpp server with Gemma 3 270M (the default).
* :mod:`.scripted` — a scripted fake for unit tests of search logic (never used by the app).
"""
from .base import (
                   Completion,
                   GenRequest,
                   Model,
                   ModelBadResponse,
                   ModelConnectError,
                   ModelError,
                   ModelIncomplete,
                   ModelRateLimited,
                   ModelTimeout,
)

__all__ = ["Completion", "GenRequest", "Model", "ModelError", "ModelConnectError", "ModelTimeout",
           "ModelRateLimited", "ModelBadResponse", "ModelIncomplete"]
