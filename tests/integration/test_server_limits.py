"""The limits `gateway serve` enforces on connections (server.keep_alive_seconds,
server.max_connections_per_worker, header_timeout_seconds, body_timeout_seconds,
max_header_bytes at the socket; gateway/http_limits.py), proved on raw sockets against a real
server process."""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import DEMO_API_KEY, World
from tests.harness import raw_http

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n"


@pytest.fixture(scope="module")
def limited(
    world: World, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    port = free_tcp_port()
    config = world.config_yaml(redis_url=redis_url, port=port).replace(
        "server:\n",
        "server:\n  keep_alive_seconds: 1\n  max_connections_per_worker: 3\n"
        "  header_timeout_seconds: 1\n  body_timeout_seconds: 1\n",
        1,
    )
    path = Path(tmp_path_factory.mktemp("limits")) / "gateway.yaml"
    path.write_text(config, encoding="utf-8")
    gateway = GatewayProcess(str(path), port, workers=1).start()
    try:
        yield port
    finally:
        gateway.stop()


_connect = raw_http.connect
_answer = raw_http.answer


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
            status, headers, problem = _problem(extra)
            assert status == 503
            assert headers["retry-after"] == "1"
            assert problem["code"] == "service_unavailable"
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


def _problem(sock: socket.socket) -> tuple[int, dict[str, str], dict]:  # type: ignore[type-arg]
    """Read one whole answer; its status, headers and JSON problem body."""
    sock.settimeout(5)
    status, headers, body = raw_http.parse(_answer(sock))
    assert headers["content-type"] == "application/problem+json", headers
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["request_id"] == headers["x-request-id"]
    return status, headers, problem


def _closed(sock: socket.socket, within: float) -> float:
    """Seconds until the server closes ``sock`` (reading and dropping what it sends)."""
    started = time.monotonic()
    sock.settimeout(within)
    while sock.recv(65536):
        pass
    return time.monotonic() - started


def _trickle_until_408(sock: socket.socket, piece: Callable[[int], bytes]) -> None:
    """Send ``piece(i)`` every 0.25 s: arriving bytes must not move the 1 s deadline."""
    started = time.monotonic()
    for i in range(8):
        time.sleep(0.25)
        try:
            sock.sendall(piece(i))
        except OSError:
            break
        if select.select([sock], [], [], 0)[0]:
            break  # the answer is there
    status, _, problem = _problem(sock)
    assert (status, problem["code"]) == (408, "request_timeout")
    assert 0.8 < time.monotonic() - started < 3


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(limited: int) -> None:
    with _connect(limited) as sock:
        started = time.monotonic()
        sock.settimeout(5)
        assert sock.recv(1) == b""
        assert 0.8 < time.monotonic() - started < 3


def test_headers_that_never_finish_get_408(limited: int) -> None:
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n")
        _trickle_until_408(sock, lambda i: b"X-Slow-%d: v\r\n" % i)
        assert _closed(sock, 5) < 5


def test_a_body_that_trickles_gets_408_and_nothing_is_sent_upstream(
    limited: int, world: World
) -> None:
    member = world.new_cp_customer()
    before = len(world.cp.requests)
    head = (
        f"POST /v1/programs/cafe-rewards/members/{member}/earn HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Bearer {DEMO_API_KEY}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
        "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"
    )
    with _connect(limited) as sock:
        sock.sendall(head.encode() + b'{"points": 5')
        _trickle_until_408(sock, lambda i: b" ")
    assert len(world.cp.requests) == before


def test_a_request_split_over_several_reads_within_the_limits_is_served(
    limited: int, world: World
) -> None:
    member = world.new_cp_customer()
    body = b'{"points": 7, "reason": "split"}'
    head = (
        f"POST /v1/programs/cafe-rewards/members/{member}/earn HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Bearer {DEMO_API_KEY}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with _connect(limited) as sock:
        for part in (head[:20], head[20:], body[:5], body[5:]):
            sock.sendall(part)
            time.sleep(0.2)
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 201"), answer


def test_a_later_request_on_a_kept_alive_connection_gets_its_own_header_clock(
    limited: int,
) -> None:
    with _connect(limited) as sock:
        sock.sendall(REQUEST)
        assert _answer(sock).startswith(b"HTTP/1.1 200")
        time.sleep(0.7)  # idle, but within keep_alive_seconds (1)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request starts and stalls
        started = time.monotonic()
        status, _, problem = _problem(sock)
        assert (status, problem["code"]) == (408, "request_timeout")
        assert 0.8 < time.monotonic() - started < 3


@pytest.mark.parametrize(
    "chunk",
    [
        b"X-Big: " + b"a" * 32_768,  # one header that never ends, 32 kB at a time
        b"".join(b"X-H%d: v\r\n" % i for i in range(2_000)),  # header lines without an end
    ],
)
def test_an_endless_head_is_refused_with_431_while_it_arrives(limited: int, chunk: bytes) -> None:
    """The head never ends, so only a limit counted at the socket can answer it: the 431 is
    there after a few tens of kilobytes, not buffered up to a 32 MB header."""
    with _connect(limited) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n")
        sent = 0
        while sent < 4 * 1024 * 1024:
            sock.sendall(chunk)
            sent += len(chunk)
            if select.select([sock], [], [], 0.05)[0]:
                break
        assert sent < 1024 * 1024, f"no answer after {sent} bytes of head"
        status, _, problem = _problem(sock)
        assert status == 431
        assert problem["code"] == "request_header_fields_too_large"
