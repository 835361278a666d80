"""The background reconciler: unknown write outcomes become definite without any retry.

In the manner of hyperswitch's payment-sync workflow and Brandur Leach's "completer": every
worker runs :meth:`Reconciler.run`. Each round it takes due records from the Redis schedule
(``Records.due`` pushes each back by a hold time, so no other worker takes it meanwhile, and
it comes back if this one dies), takes the record itself over with a lease (as a caller's
retry would: a retry meanwhile gets ``409``), and runs the same write path as the HTTP route
(:meth:`WriteService.perform`) in *reconciling* mode:

- found upstream -> the record is settled with the answer the original success would have
  had (a later retry replays it byte-for-byte);
- provably absent (after the settle time) -> the key is freed, so the caller's retry sends;
- cannot tell -> back to unknown, looked at again with exponential back-off up to
  ``max_interval_seconds``; older than ``give_up_seconds`` it is parked: still unknown (it
  never expires), listed by ``gateway writes unknown``, counted and logged.

A provider that de-duplicates by our token (IRT) is re-sent with the same token instead:
it answers the original outcome or applies the write once.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Mapping

import structlog
from redis.exceptions import RedisError

from gateway.connectors.base import Connector
from gateway.domain.errors import GatewayError
from gateway.infra import metrics
from gateway.services.idempotency import Attempt, IdempotencyService, success_response
from gateway.services.writes import ProvablyAbsent, WriteContext, WriteService
from gateway.settings import ReconcileSettings

_log = structlog.get_logger("gateway.reconciler")

#: how long a record handed out by the schedule stays away from other reconcilers
HOLD_MS = 60_000
#: how often the open-unknowns gauge is read from Redis
GAUGE_SECONDS = 10.0
OPERATIONS = ("enroll", "earn", "redeem", "void")


class Reconciler:
    def __init__(
        self,
        idempotency: IdempotencyService,
        writes: WriteService,
        connectors: Mapping[str, Connector],
        settings: ReconcileSettings,
    ) -> None:
        self.idempotency = idempotency
        self.records = idempotency.records
        self.writes = writes
        self.connectors = connectors
        self.settings = settings
        self._gauge_at = 0.0
        # its own generator: the jitter must not touch (or depend on) the global one
        self._random = random.Random()  # noqa: S311 - jitter, not security
        # every series exists from the start (at 0), so an alert on it can be written
        for program in connectors:
            for operation in OPERATIONS:
                metrics.child(metrics.UNKNOWN_OPEN, program, operation).set(0)

    async def run(self) -> None:
        """Forever (until cancelled at shutdown): a round, then a jittered pause."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.round()
                if loop.time() - self._gauge_at >= GAUGE_SECONDS:
                    self._gauge_at = loop.time()
                    await self.refresh_gauge()
            except RedisError as exc:  # Redis is down or failing over: try next round
                _log.debug("reconcile_round_failed", error=type(exc).__name__)
            # jitter keeps the workers of many replicas from asking in lock-step
            await asyncio.sleep(self.settings.poll_seconds * self._random.uniform(0.5, 1.5))

    async def round(self) -> dict[str, int]:
        """One look at the schedule; what happened to each record taken (for tests)."""
        results: Counter[str] = Counter()
        for record in await self.records.due(self.settings.batch, HOLD_MS):
            try:
                results[await self.check(record)] += 1
            except RedisError as exc:  # this record comes back after the hold time
                _log.debug("reconcile_check_failed", error=type(exc).__name__)
                results["store_error"] += 1
        return dict(results)

    async def check(self, record: str) -> str:
        """Look at one scheduled record; returns what became of it."""
        taken, attempt, job = await self.idempotency.take(record, "reconciler")
        if taken.state in ("gone", "completed"):
            await self.records.forget(record)  # settled (or released) since it was entered
            return taken.state
        if attempt is None:
            return "busy"  # a live attempt holds it; the schedule hold brings it back
        connector = self.connectors.get(job.program) if job is not None else None
        if job is None or connector is None:
            # written before records kept their write, or a program no longer configured:
            # only a caller's retry (or an operator) can settle it
            await attempt.unresolved(checked=False)
            return "no_job"
        ctx = WriteContext(
            client_id=job.client_id,
            idempotency_key=job.idempotency_key,
            recovered=True,
            quiet_ms=attempt.quiet_ms,
            age_ms=attempt.age_ms,
            reconciling=True,
        )
        async with attempt.held():
            try:
                try:
                    status, model, headers = await self.writes.perform(connector, job, ctx)
                finally:
                    await self.writes.flush(ctx)  # off the callers' path: one after another
            except ProvablyAbsent:
                await attempt.absent()
                attempt.resolved("absent")
                return "absent"
            except GatewayError as exc:
                return await self._failed(attempt, exc)
            except Exception as exc:  # a defect: keep the record as it was, look again later
                _log.error("reconcile_failed_unexpectedly", exc_type=type(exc).__name__)
                await attempt.unresolved(checked=False)
                return "error"
        await attempt.settle(success_response(status, model, headers))
        result = ctx.resolution or "resent"
        attempt.resolved(result)
        return result

    async def _failed(self, attempt: Attempt, exc: GatewayError) -> str:
        if exc.outcome == "unresolved" or exc.outcome == "not_sent":
            wait_ms = int(exc.headers.get("Retry-After", "0")) * 1000
            delay = await attempt.unresolved(wait_ms, checked=exc.outcome == "unresolved")
            return "parked" if delay < 0 else "unresolved"
        if exc.outcome == "ambiguous":  # a re-send (IRT) whose answer was lost again
            await attempt.unknown()
            return "unknown"
        # A definite refusal of a re-send: nothing was applied. Free the key, so the
        # caller's retry sends it and gets the refusal itself.
        await attempt.absent()
        attempt.resolved("refused")
        return "refused"

    async def refresh_gauge(self) -> None:
        counts = Counter(await self.records.open_summaries())
        for program in self.connectors:
            for operation in OPERATIONS:
                value = counts.get(f"{program}/{operation}", 0)
                metrics.child(metrics.UNKNOWN_OPEN, program, operation).set(value)
