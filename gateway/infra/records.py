"""Idempotency records on Redis: the storage primitives under services/idempotency.py.

One hash per (client, key), with a hash tag so each script touches one slot (Redis Cluster);
its fields and the scripts are in ``record_scripts.py``.

The claim, the takeover, the settle and the lease renewal are *fenced* (see
redis_topology.py): they count only once the required replicas acknowledged them. Releasing
a key is not: losing a release only delays a retry until the lease expires.

*Store loss.* On a single server or Sentinel the claim script also reads an epoch marker.
When the marker is missing, Redis lost its data (restarted empty, flushed) while gateways
were using it: every record of that past is gone, so a "new" key may be a retry of a write
the provider already applied. The script then sets the marker to the time of the loss, and
for ``suspect_ms`` after it a new claim comes back marked ``suspect``: the write service
looks the write up upstream before sending it. A gateway starting against a Redis without
the marker writes it as 0 (nothing to suspect): a first start is not a loss.

*The reconcile schedule* (``due`` and ``unknown``, see record_scripts.py) is advisory: it
tells the reconciler where to look. On Cluster its updates run beside the record scripts
and a failed one is logged and counted, never fatal: a caller's retry still resolves the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Literal, NamedTuple

import msgspec
import structlog

from gateway.infra import metrics
from gateway.infra import record_scripts as lua
from gateway.infra.redis_topology import Topology, guarded

ClaimState = Literal["new", "recovered", "completed", "in_progress", "conflict"]
TakeState = Literal["gone", "completed", "busy", "taken"]
_log = structlog.get_logger("gateway.idempotency")


class StoredResponse(msgspec.Struct):
    """A response kept for byte-for-byte replay."""

    status: int
    headers: dict[str, str]
    body: bytes


#: what an unknown record holds in place of an answer (it is never replayed)
UNKNOWN_PLACEHOLDER = StoredResponse(status=502, headers={}, body=b"")


class Claim(msgspec.Struct, kw_only=True):
    state: ClaimState
    response: StoredResponse | None = None
    #: the store may have lost this key's earlier record (see the module docstring)
    suspect: bool = False
    #: for ``in_progress``: how long the current holder's lease still runs
    lease_left_ms: int = 0
    #: for ``recovered``: time since an earlier attempt that may have sent last ended
    quiet_ms: int = 0
    #: for ``recovered``: time since the key was first claimed
    age_ms: int = 0
    #: for ``recovered``: lookups of this key's outcome so far
    checks: int = 0


class Taken(msgspec.Struct, kw_only=True):
    """What :meth:`Records.take` found; for ``taken`` the record is now held by the owner."""

    state: TakeState
    lease_left_ms: int = 0
    quiet_ms: int = 0
    age_ms: int = 0
    checks: int = 0
    job: bytes = b""


class OpenUnknown(msgspec.Struct, kw_only=True):
    """One open unknown, as ``gateway writes unknown`` lists it."""

    record: str
    summary: str
    state: str | None
    job: bytes
    first_at_ms: int | None
    last_at_ms: int | None
    last_check_ms: int | None
    checks: int
    next_check_ms: int | None


_headers = msgspec.json.Decoder(dict[str, str])
_encode = msgspec.json.encode


def digest(value: str) -> str:
    """A fixed-length, non-reversible key part (member ids, idempotency keys are callers')."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class BalanceDrop(NamedTuple):
    """A cached balance a write changed (infra/store.py ``balance_drop``): dropped, and the
    change noted for ``keep_ms``, in the same call as the write's record settles."""

    balance: str
    changed: str
    keep_ms: int = 60_000


class Records:
    """The idempotency records of one key prefix, and their reconcile schedule."""

    def __init__(self, topology: Topology, prefix: str = "lg") -> None:
        self.topology = topology
        self.prefix = prefix
        self.epoch_key = f"{prefix}:epoch"
        # one hash tag: both live in one slot, so SIDE can touch them together on Cluster
        self.due_key = f"{prefix}:{{reconcile}}:due"
        self.unknown_key = f"{prefix}:{{reconcile}}:unknown"

    def key(self, client_id: str, idempotency_key: str) -> str:
        return f"{self.prefix}:idem:{{{digest(client_id + chr(0) + idempotency_key)}}}"

    @property
    def _inline(self) -> tuple[str, ...]:
        """The schedule keys a record script updates itself (not on Cluster: other slot)."""
        return () if self.topology.is_cluster else (self.due_key, self.unknown_key)

    async def _with_side(
        self, call: Awaitable[Any], record: str, op: str, delay_ms: int = 0, summary: str = ""
    ) -> Any:
        """On Cluster, the schedule update beside the record script (same round trip)."""
        if not self.topology.is_cluster:
            return await call
        side: Awaitable[Any] = self.topology.script(
            lua.SIDE.sha,
            lua.SIDE.source,
            [self.due_key, self.unknown_key],
            [record, op, delay_ms, summary],
        )
        both: tuple[Any, Any] = await asyncio.gather(call, side, return_exceptions=True)
        reply, side_result = both
        if isinstance(side_result, BaseException):
            metrics.child(metrics.IDEMPOTENCY_STORE, "schedule", "unavailable").inc()
            _log.warning("reconcile_schedule_failed", op=op, error=type(side_result).__name__)
        if isinstance(reply, BaseException):
            raise reply
        return reply

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
        job: bytes = b"",
    ) -> Claim:
        args = [fingerprint, owner, lease_ms, retention_ms, suspect_ms, job]
        # the epoch marker and the schedule beside the record, except on Cluster
        extra = () if self.topology.is_cluster else (self.epoch_key, *self._inline)
        call = self.topology.fenced(lua.CLAIM.sha, lua.CLAIM.source, record, args, extra_keys=extra)
        reply = await self._with_side(call, record, "claim", lease_ms)
        state = _text(reply[0])
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
        if state == "recovered":
            quiet, age, checks = (int(v) for v in reply[2:5])
            return Claim(
                state="recovered", suspect=suspect, quiet_ms=quiet, age_ms=age, checks=checks
            )
        return Claim(state="new", suspect=suspect)

    async def take(self, record: str, owner: str, lease_ms: int) -> Taken:
        """Hold a record without a request (the reconciler, an operator's settle)."""
        reply = await self.topology.fenced(lua.TAKE.sha, lua.TAKE.source, record, [owner, lease_ms])
        state = _text(reply[0])
        if state == "busy":
            return Taken(state="busy", lease_left_ms=int(reply[1]))
        if state == "taken":
            job = reply[4] if isinstance(reply[4], bytes) else str(reply[4]).encode()
            return Taken(
                state="taken",
                quiet_ms=int(reply[1]),
                age_ms=int(reply[2]),
                checks=int(reply[3]),
                job=job,
            )
        return Taken(state="gone" if state == "gone" else "completed")

    async def renew(self, record: str, owner: str, lease_ms: int) -> bool:
        reply = await self.topology.fenced(
            lua.RENEW.sha, lua.RENEW.source, record, [owner, lease_ms]
        )
        return bool(reply)

    async def complete(
        self,
        record: str,
        owner: str,
        response: StoredResponse,
        retention_ms: int,
        drops: Sequence[BalanceDrop] = (),
    ) -> bool:
        """``drops``: the cached balances the write changed, dropped by the same FINISH
        call (on Cluster, where they live in other slots, at the same time)."""
        # On Cluster the schedule entry is left for the reconciler to drop (it finds the
        # record completed): nothing more on the request's path.
        finish = self._finish(record, owner, "completed", response, retention_ms, drops=drops)
        return bool(await finish)

    async def mark_unknown(
        self,
        record: str,
        owner: str,
        response: StoredResponse,
        delay_ms: int,
        summary: str,
        drops: Sequence[BalanceDrop] = (),
    ) -> bool:
        call = self._finish(record, owner, "unknown", response, 0, delay_ms, summary, drops=drops)
        return bool(await self._with_side(call, record, "unknown", delay_ms, summary))

    async def _finish(
        self,
        record: str,
        owner: str,
        state: str,
        response: StoredResponse,
        retention_ms: int,
        delay_ms: int = 0,
        summary: str = "",
        *,
        drops: Sequence[BalanceDrop] = (),
    ) -> Any:
        args = [
            owner,
            state,
            response.status,
            _encode(response.headers),
            response.body,
            retention_ms,
            delay_ms,
            summary,
        ]
        if drops and self.topology.is_cluster:
            # the balances live in other slots: dropped at the same time, apart
            finish = self._finish(record, owner, state, response, retention_ms, delay_ms, summary)
            reply, _ = await asyncio.gather(finish, self.drop_each(drops))
            return reply
        keys = [*self._inline, *(key for drop in drops for key in (drop.balance, drop.changed))]
        if drops:
            args += [int(time.time() * 1000), drops[0].keep_ms]
        return await self.topology.fenced(
            lua.FINISH.sha, lua.FINISH.source, record, args, extra_keys=keys
        )

    async def drop_each(self, drops: Sequence[BalanceDrop]) -> None:
        """Drop cached balances on their own (never raises: a failed drop is bounded by the
        balance TTL and logged)."""
        for drop in drops:
            try:
                await self.topology.script(
                    lua.DROP_AND_MARK.sha,
                    lua.DROP_AND_MARK.source,
                    [drop.balance, drop.changed],
                    [int(time.time() * 1000), drop.keep_ms],
                )
            except Exception as exc:  # a best-effort drop must not fail the settle
                _log.warning("balance_invalidation_failed", error=type(exc).__name__)

    async def unresolved(
        self,
        record: str,
        owner: str,
        delay_ms: int,
        summary: str,
        *,
        checked: bool,
        drops: Sequence[BalanceDrop] = (),
    ) -> bool:
        """Back to unknown as it was, the next look after ``delay_ms`` (negative: never)."""
        args = [owner, delay_ms, summary, 1 if checked else 0]
        call = self.topology.fenced(
            lua.UNRESOLVED.sha, lua.UNRESOLVED.source, record, args, extra_keys=self._inline
        )
        if drops:  # rare (a recovered key's lookup could not tell): at the same time, apart
            call = _first(asyncio.gather(call, self.drop_each(drops)))
        return bool(await self._with_side(call, record, "unknown", delay_ms, summary))

    async def release(self, record: str, owner: str) -> bool:
        call = self.topology.script(
            lua.RELEASE.sha, lua.RELEASE.source, [record, *self._inline], [owner]
        )
        return bool(await self._with_side(call, record, "done"))

    # -- the schedule ---------------------------------------------------------------------
    async def due(self, limit: int, hold_ms: int) -> list[str]:
        """Up to ``limit`` records to look at now, each held back ``hold_ms`` from others."""
        reply = await self.topology.script(
            lua.DUE.sha, lua.DUE.source, [self.due_key], [limit, hold_ms]
        )
        return [_text(item) for item in reply]

    async def forget(self, record: str) -> None:
        """Drop a schedule entry whose record is settled or gone."""
        await self.topology.script(
            lua.SIDE.sha,
            lua.SIDE.source,
            [self.due_key, self.unknown_key],
            [record, "done", 0, ""],
        )

    @guarded
    async def open_summaries(self) -> list[str]:
        """``program/operation`` of every open unknown (for the gauge)."""
        values = await self.topology.client.hvals(self.unknown_key)
        return [_text(v) for v in values]

    @guarded
    async def open_unknowns(self) -> list[OpenUnknown]:
        client = self.topology.client
        index = await client.hgetall(self.unknown_key)
        found = []
        for raw_record, raw_summary in sorted(index.items()):
            record = _text(raw_record)
            fields = await client.hmget(
                record, "state", "job", "first_at", "last_at", "last_check", "checks"
            )
            score = await client.zscore(self.due_key, record)
            found.append(
                OpenUnknown(
                    record=record,
                    summary=_text(raw_summary),
                    state=_text(fields[0]) if fields[0] is not None else None,
                    job=fields[1] or b"",
                    first_at_ms=_int(fields[2]),
                    last_at_ms=_int(fields[3]),
                    last_check_ms=_int(fields[4]),
                    checks=_int(fields[5]) or 0,
                    next_check_ms=None if score is None or score >= lua.NEVER else int(score),
                )
            )
        return found

    @guarded
    async def server_time_ms(self) -> int:
        seconds, micros = await self.topology.client.time()
        return int(seconds) * 1000 + int(micros) // 1000


async def _first(both: Awaitable[tuple[Any, Any]]) -> Any:
    return (await both)[0]
