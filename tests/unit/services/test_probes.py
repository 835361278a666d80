"""services/probes.py: liveness and readiness from the store's answers (real Redis outages
are in tests/integration/test_embedded_redis.py and the chaos suite)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.domain.errors import ServiceUnavailable
from gateway.services import probes


class Topology:
    def __init__(self, checks: dict[str, str] | None) -> None:
        self._checks = checks

    async def checks(self) -> dict[str, str]:
        if self._checks is None:
            raise RedisConnectionError("down")
        return self._checks


class Store:
    def __init__(self, up: bool = True, checks: dict[str, str] | None = None) -> None:
        self.up = up
        self.topology = Topology(checks)

    async def ping(self) -> Any:
        if not self.up:
            raise RedisConnectionError("down")
        return True


def test_alive_needs_the_embedded_redis_only_when_it_is_ours() -> None:
    assert asyncio.run(probes.alive(Store(up=False), embedded=False)) == {}
    assert asyncio.run(probes.alive(Store(), embedded=True)) == {"embedded_redis": "ok"}
    with pytest.raises(ServiceUnavailable, match="embedded Redis"):
        asyncio.run(probes.alive(Store(up=False), embedded=True))


def test_ready_reports_replicas_but_refuses_other_failures() -> None:
    ok = {"redis": "ok", "replicas": "1 of 1 wanted"}
    assert asyncio.run(probes.ready(Store(checks=ok))) == {"config": "ok", **ok}
    with pytest.raises(ServiceUnavailable, match="cluster: 2 slots unassigned"):
        asyncio.run(probes.ready(Store(checks={"redis": "ok", "cluster": "2 slots unassigned"})))
    with pytest.raises(ServiceUnavailable, match="not reachable"):
        asyncio.run(probes.ready(Store(checks=None)))
