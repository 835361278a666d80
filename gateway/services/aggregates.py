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
from gateway.domain.errors import GatewayError, MemberNotFound, UpstreamTimeout
from gateway.domain.models import Money
from gateway.infra import context
from gateway.infra.identity import MemberCaller
from gateway.services.balances import BalanceRead, BalanceService
from gateway.services.programs import ProgramDirectory
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


#: counts one call of ``caller`` against its limit for ``program`` (raises 429 when used up)
ProgramLimit = Callable[[ClientSettings, str], Awaitable[None]]


async def _no_limit(caller: ClientSettings, program: str) -> None:
    return None


class AggregateService:
    def __init__(
        self,
        settings: AggregateSettings,
        directory: ProgramDirectory,
        balances: BalanceService,
        program_limit: ProgramLimit = _no_limit,
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.balances = balances
        self.program_limit = program_limit

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
                connector = self.directory.connector(caller, program_id)
                if isinstance(caller, MemberCaller) and not caller.owns(program_id, member_id):
                    raise MemberNotFound("No such member for this token.")
                # each item is a balance read of its program: it counts against that
                # program's limit for the caller, like GET …/balance (that item's 429)
                await self.program_limit(caller, program_id)
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
