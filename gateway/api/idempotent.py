"""The HTTP side of exactly-once writes: the ``Idempotency-Key``, the request fingerprint,
the stored answer as a response.

The policy (claim, lease, settle) is ``services/idempotency.py`` and the write itself
``services/writes.py`` (``perform``, shared with the reconciler). Here an error's
``outcome`` picks the ending: nothing sent -> the key is freed so a retry runs; a definite
answer (success or a business refusal) -> stored and replayed byte-for-byte; an ambiguous
outcome -> kept as *unknown*, answered 502, and looked up before anything is sent again;
unresolved (a recovered key still in question, nothing sent now) -> 502 with Retry-After.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException

from gateway.api.auth import caller_of, idempotency_key
from gateway.api.problems import problem_bytes, translate
from gateway.api.state import services
from gateway.domain.commands import WriteJob
from gateway.domain.errors import (
    GatewayError,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    UpstreamOutcomeUnknown,
)
from gateway.infra import context
from gateway.infra.records import StoredResponse
from gateway.services.idempotency import Attempt, Replay, success_response
from gateway.services.writes import WriteContext

if TYPE_CHECKING:  # the edge holds a connector only to hand it back to a service
    from gateway.connectors.base import Connector
    from gateway.infra.records import BalanceDrop

_log = structlog.get_logger("gateway.idempotency")
_any = msgspec.json.Decoder()
REPLAY_HEADER = "Idempotent-Replayed"
#: a caller told to wait for an unknown outcome comes back at least this often
MAX_RETRY_AFTER_SECONDS = 60


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
    request: Request[Any, Any, Any],
    connector: Connector,
    job: WriteJob,
    pin: str | None = None,
) -> Response[Any]:
    """Run one state-changing request exactly once (API.md "Writes are exactly-once")."""
    svc = services(request)
    caller = caller_of(request)
    key = idempotency_key(request)
    ctx = context.current()
    body = await request.body()
    job = msgspec.structs.replace(job, client_id=caller.id, idempotency_key=key)
    try:
        begun = await svc.idempotency.begin(
            caller.id, key, fingerprint(request.method, request.scope["path"], body), job
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
        quiet_ms=attempt.quiet_ms,
        age_ms=attempt.age_ms,
    )
    async with attempt.held():
        try:
            status, model, headers = await svc.writes.perform(connector, job, write_ctx, pin)
        except Exception as exc:  # every failure must settle the record one way or another
            return await _failed(attempt, exc, svc.writes.drops(write_ctx))
    stored = success_response(status, model, headers)
    # the cached balances the write changed are dropped in the settle's round trip: one
    # Redis round trip after the provider call, not two
    await attempt.settle(stored, svc.writes.drops(write_ctx))
    if attempt.recovered:
        # found, absent (then re-sent), or re-sent with the provider's own key (IRT)
        attempt.resolved(write_ctx.resolution or "resent")
    return _respond(stored, replayed=False)


async def _failed(attempt: Attempt, exc: Exception, drops: list[BalanceDrop]) -> Response[Any]:
    """Settle the record after a failed write; ``drops``: the cached balances it may have
    changed, dropped by the same call (not for a write that was never sent)."""
    error = translate(exc)
    if not isinstance(exc, GatewayError | HTTPException):
        # A defect of ours, possibly after the provider applied the write: keep the key
        # bound and let the next retry look the write up.
        _log.error("write_failed_unexpectedly", exc_type=type(exc).__name__)
        await attempt.unknown(drops)
        raise _as_unknown(error) from None
    if error.outcome == "not_sent":
        await attempt.not_sent()
        raise error from None
    if error.outcome == "unresolved":
        # the settle time still to run, if that is why; else when the reconciler looks next
        wait_ms = int(error.headers.get("Retry-After", "0")) * 1000
        delay = await attempt.unresolved(wait_ms, drops=drops)
        seconds = math.ceil((wait_ms or delay) / 1000)
        error.headers["Retry-After"] = str(min(max(1, seconds), MAX_RETRY_AFTER_SECONDS))
        raise error from None
    if error.outcome == "ambiguous":
        await attempt.unknown(drops)
        raise _as_unknown(error) from None
    stored = _stored(error)
    await attempt.settle(stored, drops)
    if attempt.recovered:
        attempt.resolved("refused")
    return _respond(stored, replayed=False)


def _as_unknown(error: GatewayError) -> UpstreamOutcomeUnknown:
    if isinstance(error, UpstreamOutcomeUnknown):
        return error
    return UpstreamOutcomeUnknown(
        "The provider may or may not have applied this write. Retry with the same "
        "Idempotency-Key (never a new one for this write): the gateway looks the write up "
        "before sending anything again, on every retry and in the background.",
        upstream=error.upstream,
    )


def _stored(error: GatewayError) -> StoredResponse:
    return StoredResponse(
        status=error.status,
        headers={"content-type": "application/problem+json", **error.headers},
        body=problem_bytes(error),
    )
