"""The built image, run as docs/deployment.md says: healthy, unprivileged, read-only, serving
a balance read and an earn with its replay against the simulators, draining on ``docker
stop``. Run by ops/verify-image.sh (``pytest -m image``), which builds the image and starts
the Docker engine; ``LG_IMAGE`` names the image and ``DOCKER_HOST`` the engine."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World

pytestmark = pytest.mark.image

IMAGE = os.environ.get("LG_IMAGE", "")
DOCKER = os.environ.get("LG_DOCKER", "docker")
AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


def docker(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, check=check, timeout=timeout
    )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    if not IMAGE:
        pytest.fail("LG_IMAGE is not set: run ops/verify-image.sh, which builds the image")
    started = World().start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def container(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    port = free_tcp_port()
    config = world.config_yaml(port=port).replace(
        "server:\n  host: 127.0.0.1\n", "server:\n  host: 0.0.0.0\n", 1
    )
    directory = tmp_path_factory.mktemp("image")
    path = Path(directory) / "config.yaml"
    path.write_text(config, encoding="utf-8")
    path.chmod(0o644)
    # the ShopYourWay key file the config names, mounted at the same path
    key = world.syw_key_file
    key.chmod(0o644)
    key.parent.chmod(0o755)
    name = "lg-verify-" + uuid.uuid4().hex[:8]
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--stop-timeout",
        "30",
        "-e",
        f"HEALTHCHECK_PORT={port}",
        "-v",
        f"{path}:/etc/loyalty-gateway/config.yaml:ro",
        "-v",
        f"{key}:{key}:ro",
        IMAGE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the container never answered /healthz:\n" + docker("logs", name).stderr)
        yield {"name": name, "base": base}
    finally:
        logs = docker("logs", name, check=False)
        print(logs.stdout[-3000:], logs.stderr[-3000:])
        docker("rm", "-f", name, check=False)


def _inspect(name: str, template: str) -> str:
    return docker("inspect", "--format", template, name).stdout.strip()


def test_it_answers_its_probes(container: dict[str, str]) -> None:
    assert httpx.get(container["base"] + "/healthz").status_code == 200
    assert httpx.get(container["base"] + "/readyz").status_code == 200


def test_its_health_check_reports_healthy(container: dict[str, str]) -> None:
    deadline = time.monotonic() + 90  # interval 15 s, start period 30 s
    status = ""
    while time.monotonic() < deadline:
        status = _inspect(container["name"], "{{.State.Health.Status}}")
        if status == "healthy":
            break
        time.sleep(1)
    assert status == "healthy"


def test_it_runs_unprivileged_on_a_read_only_root(container: dict[str, str]) -> None:
    assert docker("exec", container["name"], "id", "-u").stdout.strip() == "10001"
    assert _inspect(container["name"], "{{.HostConfig.ReadonlyRootfs}}") == "true"
    written = docker("exec", container["name"], "touch", "/opt/venv/x", check=False)
    assert written.returncode != 0
    assert "Read-only file system" in written.stderr


def test_a_balance_read_and_an_earn_with_its_replay(
    container: dict[str, str], world: World
) -> None:
    base = container["base"] + "/v1/programs/cafe-rewards/members"
    read = httpx.get(base + "/2059378440/balance", headers=AUTH, timeout=10)
    assert read.status_code == 200
    assert read.json()["points"] == 1504
    member = world.new_cp_customer()
    key = {**AUTH, "Idempotency-Key": uuid.uuid4().hex}
    first = httpx.post(f"{base}/{member}/earn", json={"points": 7}, headers=key, timeout=10)
    again = httpx.post(f"{base}/{member}/earn", json={"points": 7}, headers=key, timeout=10)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    applied = [e for e in world.cp.ledger if e.customer_number == member]
    assert len(applied) == 1


def test_docker_stop_drains_an_in_flight_request_and_exits_0(
    container: dict[str, str], world: World
) -> None:
    """Last: stops the container. A read held 3 s at the provider still gets its answer."""
    world.cp.faults.set(Faults(latency_ms=3000, only_paths=["/BalanceCheck"]))
    answer: dict[str, int] = {}

    def slow_read() -> None:
        url = container["base"] + "/v1/programs/cafe-rewards/members/1000000001/balance"
        response = httpx.get(url, headers={**AUTH, "Cache-Control": "no-cache"}, timeout=30)
        answer["status"] = response.status_code

    reader = threading.Thread(target=slow_read)
    reader.start()
    time.sleep(1)  # the read is at the provider
    try:
        docker("stop", container["name"], timeout=60)
    finally:
        world.cp.faults.set(Faults())
    reader.join(timeout=30)
    assert answer.get("status") == 200
    assert _inspect(container["name"], "{{.State.ExitCode}}") == "0"
