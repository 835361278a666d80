"""gateway/http_limits.py: the protocol fed bytes directly, on a fake transport (no socket),
so the clocks it arms and the answers it writes can be read off exactly."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from gateway import http_limits
from gateway.domain.errors import RequestTimeout, ServiceUnavailable
from gateway.http_limits import ConnectionLimits, LimitedHttpToolsProtocol
from gateway.settings import ServerSettings


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False
        self.eof = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8080)}.get(name)

    def write(self, data: Any) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body (as litestar does), then answers 200."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    pending = asyncio.all_tasks(loop)  # app tasks of requests a test left unfinished
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending))
    loop.close()


def _protocol(
    loop: asyncio.AbstractEventLoop, limits: ConnectionLimits, **options: Any
) -> tuple[LimitedHttpToolsProtocol, FakeTransport]:
    config = http_limits.config(_ok, connection_limits=limits, lifespan="off", **options)
    config.load()
    protocol = LimitedHttpToolsProtocol(config, ServerState(), {}, _loop=loop)
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


def _settle(loop: asyncio.AbstractEventLoop, seconds: float = 0.05) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


def _problem(written: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = written.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head
    assert b"connection: close" in head
    return int(head.split(b" ")[1]), json.loads(body)


LIMITS = ConnectionLimits(header_timeout=0.2, body_timeout=0.2, max_head_bytes=1000)


def test_a_request_in_one_read_leaves_no_clock_running(loop: asyncio.AbstractEventLoop) -> None:
    protocol, transport = _protocol(loop, LIMITS)
    assert protocol._clock == "head"  # from the connection's start
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
    assert protocol._clock is None
    _settle(loop)
    assert transport.written.startswith(b"HTTP/1.1 200")
    body = b'{"a": 1}'
    protocol.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n" + body)
    assert protocol._clock is None
    assert not transport.closed


def test_a_read_ending_inside_a_head_or_a_body_starts_its_clock(
    loop: asyncio.AbstractEventLoop,
) -> None:
    protocol, _ = _protocol(loop, LIMITS)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHo")
    assert protocol._clock == "head"
    first = protocol._timer
    protocol.data_received(b"st: a\r\n")
    assert protocol._timer is first  # more bytes do not move the deadline
    protocol.data_received(b"Content-Length: 4\r\n\r\nab")
    assert protocol._clock == "body"
    protocol.data_received(b"cd")
    assert protocol._clock is None


def test_a_silent_connection_is_closed_without_an_answer(loop: asyncio.AbstractEventLoop) -> None:
    _, transport = _protocol(loop, LIMITS)
    _settle(loop, 0.3)
    assert transport.closed
    assert transport.written == b""


def test_a_partial_head_gets_408_then_a_lingering_close(loop: asyncio.AbstractEventLoop) -> None:
    protocol, transport = _protocol(loop, LIMITS)
    protocol.data_received(b"GET /x HTTP/1.1\r\n")
    _settle(loop, 0.3)
    status, problem = _problem(transport.written)
    assert (status, problem["code"]) == (408, "request_timeout")
    assert transport.eof  # our side ended; theirs is read and dropped for a while
    assert not transport.closed
    protocol.data_received(b"X-More: bytes\r\n")
    assert transport.written.count(b"HTTP/1.1") == 1


def test_a_body_that_does_not_arrive_in_time_gets_408(loop: asyncio.AbstractEventLoop) -> None:
    protocol, transport = _protocol(loop, LIMITS)
    protocol.data_received(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")
    _settle(loop, 0.3)
    status, _ = _problem(transport.written)
    assert status == 408


def test_a_head_past_the_limit_is_refused_as_it_arrives(loop: asyncio.AbstractEventLoop) -> None:
    protocol, transport = _protocol(loop, LIMITS)
    protocol.data_received(b"GET /x HTTP/1.1\r\nX-Big: ")
    for _ in range(3):
        protocol.data_received(b"a" * 400)
    status, problem = _problem(transport.written)
    assert (status, problem["code"]) == (431, "request_header_fields_too_large")


def test_a_head_split_at_its_end_is_counted_once(loop: asyncio.AbstractEventLoop) -> None:
    """The CRLFCRLF split over two reads still ends the head: the body is not counted."""
    protocol, transport = _protocol(loop, LIMITS)
    protocol.data_received(b"POST /x HTTP/1.1\r\nContent-Length: 2000\r\n\r")
    protocol.data_received(b"\n" + b"b" * 2000)
    _settle(loop)
    assert transport.written.startswith(b"HTTP/1.1 200")


def test_over_the_connection_limit_the_503_is_a_problem(loop: asyncio.AbstractEventLoop) -> None:
    protocol, transport = _protocol(loop, LIMITS, limit_concurrency=1)
    protocol.connections.add(object())  # type: ignore[arg-type]  # another connection is open
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
    _settle(loop)
    status, problem = _problem(transport.written)
    assert (status, problem["code"]) == (503, "service_unavailable")
    assert b"retry-after: 1" in transport.written


def test_raw_problem_is_a_complete_answer() -> None:
    answer = http_limits.raw_problem(RequestTimeout("slow"))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"content-length: %d" % len(body) in head
    assert json.loads(body)["detail"] == "slow"
    busy = http_limits.raw_problem(ServiceUnavailable(headers={"Retry-After": "1"}))
    assert busy.startswith(b"HTTP/1.1 503 Service Unavailable")
    assert b"retry-after: 1\r\n" in busy


def test_the_settings_become_uvicorn_options_that_survive_a_spawn() -> None:
    server = ServerSettings(header_timeout_seconds=3, body_timeout_seconds=4, max_header_bytes=2048)
    options = http_limits.uvicorn_options(server)
    config = http_limits.config("gateway.asgi:app", **options)
    assert isinstance(config, uvicorn.Config)
    assert config.http is LimitedHttpToolsProtocol
    # uvicorn's spawned workers receive the Config pickled: the limits travel with it
    copied = pickle.loads(pickle.dumps(config))  # noqa: S301 - our own bytes
    limits = copied.connection_limits
    assert limits == ConnectionLimits(3, 4, 2048 + http_limits.REQUEST_LINE_ALLOWANCE)
