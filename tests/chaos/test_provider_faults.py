"""Exactly-once while the providers misbehave: 500s and writes applied whose answer is cut
(apply-then-drop), on every write of the load (earns, redemptions, voids), from 30 % of the
load to its end. Every write must end definite (its unknowns located or re-sent after the
settle time), none applied twice, and no unknown outcome left open in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LATENCY_MS, Experiment
from harness.gateway_process import GatewayProcess
from harness.redis_servers import RedisProcess, running

from gateway.sandbox.common import Faults
from gateway.sandbox.world import World


@pytest.fixture
def redis_aof(root: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(root, "redis", args=["--appendonly", "yes"])
    with running(server):
        yield server


def test_provider_500s_and_dropped_answers(
    world: World, root: Path, redis_aof: RedisProcess, experiment: Experiment
) -> None:
    # a short settle time (the default is 2 x read timeout + connect, 12 s) keeps the run
    # short; breakers that reopen at once keep the injected 500s from stalling it
    config = world.config_yaml(
        redis_url=redis_aof.url, circuit_open_seconds=0.05, reconcile="{settle_seconds: 2}"
    )
    gateway = GatewayProcess(config, root).start()

    def misbehave() -> None:
        for seed, state in enumerate((world.cp, world.syw, world.irt)):
            state.faults.set(
                Faults(
                    latency_ms=LATENCY_MS,
                    error_rate=0.1,
                    drop_after_apply_rate=0.05,
                    seed=seed,
                )
            )

    try:
        verdict = experiment([gateway.url], misbehave, gateways=[gateway], redis_url=redis_aof.url)
    finally:
        gateway.stop()
    assert verdict["statuses"].get("502", 0) > 0  # the faults really made unknown outcomes
