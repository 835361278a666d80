"""The HTTP side of exactly-once writes: the ``Idempotency-Key``, the request fingerprint,
the stored answer as a response.

The policy (claim, lease, settle) is ``services/idempotency.py``. Here an error's
``outcome`` picks the ending: nothing sent -> the key is freed so a retry runs; a definite
answer (success or a business refusal) -> stored and replayed byte-for-byte; an ambiguous
outcome -> kept as *unknown*, answered 502, and looked up before anything is sent again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
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
    UpstreamOutcomeUnknown,
)
from gateway.infra import context
from gateway.infra.records import StoredResponse
from gateway.services.idempotency import Attempt, Replay
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
    ctx = context.current()
    body = await request.body()
    try:
        begun = await svc.idempotency.begin(
            caller.id, key, fingerprint(request.method, request.scope["path"], body)
        )
    except GatewayError as exc:
        if ctx is not None and isinstance(exc, IdempotencyKeyReused | IdempotencyRequestInProgress):
            ctx.idempotency = "conflict" if isinstance(exc, IdempotencyKeyReused) else "in_progress"
        raise
    if isinstance(begun, Replay):
        if ctx is not None:
            ctx.idempotency = "replayed"
        return _respond(begun.response, replayed=True)
    attempt = begun
    if ctx is not None:
        ctx.idempotency = "recovered" if attempt.recovered else "new"
    write_ctx = WriteContext(
        client_id=caller.id,
        idempotency_key=key,
        recovered=attempt.recovered,
        suspect=attempt.suspect,
    )
    async with attempt.held():
        try:
            status, model, headers = await write(write_ctx)
        except Exception as exc:  # every failure must settle the record one way or another
            return await _failed(attempt, exc)
    stored = StoredResponse(
        status=status,
        headers={"content-type": "application/json", **headers},
        body=msgspec.json.encode(model),
    )
    await attempt.settle(stored)
    return _respond(stored, replayed=False)


async def _failed(attempt: Attempt, exc: Exception) -> Response[Any]:
    error = translate(exc)
    if not isinstance(exc, GatewayError | HTTPException):
        # A defect of ours, possibly after the provider applied the write: keep the key
        # bound and let the next retry look the write up.
        _log.error("write_failed_unexpectedly", exc_type=type(exc).__name__)
        stored = _stored(_as_unknown(error))
        await attempt.unknown(stored)
        return _respond(stored, replayed=False)
    if error.outcome == "not_sent":
        await attempt.not_sent()
        raise error from None
    if error.outcome == "ambiguous":
        stored = _stored(_as_unknown(error))
        await attempt.unknown(stored)
        return _respond(stored, replayed=False)
    stored = _stored(error)
    await attempt.settle(stored)
    return _respond(stored, replayed=False)


def _as_unknown(error: GatewayError) -> UpstreamOutcomeUnknown:
    if isinstance(error, UpstreamOutcomeUnknown):
        return error
    return UpstreamOutcomeUnknown(
        "The provider may or may not have applied this write. Retry with the same "
        "Idempotency-Key: the gateway will check before sending anything again.",
        upstream=error.upstream,
    )


def _stored(error: GatewayError) -> StoredResponse:
    return StoredResponse(
        status=error.status,
        headers={"content-type": "application/problem+json", **error.headers},
        body=problem_bytes(error),
    )
