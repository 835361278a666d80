"""The balance service's single flight, with a fake store standing in for Redis (the real
Redis and processes are in tests/integration/test_single_flight.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.domain.errors import UpstreamUnavailable
from gateway.domain.models import Balance
from gateway.infra.store import CachedBalance
from gateway.services.balances import BalanceService
from gateway.settings import ProgramSettings


class FakeStore:
    def __init__(self) -> None:
        self.entries: dict[str, CachedBalance] = {}
        self.locks: dict[str, str] = {}
        self.calls: list[str] = []
        self.down = False

    def _check(self, name: str) -> None:
        self.calls.append(name)
        if self.down:
            raise RedisConnectionError("down")

    async def get_balance(self, program: str, member: str) -> CachedBalance | None:
        self._check("get")
        return self.entries.get(member)

    async def claim_fill(self, program: str, member: str, owner: str, ttl_ms: int) -> bool:
        self._check("claim")
        if member in self.locks:
            return False
        self.locks[member] = owner
        return True

    async def poll_fill(self, program: str, member: str) -> tuple[CachedBalance | None, bool]:
        self._check("poll")
        return self.entries.get(member), member in self.locks

    async def release_fill(self, program: str, member: str, owner: str) -> None:
        self._check("release")
        if self.locks.get(member) == owner:
            del self.locks[member]

    async def put_balance(
        self,
        program: str,
        member: str,
        entry: CachedBalance,
        keep_ms: int,
        started: float,
        fill_owner: str = "",
    ) -> bool:
        self._check("put")
        self.entries[member] = entry
        if fill_owner and self.locks.get(member) == fill_owner:
            del self.locks[member]
        return True


class Reader:
    """A connector with a balance read: counts calls, may fail or be slow."""

    provider = "cpextender"
    balance_cacheable = True

    def __init__(self, points: int = 7, fail: bool = False, delay: float = 0.0) -> None:
        self.program = ProgramSettings(
            id="p", name="P", provider="cpextender", base_url="http://p.test"
        )
        self.points, self.fail, self.delay, self.calls = points, fail, delay, 0

    async def balance(self, member_id: str, *, pin: str | None = None) -> Balance:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise UpstreamUnavailable("down")
        return Balance(
            program="p", member_id=member_id, points=self.points, available_points=self.points
        )


@pytest.fixture(autouse=True)
def _balance_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    # the service checks the capability with require(); the fake reader has the method
    monkeypatch.setattr("gateway.services.balances.require", lambda c, *_: c)


def _service(store: FakeStore) -> BalanceService:
    return BalanceService(store)  # type: ignore[arg-type]


def test_the_filler_holds_the_lock_and_drops_it_with_the_put() -> None:
    store, reader = FakeStore(), Reader()
    read = asyncio.run(_service(store).read(reader, "m1", no_cache=False))  # type: ignore[arg-type]
    assert read.balance.points == 7
    assert read.cache_status == "loyalty-gateway; fwd=miss; stored"
    assert store.calls == ["get", "claim", "put"]
    assert store.locks == {}


def _read_while_another_fills(store: FakeStore, reader: Reader, stores: int | None) -> Any:
    """Read m1 while "another process" holds its fill lock, then drops it after 30 ms,
    having stored a balance of ``stores`` points first (``None``: its read failed)."""
    store.locks["m1"] = "someone-else"

    async def other_process() -> None:
        await asyncio.sleep(0.03)
        if stores is not None:
            balance = Balance(program="p", member_id="m1", points=stores, available_points=stores)
            entry = CachedBalance(stored_at=time.time(), body=msgspec.json.encode(balance))
            store.entries["m1"] = entry
        del store.locks["m1"]

    async def main() -> Any:
        other = asyncio.ensure_future(other_process())
        read = await _service(store).read(reader, "m1", no_cache=False)  # type: ignore[arg-type]
        await other
        return read

    return asyncio.run(main())


def test_a_waiter_takes_the_balance_another_process_stored() -> None:
    store, reader = FakeStore(), Reader()
    read = _read_while_another_fills(store, reader, stores=99)
    assert read.balance.points == 99
    assert read.cache_status == "loyalty-gateway; fwd=miss; collapsed"
    assert reader.calls == 0
    assert "poll" in store.calls


def test_a_waiter_whose_filler_vanished_reads_for_itself() -> None:
    store, reader = FakeStore(), Reader()
    read = _read_while_another_fills(store, reader, stores=None)
    assert reader.calls == 1
    assert read.balance.points == 7
    assert read.cache_status == "loyalty-gateway; fwd=miss; stored"


def test_a_failed_fill_releases_its_lock() -> None:
    store, reader = FakeStore(), Reader(fail=True)
    with pytest.raises(UpstreamUnavailable):
        asyncio.run(_service(store).read(reader, "m1", no_cache=False))  # type: ignore[arg-type]
    assert store.locks == {}
    assert store.calls[-1] == "release"


def test_callers_in_one_process_share_one_fill_and_say_collapsed() -> None:
    store, reader = FakeStore(), Reader(delay=0.02)

    async def main() -> list[Any]:
        service = _service(store)
        return list(
            await asyncio.gather(*(service.read(reader, "m1", no_cache=False) for _ in range(5)))
        )  # type: ignore[arg-type]

    reads = asyncio.run(main())
    assert reader.calls == 1
    statuses = sorted(r.cache_status for r in reads)
    assert statuses.count("loyalty-gateway; fwd=miss; stored") == 1
    assert statuses.count("loyalty-gateway; fwd=miss; collapsed") == 4
    assert store.calls.count("claim") == 1


def test_a_forced_read_takes_no_lock_and_redis_down_bypasses() -> None:
    store, reader = FakeStore(), Reader()
    forced = asyncio.run(_service(store).read(reader, "m1", no_cache=True))  # type: ignore[arg-type]
    assert forced.cache_status == "loyalty-gateway; fwd=request; stored"
    assert "claim" not in store.calls
    store.down = True
    down = asyncio.run(_service(store).read(reader, "m2", no_cache=False))  # type: ignore[arg-type]
    assert down.cache_status == "loyalty-gateway; fwd=bypass; detail=cache-unavailable"
    assert reader.calls == 2
