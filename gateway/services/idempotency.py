"""Exactly-once writes as a service: claim a key, hold it while the write runs, settle it.

In the manner of AWS Powertools' idempotency persistence layer: policy here, storage
primitives in ``infra/records.py``. The HTTP route (``api/idempotent.py``) and anything
without a request share it.

- :meth:`IdempotencyService.begin` claims the key. A finished key gives back its stored
  answer (:class:`Replay`); a key still held by a live attempt, a key reused for another
  request, or a claim Redis could not make durable raise the matching error *before anything
  is sent upstream*. Otherwise the caller gets an :class:`Attempt`.
- While the write runs, :meth:`Attempt.held` renews the lease every third of it, so the
  lease can be short: a crashed worker's key is free again within ``lease_seconds``.
- The attempt ends in exactly one of: :meth:`~Attempt.settle` (a definite answer, stored and
  replayed), :meth:`~Attempt.unknown` (the provider may have applied it: kept, scheduled for
  the reconciler, and looked up before anything is sent again), :meth:`~Attempt.unresolved`
  (a recovered key whose earlier attempt is still in question; nothing sent now),
  :meth:`~Attempt.not_sent` / :meth:`~Attempt.absent` (nothing of this key reached the
  provider: the key is freed for the retry).
- :meth:`IdempotencyService.take` gives the reconciler (no request, no fingerprint) the same
  kind of :class:`Attempt` on a scheduled record.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog
from redis.exceptions import RedisError

from gateway.domain.commands import WriteJob
from gateway.domain.errors import (
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    ServiceUnavailable,
)
from gateway.infra import metrics
from gateway.infra.records import (
    UNKNOWN_PLACEHOLDER,
    BalanceDrop,
    Records,
    StoredResponse,
    Taken,
)
from gateway.infra.redis_topology import NotReplicated
from gateway.settings import IdempotencySettings

_log = structlog.get_logger("gateway.idempotency")

#: how often a settle is tried before the answer is given without it (the claim, which is
#: durable, still protects the key: a retry then looks the write up upstream)
SETTLE_ATTEMPTS = 3
SETTLE_PAUSE_SECONDS = 0.2
#: after that, the settle goes on in the background (a failover takes seconds to tens of
#: seconds), so that a replay still gets the first answer byte-for-byte once it lands
SETTLE_LATER_SECONDS = 60.0
SETTLE_LATER_PAUSE_SECONDS = 1.0


def _count_failure(step: str, exc: RedisError) -> str:
    """Count a record Redis could not make durable; the reason, for the log."""
    reason = "not_replicated" if isinstance(exc, NotReplicated) else "unavailable"
    metrics.child(metrics.IDEMPOTENCY_STORE, step, reason).inc()
    return reason


_encode = msgspec.json.encode
_jobs = msgspec.json.Decoder(WriteJob)


def success_response(status: int, model: Any, headers: dict[str, str]) -> StoredResponse:
    """A write's success as stored and sent: the request's route and the reconciler render
    it the same way, so a replay is the same bytes whoever settled the key."""
    return StoredResponse(
        status=status,
        headers={"content-type": "application/json", **headers},
        body=_encode(model),
    )


def decode_job(raw: bytes) -> WriteJob | None:
    """A record's job, or None (a record from before jobs were kept, or damaged)."""
    try:
        return _jobs.decode(raw) if raw else None
    except msgspec.DecodeError:
        return None


@dataclass(frozen=True)
class Replay:
    """The key's first answer, to be sent again byte-for-byte."""

    response: StoredResponse


class Attempt:
    """One attempt holding a key: what the write service must know, and how it ends."""

    def __init__(
        self,
        service: IdempotencyService,
        record: str,
        owner: str,
        *,
        summary: str,
        recovered: bool,
        suspect: bool = False,
        quiet_ms: int = 0,
        age_ms: int = 0,
        checks: int = 0,
    ) -> None:
        self._service = service
        self.record = record
        self.owner = owner
        #: ``program/operation`` of the write (the open-unknowns gauge)
        self.summary = summary
        #: an earlier attempt with this key may have reached the provider
        self.recovered = recovered
        #: Redis lost data recently: this key may have been used before the loss
        self.suspect = suspect
        #: for a recovered key: time since an attempt that may have sent last ended
        self.quiet_ms = quiet_ms
        #: for a recovered key: time since the key was first claimed
        self.age_ms = age_ms
        self.checks = checks
        #: who holds the key: ``retry`` (a caller's request), ``reconciler``, ``operator``
        self.via = "retry"
        self.ended = False

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Keep the lease alive while the body runs."""
        task = asyncio.create_task(self._service._renew_until_cancelled(self))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def settle(self, response: StoredResponse, drops: Sequence[BalanceDrop] = ()) -> None:
        """Store the definite answer; ``drops``: the cached balances the write changed,
        dropped by the same call (``Records.complete``)."""
        await self._end("completed", response, drops)

    def resolved(self, result: str) -> None:
        """Count and log how this key's unknown outcome ended."""
        self._service.resolved(result, self)

    async def unknown(self, drops: Sequence[BalanceDrop] = ()) -> None:
        """This attempt may have reached the provider and its outcome is not known: keep
        the key, and have the reconciler look at it after the first interval."""
        metrics.child(metrics.IDEMPOTENCY, "unknown").inc()
        await self._end("unknown", UNKNOWN_PLACEHOLDER, drops)

    async def unresolved(
        self, at_least_ms: int = 0, *, checked: bool = True, drops: Sequence[BalanceDrop] = ()
    ) -> int:
        """A recovered key whose earlier attempt is still in question; nothing was sent
        now. Returns when to look again (ms; -1: the reconciler gave up on it)."""
        self.ended = True
        svc = self._service
        delay = svc.next_check_ms(self.checks, self.age_ms, at_least_ms)
        if delay < 0:
            if self.via == "reconciler":  # the one place a record is parked: counted once
                self.resolved("gave_up")
            else:  # a caller's retry leaves parking (and its count) to the reconciler
                delay = svc.max_interval_ms
        try:
            await svc.records.unresolved(
                self.record, self.owner, delay, self.summary, checked=checked, drops=drops
            )
        except RedisError as exc:  # the lease runs out and the key is taken over again
            _count_failure("settle", exc)
        return delay

    async def absent(self) -> None:
        """An unknown proven never applied: free the key, so the caller's retry sends it."""
        self.ended = True
        try:
            await self._service.records.release(self.record, self.owner)
        except RedisError as exc:  # the lease runs out; the next look finds it absent again
            _count_failure("settle", exc)

    async def not_sent(self) -> None:
        """Nothing reached the provider in this attempt: free the key for the retry. A
        recovered key stays unknown (the earlier attempt is still in question)."""
        if self.recovered:
            await self.unresolved(checked=False)
            return
        self.ended = True
        try:
            await self._service.records.release(self.record, self.owner)
        except RedisError as exc:  # the lease expires by itself
            _log.warning("idempotency_release_failed", error=type(exc).__name__)

    async def _end(
        self, state: str, response: StoredResponse, drops: Sequence[BalanceDrop] = ()
    ) -> None:
        self.ended = True
        for attempt in range(1, SETTLE_ATTEMPTS + 1):
            if await self._save(state, response, drops):
                return
            if attempt < SETTLE_ATTEMPTS:
                await asyncio.sleep(SETTLE_PAUSE_SECONDS * attempt)
        # The answer goes out now; the claim (durable) keeps protecting the key meanwhile.
        self._service._later(self._save_later(state, response, drops))

    async def _save(
        self, state: str, response: StoredResponse, drops: Sequence[BalanceDrop] = ()
    ) -> bool:
        """One try; ``False`` when Redis could not make it durable."""
        svc = self._service
        try:
            if state == "completed":
                kept = await svc.records.complete(
                    self.record, self.owner, response, svc.retention_ms, drops
                )
            else:
                kept = await svc.records.mark_unknown(
                    self.record, self.owner, response, svc.first_check_ms, self.summary, drops
                )
        except RedisError as exc:
            _count_failure("settle", exc)
            return False
        if not kept:
            # another attempt took the key over (our lease ran out): it looked the write up
            _log.warning("idempotency_record_lost_ownership", state=state)
        return True

    async def _save_later(
        self, state: str, response: StoredResponse, drops: Sequence[BalanceDrop] = ()
    ) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + SETTLE_LATER_SECONDS
        while loop.time() < give_up:
            await asyncio.sleep(SETTLE_LATER_PAUSE_SECONDS)
            if await self._save(state, response, drops):
                _log.warning("idempotency_record_saved_late", state=state)
                return
        # A retry of this key finds the claim and looks the write up upstream instead of
        # sending it again; only the byte-for-byte replay is lost.
        _log.error("idempotency_record_not_saved", state=state)


class IdempotencyService:
    def __init__(self, records: Records, settings: IdempotencySettings) -> None:
        self.records = records
        self.settings = settings
        self.retention_ms = settings.retention_seconds * 1000
        self.lease_ms = settings.lease_seconds * 1000
        self.suspect_ms = self.retention_ms if settings.check_after_store_loss else 0
        reconcile = settings.reconcile
        self.first_check_ms = int(reconcile.first_check_seconds * 1000)
        self.max_interval_ms = int(reconcile.max_interval_seconds * 1000)
        self.give_up_ms = settings.give_up_seconds * 1000
        self._background: set[asyncio.Task[None]] = set()

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the request (a reference is kept until it ends)."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def record_key(self, client_id: str, key: str) -> str:
        return self.records.key(client_id, key)

    def next_check_ms(self, checks: int, age_ms: int, at_least_ms: int = 0) -> int:
        """Exponential back-off from the first interval to the max; -1 once the unknown is
        older than the give-up age (it stays open, for an operator)."""
        if age_ms >= self.give_up_ms:
            return -1
        delay: int = min(self.max_interval_ms, self.first_check_ms << min(checks, 30))
        return max(delay, at_least_ms)

    def resolved(self, result: str, attempt: Attempt) -> None:
        """Count and log how an unknown outcome ended (one line per resolution)."""
        program, _, operation = attempt.summary.partition("/")
        metrics.child(metrics.UNKNOWN_RESOLVED, program, operation, result, attempt.via).inc()
        log = _log.error if result == "gave_up" else _log.info
        log(
            "unknown_write_resolved",
            result=result,
            via=attempt.via,
            program=program,
            operation=operation,
            age_s=round(attempt.age_ms / 1000, 1),
            checks=attempt.checks,
        )

    async def begin(
        self, client_id: str, key: str, fingerprint: str, job: WriteJob
    ) -> Replay | Attempt:
        record = self.records.key(client_id, key)
        owner = uuid.uuid4().hex
        try:
            claim = await self.records.claim(
                record,
                fingerprint,
                owner,
                lease_ms=self.lease_ms,
                retention_ms=self.retention_ms,
                suspect_ms=self.suspect_ms,
                job=_encode(job),
            )
        except RedisError as exc:
            # Without a durable record exactly-once cannot be promised: fail closed, before
            # anything is sent upstream.
            _log.warning("idempotency_claim_failed", reason=_count_failure("claim", exc))
            raise ServiceUnavailable(
                "The gateway cannot record this write durably right now; nothing was sent. "
                "Retry with the same Idempotency-Key.",
                headers={"Retry-After": "1"},
            ) from None
        result = {"completed": "replayed"}.get(claim.state, claim.state)
        metrics.child(metrics.IDEMPOTENCY, result).inc()
        if claim.suspect:
            metrics.child(metrics.IDEMPOTENCY, "suspect").inc()
        if claim.state == "conflict":
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request; use a new key."
            )
        if claim.state == "in_progress":
            seconds = max(1, math.ceil(claim.lease_left_ms / 1000))
            raise IdempotencyRequestInProgress(
                "A request with this Idempotency-Key is still being processed; retry after "
                f"{seconds} s.",
                headers={"Retry-After": str(seconds)},
            )
        if claim.state == "completed" and claim.response is not None:
            return Replay(claim.response)
        return Attempt(
            self,
            record,
            owner,
            summary=job.summary,
            recovered=claim.state == "recovered",
            suspect=claim.suspect,
            quiet_ms=claim.quiet_ms,
            age_ms=claim.age_ms,
            checks=claim.checks,
        )

    async def take(self, record: str, via: str) -> tuple[Taken, Attempt | None, WriteJob | None]:
        """Hold a scheduled record without a request (``via``: reconciler or operator).
        Raises ``RedisError`` when Redis cannot make the takeover durable."""
        owner = uuid.uuid4().hex
        taken = await self.records.take(record, owner, self.lease_ms)
        if taken.state != "taken":
            return taken, None, None
        job = decode_job(taken.job)
        attempt = Attempt(
            self,
            record,
            owner,
            summary=job.summary if job else "unknown/unknown",
            recovered=True,
            quiet_ms=taken.quiet_ms,
            age_ms=taken.age_ms,
            checks=taken.checks,
        )
        attempt.via = via
        return taken, attempt, job

    async def _renew_until_cancelled(self, attempt: Attempt) -> None:
        interval = self.lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self.records.renew(attempt.record, attempt.owner, self.lease_ms):
                    # someone took the key over: our lease had expired (a paused process?)
                    _log.error("idempotency_lease_lost")
                    return
            except RedisError as exc:
                _count_failure("renew", exc)
