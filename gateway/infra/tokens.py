"""Upstream OAuth access tokens, cached in Redis and shared by every gateway replica.

A token is used until ``expires_at - margin``; after that one caller refreshes it. Within a
process concurrent callers share that one in-flight refresh; across processes the refresh
holds a Redis lock (``SET NX PX``, released by compare-and-delete) while the others wait
briefly for the new token, or keep using the old one while it is still valid. A failed
cache read or write is logged and the token fetched directly: Redis trouble slows token
handling down but never stops calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable

import msgspec
import structlog
from redis.exceptions import RedisError

from gateway.infra.store import Store

_log = structlog.get_logger("gateway.tokens")


class Token(msgspec.Struct):
    value: str
    expires_at: float  # epoch seconds
    issued_at: float

    @property
    def margin(self) -> float:
        """Refresh ahead of expiry: 10 % of the lifetime, at most 60 s."""
        return min(60.0, max(0.0, self.expires_at - self.issued_at) * 0.1)

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - self.margin

    def usable(self, now: float) -> bool:
        return now < self.expires_at - 0.05


Fetch = Callable[[], Awaitable[Token]]
_encode = msgspec.json.encode
_decode = msgspec.json.Decoder(Token).decode


class TokenCache:
    """One per program: ``await cache.get()`` returns a valid token, refreshing as needed."""

    def __init__(
        self,
        store: Store | None,
        program: str,
        fetch: Fetch,
        *,
        lock_ms: int = 10_000,
        wait_seconds: float = 5.0,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.program = program
        self._fetch = fetch
        self._lock_ms = lock_ms
        self._wait = wait_seconds
        self._local: Token | None = None
        self._inflight: asyncio.Task[Token] | None = None
        self._on_event = on_event or (lambda _: None)

    async def get(self) -> Token:
        now = time.time()
        if self._local is not None and self._local.fresh(now):
            self._on_event("hit")
            return self._local
        shared = await self._read()
        if shared is not None and shared.fresh(now):
            self._local = shared
            self._on_event("hit")
            return shared
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._refresh(shared))
        return await asyncio.shield(self._inflight)

    async def invalidate(self, used: Token) -> None:
        """The provider refused ``used``: forget it unless someone already replaced it."""
        if self._local is not None and self._local.value == used.value:
            self._local = None
        if self.store is None:
            return
        try:
            await self.store.drop_token_if(self.program, _encode(used))
        except RedisError as exc:
            _log.warning("token_cache_drop_failed", program=self.program, error=type(exc).__name__)

    async def _read(self) -> Token | None:
        if self.store is None:
            return None
        try:
            raw = await self.store.get_token(self.program)
        except RedisError as exc:
            _log.warning("token_cache_read_failed", program=self.program, error=type(exc).__name__)
            return None
        if raw is None:
            return None
        try:
            return _decode(raw)
        except msgspec.DecodeError:
            return None

    async def _refresh(self, stale: Token | None) -> Token:
        owner = uuid.uuid4().hex
        lock = self.store.token_lock_key(self.program) if self.store else ""
        # Wait for another replica's refresh as long as its lock may live, then take over.
        give_up = time.monotonic() + self._lock_ms / 1000
        while not (locked := await self._try_lock(lock, owner)):
            if stale is not None and stale.usable(time.time()):
                self._on_event("hit")  # keep using the old token meanwhile
                return stale
            await asyncio.sleep(0.05)
            shared = await self._read()
            if shared is not None and shared.fresh(time.time()):
                self._local = shared
                self._on_event("hit")
                return shared
            if time.monotonic() > give_up:
                break
        try:
            # double-checked: the replica that held the lock may have just stored a token
            shared = await self._read() if locked and self.store is not None else None
            if shared is not None and shared.fresh(time.time()):
                self._local = shared
                self._on_event("hit")
                return shared
            try:
                token = await self._fetch()
            except Exception:
                self._on_event("failure")
                raise
            await self._write(token)  # before the lock goes, so waiters find it
        finally:
            if locked:
                await self._unlock(lock, owner)
        self._on_event("refresh")
        self._local = token
        return token

    async def _try_lock(self, lock: str, owner: str) -> bool:
        if self.store is None:
            return True
        try:
            return await self.store.try_lock(lock, owner, self._lock_ms)
        except RedisError:
            return True  # no shared cache: refresh on our own

    async def _unlock(self, lock: str, owner: str) -> None:
        if self.store is None:
            return
        with contextlib.suppress(RedisError):  # else the lock expires by itself
            await self.store.unlock(lock, owner)

    async def _write(self, token: Token) -> None:
        if self.store is None:
            return
        keep_ms = int((token.expires_at - time.time()) * 1000)
        if keep_ms <= 0:
            return
        try:
            await self.store.put_token(self.program, _encode(token), keep_ms)
        except RedisError as exc:
            _log.warning("token_cache_write_failed", program=self.program, error=type(exc).__name__)
