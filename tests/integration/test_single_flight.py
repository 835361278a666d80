"""Concurrent balance misses make one upstream call across worker processes and replicas:
two real ``gateway serve`` processes (2 workers each) on one real Redis."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from gateway.connectors.cpextender import simulator as cpextender
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World
from tests.harness.gateway_process import GatewayProcess

HEADERS = {"Authorization": f"Bearer {DEMO_API_KEY}"}


@pytest.fixture(scope="module")
def replicas(
    world: World, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[GatewayProcess]]:
    root: Path = tmp_path_factory.mktemp("single-flight")
    config = world.config_yaml(redis_url=redis_url, key_prefix="sf" + uuid.uuid4().hex[:6])
    started = [GatewayProcess(config, root, name=f"replica{n}").start() for n in (1, 2)]
    try:
        yield started
    finally:
        for gateway in started:
            gateway.stop()


def _customer(world: World) -> str:
    number = "5" + str(uuid.uuid4().int)[:9]
    world.cp.add_customer(
        cpextender.Customer(customer_number=number, display_number=number, points=420)
    )
    return number


def _balance_checks(world: World, number: str) -> int:
    return sum(
        1 for r in world.cp.requests if re.search(rf"/Loyalty/{number}/BalanceCheck", r.path)
    )


def _read_all(urls: list[str], path: str, n: int) -> list[httpx.Response]:
    def one(i: int) -> httpx.Response:
        return httpx.get(urls[i % len(urls)] + path, headers=HEADERS, timeout=20)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.fixture
def slow_cp(world: World) -> Iterator[None]:
    world.cp.faults.set(Faults(latency_ms=400))
    yield
    world.cp.faults.set(Faults())


def test_concurrent_misses_on_two_replicas_make_one_upstream_call(
    world: World, replicas: list[GatewayProcess], slow_cp: None
) -> None:
    number = _customer(world)
    answers = _read_all(
        [g.url for g in replicas], f"/v1/programs/cafe-rewards/members/{number}/balance", 24
    )
    assert [a.status_code for a in answers] == [200] * 24
    assert {a.json()["points"] for a in answers} == {420}
    assert _balance_checks(world, number) == 1
    statuses = [a.headers["cache-status"] for a in answers]
    assert statuses.count("loyalty-gateway; fwd=miss; stored") == 1
    # the others waited for that fill in this process, in another worker or replica
    assert any(s == "loyalty-gateway; fwd=miss; collapsed" for s in statuses)


def test_a_filler_that_fails_lets_the_waiters_call_for_themselves(
    world: World, replicas: list[GatewayProcess]
) -> None:
    number = _customer(world)
    world.cp.faults.set(Faults(latency_ms=300, error_rate=1.0))
    try:
        answers = _read_all(
            [g.url for g in replicas], f"/v1/programs/cafe-rewards/members/{number}/balance", 8
        )
    finally:
        world.cp.faults.set(Faults())
    # no balance was cached and the provider failed: every caller gets the provider's 503
    # (the fill lock was dropped at the failure, so nobody waited out the fill bound)
    assert {a.status_code for a in answers} == {503}
    assert max(a.elapsed.total_seconds() for a in answers) < 5
