"""Concurrent cached-balance lookups reach Redis as one MGET (real Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid

import redis

from gateway.infra.store import CachedBalance, Store


def _calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


def test_concurrent_lookups_are_one_mget(redis_url: str) -> None:
    observer = redis.Redis.from_url(redis_url)

    async def main() -> None:
        store = Store.from_url(redis_url, prefix="batch-" + uuid.uuid4().hex[:6])
        members = [uuid.uuid4().hex for _ in range(20)]
        try:
            for n, member in enumerate(members[:10]):
                entry = CachedBalance(stored_at=time.time(), body=str(n).encode())
                assert await store.put_balance("p", member, entry, 60_000, time.time())
            await store.get_balance("p", members[0])  # connection set up
            mget, get = _calls(observer, "mget"), _calls(observer, "get")
            found = await asyncio.gather(*(store.get_balance("p", m) for m in members * 2))
            assert [f.body if f else None for f in found] == (
                [str(n).encode() for n in range(10)] + [None] * 10
            ) * 2
            # the first lookup found the batcher idle and went alone; the other 39, one MGET
            assert _calls(observer, "get") - get == 1
            assert _calls(observer, "mget") - mget == 1
        finally:
            await store.aclose()

    try:
        asyncio.run(main())
    finally:
        observer.close()
