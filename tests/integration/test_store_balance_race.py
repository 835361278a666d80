"""A balance read that started before a write must not put the old balance back."""

from __future__ import annotations

import asyncio
import time
import uuid

from gateway.infra.store import CachedBalance, Store


def test_fill_racing_a_change_is_not_cached(redis_url: str) -> None:
    async def main() -> None:
        store = Store.from_url(redis_url, prefix="race-" + uuid.uuid4().hex[:6])
        member = uuid.uuid4().hex
        entry = CachedBalance(stored_at=time.time(), body=b"{}")
        try:
            started = time.time() - 0.05  # the read began ...
            await store.drop_balance("p", member)  # ... then the member changed
            assert not await store.put_balance("p", member, entry, 60_000, started)
            assert await store.get_balance("p", member) is None
            await asyncio.sleep(0.01)
            later = time.time()  # a read that began after the change may fill the cache
            assert await store.put_balance("p", member, entry, 60_000, later)
            assert await store.get_balance("p", member) is not None
        finally:
            await store.aclose()

    asyncio.run(main())
