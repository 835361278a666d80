"""One call per screen: a member's overview and a multi-program wallet.

Every part runs concurrently under its own deadline; a part's failure (or a deadline) is kept
as that part's error instead of failing the whole answer. Identical upstream reads within one
aggregate are made once (e.g. CP Extender's BalanceCheck serves profile, balance and activity).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from gateway.connectors.base import (
    ActivityReader,
    Connector,
    OfferReader,
    ProfileReader,
    require,
)
from gateway.domain.commands import ActivityQuery
from gateway.domain.errors import GatewayError, UpstreamTimeout
from gateway.domain.models import Money
from gateway.infra import context
from gateway.services.access import Access, Target
from gateway.services.balances import BalanceRead, BalanceService
from gateway.settings import AggregateSettings, ClientSettings

T = TypeVar("T")
Result = Any  # a value, or the GatewayError that replaced it


class OverviewResult(msgspec.Struct):
    member: Result
    balance: Result
    activity: Result
    offers: Result


class WalletItemResult(msgspec.Struct):
    program: str
    member_id: str
    balance: Result


async def _within(deadline: float, what: str, step: Callable[[], Awaitable[T]]) -> T | GatewayError:
    """Run one part; its failure or lateness becomes its result instead of an exception."""
    try:
        return await asyncio.wait_for(step(), timeout=deadline)
    except TimeoutError:
        return UpstreamTimeout(f"The {what} part did not finish within {deadline:g} s.")
    except GatewayError as exc:
        return exc


def _coalesce_reads() -> None:
    ctx = context.current()
    if ctx is not None:
        ctx.coalesce_reads = True


class AggregateService:
    def __init__(
        self,
        settings: AggregateSettings,
        balances: BalanceService,
        access: Access,
    ) -> None:
        self.settings = settings
        self.balances = balances
        self.access = access

    async def overview(
        self, connector: Connector, member_id: str, pin: str | None
    ) -> OverviewResult:
        _coalesce_reads()
        deadline = self.settings.part_deadline_seconds

        async def member() -> Any:
            return await require(connector, "profile", ProfileReader).get_member(member_id, pin=pin)

        async def balance() -> BalanceRead:
            return await self.balances.read(connector, member_id, no_cache=False, pin=pin)

        async def activity() -> Any:
            query = ActivityQuery(limit=self.settings.recent_activity)
            return await require(connector, "activity", ActivityReader).activity(member_id, query)

        async def offers() -> Any:
            return await require(connector, "offers", OfferReader).offers(member_id)

        parts = await asyncio.gather(
            _within(deadline, "member", member),
            _within(deadline, "balance", balance),
            _within(deadline, "activity", activity),
            _within(deadline, "offers", offers),
        )
        return OverviewResult(*parts)

    async def wallet(
        self, caller: ClientSettings, memberships: list[tuple[str, str]]
    ) -> list[WalletItemResult]:
        _coalesce_reads()
        deadline = self.settings.part_deadline_seconds

        async def one(program_id: str, member_id: str) -> WalletItemResult:
            async def read() -> BalanceRead:
                # each item is a balance read of its program, decided as GET …/balance is
                # (visibility, member tokens, that program's rate limit, every added rule):
                # a refusal is that item's problem
                target = Target(program_id, member_id)
                connector = await self.access.check(caller, "members:read", target)
                assert connector is not None  # a program was named
                return await self.balances.read(connector, member_id, no_cache=False)

            return WalletItemResult(program_id, member_id, await _within(deadline, "balance", read))

        # one read per distinct membership, however often it is listed
        unique = list(dict.fromkeys(memberships))
        found = dict(
            zip(unique, await asyncio.gather(*(one(p, m) for p, m in unique)), strict=True)
        )
        return [found[item] for item in memberships]


def totals(values: list[Money]) -> list[Money]:
    """Sum of money per currency, in first-seen currency order."""
    sums: dict[str, Decimal] = {}
    for money in values:
        sums[money.currency] = sums.get(money.currency, Decimal(0)) + Decimal(money.amount)
    return [
        Money(amount=str(total.quantize(Decimal("0.01"))), currency=currency)
        for currency, total in sums.items()
    ]
