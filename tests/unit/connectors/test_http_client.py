"""UpstreamClient sends to the transport directly: URL joining and header merging."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import msgspec
import pytest

from gateway.connectors.http import Outgoing, UpstreamClient, _encoded_body, _merged
from gateway.settings import ProgramSettings
from tests.unit.connectors.transports import HandlerTransport


def _program() -> ProgramSettings:
    return ProgramSettings(
        id="p", name="P", provider="cpextender", base_url="http://provider.test/api/"
    )


def test_default_headers_are_overridden_regardless_of_case() -> None:
    defaults = {"Authorization": "Bearer a", "User-Agent": "ua"}
    assert _merged(defaults, {}) is defaults
    assert _merged(defaults, {"authorization": "Bearer b", "X-Request-ID": "r"}) == {
        "User-Agent": "ua",
        "authorization": "Bearer b",
        "X-Request-ID": "r",
    }


def test_paths_join_the_base_url_and_whole_urls_are_kept() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async def main() -> None:
        client = UpstreamClient(
            _program(),
            "cpextender",
            headers={"Authorization": "Bearer t"},
            transport=HandlerTransport(answer),
        )
        first = await client.request("GET", "/Loyalty/1/BalanceCheck", operation="balance")
        assert first.json() == {"ok": True}
        await client.request("POST", "https://idp.test/token", operation="token", data={"a": "b"})
        await client.aclose()

    asyncio.run(main())
    assert str(seen[0].url) == "http://provider.test/api/Loyalty/1/BalanceCheck"
    assert seen[0].headers["authorization"] == "Bearer t"
    assert seen[0].headers["user-agent"].startswith("loyalty-gateway/")
    assert str(seen[1].url) == "https://idp.test/token"
    assert seen[1].content == b"a=b"
    assert seen[1].extensions["timeout"]["connect"] > 0


@pytest.mark.parametrize(
    "call",
    [
        Outgoing("POST", "/x", "op", True, {"a": 1, "b": "é", "c": [1, None]}, None, None, None),
        Outgoing("POST", "/x", "op", True, None, None, {"call": "x", "pass": "a b&c"}, None),
        Outgoing("POST", "/x", "op", True, None, b"raw", None, None),
        Outgoing("GET", "/x", "op", False, None, None, None, None),
    ],
)
def test_bodies_are_encoded_as_httpx_encodes_them(call: Outgoing) -> None:
    reference = httpx.Request(
        call.method, "http://p.test/x", json=call.json, data=call.data, content=call.content
    )
    body, content_type = _encoded_body(call)
    assert (body or b"") == reference.content
    assert content_type == reference.headers.get("content-type")


def test_a_content_type_the_connector_set_is_kept() -> None:
    call = Outgoing("POST", "/x", "op", True, {"a": 1}, None, None, {"content-type": "text/json"})
    assert _encoded_body(call) == (b'{"a":1}', None)


def test_the_wire_request_carries_headers_body_and_length(
    capture_server: tuple[str, list[bytes]],
) -> None:
    url, seen = capture_server

    async def main() -> None:
        program = msgspec.structs.replace(_program(), base_url=url)
        client = UpstreamClient(program, "cpextender", headers={"Authorization": "Bearer t"})
        answer = await client.request(
            "POST", "/Loyalty/1/Earn", operation="earn", write=True, json={"Points": 5}
        )
        assert answer.status_code == 200
        assert answer.json() == {"ok": True}
        await client.aclose()

    asyncio.run(main())
    head, _, body = seen[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "POST /Loyalty/1/Earn HTTP/1.1"
    assert headers["authorization"] == "Bearer t"
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(body))
    assert body == b'{"Points":5}'


@pytest.fixture
def capture_server() -> Iterator[tuple[str, list[bytes]]]:
    """A one-answer-per-request HTTP server on a thread, keeping each raw request."""
    seen: list[bytes] = []
    ready = threading.Event()
    port: list[int] = []
    stop: list[asyncio.AbstractEventLoop] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        seen.append(head + await reader.readexactly(length))
        answer = b'{"ok":true}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(answer)).encode()
            + b"\r\n\r\n"
            + answer
        )
        await writer.drain()
        writer.close()

    def serve() -> None:
        loop = asyncio.new_event_loop()
        stop.append(loop)
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(5)
    yield f"http://127.0.0.1:{port[0]}", seen
    stop[0].call_soon_threadsafe(stop[0].stop)
    thread.join(5)
