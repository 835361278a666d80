"""The production entry point: `gateway serve` and configuration errors at start-up."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.world import DEMO_API_KEY, World


def test_bad_config_stops_start_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  port: 8080\n  colour: blue\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "server.colour" in result.stderr or "colour" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_env_var_is_named(tmp_path: Path) -> None:
    config = tmp_path / "env.yaml"
    config.write_text(
        "programs:\n  - id: p\n    name: P\n    provider: alpha\n    base_url: http://x\n"
        "    auth: {type: bearer, token: '${LG_TEST_UNSET_TOKEN}'}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "programs[0].auth.token" in result.stderr
    assert "LG_TEST_UNSET_TOKEN" in result.stderr


def test_serve_runs_the_configured_gateway(tmp_path: Path, world: World, redis_url: str) -> None:
    port = free_tcp_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(world.config_yaml(redis_url=redis_url, port=port), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "gateway did not become ready"
            time.sleep(0.1)
        response = httpx.get(
            f"{base}/v1/programs/alpha-store/members/OLMKne7Y3N",
            headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
            timeout=5,
        )
        assert response.status_code == 200
        assert response.json()["member_id"] == "OLMKne7Y3N"
    finally:
        process.terminate()
        process.wait(timeout=30)
