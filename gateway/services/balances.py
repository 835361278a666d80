"""Balance reads through the Redis cache (API.md "Caching").

A cached balance is fresh for the program's ``balance_ttl_seconds`` and kept for
``max_stale_seconds`` to stand in when the provider fails; concurrent misses for the same
member in this process share one upstream call (single flight).
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import structlog
from redis.exceptions import RedisError

from gateway.connectors.base import BalanceReader, Connector, require
from gateway.domain.errors import GatewayError, UpstreamTimeout
from gateway.domain.models import Balance
from gateway.infra import context, metrics
from gateway.infra.store import CachedBalance, Store

_decode = msgspec.json.Decoder(Balance).decode
_encode = msgspec.json.encode
_log = structlog.get_logger("gateway.balances")


class BalanceRead(msgspec.Struct):
    balance: Balance
    cache_status: str
    age: int


class BalanceService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._inflight: dict[tuple[str, str, str | None], asyncio.Future[Balance]] = {}

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
        read_started = time.time()
        try:
            balance = await self._fetch_once(reader, program.id, member_id, pin)
        except GatewayError as exc:
            if ttl > 0 and no_cache:
                # a forced read still prefers a stale answer to none (looked up only now,
                # so the forced read costs no cache round trip when the provider answers)
                cached = await self._cached_quietly(program.id, member_id)
            stale = _stale_if_error(cached, program.id, program.max_stale_seconds, exc)
            if stale is None:
                raise
            return stale
        stored = False
        if ttl > 0 and cache_up:
            keep_ms = max(ttl, program.max_stale_seconds) * 1000
            entry = CachedBalance(stored_at=time.time(), body=_encode(balance))
            try:
                stored = await self.store.put_balance(
                    program.id, member_id, entry, keep_ms, read_started
                )
            except RedisError:
                cache_up = False
        if not cache_up:
            _note(program.id, "bypass")
            status = "loyalty-gateway; fwd=bypass; detail=cache-unavailable"
        else:
            _note(program.id, "miss")
            status = f"loyalty-gateway; fwd={'request' if no_cache else 'miss'}"
            status += "; stored" if stored else ""
        return BalanceRead(balance=balance, cache_status=status, age=0)

    async def _cached_quietly(self, program_id: str, member_id: str) -> CachedBalance | None:
        try:
            return await self.store.get_balance(program_id, member_id)
        except RedisError:
            return None

    async def _fetch_once(
        self, reader: BalanceReader, program_id: str, member_id: str, pin: str | None
    ) -> Balance:
        key = (program_id, member_id, pin)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Balance] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            balance = await reader.balance(member_id, pin=pin)
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
            future.set_result(balance)
            return balance
        finally:
            del self._inflight[key]

    async def invalidate(self, program_id: str, member_id: str) -> None:
        """Drop the cached balance after a change; if Redis is down the TTL bounds the damage."""
        try:
            await self.store.drop_balance(program_id, member_id)
        except RedisError:
            _log.warning("balance_invalidation_failed", program=program_id)


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


def _note(program_id: str, result: str) -> None:
    metrics.child(metrics.BALANCE_CACHE, program_id, result).inc()
    ctx = context.current()
    if ctx is not None:
        ctx.cache = result
