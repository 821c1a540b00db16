"""OTLP/HTTP trace requests (protobuf or JSON) into plain :class:`SpanIn` records, checked.

Both encodings of ``ExportTraceServiceRequest`` are read: protobuf (``application/x-protobuf``,
parsed with ``opentelemetry-proto``) and the OTLP JSON encoding (``application/json``: lowerCamel
field names, trace and span ids as hex strings, 64-bit integers as strings or numbers). A request
that is not one of them, or a span without a valid trace id, span id or times, raises
:class:`OtlpError` naming the span and the field: the receiver then answers 400 and stores
nothing of the request.
"""
from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from reasoning.tree import NODE_STATES

STATUS_ERROR = 2


class OtlpError(ValueError):
    """A request the receiver refuses (HTTP 400); the message says why."""


@dataclass
class SpanIn:
    trace_id: str                 # 32 hex digits
    span_id: str                  # 16 hex digits
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attrs: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    status_code: int = 0
    status_message: str = ""
    resource: dict[str, Any] = field(default_factory=dict)


def decode_request(body: bytes, content_type: str, encoding: str = "") -> list[SpanIn]:
    """The spans of one request, in the order they were sent; :class:`OtlpError` if malformed."""
    body = _inflate(body, encoding)
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-protobuf":
        spans = _from_protobuf(body)
    elif kind == "application/json":
        spans = _from_json(body)
    else:
        raise OtlpError(f"Content-Type must be application/x-protobuf or application/json, "
                        f"got {content_type or 'none'!r}")
    for i, s in enumerate(spans):
        _check(i, s)
    return spans


def _inflate(body: bytes, encoding: str) -> bytes:
    encoding = (encoding or "").strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError) as e:
        raise OtlpError(f"body is not valid {encoding}: {e}") from None
    if encoding not in ("", "identity"):
        raise OtlpError(f"Content-Encoding {encoding!r} is not supported (gzip, deflate)")
    return body


# -- protobuf ---------------------------------------------------------------------------------------
def _any_pb(v) -> Any:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_any_pb(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _any_pb(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, which)


def _from_protobuf(body: bytes) -> list[SpanIn]:
    req = ExportTraceServiceRequest()
    try:
        req.ParseFromString(body)
    except DecodeError as e:
        raise OtlpError(f"body is not an OTLP ExportTraceServiceRequest (protobuf): {e}") from None
    out = []
    for rs in req.resource_spans:
        resource = {kv.key: _any_pb(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for sp in ss.spans:
                out.append(SpanIn(
                    trace_id=sp.trace_id.hex(), span_id=sp.span_id.hex(),
                    parent_id=sp.parent_span_id.hex() or None, name=sp.name,
                    start_ns=sp.start_time_unix_nano, end_ns=sp.end_time_unix_nano,
                    attrs={kv.key: _any_pb(kv.value) for kv in sp.attributes},
                    events=[(e.name, e.time_unix_nano, {kv.key: _any_pb(kv.value)
                                                        for kv in e.attributes}) for e in sp.events],
                    status_code=sp.status.code, status_message=sp.status.message,
                    resource=resource))
    return out


# -- JSON -------------------------------------------------------------------------------------------
def _any_json(v: Any, where: str) -> Any:
    if not isinstance(v, dict):
        raise OtlpError(f"{where}: an attribute value must be an AnyValue object, got {v!r}")
    if "stringValue" in v:
        return str(v["stringValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        return _int(v["intValue"], where)
    if "doubleValue" in v:
        try:
            return float(v["doubleValue"])
        except (TypeError, ValueError):
            raise OtlpError(f"{where}: doubleValue {v['doubleValue']!r} is not a number") from None
    if "arrayValue" in v:
        return [_any_json(x, where) for x in (v["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in v:
        return _kv_json((v["kvlistValue"] or {}).get("values", []), where)
    if "bytesValue" in v:
        return str(v["bytesValue"])
    return None


def _kv_json(items: Any, where: str) -> dict[str, Any]:
    if not isinstance(items, list):
        raise OtlpError(f"{where}: attributes must be a list of {{key, value}}")
    out = {}
    for kv in items:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise OtlpError(f"{where}: an attribute needs a string 'key', got {kv!r}")
        out[kv["key"]] = _any_json(kv.get("value", {}), f"{where} attribute {kv['key']!r}")
    return out


def _int(v: Any, where: str) -> int:
    try:
        if isinstance(v, bool):
            raise ValueError
        return int(v)
    except (TypeError, ValueError):
        raise OtlpError(f"{where}: expected an integer, got {v!r}") from None


def _list(obj: dict, key: str, where: str) -> list:
    v = obj.get(key, [])
    if not isinstance(v, list):
        raise OtlpError(f"{where}: {key!r} must be a list")
    return v


def _from_json(body: bytes) -> list[SpanIn]:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OtlpError(f"body is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or "resourceSpans" not in doc:
        raise OtlpError("body must be a JSON object with 'resourceSpans' (OTLP JSON encoding)")
    out = []
    for r, rs in enumerate(_list(doc, "resourceSpans", "request")):
        where = f"resourceSpans[{r}]"
        if not isinstance(rs, dict):
            raise OtlpError(f"{where}: must be an object")
        resource = _kv_json((rs.get("resource") or {}).get("attributes", []), where)
        for s_i, ss in enumerate(_list(rs, "scopeSpans", where)):
            for p_i, sp in enumerate(_list(ss if isinstance(ss, dict) else {}, "spans", where)):
                w = f"{where}.scopeSpans[{s_i}].spans[{p_i}]"
                if not isinstance(sp, dict):
                    raise OtlpError(f"{w}: must be an object")
                status = sp.get("status") or {}
                out.append(SpanIn(
                    trace_id=str(sp.get("traceId", "")).lower(),
                    span_id=str(sp.get("spanId", "")).lower(),
                    parent_id=str(sp.get("parentSpanId") or "").lower() or None,
                    name=str(sp.get("name", "")),
                    start_ns=_int(sp.get("startTimeUnixNano"), f"{w} startTimeUnixNano"),
                    end_ns=_int(sp.get("endTimeUnixNano"), f"{w} endTimeUnixNano"),
                    attrs=_kv_json(sp.get("attributes", []), w),
                    events=[(str(e.get("name", "")), _int(e.get("timeUnixNano", 0), f"{w} event"),
                             _kv_json(e.get("attributes", []), f"{w} event"))
                            for e in _list(sp, "events", w) if isinstance(e, dict)],
                    status_code=_int(status.get("code", 0), f"{w} status.code"),
                    status_message=str(status.get("message", "")), resource=resource))
    return out


# -- checks -----------------------------------------------------------------------------------------
def _hex(value: str, digits: int) -> bool:
    if len(value) != digits or value.strip("0") == "":
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


def _check(i: int, s: SpanIn) -> None:
    where = f"span {i} ({s.name!r})"
    if not _hex(s.trace_id, 32):
        raise OtlpError(f"{where}: traceId must be 16 non-zero bytes (32 hex digits), "
                        f"got {s.trace_id!r}")
    if not _hex(s.span_id, 16):
        raise OtlpError(f"{where}: spanId must be 8 non-zero bytes (16 hex digits), got {s.span_id!r}")
    if s.parent_id is not None and not _hex(s.parent_id, 16):
        raise OtlpError(f"{where}: parentSpanId must be empty or 16 hex digits, got {s.parent_id!r}")
    if s.start_ns <= 0 or s.end_ns < s.start_ns:
        raise OtlpError(f"{where}: needs startTimeUnixNano > 0 and endTimeUnixNano >= it "
                        f"(got {s.start_ns}, {s.end_ns})")
    state = s.attrs.get("thinktree.state")
    if state is not None and state not in NODE_STATES:
        raise OtlpError(f"{where}: thinktree.state must be one of {', '.join(NODE_STATES)}, "
                        f"got {state!r}")
    for key in ("thinktree.value", "thinktree.value_sum"):
        v = s.attrs.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise OtlpError(f"{where}: {key} must be a number, got {v!r}")
    for key in ("thinktree.node.id", "thinktree.node.parent_id", "thinktree.visits"):
        v = s.attrs.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise OtlpError(f"{where}: {key} must be a whole number >= 0, got {v!r}")
