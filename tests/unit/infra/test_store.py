"""The store's operations against a real redis-server (the session's): the balance cache and
its race guard, the single-flight fill lock, shared tokens, locks, notes and the GCRA rate
limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.infra.store import CachedBalance, Store


def _with_store(redis_url: str, body: Callable[[Store], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        store = Store.from_url(redis_url, prefix="lg-unit-" + uuid.uuid4().hex[:8])
        try:
            return await body(store)
        finally:
            await store.aclose()

    return asyncio.run(run())


def _entry(text: bytes = b'{"points":1}') -> CachedBalance:
    return CachedBalance(stored_at=time.time(), body=text)


def test_a_balance_is_cached_read_back_and_dropped(redis_url: str) -> None:
    async def body(store: Store) -> None:
        assert await store.get_balance("p", "m") is None
        assert await store.put_balance("p", "m", _entry(), 60_000, time.time())
        cached = await store.get_balance("p", "m")
        assert cached is not None
        assert cached.body == b'{"points":1}'
        await store.drop_balance("p", "m")
        assert await store.get_balance("p", "m") is None

    _with_store(redis_url, body)


def test_a_read_that_started_before_a_write_does_not_bring_the_old_balance_back(
    redis_url: str,
) -> None:
    async def body(store: Store) -> None:
        started = time.time() - 1  # the read began before ...
        await store.drop_balance("p", "m")  # ... a write changed the member
        assert not await store.put_balance("p", "m", _entry(), 60_000, started)
        assert await store.get_balance("p", "m") is None
        assert await store.put_balance("p", "m", _entry(), 60_000, time.time() + 0.01)

    _with_store(redis_url, body)


def test_no_ttl_caches_nothing(redis_url: str) -> None:
    async def body(store: Store) -> None:
        assert not await store.put_balance("p", "m", _entry(), 0, time.time())
        assert await store.get_balance("p", "m") is None

    _with_store(redis_url, body)


def test_one_caller_fills_and_the_put_releases_its_lock(redis_url: str) -> None:
    async def body(store: Store) -> None:
        assert await store.claim_fill("p", "m", "a", 5_000)
        assert not await store.claim_fill("p", "m", "b", 5_000)
        assert await store.poll_fill("p", "m") == (None, True)
        await store.put_balance("p", "m", _entry(), 60_000, time.time(), fill_owner="a")
        entry, running = await store.poll_fill("p", "m")
        assert entry is not None
        assert not running
        # another owner's release leaves a lock alone
        assert await store.claim_fill("p", "m", "c", 5_000)
        await store.release_fill("p", "m", "not-c")
        assert (await store.poll_fill("p", "m"))[1]
        await store.release_fill("p", "m", "c")
        assert not (await store.poll_fill("p", "m"))[1]

    _with_store(redis_url, body)


def test_many_members_read_at_once_are_each_their_own(redis_url: str) -> None:
    async def body(store: Store) -> None:
        members = [f"m{i}" for i in range(20)]
        for member in members[::2]:
            await store.put_balance("p", member, _entry(member.encode()), 60_000, time.time())
        found = await asyncio.gather(*(store.get_balance("p", m) for m in members))
        assert [f.body.decode() if f else None for f in found] == [
            m if i % 2 == 0 else None for i, m in enumerate(members)
        ]

    _with_store(redis_url, body)


def test_a_token_is_dropped_only_while_it_is_still_the_one_cached(redis_url: str) -> None:
    async def body(store: Store) -> None:
        await store.put_token("p", b"t1", 60_000)
        assert await store.get_token("p") == b"t1"
        assert not await store.drop_token_if("p", b"t0")  # another replica refreshed it
        assert await store.drop_token_if("p", b"t1")
        assert await store.get_token("p") is None

    _with_store(redis_url, body)


def test_a_lock_has_one_owner(redis_url: str) -> None:
    async def body(store: Store) -> None:
        key = store.token_lock_key("p")
        assert await store.try_lock(key, "a", 5_000)
        assert not await store.try_lock(key, "b", 5_000)
        assert not await store.unlock(key, "b")
        assert await store.unlock(key, "a")
        assert await store.try_lock(key, "b", 5_000)

    _with_store(redis_url, body)


def test_notes_are_kept_by_kind_and_name(redis_url: str) -> None:
    async def body(store: Store) -> None:
        await store.put_note("p", "redemption", "A1", b"10", 60)
        assert await store.get_note("p", "redemption", "A1") == b"10"
        assert await store.get_note("p", "redemption", "A2") is None
        assert await store.get_note("q", "redemption", "A1") is None
        # names are hashed into the key: no caller text reaches a key as is
        assert "A1" not in store.note_key("p", "redemption", "A1")

    _with_store(redis_url, body)


def test_the_rate_limit_allows_a_burst_then_refuses_with_a_retry_time(redis_url: str) -> None:
    async def body(store: Store) -> None:
        # 3 requests a second: one every 333 ms, a burst of 3
        emission = 1000 / 3
        decisions = [await store.rate_limit("c", emission, emission * 2) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
        assert 0 < decisions[3].retry_after_ms <= 334
        assert decisions[3].reset_ms > 0

    _with_store(redis_url, body)
