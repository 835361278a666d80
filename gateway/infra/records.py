"""Idempotency records on Redis: the storage primitives under services/idempotency.py.

One hash per (client, key), with a hash tag so each script touches one slot (Redis Cluster).
Fields: ``state`` (``in_progress`` | ``completed`` | ``unknown``), ``fp`` (request
fingerprint), ``owner`` (the attempt holding it), ``lease_until`` (server ms), ``claimed``
(``new`` | ``recovered``, what the owner was told), and for a settled record ``status``,
``headers``, ``body`` (the answer replayed byte-for-byte).

The claim and the settle are *fenced* (see redis_topology.py): they count only once the
required replicas acknowledged them. Releasing a key is not: losing a release only delays a
retry until the lease expires.

*Store loss.* On a single server or Sentinel the claim script also reads an epoch marker.
When the marker is missing, Redis lost its data (restarted empty, flushed) while gateways
were using it: every record of that past is gone, so a "new" key may be a retry of a write
the provider already applied. The script then sets the marker to the time of the loss, and
for ``suspect_ms`` after it a new claim comes back marked ``suspect``: the write service
looks the write up upstream before sending it. A gateway starting against a Redis without
the marker writes it as 0 (nothing to suspect): a first start is not a loss.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import msgspec

from gateway.infra.redis_topology import Topology, guarded

ClaimState = Literal["new", "recovered", "completed", "in_progress", "conflict"]


class StoredResponse(msgspec.Struct):
    """A response kept for byte-for-byte replay."""

    status: int
    headers: dict[str, str]
    body: bytes


class Claim(msgspec.Struct):
    state: ClaimState
    response: StoredResponse | None = None
    #: the store may have lost this key's earlier record (see the module docstring)
    suspect: bool = False
    #: for ``in_progress``: how long the current holder's lease still runs
    lease_left_ms: int = 0


class _Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] record[, KEYS[2] epoch marker]; ARGV fingerprint, owner, lease_ms, retention_ms,
# suspect_ms. Server time (TIME) decides expiry so gateways with skewed clocks agree.
_CLAIM = _Script(
    _NOW
    + """
local suspect = 0
if #KEYS > 1 then
  local since = redis.call('GET', KEYS[2])
  if not since then
    redis.call('SET', KEYS[2], now)
    since = now
  end
  since = tonumber(since)
  if since > 0 and now - since < tonumber(ARGV[5]) then suspect = 1 end
end
local rec = redis.call('HMGET', KEYS[1], 'state', 'fp', 'lease_until', 'owner', 'claimed')
if not rec[1] then
  redis.call('HSET', KEYS[1], 'state', 'in_progress', 'fp', ARGV[1], 'owner', ARGV[2],
             'lease_until', now + tonumber(ARGV[3]), 'claimed', 'new')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {'new', suspect}
end
-- this very attempt, sent again after a lost connection: the same answer as the first time
if rec[4] == ARGV[2] then return {rec[5], suspect} end
if rec[2] ~= ARGV[1] then return {'conflict'} end
if rec[1] == 'completed' then
  local r = redis.call('HMGET', KEYS[1], 'status', 'headers', 'body')
  return {'completed', r[1], r[2], r[3]}
end
local left = tonumber(rec[3]) - now
if left > 0 then return {'in_progress', left} end
-- An expired lease (crashed worker) or an unknown outcome: this caller takes over and
-- must find out what happened upstream before sending anything again.
redis.call('HSET', KEYS[1], 'state', 'in_progress', 'owner', ARGV[2],
           'lease_until', now + tonumber(ARGV[3]), 'claimed', 'recovered')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'recovered', suspect}
"""
)

# KEYS[1]; ARGV owner, lease_ms
_RENEW = _Script(
    _NOW
    + """
local rec = redis.call('HMGET', KEYS[1], 'owner', 'state')
if rec[1] ~= ARGV[1] or rec[2] ~= 'in_progress' then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', now + tonumber(ARGV[2]))
return 1
"""
)

# KEYS[1]; ARGV owner, state, status, headers, body, retention_ms
_FINISH = _Script(
    """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'status', ARGV[3], 'headers', ARGV[4],
           'body', ARGV[5], 'lease_until', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
"""
)

# KEYS[1]; ARGV owner. A new claim whose write was never sent: forget the key.
_RELEASE = _Script(
    """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
)

# KEYS[1]; ARGV owner. A recovered claim that sent nothing this time: give the key back
# as it was (an earlier attempt may still have reached the provider), free at once.
_YIELD = _Script(
    """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', 0)
return 1
"""
)

_headers = msgspec.json.Decoder(dict[str, str])
_encode = msgspec.json.encode


def digest(value: str) -> str:
    """A fixed-length, non-reversible key part (member ids, idempotency keys are callers')."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class Records:
    """The idempotency records of one key prefix."""

    def __init__(self, topology: Topology, prefix: str = "lg") -> None:
        self.topology = topology
        self.prefix = prefix
        self.epoch_key = f"{prefix}:epoch"

    def key(self, client_id: str, idempotency_key: str) -> str:
        return f"{self.prefix}:idem:{{{digest(client_id + chr(0) + idempotency_key)}}}"

    async def _run(self, script: _Script, key: str, args: list[Any], *, fenced: bool) -> Any:
        if fenced:
            return await self.topology.fenced(script.sha, script.source, key, args)
        return await self.topology.script(script.sha, script.source, [key], args)

    @guarded
    async def mark_fresh(self) -> None:
        """At start-up: a Redis without the epoch marker is new to the gateway (0 = no loss
        to suspect). Not on Cluster, where one key cannot sit beside every record."""
        if not self.topology.is_cluster:
            await self.topology.client.set(self.epoch_key, 0, nx=True)

    async def claim(
        self,
        record: str,
        fingerprint: str,
        owner: str,
        *,
        lease_ms: int,
        retention_ms: int,
        suspect_ms: int,
    ) -> Claim:
        args = [fingerprint, owner, lease_ms, retention_ms, suspect_ms]
        # the epoch marker beside the record, except on Cluster (another slot)
        marker = () if self.topology.is_cluster else (self.epoch_key,)
        reply = await self.topology.fenced(
            _CLAIM.sha, _CLAIM.source, record, args, extra_keys=marker
        )
        state = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if state == "completed":
            response = StoredResponse(
                status=int(reply[1]), headers=_headers.decode(reply[2]), body=reply[3]
            )
            return Claim(state="completed", response=response)
        if state == "in_progress":
            return Claim(state="in_progress", lease_left_ms=int(reply[1]))
        if state == "conflict":
            return Claim(state="conflict")
        suspect = len(reply) > 1 and int(reply[1]) == 1
        return Claim(state="recovered" if state == "recovered" else "new", suspect=suspect)

    async def renew(self, record: str, owner: str, lease_ms: int) -> bool:
        return bool(await self._run(_RENEW, record, [owner, lease_ms], fenced=True))

    async def complete(
        self, record: str, owner: str, response: StoredResponse, retention_ms: int
    ) -> bool:
        return await self._finish(record, owner, "completed", response, retention_ms)

    async def mark_unknown(
        self, record: str, owner: str, response: StoredResponse, retention_ms: int
    ) -> bool:
        return await self._finish(record, owner, "unknown", response, retention_ms)

    async def _finish(
        self, record: str, owner: str, state: str, response: StoredResponse, retention_ms: int
    ) -> bool:
        args = [
            owner,
            state,
            response.status,
            _encode(response.headers),
            response.body,
            retention_ms,
        ]
        return bool(await self._run(_FINISH, record, args, fenced=True))

    async def release(self, record: str, owner: str) -> bool:
        return bool(await self._run(_RELEASE, record, [owner], fenced=False))

    async def give_back(self, record: str, owner: str) -> bool:
        return bool(await self._run(_YIELD, record, [owner], fenced=False))
