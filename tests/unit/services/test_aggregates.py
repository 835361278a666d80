"""services/aggregates.py: the overview and the wallet gather their parts concurrently, and
each part's failure or lateness becomes that part's result; money is summed per currency."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.domain.commands import ActivityQuery
from gateway.domain.errors import Forbidden, MemberNotFound, UpstreamTimeout
from gateway.domain.models import Money
from gateway.services.access import Target
from gateway.services.aggregates import AggregateService, totals
from gateway.settings import AggregateSettings, ClientSettings

CALLER = ClientSettings(id="c", api_key_sha256="", programs=["*"], scopes=["members:read"])


class _Program:
    id = "p"


class Provider:
    """Every overview part; ``slow`` sleeps past the deadline, ``missing`` refuses."""

    program = _Program()

    def __init__(self, slow: str = "", missing: str = "") -> None:
        self.slow, self.missing = slow, missing

    async def _part(self, name: str, value: Any) -> Any:
        if name == self.slow:
            await asyncio.sleep(1)
        if name == self.missing:
            raise MemberNotFound("none")
        return value

    async def get_member(self, member_id: str, *, pin: str | None = None) -> Any:
        return await self._part("member", f"member {member_id}")

    async def activity(self, member_id: str, query: ActivityQuery) -> Any:
        return await self._part("activity", f"{query.limit} entries")

    async def offers(self, member_id: str) -> Any:
        return await self._part("offers", ["offer"])


class Balances:
    def __init__(self) -> None:
        self.reads: list[str] = []

    async def read(self, connector: Any, member_id: str, **_: Any) -> Any:
        self.reads.append(member_id)
        return f"balance {member_id}"


class Access:
    """Admits every item but the ones in ``refused``."""

    def __init__(self, refused: set[str] | None = None) -> None:
        self.refused = refused or set()
        self.checked: list[Target] = []

    async def check(self, caller: Any, scope: Any, target: Target) -> Any:
        self.checked.append(target)
        if target.member_id in self.refused:
            raise Forbidden("refused")
        return Provider()


def _service(access: Access | None = None, deadline: float = 0.2) -> AggregateService:
    settings = AggregateSettings(part_deadline_seconds=deadline, recent_activity=3)
    return AggregateService(settings, Balances(), access or Access())


def test_the_overview_gathers_every_part() -> None:
    result = asyncio.run(_service().overview(Provider(), "m1", None))
    assert result.member == "member m1"
    assert result.balance == "balance m1"
    assert result.activity == "3 entries"  # aggregates.recent_activity
    assert result.offers == ["offer"]


def test_a_slow_or_failing_part_is_that_part_s_result() -> None:
    service = _service()
    late = asyncio.run(service.overview(Provider(slow="offers"), "m1", None))
    assert isinstance(late.offers, UpstreamTimeout)
    assert "0.2 s" in late.offers.detail
    assert late.member == "member m1"
    gone = asyncio.run(service.overview(Provider(missing="member"), "m1", None))
    assert isinstance(gone.member, MemberNotFound)
    assert gone.offers == ["offer"]


def test_the_wallet_reads_each_membership_once_and_keeps_the_order() -> None:
    access = Access(refused={"m2"})
    service = _service(access)
    items = asyncio.run(service.wallet(CALLER, [("p", "m1"), ("p", "m2"), ("p", "m1")]))
    assert [(i.program, i.member_id) for i in items] == [("p", "m1"), ("p", "m2"), ("p", "m1")]
    assert items[0].balance == items[2].balance == "balance m1"
    assert isinstance(items[1].balance, Forbidden)  # the access decision refused that item
    assert [t.member_id for t in access.checked] == ["m1", "m2"]  # listed twice, read once
    assert service.balances.reads == ["m1"]


def test_totals_sum_per_currency_in_first_seen_order() -> None:
    values = [Money("1.10", "USD"), Money("2.00", "GBP"), Money("0.95", "USD")]
    assert totals(values) == [Money("2.05", "USD"), Money("2.00", "GBP")]
    assert totals([]) == []
