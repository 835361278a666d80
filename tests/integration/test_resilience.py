"""Stale-if-error balances and a Redis outage: reads keep answering, writes fail closed."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.connectors.cpextender import simulator as cpextender
from gateway.infra.embedded_redis import EmbeddedRedis, free_tcp_port
from gateway.sandbox.world import DEMO_API_KEY, World


def _customer(world: World, points: int = 300) -> str:
    number = "5" + str(uuid.uuid4().int)[:9]
    world.cp.add_customer(
        cpextender.Customer(customer_number=number, display_number=number, points=points)
    )
    return number


@pytest.fixture
def own_gateway(world: World, redis_url: str) -> httpx.Client:
    """A gateway of its own (own circuit breakers) on the shared Redis: 1 s open circuits."""
    settings = parse_settings(world.config_yaml(redis_url=redis_url, circuit_open_seconds=1))
    url = world.servers.add(create_app(settings))
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=15
    )


def test_provider_500_serves_the_cached_balance_as_stale(
    own_gateway: httpx.Client, world: World
) -> None:
    member = _customer(world)
    url = f"/v1/programs/cafe-rewards/members/{member}/balance"
    with own_gateway as api:
        assert api.get(url).status_code == 200  # cached now
        world.cp.faults.faults.error_rate = 1.0
        try:
            stale = api.get(url, headers={"Cache-Control": "no-cache"})
            uncached = api.get("/v1/programs/cafe-rewards/members/2059378440/activity")
        finally:
            world.cp.faults.faults.error_rate = 0.0
    assert stale.status_code == 200
    assert stale.headers["cache-status"].startswith("loyalty-gateway; fwd=stale")
    assert stale.json()["points"] == 300
    assert uncached.status_code == 503
    assert uncached.json()["code"] == "upstream_unavailable"


def test_circuit_opens_fails_fast_and_recovers(own_gateway: httpx.Client, world: World) -> None:
    activity = "/v1/programs/cafe-rewards/members/2059378440/activity"
    with own_gateway as api:
        world.cp.faults.faults.error_rate = 1.0
        try:
            for _ in range(5):
                api.get(activity)
            calls = len(world.cp.requests)
            fast = api.get(activity)
            assert len(world.cp.requests) == calls  # answered without calling CP
        finally:
            world.cp.faults.faults.error_rate = 0.0
        assert fast.status_code == 503
        assert fast.json()["upstream"]["code"] == "circuit_open"
        assert int(fast.headers["retry-after"]) >= 1
        assert api.get("/v1/programs/cafe-rewards/health").json()["circuit"] in (
            "open",
            "half_open",
        )
        time.sleep(1.1)  # open_seconds = 1: the next call is the half-open probe
        assert api.get(activity).status_code == 200
        assert api.get("/v1/programs/cafe-rewards/health").json()["circuit"] == "closed"


@pytest.fixture
def fragile_gateway(world: World) -> Iterator[tuple[str, int]]:
    """A gateway on its own Redis (TCP port) that the test may stop and start again."""
    port = free_tcp_port()
    redis = EmbeddedRedis(tcp_port=port).start()
    settings = parse_settings(world.config_yaml(redis_url=f"redis://127.0.0.1:{port}/0"))
    url = world.servers.add(create_app(settings))
    try:
        yield url, port
    finally:
        redis.stop()


def test_redis_outage(world: World, fragile_gateway: tuple[str, int]) -> None:
    url, port = fragile_gateway
    member = _customer(world)
    client = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=15
    )
    earn = f"/v1/programs/cafe-rewards/members/{member}/earn"
    balance = f"/v1/programs/cafe-rewards/members/{member}/balance"
    with client:
        assert client.get(balance).status_code == 200
        _stop_redis_on(port)
        down = client.get(balance)
        assert down.status_code == 200
        assert (
            down.headers["cache-status"] == "loyalty-gateway; fwd=bypass; detail=cache-unavailable"
        )
        key = str(uuid.uuid4())
        refused = client.post(earn, json={"points": 9}, headers={"Idempotency-Key": key})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert not [e for e in world.cp.ledger if e.customer_number == member]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        # Redis is back (empty, as after a failover to a replica that had nothing)
        restarted = EmbeddedRedis(tcp_port=port).start()
        try:
            first = client.post(earn, json={"points": 9}, headers={"Idempotency-Key": key})
            again = client.post(earn, json={"points": 9}, headers={"Idempotency-Key": key})
            assert first.status_code == 201
            assert again.headers["idempotent-replayed"] == "true"
            assert client.get("/readyz").status_code == 200
        finally:
            restarted.stop()
    assert [e.points for e in world.cp.ledger if e.customer_number == member] == [9]


def _stop_redis_on(port: int) -> None:
    """Shut the Redis server down from outside, as an outage would."""
    with contextlib.suppress(redis.exceptions.ConnectionError):  # it hangs up as it exits
        redis.Redis(host="127.0.0.1", port=port).shutdown(nosave=True)
