"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp, Ollama) through the ``openai`` package.

Streaming always. Completions mode for base models (few-shot prompts), chat mode for instruct and
reasoning models; reasoning text streamed in ``reasoning_content`` / ``reasoning`` is kept apart.
Retries (done by the ``openai`` client, which honours ``Retry-After``) happen only before the first
byte; a half-streamed answer is never silently re-run. A stream that ends without a
``finish_reason`` raises :class:`ModelIncomplete`.

Servers that stream no usage (llama.cpp's Python server) get their prompt tokens counted by the
server's own tokenizer (``POST /extras/tokenize/count``, capability ``token_count``), once per
distinct prompt; completion tokens are then the number of streamed chunks (about one token each).
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import OrderedDict
from typing import Any

import openai

from .base import (
    Completion,
    GenRequest,
    ModelBadResponse,
    ModelConnectError,
    ModelError,
    ModelIncomplete,
    ModelRateLimited,
    ModelTimeout,
    OnChunk,
)

NO_KEY = "sk-no-key-needed"
# An answer longer than this many characters per requested token (or MIN_CHAR_CAP) is cut.
CHARS_PER_TOKEN_CAP = 32
MIN_CHAR_CAP = 20_000
COUNT_CACHE = 512  # distinct prompts whose token count is remembered


class _FromCallback(Exception):
    """Carries an exception raised by ``on_chunk`` past the transport-error handlers below."""


def choices_grammar(choices: list[str]) -> str:
    """A GBNF grammar (llama.cpp) accepting exactly one of ``choices``.

    The choices are factored into a prefix tree (``"10 " ("* " (…) | "+ " (…))`` rather than 36
    whole alternatives): llama.cpp checks every vocabulary token against every live alternative
    at each step, so fewer alternatives make each constrained token cheaper (Game of 24's first
    step on Gemma's 262k-token vocabulary: 2.0 s a call against 2.5 s, one thread). The language is
    the same, so the same seed writes the same step."""
    tree: dict[str, dict] = {}
    for choice in dict.fromkeys(choices):
        node = tree
        for ch in choice:
            node = node.setdefault(ch, {})
        node[""] = {}  # a choice ends here
    body = _alternatives(tree)
    return f"root ::= {body or json.dumps('')}\n"


def _alternatives(node: dict[str, dict]) -> str:
    """GBNF for the suffixes below ``node`` of the prefix tree ("" marks an end)."""
    alts = []
    for ch in sorted(k for k in node if k):
        text, child = ch, node[ch]
        while len(child) == 1 and "" not in child:  # a single path: one string literal
            (nxt, child), = child.items()
            text += nxt
        rest = _alternatives(child)
        alts.append(json.dumps(text) + (f" {rest}" if rest else ""))
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")"
    return f"({body})?" if "" in node else body


class OpenAIModel:
    def __init__(self, base_url: str, model: str, api_key: str | None = None,
                 mode: str = "completions", timeout: float = 60.0, connect_timeout: float = 5.0,
                 max_retries: int = 2, capabilities: dict[str, Any] | None = None,
                 kind: str = "endpoint") -> None:
        if mode not in ("completions", "chat"):
            raise ValueError(f"mode must be 'completions' or 'chat', got {mode!r}")
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.mode = mode
        self.kind = kind
        self.timeout = timeout
        self.capabilities = dict(capabilities or {})
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._api_key = api_key
        # The key lives only in this client object: never in events, the database or logs.
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=api_key or NO_KEY, max_retries=max_retries,
            timeout=openai.Timeout(timeout, connect=connect_timeout))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "base_url": self.base_url,
                "mode": self.mode, "capabilities": self.capabilities}

    # -- request building -------------------------------------------------------------------
    def _extra_body(self, req: GenRequest) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        constraint = self.capabilities.get("constraint")
        if req.choices and constraint == "grammar":
            extra["grammar"] = choices_grammar(req.choices)
        elif req.choices and constraint == "guided_choice":
            extra["guided_choice"] = req.choices
        return extra

    def _create(self, req: GenRequest):
        common: dict[str, Any] = dict(model=self.name, max_tokens=req.max_tokens,
                                      temperature=req.temperature, stream=True)
        if req.seed is not None:
            common["seed"] = req.seed
        if req.stop:
            common["stop"] = req.stop[:4]
        if self.capabilities.get("usage_in_stream"):
            common["stream_options"] = {"include_usage": True}
        extra = self._extra_body(req)
        if extra:
            common["extra_body"] = extra
        if self.mode == "chat":
            messages = req.prompt if isinstance(req.prompt, list) else \
                [{"role": "user", "content": req.prompt}]
            return self._client.chat.completions.create(messages=messages, **common)
        prompt = req.prompt if isinstance(req.prompt, str) else _flatten(req.prompt)
        return self._client.completions.create(prompt=prompt, **common)

    # -- streaming ----------------------------------------------------------------------------
    def generate(self, req: GenRequest, on_chunk: OnChunk | None = None) -> Completion:
        text: list[str] = []
        reasoning: list[str] = []
        finish = None
        usage = None
        n_chunks = 0
        size = 0
        cap = max(MIN_CHAR_CAP, req.max_tokens * CHARS_PER_TOKEN_CAP)
        try:
            stream = self._create(req)
            for chunk in stream:
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                piece, thought = _piece(choice, self.mode)
                if piece or thought:
                    size += len(piece) + len(thought)
                    if size > cap:  # a server ignoring max_tokens: keep what fits, stop reading
                        stream.close()
                        raise ModelBadResponse(f"answer too long: over {cap} characters for "
                                               f"max_tokens={req.max_tokens}; cut", "".join(text))
                    n_chunks += 1
                    text.append(piece)
                    reasoning.append(thought)
                    if on_chunk:
                        try:
                            on_chunk(piece, thought)
                        except Exception as e:  # the caller stopped listening (Stop, time limit)
                            stream.close()      # hang up, so the server stops generating
                            raise _FromCallback() from e
                if choice.finish_reason:
                    finish = choice.finish_reason
        except _FromCallback as e:  # the caller's own exception, unchanged (not a model error)
            raise e.__cause__ from None
        except ModelError:
            raise
        except openai.APITimeoutError as e:
            partial = "".join(text)
            what = (f"the stream stalled after {len(partial)} characters" if partial
                    else "no answer before the timeout")
            raise ModelTimeout(f"{what} ({self.timeout:g} s)", partial) from e
        except openai.APIConnectionError as e:
            raise ModelConnectError(_msg(e, f"cannot reach {self.base_url}"), "".join(text)) from e
        except openai.RateLimitError as e:
            raise ModelRateLimited(_msg(e, "HTTP 429"), "".join(text)) from e
        except openai.APIStatusError as e:
            raise ModelBadResponse(f"HTTP {e.status_code}: {_msg(e, '')}"[:300], "".join(text)) from e
        except (json.JSONDecodeError, openai.APIError, ValueError) as e:
            raise ModelBadResponse(_msg(e, "malformed stream")[:300], "".join(text)) from e
        except Exception as e:  # transport errors mid-stream (the HTTP library's own types)
            if "timeout" in type(e).__name__.lower():
                raise ModelTimeout(f"the stream stalled ({_msg(e, 'read timeout')})", "".join(text)) from e
            raise ModelBadResponse(f"the stream broke: {type(e).__name__}: {_msg(e, '')}"[:300],
                                   "".join(text)) from e
        full = "".join(text)
        if finish is None:
            raise ModelIncomplete("stream ended without finish_reason", full)
        comp = Completion(text=full, reasoning="".join(reasoning), finish_reason=finish)
        if usage is not None:
            comp.prompt_tokens = int(usage.prompt_tokens or 0)
            comp.completion_tokens = int(usage.completion_tokens or 0)
        else:  # llama.cpp and some others stream about one token per chunk
            comp.completion_tokens, comp.usage_estimated = n_chunks, True
            comp.prompt_tokens = self.count_tokens(req.prompt)
        return comp

    def count_tokens(self, prompt: str | list[dict[str, str]]) -> int:
        """Tokens in ``prompt`` by the server's tokenizer (0 when it cannot count). Chat messages
        are counted as their joined text, without the chat template's few extra tokens."""
        if not self.capabilities.get("token_count"):
            return 0
        text = prompt if isinstance(prompt, str) else _flatten(prompt)
        if text in self._counts:
            self._counts.move_to_end(text)
            return self._counts[text]
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(token_count_url(self.base_url), method="POST",
                                         data=json.dumps({"input": text}).encode(), headers=headers)
        try:
            # the same timeout as a generation: a busy single-threaded server (llama.cpp's) answers
            # the count only after the generations queued before it
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                count = int(json.loads(r.read())["count"])
        except (OSError, ValueError, KeyError, TypeError):  # (URLError/HTTPError are OSErrors)
            return 0  # never fail a generation over a count; not cached: the next call retries
        self._counts[text] = count
        if len(self._counts) > COUNT_CACHE:
            self._counts.popitem(last=False)
        return count


def token_count_url(base_url: str) -> str:
    """llama.cpp's Python server counts tokens at ``/extras/tokenize/count`` beside ``/v1``."""
    root = base_url.rstrip("/")
    return (root[:-3] if root.endswith("/v1") else root) + "/extras/tokenize/count"


def _piece(choice: Any, mode: str) -> tuple[str, str]:
    if mode == "completions":
        return choice.text or "", ""
    delta = choice.delta
    if delta is None:
        return "", ""
    extra = getattr(delta, "model_extra", None) or {}
    thought = extra.get("reasoning_content") or extra.get("reasoning") or ""
    return delta.content or "", thought if isinstance(thought, str) else ""


def _flatten(messages: list[dict[str, str]]) -> str:
    return "\n\n".join(m["content"] for m in messages)


def _msg(e: Exception, default: str) -> str:
    text = str(e).strip()
    return text or default
