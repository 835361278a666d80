"""Exactly-once execution of a state-changing request around an ``Idempotency-Key``.

The record is claimed atomically before anything is sent upstream. What happens next
depends on the error's ``outcome``: nothing sent -> the key is released so a retry runs;
a definite answer (success or a business refusal) -> stored and replayed byte-for-byte;
an ambiguous outcome -> kept as *unknown*, answered 502, and reconciled on the next retry.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import redis.exceptions
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException

from gateway.api.auth import caller_of, idempotency_key
from gateway.api.problems import problem_bytes, translate
from gateway.api.state import services
from gateway.domain.errors import (
    GatewayError,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    ServiceUnavailable,
    UpstreamOutcomeUnknown,
)
from gateway.infra import context, metrics
from gateway.infra.store import StoredResponse
from gateway.services.writes import WriteContext

_log = structlog.get_logger("gateway.idempotency")
_any = msgspec.json.Decoder()
REPLAY_HEADER = "Idempotent-Replayed"

#: what a write returns: status, the response struct, extra headers (e.g. Location)
Outcome = tuple[int, Any, dict[str, str]]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Method + path + canonical body (key order and whitespace do not matter)."""
    try:
        canonical = msgspec.json.encode(_any.decode(body), order="sorted") if body else b""
    except msgspec.DecodeError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(part + b"\0")
    return digest.hexdigest()


def _respond(stored: StoredResponse, *, replayed: bool) -> Response[bytes]:
    headers = dict(stored.headers)
    if replayed:
        headers[REPLAY_HEADER] = "true"
    media_type = headers.pop("content-type", "application/json")
    return Response(
        content=stored.body, status_code=stored.status, headers=headers, media_type=media_type
    )


async def run_write(
    request: Request[Any, Any, Any], write: Callable[[WriteContext], Awaitable[Outcome]]
) -> Response[Any]:
    svc = services(request)
    caller = caller_of(request)
    key = idempotency_key(request)
    cfg = svc.settings.idempotency
    retention_ms = cfg.retention_seconds * 1000
    record = svc.store.idempotency_key(caller.id, key)
    owner = uuid.uuid4().hex
    ctx = context.current()
    body = await request.body()
    try:
        claim = await svc.store.claim(
            record,
            fingerprint(request.method, request.scope["path"], body),
            owner,
            cfg.lease_seconds * 1000,
            retention_ms,
        )
    except redis.exceptions.RedisError:
        # Without the record exactly-once cannot be promised: fail closed.
        raise ServiceUnavailable(
            "The gateway cannot record this write right now; retry with the same key.",
            headers={"Retry-After": "1"},
        ) from None
    result = {"completed": "replayed"}.get(claim.state, claim.state)
    metrics.child(metrics.IDEMPOTENCY, result).inc()
    if ctx is not None:
        ctx.idempotency = result
    if claim.state == "conflict":
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different request; use a new key."
        )
    if claim.state == "in_progress":
        raise IdempotencyRequestInProgress(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if claim.state == "completed" and claim.response is not None:
        return _respond(claim.response, replayed=True)

    write_ctx = WriteContext(
        client_id=caller.id, idempotency_key=key, recovered=claim.state == "recovered"
    )
    try:
        status, model, headers = await write(write_ctx)
    except Exception as exc:  # every failure must settle the record one way or another
        error = translate(exc)
        if not isinstance(exc, GatewayError | HTTPException):
            # A defect of ours, possibly after the provider applied the write: keep the key
            # locked and let the next retry reconcile.
            _log.error("write_failed_unexpectedly", exc_type=type(exc).__name__)
            stored = _stored(error)
            await _settle(svc.store.mark_unknown(record, owner, stored, retention_ms))
            return _respond(stored, replayed=False)
        if error.outcome == "not_sent":
            await _settle(svc.store.release(record, owner))
            raise error from None
        if error.outcome == "ambiguous":
            if not isinstance(error, UpstreamOutcomeUnknown):
                error = UpstreamOutcomeUnknown(
                    "The provider may or may not have applied this write. Retry with the same "
                    "Idempotency-Key: the gateway will check before sending anything again.",
                    upstream=error.upstream,
                )
            metrics.child(metrics.IDEMPOTENCY, "unknown").inc()
            stored = _stored(error)
            await _settle(svc.store.mark_unknown(record, owner, stored, retention_ms))
            return _respond(stored, replayed=False)
        stored = _stored(error)
        await _settle(svc.store.complete(record, owner, stored, retention_ms))
        return _respond(stored, replayed=False)
    stored = StoredResponse(
        status=status,
        headers={"content-type": "application/json", **headers},
        body=msgspec.json.encode(model),
    )
    await _settle(svc.store.complete(record, owner, stored, retention_ms))
    return _respond(stored, replayed=False)


def _stored(error: GatewayError) -> StoredResponse:
    return StoredResponse(
        status=error.status,
        headers={"content-type": "application/problem+json", **error.headers},
        body=problem_bytes(error),
    )


async def _settle(step: Awaitable[bool]) -> None:
    """Record the outcome; if Redis fails now the lease expires and a retry reconciles."""
    try:
        if not await step:
            _log.warning("idempotency_record_lost_ownership")
    except redis.exceptions.RedisError as exc:
        _log.warning("idempotency_record_not_saved", error=type(exc).__name__)
