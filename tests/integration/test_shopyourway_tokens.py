"""The Telluride token is shared by every gateway process through Redis."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from gateway.connectors.shopyourway import simulator as shopyourway
from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import DEMO_API_KEY, World

OFFERS = f"/v1/programs/syw-rewards/members/{shopyourway.DEMO_MEMBER_NUMBER}/offers"
HEADERS = {"Authorization": f"Bearer {DEMO_API_KEY}"}


def _start(world: World, redis_url: str, tmp_path: Path, count: int) -> list[GatewayProcess]:
    prefix = "tok-" + uuid.uuid4().hex[:8]  # a cold token cache for this test
    processes = []
    for i in range(count):
        port = free_tcp_port()
        config = tmp_path / f"gateway-{i}.yaml"
        config.write_text(
            world.config_yaml(redis_url=redis_url, port=port, key_prefix=prefix), encoding="utf-8"
        )
        processes.append(GatewayProcess(str(config), port))
    for process in processes:
        process.start()
    return processes


def test_cold_cache_200_calls_over_4_processes_make_one_token_request(
    world: World, redis_url: str, tmp_path: Path
) -> None:
    processes = _start(world, redis_url, tmp_path, 4)
    try:
        before = world.syw.token_requests

        def call(i: int) -> int:
            url = processes[i % 4].url + OFFERS
            return httpx.get(url, headers=HEADERS, timeout=20).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(call, range(200)))
    finally:
        for process in processes:
            process.stop()
    assert statuses == [200] * 200
    assert world.syw.token_requests - before == 1


def test_short_lived_tokens_are_refreshed_ahead_without_failures(
    world: World, redis_url: str, tmp_path: Path
) -> None:
    processes = _start(world, redis_url, tmp_path, 2)
    world.syw.token_lifetime_seconds = 2
    try:
        before = world.syw.token_requests
        statuses = []
        deadline = time.monotonic() + 6
        i = 0
        while time.monotonic() < deadline:
            url = processes[i % 2].url + OFFERS
            statuses.append(httpx.get(url, headers=HEADERS, timeout=10).status_code)
            i += 1
            time.sleep(0.02)
    finally:
        world.syw.token_lifetime_seconds = 3600
        for process in processes:
            process.stop()
    assert set(statuses) == {200}
    # enough calls that one token per call would show (the count depends on the machine's
    # load: ~100 per 6 s when idle, under 50 on a busy 2-CPU CI runner)
    assert len(statuses) > 20
    # ~6 s / (2 s lifetime - 0.2 s margin) -> 3 or 4 refreshes, never one per call
    assert 3 <= world.syw.token_requests - before <= 6
