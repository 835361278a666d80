"""Exactly-once while gateways die: SIGKILL and SIGTERM mid-load (on an external Redis and
on the embedded default), and two gateways sharing one Redis while one of them is killed.

The restarted gateway comes back on the same port; clients keep retrying meanwhile. A key
cut by a SIGKILL is free again once its lease (5 s, renewed while a write runs) expires,
so ``max_stuck_s`` stays a few seconds above the restart time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Experiment
from harness.gateway_process import GatewayProcess
from harness.redis_servers import RedisProcess, running

from gateway.sandbox.world import World


@pytest.fixture
def redis_aof(root: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(root, "redis", args=["--appendonly", "yes"])
    with running(server):
        yield server


def _restarted(gateway: GatewayProcess, how: str) -> None:
    if how == "sigkill":
        gateway.kill()
    else:
        assert gateway.terminate() == 0  # a clean stop drains and exits 0
    gateway.start()


@pytest.mark.parametrize("how", ["sigkill", "sigterm"])
def test_gateway_restarted_external_redis(
    world: World, root: Path, redis_aof: RedisProcess, experiment: Experiment, how: str
) -> None:
    gateway = GatewayProcess(world.config_yaml(redis_url=redis_aof.url), root).start()
    try:
        experiment([gateway.url], lambda: _restarted(gateway, how), gateways=[gateway])
    finally:
        gateway.stop()


@pytest.mark.parametrize("how", ["sigkill", "sigterm"])
def test_gateway_restarted_embedded_redis(
    world: World, root: Path, experiment: Experiment, how: str
) -> None:
    """The embedded default: its append-only file carries the records over the restart."""
    config = world.config_yaml(redis_data_dir=str(root / "embedded"))
    gateway = GatewayProcess(config, root).start()
    try:
        experiment([gateway.url], lambda: _restarted(gateway, how), gateways=[gateway])
    finally:
        gateway.stop()


def test_two_gateways_share_redis_one_killed(
    world: World, root: Path, redis_aof: RedisProcess, experiment: Experiment
) -> None:
    config = world.config_yaml(redis_url=redis_aof.url)
    first = GatewayProcess(config, root, name="first").start()
    second = GatewayProcess(config, root, name="second").start()

    def fault() -> None:
        first.kill()
        threading.Timer(3, first.start).start()

    try:
        experiment([first.url, second.url], fault, gateways=[first, second])
    finally:
        first.stop()
        second.stop()
