"""All shared state of the gateway, on Redis (redis-py asyncio).

Keys carry a hash tag (``{...}``) per record, so every Lua script touches a single slot and
works unchanged on Redis Cluster. Member ids are hashed before they become part of a key:
an email or card number never appears in Redis key names.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

import msgspec
from redis.asyncio.cluster import RedisCluster

from gateway.infra import record_scripts as lua
from gateway.infra.batching import KeyBatcher
from gateway.infra.records import BalanceDrop, Records, digest
from gateway.infra.redis_topology import Topology, connect, guarded


class RateDecision(msgspec.Struct):
    allowed: bool
    remaining: int
    retry_after_ms: int
    reset_ms: int


class CachedBalance(msgspec.Struct):
    stored_at: float
    body: bytes


class _Put(NamedTuple):
    key: str
    entry: bytes
    keep_ms: int
    read_started_ms: int
    #: the fill lock this read holds ("" none): released in the same call
    fill_owner: str


# KEYS[1]; ARGV value. Deletes only what the caller saw (a lock it owns, a token it used).
_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# GCRA (generic cell rate algorithm) in one call. KEYS[1]; ARGV emission_ms, tolerance_ms.
# Returns {allowed, remaining, retry_after_ms, reset_ms}; server time keeps replicas in step.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, 0, tat - now - tolerance, tat - now}
end
local new_tat = tat + emission
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now) + 1000)
local remaining = math.floor((tolerance + emission - (new_tat - now)) / emission)
return {1, remaining, 0, new_tat - now}
"""

# For each member n (from 0): KEYS[3n+1] balance, KEYS[3n+2] its "changed at" mark,
# KEYS[3n+3] its fill lock; ARGV[4n+1..4n+4] entry, keep_ms, read_started_ms, fill owner
# (the lock is dropped if this read holds it). One 0/1 per member, in order.
_PUT_UNLESS_CHANGED = """
local stored = {}
for n = 0, #KEYS / 3 - 1 do
  local changed = tonumber(redis.call('GET', KEYS[3 * n + 2]) or 0)
  if changed >= tonumber(ARGV[4 * n + 3]) then
    stored[n + 1] = 0
  else
    redis.call('SET', KEYS[3 * n + 1], ARGV[4 * n + 1], 'PX', ARGV[4 * n + 2])
    stored[n + 1] = 1
  end
  local owner = ARGV[4 * n + 4]
  if owner ~= '' and redis.call('GET', KEYS[3 * n + 3]) == owner then
    redis.call('DEL', KEYS[3 * n + 3])
  end
end
return stored
"""

# KEYS[1] balance, KEYS[2] its "changed at" mark; ARGV now_ms, keep_ms

_cached_balance = msgspec.msgpack.Decoder(CachedBalance)
_msgpack = msgspec.msgpack.Encoder()


class Store:
    """The gateway's Redis: balance cache, idempotency records (:attr:`records`), tokens,
    notes and rate limits. Every method raises only ``RedisError`` (see ``guarded``)."""

    def __init__(self, topology: Topology, prefix: str = "lg") -> None:
        self.topology = topology
        self.redis = client = topology.client
        self.prefix = prefix
        self.records = Records(topology, prefix)
        self._compare_and_delete = client.register_script(_COMPARE_AND_DELETE)
        self._gcra = client.register_script(_GCRA)
        self._put_unless_changed = client.register_script(_PUT_UNLESS_CHANGED)
        self._balances: KeyBatcher[str, bytes | None] = KeyBatcher(self._mget)
        self._balance_puts: KeyBatcher[_Put, int] = KeyBatcher(self._put_many)

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = "lg",
        *,
        replica_acks: int | None = None,
        ack_timeout_ms: int = 500,
    ) -> Store:
        """``redis://``, ``rediss://``, ``unix://``; Sentinel as
        ``redis+sentinel://[:password@]host:26379,host2:26379/<master>/<db>``; Cluster as
        ``redis+cluster://host:6379`` (``rediss+cluster://`` for TLS)."""
        topology = connect(url, replica_acks=replica_acks, ack_timeout_ms=ack_timeout_ms)
        return cls(topology, prefix)

    async def aclose(self) -> None:
        await self.topology.aclose()

    @guarded
    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # -- balance cache --------------------------------------------------------------------
    def balance_key(self, program: str, member_id: str) -> str:
        return f"{self.prefix}:bal:{{{program}:{digest(member_id)}}}"

    @guarded
    async def get_balance(self, program: str, member_id: str) -> CachedBalance | None:
        raw = await self._balances.get(self.balance_key(program, member_id))
        return _cached_balance.decode(raw) if isinstance(raw, bytes) else None

    @guarded
    async def _mget(self, keys: list[str]) -> list[bytes | None]:
        if len(keys) == 1:
            return [await self.redis.get(keys[0])]
        if isinstance(self.redis, RedisCluster):
            # the keys live in different slots: one MGET per slot, pipelined per node
            return list(await self.redis.mget_nonatomic(keys))
        return list(await self.redis.mget(keys))

    @guarded
    async def put_balance(
        self,
        program: str,
        member_id: str,
        entry: CachedBalance,
        keep_ms: int,
        read_started: float,
        fill_owner: str = "",
    ) -> bool:
        """Cache a balance read that started at ``read_started`` (epoch seconds), unless the
        member was changed since: a read racing a write must not bring the old balance back.
        The fill lock ``fill_owner`` holds (if any) is released in the same call."""
        if keep_ms <= 0:
            return False
        key = self.balance_key(program, member_id)
        put = _Put(key, _msgpack.encode(entry), keep_ms, int(read_started * 1000), fill_owner)
        return bool(await self._balance_puts.get(put))

    # -- single flight of balance misses across workers and replicas ----------------------
    def fill_key(self, program: str, member_id: str) -> str:
        return self.balance_key(program, member_id) + ":fill"  # same slot as the balance

    @guarded
    async def claim_fill(self, program: str, member_id: str, owner: str, ttl_ms: int) -> bool:
        """Become the one caller that reads this member's balance upstream."""
        return bool(
            await self.redis.set(self.fill_key(program, member_id), owner, nx=True, px=ttl_ms)
        )

    @guarded
    async def poll_fill(self, program: str, member_id: str) -> tuple[CachedBalance | None, bool]:
        """The cached balance and whether a fill is still running, in one round trip."""
        key = self.balance_key(program, member_id)
        raw, lock = await self.redis.mget([key, key + ":fill"])
        entry = _cached_balance.decode(raw) if isinstance(raw, bytes) else None
        return entry, lock is not None

    @guarded
    async def release_fill(self, program: str, member_id: str, owner: str) -> None:
        await self._compare_and_delete(keys=[self.fill_key(program, member_id)], args=[owner])

    @guarded
    async def _put_many(self, puts: list[_Put]) -> list[int]:
        if len(puts) > 1 and isinstance(self.redis, RedisCluster):
            # a script may only touch one slot: one call per member
            each = await asyncio.gather(*(self._put_many([put]) for put in puts))
            return [stored for (stored,) in each]
        keys = [k for put in puts for k in (put.key, put.key + ":changed", put.key + ":fill")]
        args = [
            a for put in puts for a in (put.entry, put.keep_ms, put.read_started_ms, put.fill_owner)
        ]
        return [int(n) for n in await self._put_unless_changed(keys=keys, args=args)]

    @guarded
    async def drop_balance(self, program: str, member_id: str, keep_ms: int = 60_000) -> None:
        """Forget the cached balance and note when the member changed (for racing reads)."""
        drop = self.balance_drop(program, member_id, keep_ms)
        await self.topology.script(
            lua.DROP_AND_MARK.sha,
            lua.DROP_AND_MARK.source,
            [drop.balance, drop.changed],
            [int(time.time() * 1000), keep_ms],
        )

    def balance_drop(self, program: str, member_id: str, keep_ms: int = 60_000) -> BalanceDrop:
        """:meth:`drop_balance` for a write's settle to do in the same call
        (``Records.complete(drops=...)``)."""
        key = self.balance_key(program, member_id)
        return BalanceDrop(key, key + ":changed", keep_ms)

    # -- upstream OAuth tokens (shared by every replica) ----------------------------------
    def token_key(self, program: str) -> str:
        return f"{self.prefix}:tok:{{{program}}}"

    def token_lock_key(self, program: str) -> str:
        return f"{self.prefix}:tok:{{{program}}}:lock"

    @guarded
    async def get_token(self, program: str) -> bytes | None:
        raw = await self.redis.get(self.token_key(program))
        return raw if isinstance(raw, bytes) else None

    @guarded
    async def put_token(self, program: str, value: bytes, keep_ms: int) -> None:
        await self.redis.set(self.token_key(program), value, px=max(1, keep_ms))

    @guarded
    async def drop_token_if(self, program: str, value: bytes) -> bool:
        """Drop the cached token only if it is still ``value`` (another replica may have
        refreshed it already)."""
        return bool(await self._compare_and_delete(keys=[self.token_key(program)], args=[value]))

    @guarded
    async def try_lock(self, key: str, owner: str, ttl_ms: int) -> bool:
        return bool(await self.redis.set(key, owner, nx=True, px=ttl_ms))

    @guarded
    async def unlock(self, key: str, owner: str) -> bool:
        return bool(await self._compare_and_delete(keys=[key], args=[owner]))

    # -- small records the connectors keep (e.g. a redemption's points for its void) ------
    def note_key(self, program: str, kind: str, name: str) -> str:
        return f"{self.prefix}:note:{{{program}}}:{kind}:{digest(name)}"

    @guarded
    async def put_note(
        self, program: str, kind: str, name: str, value: bytes, keep_seconds: int
    ) -> None:
        await self.redis.set(self.note_key(program, kind, name), value, ex=keep_seconds)

    @guarded
    async def get_note(self, program: str, kind: str, name: str) -> bytes | None:
        raw = await self.redis.get(self.note_key(program, kind, name))
        return raw if isinstance(raw, bytes) else None

    # -- rate limits ----------------------------------------------------------------------
    @guarded
    async def rate_limit(self, name: str, emission_ms: float, tolerance_ms: float) -> RateDecision:
        key = f"{self.prefix}:rl:{{{name}}}"
        allowed, remaining, retry_ms, reset_ms = await self._gcra(
            keys=[key], args=[emission_ms, tolerance_ms]
        )
        return RateDecision(bool(allowed), int(remaining), int(retry_ms), int(reset_ms))
