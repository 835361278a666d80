"""The chaos suite: real Redis deployments (Debian's packages), real ``gateway serve``
processes, the provider simulators, faults injected under a write load.

Run it with ``uv run pytest -m chaos`` (``.ci/run`` does, after installing
``redis-server redis-sentinel redis-tools``); the default ``uv run pytest`` leaves it out.
``CHAOS_WRITES`` sets the writes per experiment (default 300), ``CHAOS_RESULTS`` a JSON-lines
file each experiment's verdict is appended to (``bench/chaos.py`` makes its table from it).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from harness.gateway_process import GatewayProcess
from harness.load import WriteLoad, assert_exactly_once
from harness.redis_servers import debian_redis_missing

from gateway.sandbox.common import Faults
from gateway.sandbox.world import World

logging.getLogger("httpx").setLevel(logging.WARNING)
WRITES = int(os.environ.get("CHAOS_WRITES", "300"))
LATENCY_MS = int(os.environ.get("CHAOS_LATENCY_MS", "300"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.chaos)


@pytest.fixture(scope="session", autouse=True)
def _debian_redis() -> None:
    missing = debian_redis_missing()
    if missing:  # a failure, not a skip: a chaos run that did not run must not look green
        pytest.fail(f"the chaos suite needs Debian's Redis packages: {missing}")


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    started = World()
    started.log_level = "info"
    started.log_output = "stdout"
    started.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def root() -> Iterator[Path]:
    """The experiment's directory (its gateways' logs); kept when ``LG_CHAOS_KEEP`` is set,
    to read after a failure."""
    if os.environ.get("LG_CHAOS_KEEP"):
        yield Path(tempfile.mkdtemp(prefix="lg-chaos-"))
        return
    with tempfile.TemporaryDirectory(prefix="lg-chaos-") as path:
        yield Path(path)


@pytest.fixture
def slow_providers(world: World) -> Iterator[None]:
    """Every provider takes LATENCY_MS per call, so writes are in flight when faults hit."""
    for state in (world.cp, world.syw, world.irt):
        state.faults.set(Faults(latency_ms=LATENCY_MS))
    try:
        yield
    finally:
        for state in (world.cp, world.syw, world.irt):
            state.faults.set(Faults())


Experiment = Callable[..., dict[str, Any]]


@pytest.fixture
def experiment(world: World, slow_providers: None, request: pytest.FixtureRequest) -> Experiment:
    """Run a write load over ``urls`` with ``fault`` injected, replay, check the ledgers."""

    def run(
        urls: list[str],
        fault: Callable[[], None],
        *,
        mix: dict[str, dict[str, int]] | None = None,
        gateways: list[GatewayProcess] = (),  # type: ignore[assignment]
        redis_url: str | None = None,
    ) -> dict[str, Any]:
        # earns, redemptions and voids of every provider (tests/harness/load.py DEFAULT_MIX)
        load = WriteLoad(world, urls, WRITES, mix=mix, concurrency=12)
        load.run(fault)
        load.replay()
        verdict = {"experiment": request.node.name, **load.verdict()}
        if redis_url is not None:  # unknown outcomes still open after the load (must be 0)
            with redis.Redis.from_url(redis_url) as client:
                verdict["unknown_open"] = client.hlen("lg:{reconcile}:unknown")
        verdict["gateway_errors"] = {}
        for gateway in gateways:
            for line in gateway.log.read_text(errors="replace").splitlines():
                if '"level": "error"' in line or "Traceback" in line:
                    event = line.split('"event": "', 1)[-1].split('"', 1)[0][:60]
                    verdict["gateway_errors"][event] = verdict["gateway_errors"].get(event, 0) + 1
        results = os.environ.get("CHAOS_RESULTS")
        if results:
            with open(results, "a", encoding="utf-8") as out:
                out.write(json.dumps(verdict) + "\n")
        print(json.dumps(verdict))
        assert_exactly_once(verdict)
        return verdict

    return run
