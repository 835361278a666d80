"""The production entry point: `gateway serve` and configuration errors at start-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway import serving
from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.process import GatewayProcess
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


def _gateway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("CP_", "SYW_", "IRT_"))}
        | (env or {}),
    )


def test_check_config_lists_every_fault_of_the_example_in_one_run() -> None:
    """config/example.yaml without its variables: all ten named at once (it took 11 runs)."""
    result = _gateway("check-config", "--config", "config/example.yaml")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "gateway: 10 configuration errors in config/example.yaml:"
    assert all(line.startswith("  ") and "is not set" in line for line in lines[1:]), lines
    assert len(lines) == 11


def test_check_config_warns_on_a_file_that_configures_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = _gateway("check-config", "--config", str(empty))
    assert result.returncode == 0
    assert "configures no programs" in result.stderr
    assert "configures no clients" in result.stderr


def test_check_config_refuses_an_unterminated_reference(tmp_path: Path) -> None:
    config = tmp_path / "typo.yaml"
    config.write_text(
        "programs:\n  - id: p\n    name: P\n    provider: cpextender\n    base_url: http://x\n"
        "    auth:\n      type: bearer\n      token: ${CP_API_TOKEN\n",
        encoding="utf-8",
    )
    result = _gateway("check-config", "--config", str(config))
    assert result.returncode == 1
    assert "programs[0].auth.token: ${ without a closing }" in result.stderr


def test_the_cli_explains_itself() -> None:
    version = _gateway("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("gateway ")
    top = _gateway("--help").stdout
    assert "``" not in top  # plain text, not reST
    for command in ("serve", "demo", "openapi", "check-config", "writes"):
        assert command in top
        text = _gateway(command, "--help").stdout
        flags = [w for w in text.split() if w.startswith("--") and w != "--help"]
        for flag in flags:
            line = next(line for line in text.splitlines() if line.strip().startswith(flag))
            # each flag line carries words after its metavar: its help text
            assert len(line.split()) > 2 or "=" in line, (command, line)


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
        assert "server" not in response.headers  # no banner for scanners
    finally:
        process.terminate()
        process.wait(timeout=30)


def _workers(pid: int) -> list[int]:
    """The worker processes of ``gateway serve`` (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    workers = []
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except FileNotFoundError:  # it just exited
            pass
    return workers


def _listening_sockets(pid: int, port: int) -> set[int]:
    """Inodes of the sockets ``pid`` holds that listen on ``port``."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
                listening.add(int(fields[9]))
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            held.add(int(target[8:-1]))
    return listening & held


def _fresh_connection_reads(base: str, count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        with httpx.Client(timeout=20) as client:  # a new connection, a new source port
            statuses.append(client.get(f"{base}/healthz").status_code)
    return statuses


@pytest.mark.skipif(not serving.reuse_port_balances(), reason="needs Linux SO_REUSEPORT")
def test_workers_share_new_connections_and_a_dead_worker_is_replaced(
    tmp_path: Path, world: World, redis_url: str
) -> None:
    port = free_tcp_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(world.config_yaml(redis_url=redis_url, port=port), encoding="utf-8")
    gateway = GatewayProcess(str(config), port, workers=2).start()
    try:
        assert gateway.process is not None
        parent = gateway.process.pid
        deadline = time.monotonic() + 20
        while len(workers := _workers(parent)) < 2:
            assert time.monotonic() < deadline, "two workers did not start"
            time.sleep(0.1)
        while not all(
            (sockets := {pid: _listening_sockets(pid, port) for pid in workers}).values()
        ):
            assert time.monotonic() < deadline, f"workers not listening: {sockets}"
            time.sleep(0.1)
        # one socket each, not one shared: the kernel spreads new connections over them
        assert all(len(held) == 1 for held in sockets.values()), sockets
        assert len(set.union(*sockets.values())) == 2, sockets
        assert _fresh_connection_reads(gateway.url, 50) == [200] * 50

        os.kill(workers[0], signal.SIGKILL)
        # connections hashed to the dead worker's socket wait for its replacement
        assert _fresh_connection_reads(gateway.url, 40) == [200] * 40
        deadline = time.monotonic() + 20
        while len(_workers(parent)) < 2 or workers[0] in _workers(parent):
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.1)
        replacement = next(pid for pid in _workers(parent) if pid not in workers)
        assert _listening_sockets(replacement, port) == sockets[workers[0]]
    finally:
        gateway.stop()


@pytest.mark.skipif(not serving.reuse_port_balances(), reason="needs Linux SO_REUSEPORT")
def test_a_port_another_server_holds_is_refused_not_shared(
    tmp_path: Path, world: World, redis_url: str
) -> None:
    port = free_tcp_port()
    other = serving.listening_socket("127.0.0.1", port, reuse_port=True)  # e.g. an old gateway
    other.listen()
    try:
        config = tmp_path / "gateway.yaml"
        config.write_text(world.config_yaml(redis_url=redis_url, port=port), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(config), "--workers", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its workers too can be killed if it does start
        )
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail("the gateway started on a port another server holds")
        assert process.returncode != 0
        assert "in use" in err.lower()
    finally:
        other.close()
