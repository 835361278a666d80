"""Redis URL forms: plain, Sentinel and Cluster (clients are built, not connected)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from gateway.infra.redis_topology import connect


def test_plain_and_unix_urls() -> None:
    plain = connect("redis://127.0.0.1:6379/0")
    assert isinstance(plain.client, Redis)
    assert (plain.kind, plain.replica_acks) == ("single", 0)
    assert isinstance(connect("unix:///tmp/redis.sock?db=0").client, Redis)


def test_sentinel_url_names_master_and_sentinels() -> None:
    topology = connect("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/prod-master/2")
    assert (topology.kind, topology.master, topology.replica_acks) == ("sentinel", "prod-master", 1)
    pool = topology.client.connection_pool
    assert pool.service_name == "prod-master"
    assert [
        tuple(s.connection_pool.connection_kwargs[k] for k in ("host", "port"))
        for s in pool.sentinel_manager.sentinels
    ] == [("10.0.0.1", 26379), ("10.0.0.2", 26379)]
    assert pool.connection_kwargs["db"] == 2
    assert pool.connection_kwargs["password"] == "s3cret"


def test_cluster_url() -> None:
    topology = connect("redis+cluster://127.0.0.1:7000")
    assert isinstance(topology.client, RedisCluster)
    assert (topology.kind, topology.replica_acks) == ("cluster", 1)


def test_replica_acks_can_be_set_for_any_shape() -> None:
    assert connect("redis://127.0.0.1:6379/0", replica_acks=2).replica_acks == 2
    assert connect("redis+cluster://127.0.0.1:7000", replica_acks=0).replica_acks == 0
