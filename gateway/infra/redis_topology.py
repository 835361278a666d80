"""The Redis deployment behind the store: connecting, fencing writes, telling readiness.

*Fencing.* Redis replicates asynchronously: a master acknowledges a write before any replica
has it, and a master that Sentinel has just demoted keeps accepting writes until it is told to
become a replica, then throws them away when it resyncs. A record the gateway relies on
before calling a provider (the idempotency claim) and after it (the settled answer) is
therefore written together with ``WAIT n timeout`` on the same connection, in one round trip;
fewer than ``n`` replica acknowledgements and the record is not relied upon (the caller gets
a retry-safe 503 and nothing is sent upstream). A demoted master has no replicas, so nothing
written to it passes the fence.

*Every failure is a Redis failure.* redis-py raises more than ``RedisError`` when a node dies
under it (its async Cluster client has raised ``AttributeError: 'NoneType' object has no
attribute 'writelines'``); :func:`guarded` turns anything raised inside the client into
:class:`StoreError` (a ``RedisError``), so callers have one thing to handle and no Redis fault
becomes a 500 after a provider applied a write.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, ParamSpec, TypeVar

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import NoScriptError, RedisError

Kind = Literal["single", "sentinel", "cluster"]
_TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 2}

P = ParamSpec("P")
T = TypeVar("T")


class StoreError(RedisError):
    """Redis could not be used: unreachable, failing over, or the client failed inside."""


class NotReplicated(StoreError):
    """A write reached the master but fewer replicas than required acknowledged it."""


def guarded(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Re-raise anything but a ``RedisError`` (or cancellation) as :class:`StoreError`."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except RedisError:
            raise
        except Exception as exc:
            raise StoreError(f"redis client failed: {type(exc).__name__}") from exc

    return wrapper


class Topology:
    """One Redis deployment: its client, its kind and how writes are fenced on it."""

    def __init__(
        self,
        client: Any,
        kind: Kind,
        *,
        sentinel: Sentinel | None = None,
        master: str | None = None,
        replica_acks: int = 0,
        ack_timeout_ms: int = 500,
    ) -> None:
        self.client = client
        self.kind = kind
        self.sentinel = sentinel
        self.master = master
        self.replica_acks = replica_acks
        self.ack_timeout_ms = ack_timeout_ms
        self._last_reset = 0.0

    @property
    def is_cluster(self) -> bool:
        return self.kind == "cluster"

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.sentinel is not None:
            for node in self.sentinel.sentinels:
                await node.aclose()

    # -- script calls ---------------------------------------------------------------------
    @guarded
    async def script(self, sha: str, source: str, keys: list[str], args: Sequence[Any]) -> Any:
        """``EVALSHA``, falling back to ``EVAL`` on a server that does not have it yet."""
        try:
            return await self.client.evalsha(sha, len(keys), *keys, *args)
        except NoScriptError:
            return await self.client.eval(source, len(keys), *keys, *args)

    @guarded
    async def fenced(
        self,
        sha: str,
        source: str,
        key: str,
        args: Sequence[Any],
        *,
        extra_keys: Sequence[str] = (),
    ) -> Any:
        """Run a script on ``key`` (plus ``extra_keys``: on Cluster only keys of its slot)
        and, when replicas must acknowledge, ``WAIT`` on the same connection in the same
        round trip. Raises :class:`NotReplicated` when too few did."""
        keys = [key, *extra_keys]
        if self.replica_acks <= 0:
            return await self.script(sha, source, keys, args)
        try:
            if self.is_cluster:
                reply, acks = await self._cluster_fenced(sha, source, keys, args)
            else:
                reply, acks = await self._pipelined_fenced(sha, source, keys, args)
        except RedisError:
            await self._topology_changed()
            raise
        if acks < self.replica_acks:
            await self._topology_changed()
            raise NotReplicated(f"{acks} of {self.replica_acks} replicas acknowledged")
        return reply

    def _calls(
        self, sha: str, source: str, keys: list[str], args: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """The script call to try first, then the one with the source, each with its WAIT."""
        wait = ("WAIT", self.replica_acks, self.ack_timeout_ms)
        return [
            ("EVALSHA", sha, len(keys), *keys, *args),
            ("EVAL", source, len(keys), *keys, *args),
            wait,
        ]

    async def _pipelined_fenced(
        self, sha: str, source: str, keys: list[str], args: Sequence[Any]
    ) -> tuple[Any, int]:
        by_sha, by_source, wait = self._calls(sha, source, keys, args)
        for call in (by_sha, by_source):
            pipe = self.client.pipeline(transaction=False)
            pipe.execute_command(*call)
            pipe.execute_command(*wait)
            reply, acks = await pipe.execute(raise_on_error=False)
            if isinstance(reply, NoScriptError) and call is by_sha:
                continue  # a restarted or new master: send the source once
            return _pair(reply, acks)
        raise StoreError("script could not be loaded")  # pragma: no cover - loop returns

    async def _cluster_fenced(
        self, sha: str, source: str, keys: list[str], args: Sequence[Any]
    ) -> tuple[Any, int]:
        # WAIT counts the writes of one connection, so the script and the WAIT must share
        # one: send both on a connection of the slot owner directly. A redirection (the slot
        # moved) is an error here, never a silent re-send on another connection.
        client: RedisCluster = self.client
        if not client.nodes_manager.default_node:
            await client.initialize()
        node = client.get_node_from_key(keys[0])
        if node is None:
            raise StoreError("no node serves this slot")
        by_sha, by_source, wait = self._calls(sha, source, keys, args)
        for call in (by_sha, by_source):
            conn = node.acquire_connection()
            try:
                await conn.send_packed_command(conn.pack_commands([call, wait]))
                reply = await _read(conn)
                acks = await _read(conn)
            except BaseException:
                await conn.disconnect()
                raise
            finally:
                node.release(conn)
            if isinstance(reply, NoScriptError) and call is by_sha:
                continue
            return _pair(reply, acks)
        raise StoreError("script could not be loaded")  # pragma: no cover - loop returns

    async def _topology_changed(self) -> None:
        """After a fence failure, stop talking to a master that may have been demoted: the
        Sentinel pool asks the sentinels again on its next connection, the Cluster client
        re-reads the slot map. At most once a second."""
        now = time.monotonic()
        if now - self._last_reset < 1.0:
            return
        self._last_reset = now
        try:
            if self.kind == "sentinel":
                await self.client.connection_pool.disconnect()
            elif self.is_cluster:
                await self.client.nodes_manager.initialize()
        except Exception:  # noqa: S110 - best effort; the next call will fail and retry
            pass

    # -- readiness ------------------------------------------------------------------------
    @guarded
    async def checks(self) -> dict[str, str]:
        """What /readyz reports: ``ok`` or why not, per check. Any check not ``ok`` (except
        ``replicas``, which only holds writes back) means the gateway should not get traffic."""
        found: dict[str, str] = {}
        if self.is_cluster:
            info = await self.client.cluster_info()
            state = str(info.get("cluster_state", "?"))
            failing = int(info.get("cluster_slots_fail", 0)) + int(
                info.get("cluster_slots_pfail", 0)
            )
            assigned = int(info.get("cluster_slots_ok", 0))
            found["redis_cluster"] = (
                "ok"
                if state == "ok" and failing == 0 and assigned == 16384
                else f"state {state}, {assigned} slots ok, {failing} failing"
            )
        else:
            await self.client.ping()
            found["redis"] = "ok"
        replication = None if self.is_cluster else await self.client.info("replication")
        if self.kind == "sentinel":
            assert replication is not None
            found["redis_sentinel"] = await self._sentinel_check(replication)
        if self.replica_acks > 0 and replication is not None:
            have = int(replication.get("connected_slaves", 0))
            found["replicas"] = (
                "ok"
                if have >= self.replica_acks
                else f"{have} connected, {self.replica_acks} needed: writes answer 503"
            )
        return found

    async def _sentinel_check(self, replication: dict[str, Any]) -> str:
        assert self.sentinel is not None
        assert self.master is not None
        mine = (await self.client.info("server")).get("run_id")
        role = replication.get("role")
        if role != "master":
            return f"connected to a {role}, not the master"
        for node in self.sentinel.sentinels:
            try:
                ask = node.execute_command
                state: dict[str, Any] = await ask("SENTINEL MASTER", self.master)  # type: ignore[no-untyped-call]
            except Exception:  # noqa: S112 - ask the next sentinel
                continue
            flags = str(state.get("flags", ""))
            if state.get("failover-state", state.get("failover_state")) not in (None, ""):
                return "failover in progress"
            if "failover_in_progress" in flags or "o_down" in flags or "s_down" in flags:
                return f"master is {flags}"
            if state.get("runid") not in (None, "", mine):
                return "master change in progress"
            return "ok"
        return "no sentinel answered"


def _pair(reply: Any, acks: Any) -> tuple[Any, int]:
    if isinstance(reply, Exception):
        raise reply
    if isinstance(acks, Exception):
        raise acks
    return reply, int(acks)


async def _read(conn: Any) -> Any:
    """One reply from a raw connection; an error reply is returned, not raised, so the
    second reply of the pair is still read and the connection stays in step."""
    try:
        return await conn.read_response()
    except RedisError as exc:
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            raise
        return exc


def connect(url: str, *, replica_acks: int | None = None, ack_timeout_ms: int = 500) -> Topology:
    """A redis-py asyncio client for a plain, Sentinel or Cluster URL.

    ``replica_acks`` ``None`` means the safe default of the URL's shape: 1 for Sentinel and
    Cluster (an acknowledged record is on two nodes), 0 for a single server."""
    scheme, _, rest = url.partition("://")
    if scheme in ("redis+sentinel", "rediss+sentinel"):
        credentials, _, hosts_and_path = rest.rpartition("@")
        hosts, _, path = hosts_and_path.partition("/")
        master, _, db = path.partition("/")
        password = credentials.partition(":")[2] or None
        nodes = []
        for host in hosts.split(","):
            name, _, port = host.partition(":")
            nodes.append((name, int(port or 26379)))
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            nodes,
            password=password,
            ssl=scheme.startswith("rediss"),
            db=int(db or 0),
            **_TIMEOUTS,
        )
        name = master or "mymaster"
        return Topology(
            sentinel.master_for(name),
            "sentinel",
            sentinel=sentinel,
            master=name,
            replica_acks=1 if replica_acks is None else replica_acks,
            ack_timeout_ms=ack_timeout_ms,
        )
    if scheme in ("redis+cluster", "rediss+cluster"):
        plain = ("rediss" if scheme.startswith("rediss") else "redis") + "://" + rest
        return Topology(
            RedisCluster.from_url(plain, **_TIMEOUTS),
            "cluster",
            replica_acks=1 if replica_acks is None else replica_acks,
            ack_timeout_ms=ack_timeout_ms,
        )
    client = redis.Redis.from_url(url, health_check_interval=30, **_TIMEOUTS)
    return Topology(client, "single", replica_acks=replica_acks or 0, ack_timeout_ms=ack_timeout_ms)
