"""Use cases that change a member: enroll, update, earn, redeem, void.

Each write drops the member's cached balance. :meth:`WriteService.perform` runs one
:class:`~gateway.domain.commands.WriteJob` and renders its success; the HTTP route and the
reconciler both go through it, so a write found later answers exactly as the first would.

When the idempotency layer hands over a *recovered* attempt (an earlier attempt with the
same key may have reached the provider), the write is first looked for upstream by the
reference the gateway sent (:func:`_look_up`):

- found: that is the answer (stored and replayed from then on);
- absent, and the earlier attempt ended at least the *settle time* ago (a request still in
  flight at the provider would have landed by then): re-sent once, or for the reconciler,
  the key is freed (:class:`ProvablyAbsent`) so the caller's retry sends it;
- absent too recently, or the provider cannot tell: still unknown, nothing sent.

Providers that de-duplicate by the token we send (IRT's ``idempotencyKey``) are simply
re-sent: they answer the original outcome or apply the write once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec

from gateway.connectors.base import (
    Connector,
    EarnLocator,
    Enroller,
    EnrollLocator,
    PointsEarner,
    PointsRedeemer,
    ProfileUpdater,
    RedemptionLocator,
    RedemptionVoider,
    VoidLocator,
    require,
)
from gateway.domain.commands import (
    EarnCommand,
    EarnRequest,
    EnrollRequest,
    MemberPatch,
    RedeemCommand,
    RedemptionRequest,
    WriteJob,
)
from gateway.domain.errors import GatewayError, UpstreamOutcomeUnknown, UpstreamUnavailable
from gateway.domain.models import Member, Redemption, Transaction
from gateway.infra.records import BalanceDrop
from gateway.services.balances import BalanceService
from gateway.settings import ReconcileSettings

#: what a write returns: status, the response struct, extra headers (e.g. Location)
#: what a write answers: status, body model, headers
WriteAnswer = tuple[int, Any, dict[str, str]]

#: how far before the key's first claim a lookup searches (clock skew, provider posting lag)
LOOKUP_MARGIN = dt.timedelta(days=2)


def member_location(program: str, member_id: str) -> dict[str, str]:
    """The ``Location`` header of an enrollment's answer."""
    return {"Location": f"/v1/programs/{program}/members/{quote(member_id, safe='@')}"}


class ProvablyAbsent(Exception):
    """For the reconciler: the write was never applied; free the key, send nothing."""


class WriteContext(msgspec.Struct, kw_only=True):
    """What the idempotency layer knows about this attempt."""

    client_id: str
    idempotency_key: str
    #: an earlier attempt with this key may have reached the provider
    recovered: bool = False
    #: Redis lost data recently, so this "new" key may have been used before the loss
    suspect: bool = False
    #: for a recovered key: time since an attempt that may have sent last ended
    quiet_ms: int = 0
    #: for a recovered key: time since the key was first claimed
    age_ms: int = 0
    #: the background reconciler, not a caller: never sends a write the provider cannot
    #: de-duplicate, it only finds out
    reconciling: bool = False
    #: set by the lookup: ``found`` (the write was applied) or ``absent`` (it was not)
    resolution: str | None = None
    #: (program, member) whose cached balance the write may have changed: the caller drops
    #: them in the record's settle (:meth:`WriteService.drops`: one Redis call after the
    #: provider call instead of two) or at once (:meth:`WriteService.flush`)
    changed: list[tuple[str, str]] = msgspec.field(default_factory=list)

    @property
    def check_first(self) -> bool:
        return self.recovered or self.suspect

    @property
    def token(self) -> str:
        """Deterministic per client+key: every retry, on any replica, derives the same one."""
        digest = hashlib.sha256(f"{self.client_id}\0{self.idempotency_key}".encode())
        return digest.hexdigest()[:32]

    @property
    def since(self) -> dt.datetime:
        """Where a lookup starts: before the key's first attempt, with a margin."""
        first = dt.datetime.now(dt.UTC) - dt.timedelta(milliseconds=self.age_ms)
        return first - LOOKUP_MARGIN

    def reference(self, given: str | None) -> str:
        return given or f"lg-{self.token[:24]}"


def _unresolved(detail: str, cause: GatewayError | None = None, wait_ms: int = 0) -> GatewayError:
    headers = {"Retry-After": str(max(1, math.ceil(wait_ms / 1000)))} if wait_ms else None
    return UpstreamOutcomeUnknown(
        detail + " Retry with the same Idempotency-Key (never a new one for this write): the "
        "gateway checks again on every retry and in the background, and answers the outcome "
        "as soon as the provider shows it.",
        upstream=cause.upstream if cause else None,
        headers=headers,
        outcome="unresolved",
    )


T = TypeVar("T")


class WriteService:
    def __init__(
        self, balances: BalanceService, reconcile: ReconcileSettings | None = None
    ) -> None:
        self.balances = balances
        self.reconcile = reconcile or ReconcileSettings()

    def settle_ms(self, connector: Connector, operation: str) -> int:
        """How long after an attempt a write found absent is taken as never applied."""
        if operation in connector.refuses_duplicates:
            return 0
        if self.reconcile.settle_seconds is not None:
            return int(self.reconcile.settle_seconds * 1000)
        timeouts = connector.program.timeouts
        read = timeouts.operations.get(operation, timeouts.read_seconds)
        return int((2 * read + timeouts.connect_seconds) * 1000)

    async def _look_up(
        self,
        ctx: WriteContext,
        connector: Connector,
        operation: str,
        locate: Callable[[], Awaitable[T | None]] | None,
    ) -> T | None:
        """For an attempt that must check first: the write as found upstream, or ``None``
        to send it (see the module docstring). A merely suspect key (no evidence of an
        earlier attempt) is sent when there is no way to look."""
        if not ctx.check_first or operation in connector.native_idempotency:
            return None
        if locate is None:
            if ctx.recovered:
                raise _unresolved(f"{connector.provider} offers no way to look this write up.")
            return None
        try:
            found = await locate()
        except GatewayError as exc:
            if ctx.recovered:
                raise _unresolved(
                    "An earlier attempt with this Idempotency-Key may have reached the "
                    "provider, and the provider cannot tell yet whether it was applied.",
                    exc,
                ) from None
            raise UpstreamUnavailable(
                "The gateway could not check the provider for an earlier attempt of this "
                "write; nothing was sent. Retry with the same Idempotency-Key.",
                upstream=exc.upstream,
                outcome="not_sent",
            ) from None
        if found is not None:
            ctx.resolution = "found"
            return found
        if not ctx.recovered:
            return None
        wait = self.settle_ms(connector, operation) - ctx.quiet_ms
        if wait > 0:
            raise _unresolved(
                "An earlier attempt with this Idempotency-Key may still be in flight at the "
                "provider: it is not applied yet, and the gateway waits before concluding it "
                "never will be.",
                wait_ms=wait,
            )
        ctx.resolution = "absent"
        if ctx.reconciling:
            raise ProvablyAbsent
        return None

    def drops(self, ctx: WriteContext) -> list[BalanceDrop]:
        """The cached balances the write may have changed (``ctx.changed``), for the caller
        to drop in the record's settle (one Redis call after the provider call, not two)."""
        changed, ctx.changed = ctx.changed, []
        store = self.balances.store
        return [store.balance_drop(p, m) for p, m in dict.fromkeys(changed)]

    async def flush(self, ctx: WriteContext) -> None:
        """Drop them now, one after another (the reconciler, off any caller's path); never
        raises (a failed drop is bounded by the TTL and logged)."""
        changed, ctx.changed = ctx.changed, []
        for program_id, member_id in dict.fromkeys(changed):
            await self.balances.invalidate(program_id, member_id)

    async def perform(
        self, connector: Connector, job: WriteJob, ctx: WriteContext, pin: str | None = None
    ) -> WriteAnswer:
        """Run ``job`` and render its success (status, body struct, headers)."""
        if job.operation == "enroll":
            assert job.enroll is not None
            member = await self.enroll(connector, job.enroll, ctx, pin)
            member.provider_data = None
            return 201, member, member_location(job.program, member.member_id)
        assert job.member_id is not None
        if job.operation == "earn":
            assert job.earn is not None
            return 201, await self.earn(connector, job.member_id, job.earn, ctx, pin), {}
        if job.operation == "redeem":
            assert job.redemption is not None
            return 201, await self.redeem(connector, job.member_id, job.redemption, ctx, pin), {}
        assert job.redemption_id is not None
        return 200, await self.void(connector, job.member_id, job.redemption_id, ctx), {}

    async def enroll(
        self,
        connector: Connector,
        request: EnrollRequest,
        ctx: WriteContext,
        pin: str | None = None,
    ) -> Member:
        enroller = require(connector, "enroll", Enroller)
        locate = (
            (lambda: connector.find_enrollment(request))
            if isinstance(connector, EnrollLocator)
            else None
        )
        found = await self._look_up(ctx, connector, "enroll", locate)
        if found is not None:
            return found
        return await enroller.enroll(request, ctx.token, pin=pin)

    async def update(
        self, connector: Connector, member_id: str, patch: MemberPatch, pin: str | None = None
    ) -> Member:
        updater = require(connector, "update", ProfileUpdater)
        try:
            return await updater.update_member(member_id, patch, pin=pin)
        finally:
            await self.balances.invalidate(connector.program.id, member_id)

    async def earn(
        self,
        connector: Connector,
        member_id: str,
        request: EarnRequest,
        ctx: WriteContext,
        pin: str | None = None,
    ) -> Transaction:
        earner = require(connector, "earn", PointsEarner)
        command = EarnCommand(
            points=request.points,
            reason=request.reason,
            reference=ctx.reference(request.reference),
            point_type=request.point_type,
            idempotency_token=ctx.token,
            pin=pin,
        )
        locate = (
            (lambda: connector.find_earn(member_id, command, since=ctx.since))
            if isinstance(connector, EarnLocator)
            else None
        )
        try:
            found = await self._look_up(ctx, connector, "earn", locate)
            if found is not None:
                return found
            return await earner.earn(member_id, command)
        finally:
            ctx.changed.append((connector.program.id, member_id))

    async def redeem(
        self,
        connector: Connector,
        member_id: str,
        request: RedemptionRequest,
        ctx: WriteContext,
        pin: str | None = None,
    ) -> Redemption:
        redeemer = require(connector, "redeem", PointsRedeemer)
        command = RedeemCommand(
            points=request.points,
            reference=ctx.reference(request.reference),
            point_type=request.point_type,
            idempotency_token=ctx.token,
            pin=pin,
        )
        locate = (
            (lambda: connector.find_redemption(member_id, command, since=ctx.since))
            if isinstance(connector, RedemptionLocator)
            else None
        )
        try:
            found = await self._look_up(ctx, connector, "redeem", locate)
            if found is not None:
                return found
            return await redeemer.redeem(member_id, command)
        finally:
            ctx.changed.append((connector.program.id, member_id))

    async def void(
        self, connector: Connector, member_id: str, redemption_id: str, ctx: WriteContext
    ) -> Redemption:
        voider = require(connector, "void", RedemptionVoider)
        locate = (
            (lambda: connector.find_void(member_id, redemption_id, ctx.token, since=ctx.since))
            if isinstance(connector, VoidLocator)
            else None
        )
        try:
            found = await self._look_up(ctx, connector, "void", locate)
            if found is not None:
                return found
            return await voider.void(member_id, redemption_id, ctx.token)
        finally:
            ctx.changed.append((connector.program.id, member_id))
