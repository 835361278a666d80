"""A busy gateway is not a failing provider: a full connection pool is the gateway's own 503,
never counted by a circuit breaker, and waiting in line within the bound is served."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.http_limits import uvicorn_options
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World
from gateway.settings import ConnectionSettings
from tests.integration.test_circuits import metric

ACTIVITY = "/v1/programs/cafe-rewards/members/2059378440/activity"


@pytest.fixture
def slow_cp(world: World) -> Iterator[None]:
    world.cp.faults.set(Faults(latency_ms=600))
    yield
    world.cp.faults.set(Faults())


def small_pool_gateway(world: World, redis_url: str, pool: ConnectionSettings) -> str:
    settings = parse_settings(
        world.config_yaml(redis_url=redis_url, key_prefix="s" + uuid.uuid4().hex[:8])
    )
    for program in settings.programs:
        program.connections = pool
        program.circuit.failure_threshold = 1  # one provider failure would open it
    return world.servers.add(create_app(settings), **uvicorn_options(settings.server))


def _get_all(url: str, path: str, n: int) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=15
        ) as client:
            return client.get(path)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_a_full_pool_answers_503_saturated_and_opens_no_circuit(
    world: World, redis_url: str, slow_cp: None
) -> None:
    url = small_pool_gateway(
        world, redis_url, ConnectionSettings(max=2, max_waiting=3, queue_timeout_seconds=0.2)
    )
    before = httpx.get(url + "/metrics").text
    answers = _get_all(url, ACTIVITY, 10)
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 2, statuses  # the two that got a connection
    saturated = [a for a in answers if a.status_code == 503]
    assert len(saturated) == 8
    for answer in saturated:
        problem = answer.json()
        assert problem["code"] == "upstream_unavailable"
        assert problem["upstream"] == {"provider": "cpextender", "code": "gateway_saturated"}
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"
    after = httpx.get(url + "/metrics").text
    counted = "loyalty_gateway_upstream_saturated_total"
    full = metric(after, counted, program="cafe-rewards", reason="queue_full")
    full -= metric(before, counted, program="cafe-rewards", reason="queue_full")
    waited = metric(after, counted, program="cafe-rewards", reason="queue_timeout")
    waited -= metric(before, counted, program="cafe-rewards", reason="queue_timeout")
    # 3 waited 0.2 s in line and 5 found the line full (if all 10 came within 0.2 s)
    assert full + waited == 8
    assert waited >= 3
    # threshold 1: had a single refusal counted as a failure, the circuit would be open
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}) as api:
        health = api.get("/v1/programs/cafe-rewards/health").json()
        assert set(health["circuits"].values()) == {"closed"}
        assert api.get(ACTIVITY, timeout=15).status_code == 200
    pool = metric(
        after, "loyalty_gateway_upstream_connections", program="cafe-rewards", state="limit"
    )
    assert pool == 2


def test_calls_wait_in_line_within_the_bound_and_are_all_served(
    world: World, redis_url: str, slow_cp: None
) -> None:
    url = small_pool_gateway(
        world, redis_url, ConnectionSettings(max=2, max_waiting=10, queue_timeout_seconds=5)
    )
    sent = len(world.cp.requests)
    answers = _get_all(url, ACTIVITY, 6)
    assert [a.status_code for a in answers] == [200] * 6
    assert len(world.cp.requests) - sent == 6


def test_a_saturated_write_is_not_sent_and_its_key_is_free_again(
    world: World, redis_url: str, slow_cp: None
) -> None:
    url = small_pool_gateway(
        world, redis_url, ConnectionSettings(max=1, max_waiting=0, queue_timeout_seconds=0)
    )
    customer = world.new_cp_customer()
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    earn = f"/v1/programs/cafe-rewards/members/{customer}/earn"
    key = "k" + uuid.uuid4().hex
    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(httpx.get, url + ACTIVITY, headers=headers, timeout=15)
        time.sleep(0.3)  # the activity read (600 ms) holds the one connection now
        refused = httpx.post(
            url + earn, json={"points": 5}, headers={**headers, "Idempotency-Key": key}
        )
        assert busy.result().status_code == 200
    assert refused.status_code == 503, refused.text
    assert refused.json()["upstream"]["code"] == "gateway_saturated"
    assert not [e for e in world.cp.ledger if e.customer_number == customer]
    again = httpx.post(
        url + earn, json={"points": 5}, headers={**headers, "Idempotency-Key": key}, timeout=15
    )
    assert again.status_code == 201, again.text
    assert len([e for e in world.cp.ledger if e.customer_number == customer]) == 1
