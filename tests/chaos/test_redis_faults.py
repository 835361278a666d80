"""Exactly-once while Redis fails: Sentinel failover and master kill, Cluster master kill,
a persistent Redis killed and restarted, a Redis restarted empty, the embedded Redis killed.

Each experiment: a 2-worker ``gateway serve`` on the deployment, a write load whose clients
retry, the fault at 30 % of the load, the killed node started again a few seconds later
(as its supervisor would), every acknowledged key replayed; then the ledgers must show every
write applied exactly once (see harness/load.py).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from conftest import Experiment
from harness.gateway_process import GatewayProcess
from harness.redis_servers import ClusterSetup, RedisProcess, SentinelSetup, running

from gateway.sandbox.world import World


def later(seconds: float, action: object) -> None:
    """Run ``action`` after ``seconds`` in the background (a supervisor restarting a node)."""
    threading.Timer(seconds, action).start()  # type: ignore[arg-type]


def gateway_on(world: World, root: Path, redis_url: str | None, **config: object) -> GatewayProcess:
    text = world.config_yaml(redis_url=redis_url, **config)  # type: ignore[arg-type]
    return GatewayProcess(text, root).start()


def test_sentinel_failover(world: World, root: Path, experiment: Experiment) -> None:
    setup = SentinelSetup(root)
    with running(setup):
        gateway = gateway_on(world, root, setup.url)
        try:
            verdict = experiment([gateway.url], setup.failover, gateways=[gateway])
        finally:
            gateway.stop()
    assert verdict["statuses"].get("503", 0) > 0  # the fence really refused writes


def test_sentinel_master_killed(world: World, root: Path, experiment: Experiment) -> None:
    setup = SentinelSetup(root)
    with running(setup):
        gateway = gateway_on(world, root, setup.url)

        def fault() -> None:
            master = setup.master()
            master.kill()
            later(6, master.start)

        try:
            experiment([gateway.url], fault, gateways=[gateway])
        finally:
            gateway.stop()


def test_cluster_master_killed(world: World, root: Path, experiment: Experiment) -> None:
    setup = ClusterSetup(root)
    with running(setup):
        gateway = gateway_on(world, root, setup.url)

        def fault() -> None:
            victim = setup.masters()[0]
            victim.kill()
            later(6, victim.start)

        try:
            experiment([gateway.url], fault, gateways=[gateway])
        finally:
            gateway.stop()


def test_persistent_redis_killed_and_restarted(
    world: World, root: Path, experiment: Experiment
) -> None:
    # a single server, no replica to cover its crash: fsync before every reply (with
    # everysec a crash under disk load loses acknowledged records: docs/deployment.md)
    server = RedisProcess(root, "redis", args=["--appendonly", "yes", "--appendfsync", "always"])
    with running(server):
        gateway = gateway_on(world, root, server.url)

        def fault() -> None:
            server.kill()
            later(2, server.start)

        try:
            experiment([gateway.url], fault, gateways=[gateway])
        finally:
            gateway.stop()


def test_redis_restarted_empty(world: World, root: Path, experiment: Experiment) -> None:
    """No persistence at all: the records are gone. The epoch marker tells the gateway, which
    then looks every write up before sending it (check_after_store_loss)."""
    server = RedisProcess(root, "redis", args=["--appendonly", "no"])
    with running(server):
        gateway = gateway_on(world, root, server.url)

        def fault() -> None:
            server.kill()
            server.wipe()
            later(1, server.start)

        try:
            verdict = experiment([gateway.url], fault, gateways=[gateway])
        finally:
            gateway.stop()
    assert verdict["acknowledged"] == verdict["writes"]


def test_embedded_redis_killed(world: World, root: Path, experiment: Experiment) -> None:
    data = root / "embedded"
    gateway = gateway_on(world, root, None, redis_data_dir=str(data))
    first_pid = int((data / "redis.pid").read_text())

    def fault() -> None:
        import os

        os.kill(int((data / "redis.pid").read_text()), signal.SIGKILL)

    try:
        experiment([gateway.url], fault, gateways=[gateway])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and int((data / "redis.pid").read_text()) == first_pid:
            time.sleep(0.1)
        assert int((data / "redis.pid").read_text()) != first_pid  # the supervisor restarted it
    finally:
        gateway.stop()
