"""Use cases that change a member: enroll, update, earn, redeem, void.

Each write drops the member's cached balance. When the idempotency layer hands over a
*recovered* attempt (an earlier attempt with the same key may have reached the provider),
the write is first looked for upstream; it is re-sent only when provably absent or when the
provider de-duplicates natively, and otherwise answered with ``upstream_outcome_unknown``.
"""

from __future__ import annotations

import hashlib

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
from gateway.domain.errors import GatewayError, UpstreamOutcomeUnknown
from gateway.domain.models import Member, Redemption, Transaction
from gateway.services.balances import BalanceService


class WriteContext(msgspec.Struct):
    """What the idempotency layer knows about this attempt."""

    client_id: str
    idempotency_key: str
    recovered: bool = False

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
        if ctx.recovered and "enroll" not in connector.native_idempotency:
            if not isinstance(connector, EnrollLocator):
                raise _unknown()
            try:
                found = await connector.find_enrollment(request)
            except GatewayError as exc:
                raise _unknown(exc) from None
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
        try:
            if ctx.recovered and "earn" not in connector.native_idempotency:
                if not isinstance(connector, EarnLocator):
                    raise _unknown()
                try:
                    found = await connector.find_earn(member_id, command)
                except GatewayError as exc:
                    raise _unknown(exc) from None
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
        if ctx.recovered and "redeem" not in connector.native_idempotency:
            raise _unknown()
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
        if ctx.recovered and "void" not in connector.native_idempotency:
            raise _unknown()
        try:
            return await voider.void(member_id, redemption_id, ctx.token)
        finally:
            await self.balances.invalidate(connector.program.id, member_id)
