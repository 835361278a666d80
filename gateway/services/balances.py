"""Balance reads through the Redis cache (API.md "Caching").

A cached balance is fresh for the program's ``balance_ttl_seconds``; concurrent misses for the
same member in this process share one upstream call (single flight).
"""

from __future__ import annotations

import asyncio
import time

import msgspec

from gateway.connectors.base import BalanceReader, Connector, require
from gateway.domain.models import Balance
from gateway.infra.store import CachedBalance, Store

_decode = msgspec.json.Decoder(Balance).decode
_encode = msgspec.json.encode


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
        reader = require(connector, "balance", BalanceReader)
        program = connector.program
        ttl = program.balance_ttl_seconds if connector.balance_cacheable else 0
        if not no_cache and ttl > 0:
            cached = await self.store.get_balance(program.id, member_id)
            if cached is not None:
                age = max(0.0, time.time() - cached.stored_at)
                if age < ttl:
                    return BalanceRead(
                        balance=_decode(cached.body),
                        cache_status=f"loyalty-gateway; hit; ttl={int(ttl - age)}",
                        age=int(age),
                    )
        balance = await self._fetch_once(reader, program.id, member_id, pin)
        if ttl > 0:
            keep_ms = max(ttl, program.max_stale_seconds) * 1000
            entry = CachedBalance(stored_at=time.time(), body=_encode(balance))
            await self.store.put_balance(program.id, member_id, entry, keep_ms)
        reason = "request" if no_cache else "miss"
        stored = "; stored" if ttl > 0 else ""
        return BalanceRead(
            balance=balance, cache_status=f"loyalty-gateway; fwd={reason}{stored}", age=0
        )

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
        await self.store.drop_balance(program_id, member_id)
