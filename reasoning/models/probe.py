"""The capability probe: what an OpenAI-compatible endpoint really supports, tested, not assumed.

``probe(base_url, model, api_key)`` lists the models (``GET /models``), then makes a few tiny
requests, each with a bounded timeout, and reports every feature as ``{"ok": bool, "note": str}``:

* ``completions`` / ``chat`` — which endpoints answer;
* ``streaming``       — a stream of chunks that ends with a ``finish_reason``;
* ``usage_in_stream`` — ``stream_options.include_usage`` yields a usage chunk;
* ``grammar``         — llama.cpp's GBNF ``grammar`` field really constrains the output (a request
                        whose output can only be ``zebra-42``; a server that ignores the field
                        writes something else);
* ``guided_choice``   — vLLM's ``guided_choice`` really constrains the output;
* ``logprobs``        — token log-probabilities come back;
* ``n``               — ``n=2`` returns two choices (never assumed: strategies branch with
                        separate requests anyway);
* ``token_count``     — llama.cpp's Python server counts a prompt's tokens at
                        ``/extras/tokenize/count`` (used when streams carry no usage);
* ``parallel``        — how many requests the server really answers at once: llama.cpp's
                        ``llama-server`` says so (``/props`` ``total_slots``); anywhere else one
                        request is timed, then 4 at once, and the speed-up (rounded) is the
                        number of slots seen (at most 4). This is the default for ``--parallel``.

``capabilities`` sums it up in the shape :class:`~reasoning.models.openai_client.OpenAIModel`
uses (``constraint`` is ``"grammar"``, ``"guided_choice"`` or None). The API key is sent only
as a header and never appears in the report. An endpoint that cannot be reached at all raises
:class:`ModelConnectError`; one that answers but lists no model (and none was named) raises
:class:`ModelBadResponse`.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .base import ModelBadResponse, ModelConnectError
from .openai_client import token_count_url

MAGIC = "zebra-42"
CHOICES = [MAGIC, "quokka-17"]
FEATURES = ("completions", "chat", "streaming", "usage_in_stream", "grammar", "guided_choice",
            "logprobs", "n", "token_count", "parallel")
PARALLEL_TRIAL = 4   # requests sent at once to see whether a server answers them together


class _HTTPError(Exception):
    pass


class _Endpoint:
    """Tiny JSON-over-HTTP client (standard library only, so the probe sees raw responses)."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout: float) -> None:
        self.base = base_url.rstrip("/")
        self.model = model
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = timeout

    def open(self, path: str, body: dict[str, Any] | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=self.headers,
                                     method="POST" if data is not None else "GET")
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            raise _HTTPError(f"HTTP {e.code}: {_detail(e)}") from None

    def body(self, kind: str, **extra: Any) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"model": self.model, "max_tokens": 6, "temperature": 0}
        if kind == "chat":
            body["messages"] = [{"role": "user", "content": "Name an animal."}]
        else:
            body["prompt"] = "Name an animal:"
        body.update(extra)
        return ("/chat/completions" if kind == "chat" else "/completions"), body

    def post(self, kind: str, **extra: Any) -> dict[str, Any]:
        with self.open(*self.body(kind, **extra)) as r:
            return json.loads(r.read())

    def stream(self, kind: str, **extra: Any) -> list[dict[str, Any]]:
        chunks = []
        with self.open(*self.body(kind, stream=True, **extra)) as r:
            for raw in r:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunks.append(json.loads(data))
        return chunks


def _detail(e: urllib.error.HTTPError) -> str:
    try:
        body = e.read().decode("utf-8", "replace")
    except OSError:
        return e.reason or ""
    try:
        err = json.loads(body).get("error", body)
        body = err.get("message", err) if isinstance(err, dict) else err
    except (ValueError, AttributeError):
        pass
    return str(body)[:120]


def _text(resp: dict[str, Any], kind: str) -> str:
    choice = (resp.get("choices") or [{}])[0]
    if kind == "chat":
        return (choice.get("message") or {}).get("content") or ""
    return choice.get("text") or ""


def _safe(fn) -> dict[str, Any]:
    """Run one check; any failure is ``ok: false`` with a short note, never an exception. A check
    may return a third item, its measured value (``value`` in the report)."""
    value = None
    try:
        ok, note, *rest = fn()
        value = rest[0] if rest else None
    except TimeoutError:
        ok, note = False, "timed out"
    except (_HTTPError, OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        ok, note = False, str(e)[:160] or type(e).__name__
    out = {"ok": bool(ok), "note": note}
    if value is not None:
        out["value"] = value
    return out


def _list_models(ep: _Endpoint) -> tuple[list[str], dict[str, Any]]:
    try:
        with ep.open("/models") as r:
            raw = r.read()
    except _HTTPError as e:
        return [], {"ok": False, "note": f"{e} for /models"}
    except (OSError, ValueError) as e:  # refused, unknown host, timeout, bad URL
        reason = getattr(e, "reason", None) or e
        raise ModelConnectError(f"cannot reach {ep.base}: {reason}") from e
    try:
        ids = [m["id"] for m in json.loads(raw).get("data", []) if isinstance(m, dict) and "id" in m]
    except (ValueError, AttributeError, TypeError):
        return [], {"ok": False, "note": "/models did not return the OpenAI JSON list"}
    return ids, {"ok": True, "note": f"{len(ids)} model{'s' if len(ids) != 1 else ''}"}


def _checks(ep: _Endpoint, kind: str) -> dict[str, Any]:
    def streaming():
        chunks = ep.stream(kind)
        finish = [c["choices"][0].get("finish_reason") for c in chunks if c.get("choices")]
        finish = [f for f in finish if f]
        return bool(chunks and finish), f"{len(chunks)} chunks, finish_reason {finish[-1] if finish else None}"

    def usage_in_stream():
        chunks = ep.stream(kind, stream_options={"include_usage": True})
        usage = [c["usage"] for c in chunks if c.get("usage")]
        return bool(usage), "usage chunk received" if usage else "no usage in the stream"

    def constrained(field: str, value: Any):
        def check():
            out = _text(ep.post(kind, **{field: value}), kind).strip()
            if out in CHOICES:
                return True, f"output constrained ({out!r})"
            return False, f"ignored: the output was {out[:40]!r}"
        return check

    def logprobs():
        extra = {"logprobs": True, "top_logprobs": 1} if kind == "chat" else {"logprobs": 1}
        choice = (ep.post(kind, max_tokens=2, **extra).get("choices") or [{}])[0]
        lp = choice.get("logprobs")
        return bool(lp), "log-probabilities returned" if lp else "no logprobs in the answer"

    def n():
        got = len(ep.post(kind, n=2, max_tokens=2, temperature=1.0).get("choices") or [])
        return got == 2, f"{got} choice{'s' if got != 1 else ''} for n=2"

    def token_count():
        req = urllib.request.Request(token_count_url(ep.base), method="POST",
                                     data=json.dumps({"input": "Name an animal:"}).encode(),
                                     headers=ep.headers)
        try:
            with urllib.request.urlopen(req, timeout=ep.timeout) as r:
                count = json.loads(r.read()).get("count")
        except urllib.error.HTTPError as e:
            return False, f"no token counter (HTTP {e.code})"
        if isinstance(count, int) and count > 0:
            return True, f"{count} tokens in a test prompt"
        return False, "no token count in the answer"

    def parallel():
        slots = _declared_slots(ep)
        if slots:
            return slots > 1, f"{slots} slots (llama-server /props)", slots
        # a request long enough that serving it dominates the HTTP round trip
        def one(_: int = 0) -> float:
            t = time.monotonic()
            ep.post(kind, max_tokens=16)
            return time.monotonic() - t
        one()  # warm: the first request of a fresh server also loads things
        single = min(one(), one())  # the faster of two: a busy server can hold one back
        t = time.monotonic()
        with ThreadPoolExecutor(PARALLEL_TRIAL) as pool:
            list(pool.map(one, range(PARALLEL_TRIAL)))
        together = time.monotonic() - t
        seen = max(1, min(PARALLEL_TRIAL, round(PARALLEL_TRIAL * single / max(together, 1e-6))))
        return seen > 1, (f"{PARALLEL_TRIAL} requests at once took {together:.2f} s, one alone "
                          f"{single:.2f} s: about {seen} answered together"), seen

    return {"streaming": _safe(streaming), "usage_in_stream": _safe(usage_in_stream),
            "grammar": _safe(constrained("grammar", f'root ::= "{MAGIC}"\n')),
            "guided_choice": _safe(constrained("guided_choice", CHOICES)),
            "logprobs": _safe(logprobs), "n": _safe(n), "token_count": _safe(token_count),
            "parallel": _safe(parallel)}


def _declared_slots(ep: _Endpoint) -> int:
    """``total_slots`` from llama-server's ``/props`` (served beside ``/v1``), else 0."""
    root = ep.base[:-3] if ep.base.endswith("/v1") else ep.base
    try:
        with urllib.request.urlopen(urllib.request.Request(root + "/props", headers=ep.headers),
                                    timeout=ep.timeout) as r:
            slots = json.loads(r.read()).get("total_slots")
    except (OSError, ValueError, AttributeError):
        return 0
    return slots if isinstance(slots, int) and not isinstance(slots, bool) and slots > 0 else 0


def capabilities_of(features: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ok = {k: bool(v.get("ok")) for k, v in features.items()}
    constraint = "grammar" if ok.get("grammar") else "guided_choice" if ok.get("guided_choice") else None
    return {"streaming": ok.get("streaming", False), "completions": ok.get("completions", False),
            "chat": ok.get("chat", False), "constraint": constraint,
            "logprobs": ok.get("logprobs", False), "usage_in_stream": ok.get("usage_in_stream", False),
            "n": ok.get("n", False), "token_count": ok.get("token_count", False),
            "parallel": int(features.get("parallel", {}).get("value") or 1)}


def probe(base_url: str, model: str | None = None, api_key: str | None = None,
          timeout: float = 20.0) -> dict[str, Any]:
    """Test what ``base_url`` supports; see the module docstring for the report's shape."""
    t0 = time.monotonic()
    ep = _Endpoint(base_url, model or "", api_key, timeout)
    models, models_note = _list_models(ep)
    if not model:
        if not models:
            raise ModelBadResponse(f"{ep.base} lists no models ({models_note['note']}); "
                                   "name one with --model")
        ep.model = models[0]
    features: dict[str, dict[str, Any]] = {"models": models_note}

    def gen(kind: str):
        def check():
            out = _text(ep.post(kind), kind)
            return True, f"answered {out.strip()[:30]!r}"
        return check

    features["completions"] = _safe(gen("completions"))
    features["chat"] = _safe(gen("chat"))
    kind = "completions" if features["completions"]["ok"] else "chat" if features["chat"]["ok"] else None
    if kind is None:
        for name in FEATURES[2:]:
            features[name] = {"ok": False, "note": "not tested: neither completions nor chat answered"}
    else:
        features.update(_checks(ep, kind))
    return {"base_url": ep.base, "model": ep.model, "models": models, "tested_with": kind,
            "features": features, "capabilities": capabilities_of(features),
            "seconds": round(time.monotonic() - t0, 2)}


