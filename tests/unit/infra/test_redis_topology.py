"""infra/redis_topology.py: the store boundary's error mapping and reply pairing."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from gateway.infra.redis_topology import StoreError, _pair, connect, guarded


def test_guarded_turns_a_client_bug_into_a_store_error() -> None:
    @guarded
    async def broken() -> None:
        # what redis-py's cluster client raised when a node died under load
        raise AttributeError("'NoneType' object has no attribute 'writelines'")

    with pytest.raises(StoreError) as caught:
        asyncio.run(broken())
    assert "AttributeError" in str(caught.value)


def test_guarded_keeps_redis_errors_and_results() -> None:
    @guarded
    async def down() -> None:
        raise RedisConnectionError("refused")

    @guarded
    async def fine() -> int:
        return 3

    with pytest.raises(RedisConnectionError):
        asyncio.run(down())
    assert asyncio.run(fine()) == 3


def test_guarded_lets_cancellation_through() -> None:
    @guarded
    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())


def test_pair_raises_the_script_error_first() -> None:
    with pytest.raises(ResponseError, match="NOSCRIPT"):
        _pair(ResponseError("NOSCRIPT"), ResponseError("other"))
    with pytest.raises(ResponseError, match="WAIT"):
        _pair(b"ok", ResponseError("WAIT"))
    assert _pair([b"new"], 2) == ([b"new"], 2)


@pytest.mark.parametrize(
    ("url", "kind", "acks"),
    [
        ("redis://localhost:6379/0", "single", 0),
        ("redis+sentinel://s1:26379,s2/mymaster/0", "sentinel", 1),
        ("redis+cluster://node:7000", "cluster", 1),
    ],
)
def test_replica_acks_default_to_the_deployment_shape(url: str, kind: str, acks: int) -> None:
    topology = connect(url)
    assert (topology.kind, topology.replica_acks) == (kind, acks)
    assert connect(url, replica_acks=2).replica_acks == 2


# --- scripts beside a fenced one (a real redis-server: the session's) -------------------

_SET = "redis.call('SET', KEYS[1], ARGV[1]); return 'main'"
_BESIDE = "redis.call('SET', KEYS[1], ARGV[1]); return 1"


def _sha(source: str) -> str:
    import hashlib

    return hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


def test_scripts_beside_a_fenced_one_ride_in_its_pipeline(redis_url: str) -> None:
    async def run() -> None:
        topology = connect(redis_url, replica_acks=0)
        client = topology.client
        try:
            await client.script_flush()  # neither script is loaded: both go by source
            beside = [(_sha(_BESIDE), _BESIDE, ["t:b"], ["2"])]
            reply = await topology.fenced(_sha(_SET), _SET, "t:a", ["1"], beside=beside)
            assert reply == b"main"
            assert (await client.get("t:a"), await client.get("t:b")) == (b"1", b"2")
            # loaded now: one pipeline with both, answered by the main script
            beside = [(_sha(_BESIDE), _BESIDE, ["t:b"], ["3"])]
            assert await topology.fenced(_sha(_SET), _SET, "t:a", ["4"], beside=beside) == b"main"
            assert (await client.get("t:a"), await client.get("t:b")) == (b"4", b"3")
        finally:
            await client.delete("t:a", "t:b", "t:list")
            await topology.aclose()

    asyncio.run(run())


def test_a_failing_script_beside_does_not_fail_the_fenced_one(redis_url: str) -> None:
    async def run() -> None:
        topology = connect(redis_url, replica_acks=0)
        client = topology.client
        try:
            await client.rpush("t:list", "x")  # SET on a list key is fine, but INCR is not
            bad = "return redis.call('INCR', KEYS[1])"
            beside = [(_sha(bad), bad, ["t:list"], [])]
            await client.script_load(bad)
            assert await topology.fenced(_sha(_SET), _SET, "t:a", ["5"], beside=beside) == b"main"
            assert await client.get("t:a") == b"5"
        finally:
            await client.delete("t:a", "t:list")
            await topology.aclose()

    asyncio.run(run())
