"""Use cases that change a member: enroll, update, earn, redeem, void.

Each write drops the member's cached balance. When the idempotency layer hands over a
*recovered* attempt (an earlier attempt with the same key may have reached the provider),
the write is first looked for upstream; it is re-sent only when provably absent or when the
provider de-duplicates natively, and otherwise answered with ``upstream_outcome_unknown``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec

from gateway.connectors.base import (
    Connector,
    EarnLocator,
    Enroller,
    EnrollLocator,
    PointsEarner,
    PointsRedeemer,
    ProfileUpdater,
    RedemptionVoider,
    require,
)
from gateway.domain.commands import (
    EarnCommand,
    EarnRequest,
    EnrollRequest,
    MemberPatch,
    RedeemCommand,
    RedemptionRequest,
)
from gateway.domain.errors import GatewayError, UpstreamOutcomeUnknown, UpstreamUnavailable
from gateway.domain.models import Member, Redemption, Transaction
from gateway.services.balances import BalanceService


class WriteContext(msgspec.Struct):
    """What the idempotency layer knows about this attempt."""

    client_id: str
    idempotency_key: str
    #: an earlier attempt with this key may have reached the provider
    recovered: bool = False
    #: Redis lost data recently, so this "new" key may have been used before the loss
    suspect: bool = False

    @property
    def check_first(self) -> bool:
        return self.recovered or self.suspect

    @property
    def token(self) -> str:
        """Deterministic per client+key: every retry, on any replica, derives the same one."""
        digest = hashlib.sha256(f"{self.client_id}\0{self.idempotency_key}".encode())
        return digest.hexdigest()[:32]

    def reference(self, given: str | None) -> str:
        return given or f"lg-{self.token[:24]}"


def _unknown(cause: GatewayError | None = None) -> UpstreamOutcomeUnknown:
    return UpstreamOutcomeUnknown(
        "An earlier attempt with this Idempotency-Key may have reached the provider and its "
        "outcome cannot be established yet. Retry later with the same key.",
        upstream=cause.upstream if cause else None,
    )


T = TypeVar("T")


async def _look_up(
    ctx: WriteContext,
    connector: Connector,
    operation: str,
    locate: Callable[[], Awaitable[T | None]] | None,
) -> T | None:
    """For an attempt that must check first: the write as found upstream, or ``None`` to
    send it. A recovered key whose write cannot be looked up stays unknown; a merely
    suspect one (no evidence of an earlier attempt) is sent when there is no way to look."""
    if not ctx.check_first or operation in connector.native_idempotency:
        return None
    if locate is None:
        if ctx.recovered:
            raise _unknown()
        return None
    try:
        return await locate()
    except GatewayError as exc:
        if ctx.recovered:
            raise _unknown(exc) from None
        raise UpstreamUnavailable(
            "The gateway could not check the provider for an earlier attempt of this write; "
            "nothing was sent. Retry with the same Idempotency-Key.",
            upstream=exc.upstream,
            outcome="not_sent",
        ) from None


class WriteService:
    def __init__(self, balances: BalanceService) -> None:
        self.balances = balances

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
        found = await _look_up(ctx, connector, "enroll", locate)
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
            (lambda: connector.find_earn(member_id, command))
            if isinstance(connector, EarnLocator)
            else None
        )
        try:
            found = await _look_up(ctx, connector, "earn", locate)
            if found is not None:
                return found
            return await earner.earn(member_id, command)
        finally:
            await self.balances.invalidate(connector.program.id, member_id)

    async def redeem(
        self,
        connector: Connector,
        member_id: str,
        request: RedemptionRequest,
        ctx: WriteContext,
        pin: str | None = None,
    ) -> Redemption:
        redeemer = require(connector, "redeem", PointsRedeemer)
        await _look_up(ctx, connector, "redeem", None)
        command = RedeemCommand(
            points=request.points,
            reference=ctx.reference(request.reference),
            point_type=request.point_type,
            idempotency_token=ctx.token,
            pin=pin,
        )
        try:
            return await redeemer.redeem(member_id, command)
        finally:
            await self.balances.invalidate(connector.program.id, member_id)

    async def void(
        self, connector: Connector, member_id: str, redemption_id: str, ctx: WriteContext
    ) -> Redemption:
        voider = require(connector, "void", RedemptionVoider)
        await _look_up(ctx, connector, "void", None)
        try:
            return await voider.void(member_id, redemption_id, ctx.token)
        finally:
            await self.balances.invalidate(connector.program.id, member_id)
