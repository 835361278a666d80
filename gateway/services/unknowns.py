"""What an operator sees of unknown write outcomes and how one is settled by hand
(``gateway writes unknown`` / ``gateway writes settle``; runbook in docs/operations.md).

Settling by hand records a decision made with the provider's support desk:
``applied`` stores a success answer built from the write itself (a later retry of the key
replays it), ``not_applied`` frees the key (the caller's retry sends the write).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import msgspec

from gateway.domain.commands import WriteJob
from gateway.domain.models import Redemption, Transaction
from gateway.infra.records import OpenUnknown
from gateway.services.idempotency import IdempotencyService, decode_job, success_response
from gateway.services.writes import WriteAnswer, WriteContext, member_location


class UnknownWrite(msgspec.Struct, kw_only=True):
    """One open unknown, as listed."""

    client: str | None
    key: str | None
    program: str
    operation: str
    member_id: str | None
    reference: str | None
    age_seconds: float | None
    last_check_seconds_ago: float | None
    checks: int
    next_check_in_seconds: float | None  # None: the reconciler gave up (parked)


def _reference(job: WriteJob) -> str | None:
    ctx = WriteContext(client_id=job.client_id, idempotency_key=job.idempotency_key)
    if job.earn is not None:
        return ctx.reference(job.earn.reference)
    if job.redemption is not None:
        return ctx.reference(job.redemption.reference)
    return job.redemption_id


def _ago(now_ms: int, at_ms: int | None) -> float | None:
    return None if at_ms is None else round((now_ms - at_ms) / 1000, 1)


def describe(item: OpenUnknown, now_ms: int) -> UnknownWrite:
    job = decode_job(item.job)
    program, _, operation = item.summary.partition("/")
    return UnknownWrite(
        client=job.client_id if job else None,
        key=job.idempotency_key if job else None,
        program=program,
        operation=operation,
        member_id=job.member_id if job else None,
        reference=_reference(job) if job else None,
        age_seconds=_ago(now_ms, item.first_at_ms),
        last_check_seconds_ago=_ago(now_ms, item.last_check_ms),
        checks=item.checks,
        next_check_in_seconds=(
            None if item.next_check_ms is None else round((item.next_check_ms - now_ms) / 1000, 1)
        ),
    )


async def open_unknowns(
    idempotency: IdempotencyService, program: str | None = None
) -> list[UnknownWrite]:
    records = idempotency.records
    now_ms = await records.server_time_ms()
    found = [describe(item, now_ms) for item in await records.open_unknowns()]
    return [u for u in found if program is None or u.program == program]


def assumed_success(
    job: WriteJob, *, redemption_id: str | None = None, member_id: str | None = None
) -> WriteAnswer:
    """The answer stored for a write an operator says was applied: what the gateway knows of
    it from the request (the provider's own ids only when the operator gives them)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ctx = WriteContext(client_id=job.client_id, idempotency_key=job.idempotency_key)
    model: Any
    if job.operation == "enroll":
        if not member_id or job.enroll is None:
            raise ValueError("an enrollment settled as applied needs the member id (--member-id)")
        return (
            201,
            job.enroll.as_member(job.program, member_id),
            member_location(job.program, member_id),
        )
    if job.member_id is None:
        raise ValueError("this record's write names no member")
    if job.operation == "earn":
        if job.earn is None:
            raise ValueError("this record's earn has no body")
        reference = ctx.reference(job.earn.reference)
        model = Transaction(
            id=reference,
            program=job.program,
            member_id=job.member_id,
            points=job.earn.points,
            reason=job.earn.reason,
            reference=reference,
            status="completed",
            created_at=now,
            point_type=job.earn.point_type,
        )
        return 201, model, {}
    if job.operation == "redeem":
        if job.redemption is None:
            raise ValueError("this record's redemption has no body")
        reference = ctx.reference(job.redemption.reference)
        model = Redemption(
            id=redemption_id or reference,
            program=job.program,
            member_id=job.member_id,
            points=job.redemption.points,
            value=None,
            reference=reference,
            order_id=reference,
            status="completed",
            created_at=now,
            point_type=job.redemption.point_type,
        )
        return 201, model, {}
    target = job.redemption_id or ""
    model = Redemption(
        id=target,
        program=job.program,
        member_id=job.member_id,
        points=0,
        value=None,
        reference=target,
        order_id=target,
        status="voided",
        created_at=now,
    )
    return 200, model, {}


async def settle_by_hand(
    idempotency: IdempotencyService,
    client_id: str,
    key: str,
    *,
    applied: bool,
    redemption_id: str | None = None,
    member_id: str | None = None,
) -> str:
    """Settle one unknown; returns what was done, or raises ``LookupError`` saying why not."""
    record = idempotency.record_key(client_id, key)
    taken, attempt, job = await idempotency.take(record, "operator")
    if taken.state == "gone":
        raise LookupError("no record for this client and key (never used, expired or released)")
    if taken.state == "completed":
        raise LookupError("this key is already settled; its answer is replayed")
    if attempt is None:
        seconds = max(1, math.ceil(taken.lease_left_ms / 1000))
        raise LookupError(f"an attempt is running on this key; try again in {seconds} s")
    if job is None:
        await attempt.unresolved(checked=False)
        raise LookupError("this record does not keep its write (made by an older gateway)")
    if not applied:
        await attempt.absent()
        attempt.resolved("not_applied")
        return "not applied: the key is free, the caller's retry sends the write"
    try:
        status, model, headers = assumed_success(
            job, redemption_id=redemption_id, member_id=member_id
        )
    except ValueError:
        await attempt.unresolved(checked=False)
        raise
    await attempt.settle(success_response(status, model, headers))
    attempt.resolved("applied")
    return f"applied: a retry of the key now answers {status}"
