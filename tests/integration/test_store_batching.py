"""Concurrent cached-balance lookups and fills reach Redis as one command (real Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
import redis

from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.infra.store import CachedBalance, Store


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis of this module's own: the counts below must not include other gateways'
    calls (the session's gateways run reconcilers that poll the shared Redis)."""
    server = EmbeddedRedis().start()
    try:
        yield server.url
    finally:
        server.stop()


def _calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def _entry(n: int) -> CachedBalance:
    return CachedBalance(stored_at=time.time(), body=str(n).encode())


def _run(redis_url: str, scenario: Callable[[Store, redis.Redis], Awaitable[None]]) -> None:
    """``scenario(store, observer)`` on a fresh key prefix; ``observer`` reads commandstats."""
    observer = redis.Redis.from_url(redis_url)

    async def main() -> None:
        store = Store.from_url(redis_url, prefix="batch-" + uuid.uuid4().hex[:6])
        try:
            await scenario(store, observer)
        finally:
            await store.aclose()

    try:
        asyncio.run(main())
    finally:
        observer.close()


def test_concurrent_lookups_are_one_mget(redis_url: str) -> None:
    async def scenario(store: Store, observer: redis.Redis) -> None:
        members = [uuid.uuid4().hex for _ in range(20)]
        for n, member in enumerate(members[:10]):
            assert await store.put_balance("p", member, _entry(n), 60_000, time.time())
        await store.get_balance("p", members[0])  # connection set up
        mget, get = _calls(observer, "mget"), _calls(observer, "get")
        found = await asyncio.gather(*(store.get_balance("p", m) for m in members * 2))
        assert [f.body if f else None for f in found] == (
            [str(n).encode() for n in range(10)] + [None] * 10
        ) * 2
        # the first lookup found the batcher idle and went alone; the other 39, one MGET
        assert _calls(observer, "get") - get == 1
        assert _calls(observer, "mget") - mget == 1

    _run(redis_url, scenario)


def test_concurrent_fills_are_one_script_call_and_each_keeps_its_own_answer(
    redis_url: str,
) -> None:
    async def scenario(store: Store, observer: redis.Redis) -> None:
        members = [uuid.uuid4().hex for _ in range(12)]
        started = time.time() - 0.05
        await store.drop_balance("p", members[3])  # changed after the reads began
        await store.put_balance("p", uuid.uuid4().hex, _entry(0), 60_000, time.time())
        calls = _calls(observer, "evalsha")
        stored = await asyncio.gather(
            *(store.put_balance("p", m, _entry(n), 60_000, started) for n, m in enumerate(members))
        )
        # the first fill found the batcher idle and went alone; the other 11, one call
        assert _calls(observer, "evalsha") - calls == 2
        assert stored == [n != 3 for n in range(12)]
        found = await asyncio.gather(*(store.get_balance("p", m) for m in members))
        assert [f.body if f else None for f in found] == [
            None if n == 3 else str(n).encode() for n in range(12)
        ]

    _run(redis_url, scenario)
