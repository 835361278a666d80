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
