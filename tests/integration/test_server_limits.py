"""The limits `gateway serve` enforces on connections (server.keep_alive_seconds,
server.max_connections_per_worker), proved on raw sockets against a real server process."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import World

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n"


@pytest.fixture(scope="module")
def limited(
    world: World, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    port = free_tcp_port()
    config = world.config_yaml(redis_url=redis_url, port=port).replace(
        "server:\n", "server:\n  keep_alive_seconds: 1\n  max_connections_per_worker: 3\n", 1
    )
    path = Path(tmp_path_factory.mktemp("limits")) / "gateway.yaml"
    path.write_text(config, encoding="utf-8")
    gateway = GatewayProcess(str(path), port, workers=1).start()
    try:
        yield port
    finally:
        gateway.stop()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_an_idle_keep_alive_connection_is_closed(limited: int) -> None:
    with _connect(limited) as sock:
        sock.sendall(REQUEST)
        assert _answer(sock).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        sock.settimeout(5)
        assert sock.recv(1) == b""  # the server closed the idle connection
        assert 0.5 < time.monotonic() - started < 3


def test_connections_beyond_the_worker_limit_get_503(limited: int) -> None:
    held = [_connect(limited) for _ in range(3)]
    try:
        time.sleep(0.2)
        with _connect(limited) as extra:
            extra.sendall(REQUEST)
            assert _answer(extra).startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    with _connect(limited) as sock:  # free again once they are gone
        sock.sendall(REQUEST)
        assert _answer(sock).startswith(b"HTTP/1.1 200")


def _status(port: int, request: bytes) -> tuple[int, bytes]:
    with _connect(port) as sock:
        sock.sendall(request)
        head = _answer(sock)
    return int(head.split(b" ", 2)[1]), head


@pytest.mark.parametrize(
    "extra",
    [
        b"X-Big: " + b"a" * 20_000 + b"\r\n",  # one header over server.max_header_bytes
        b"".join(b"X-H%d: v\r\n" % i for i in range(150)),  # more than server.max_headers
    ],
)
def test_too_many_or_too_large_headers_are_431(gateway_url: str, extra: bytes) -> None:
    port = int(gateway_url.rsplit(":", 1)[1])
    status, head = _status(port, b"GET /v1/programs HTTP/1.1\r\nHost: gw\r\n" + extra + b"\r\n")
    assert status == 431, head
    assert b"application/problem+json" in head
    ok, _ = _status(port, b"GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Small: v\r\n\r\n")
    assert ok == 200
