"""Per-request context shared across layers without threading it through every call."""

from __future__ import annotations

import base64
import os
from contextvars import ContextVar
from typing import Any

import msgspec


class UpstreamCall(msgspec.Struct):
    provider: str
    program: str
    operation: str
    outcome: str
    status: int | None
    duration_ms: float


class RequestContext(msgspec.Struct):
    request_id: str
    client_id: str | None = None
    program: str | None = None
    upstream_calls: list[UpstreamCall] = msgspec.field(default_factory=list)
    cache: str | None = None
    idempotency: str | None = None
    #: set by aggregates: identical upstream GETs within this request are made once
    coalesce_reads: bool = False
    #: headers every answer to this request carries (e.g. RateLimit)
    response_headers: dict[str, str] = msgspec.field(default_factory=dict)
    read_memo: dict[Any, Any] = msgspec.field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("lg_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def begin(request_id: str) -> RequestContext:
    ctx = RequestContext(request_id=request_id)
    _current.set(ctx)
    return ctx


def request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx else None


def new_request_id() -> str:
    """26 characters of base32 (a-z, 2-7) from 128 random bits: hex ids held long runs of
    digits, which the log redaction masks as card-like numbers (a request id the logs
    cannot show is no use for correlating them)."""
    return base64.b32encode(os.urandom(16)).decode("ascii").rstrip("=").lower()
