"""Redis URL forms: plain, Sentinel and Cluster (clients are built, not connected)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gateway.infra.store import connect


def test_plain_and_unix_urls() -> None:
    assert isinstance(connect("redis://127.0.0.1:6379/0"), Redis)
    assert isinstance(connect("unix:///tmp/redis.sock?db=0"), Redis)


def test_sentinel_url_names_master_and_sentinels() -> None:
    client = connect("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/prod-master/2")
    pool = client.connection_pool
    assert pool.service_name == "prod-master"
    assert [
        tuple(s.connection_pool.connection_kwargs[k] for k in ("host", "port"))
        for s in pool.sentinel_manager.sentinels
    ] == [("10.0.0.1", 26379), ("10.0.0.2", 26379)]
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "s3cret"


def test_cluster_url() -> None:
    assert isinstance(connect("redis+cluster://127.0.0.1:7000"), RedisCluster)
