"""Balance reads through the Redis cache (API.md "Caching").

A cached balance is fresh for the program's ``balance_ttl_seconds`` and kept for
``max_stale_seconds`` to stand in when the provider fails.

Concurrent misses for one member make one upstream call (single flight, as nginx's
``proxy_cache_lock``): in a process they share one future; across workers and replicas the
first to take the member's short fill lock in Redis reads upstream, stores the balance and
drops the lock in the same call, while the others poll for it (back-off 5 → 50 ms). A waiter
whose filler does not deliver in time (it failed, or its process died) reads upstream itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple

import msgspec
import structlog
from redis.exceptions import RedisError

from gateway.connectors.base import BalanceReader, Connector, require
from gateway.domain.errors import GatewayError, UpstreamTimeout
from gateway.domain.models import Balance
from gateway.infra import context, metrics
from gateway.infra.store import CachedBalance, Store
from gateway.settings import ProgramSettings

_decode = msgspec.json.Decoder(Balance).decode
_encode = msgspec.json.encode
_log = structlog.get_logger("gateway.balances")


class BalanceRead(msgspec.Struct):
    balance: Balance
    cache_status: str
    age: int


class _Miss(NamedTuple):
    """A read the cache could not answer, as its fill needs it."""

    reader: BalanceReader
    program: ProgramSettings
    member_id: str
    pin: str | None
    ttl: int
    cache_up: bool
    no_cache: bool
    cached: CachedBalance | None  # a stale entry seen at the miss


class BalanceService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._inflight: dict[
            tuple[str, str, str | None, bool], asyncio.Future[tuple[Balance, str]]
        ] = {}

    async def read(
        self, connector: Connector, member_id: str, *, no_cache: bool, pin: str | None = None
    ) -> BalanceRead:
        """A balance from the cache when fresh, else from the provider (then cached).

        When the provider fails, a cached balance up to ``max_stale_seconds`` old is served
        instead (stale-if-error, RFC 5861). When Redis fails, the provider is asked directly.
        """
        reader = require(connector, "balance", BalanceReader)
        program = connector.program
        ttl = program.balance_ttl_seconds if connector.balance_cacheable else 0
        cached: CachedBalance | None = None
        cache_up = True
        if ttl > 0 and not no_cache:
            try:
                cached = await self.store.get_balance(program.id, member_id)
            except RedisError:
                cache_up = False
        if cached is not None:
            age = max(0.0, time.time() - cached.stored_at)
            if age < ttl:
                _note(program.id, "hit")
                return BalanceRead(
                    balance=_decode(cached.body),
                    cache_status=f"loyalty-gateway; hit; ttl={int(ttl - age)}",
                    age=int(age),
                )
        miss = _Miss(reader, program, member_id, pin, ttl, cache_up, no_cache, cached)
        try:
            balance, status = await self._once(
                (program.id, member_id, pin, no_cache), lambda: self._fill(miss)
            )
        except GatewayError as exc:
            if ttl > 0 and no_cache:
                # a forced read still prefers a stale answer to none (looked up only now,
                # so the forced read costs no cache round trip when the provider answers)
                cached = await self._cached_quietly(program.id, member_id)
            stale = _stale_if_error(cached, program.id, program.max_stale_seconds, exc)
            if stale is None:
                raise
            return stale
        _note(program.id, status)
        return BalanceRead(balance=balance, cache_status=_STATUS[status], age=0)

    async def _fill(self, miss: _Miss) -> tuple[Balance, str]:
        """Read upstream and cache the answer; or, when another worker or replica is
        already reading this member, wait for its answer in the cache."""
        reader, program, member_id, pin, ttl, cache_up, no_cache, cached = miss
        if ttl <= 0:
            return await reader.balance(member_id, pin=pin), "request" if no_cache else "miss"
        if not cache_up:
            return await reader.balance(member_id, pin=pin), "bypass"
        owner = ""
        if not no_cache:  # a forced read asks the provider itself
            owner = secrets.token_hex(8)
            wait = _fill_seconds(program)
            try:
                if not await self.store.claim_fill(program.id, member_id, owner, int(wait * 1000)):
                    owner = ""
                    seen = cached.stored_at if cached is not None else 0.0
                    entry = await self._await_fill(program.id, member_id, ttl, seen, wait)
                    if entry is not None:
                        return _decode(entry.body), "collapsed"
            except RedisError:
                owner = ""
        read_started = time.time()
        try:
            balance = await reader.balance(member_id, pin=pin)
        except BaseException:
            if owner:
                await self._release_quietly(program.id, member_id, owner)
            raise
        keep_ms = max(ttl, program.max_stale_seconds) * 1000
        entry = CachedBalance(stored_at=time.time(), body=_encode(balance))
        try:
            stored = await self.store.put_balance(
                program.id, member_id, entry, keep_ms, read_started, fill_owner=owner
            )
        except RedisError:
            return balance, "bypass"
        if no_cache:
            return balance, "request_stored" if stored else "request"
        return balance, "miss_stored" if stored else "miss"

    async def _await_fill(
        self, program_id: str, member_id: str, ttl: int, seen: float, wait: float
    ) -> CachedBalance | None:
        """The balance another caller's fill stores, or ``None`` once its lock is gone
        without one or ``wait`` has passed."""
        deadline = time.monotonic() + wait
        delay = 0.005
        while True:
            await asyncio.sleep(delay)
            entry, filling = await self.store.poll_fill(program_id, member_id)
            if entry is not None and entry.stored_at > seen and time.time() - entry.stored_at < ttl:
                return entry
            if not filling or time.monotonic() >= deadline:
                return None
            delay = min(delay * 2, 0.05)

    async def _release_quietly(self, program_id: str, member_id: str, owner: str) -> None:
        with contextlib.suppress(RedisError):  # if not, the lock's own expiry frees it
            await self.store.release_fill(program_id, member_id, owner)

    async def _cached_quietly(self, program_id: str, member_id: str) -> CachedBalance | None:
        try:
            return await self.store.get_balance(program_id, member_id)
        except RedisError:
            return None

    async def _once(
        self,
        key: tuple[str, str, str | None, bool],
        fetch: Callable[[], Awaitable[tuple[Balance, str]]],
    ) -> tuple[Balance, str]:
        """Concurrent callers in this process with one ``key`` share one ``fetch``."""
        pending = self._inflight.get(key)
        if pending is not None:
            balance, status = await asyncio.shield(pending)
            # this caller was collapsed into another's forward request (RFC 9211)
            return balance, "collapsed" if status.startswith("miss") else status
        future: asyncio.Future[tuple[Balance, str]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await fetch()
        except asyncio.CancelledError:
            # This caller gave up (e.g. an aggregate part's deadline); others were waiting.
            future.set_exception(UpstreamTimeout("The shared balance read was abandoned."))
            future.exception()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    async def invalidate(self, program_id: str, member_id: str) -> None:
        """Drop the cached balance after a change; if Redis is down the TTL bounds the damage."""
        try:
            await self.store.drop_balance(program_id, member_id)
        except RedisError:
            _log.warning("balance_invalidation_failed", program=program_id)


#: how a read that missed the cache was answered -> its Cache-Status (RFC 9211)
_STATUS = {
    "miss": "loyalty-gateway; fwd=miss",
    "miss_stored": "loyalty-gateway; fwd=miss; stored",
    "request": "loyalty-gateway; fwd=request",
    "request_stored": "loyalty-gateway; fwd=request; stored",
    "collapsed": "loyalty-gateway; fwd=miss; collapsed",
    "bypass": "loyalty-gateway; fwd=bypass; detail=cache-unavailable",
}
#: the metric's result for each (``miss`` whatever was stored)
_RESULT = {"miss_stored": "miss", "request": "miss", "request_stored": "miss"}


def _fill_seconds(program: ProgramSettings) -> float:
    """How long a fill may hold its lock and others wait for it: one balance attempt."""
    timeouts = program.timeouts
    read = timeouts.operations.get("balance", timeouts.read_seconds)
    return timeouts.connect_seconds + read + 1.0


def _stale_if_error(
    cached: CachedBalance | None, program_id: str, max_stale: int, error: GatewayError
) -> BalanceRead | None:
    """A stale cached balance in place of an upstream failure, if one is young enough."""
    if cached is None or error.status < 500 or error.outcome != "not_sent":
        return None
    age = max(0.0, time.time() - cached.stored_at)
    if age > max_stale:
        return None
    _note(program_id, "stale")
    return BalanceRead(
        balance=_decode(cached.body),
        cache_status=f"loyalty-gateway; fwd=stale; fwd-status={error.status}",
        age=int(age),
    )


def _note(program_id: str, status: str) -> None:
    result = _RESULT.get(status, status)
    metrics.child(metrics.BALANCE_CACHE, program_id, result).inc()
    ctx = context.current()
    if ctx is not None:
        ctx.cache = result
