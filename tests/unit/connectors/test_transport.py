"""The aiohttp-backed transport tells 'not sent' from 'may have been applied' correctly."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.connectors.transport import UpstreamTransport
from gateway.infra.embedded_redis import free_tcp_port


async def _serve(behaviour: str) -> tuple[asyncio.AbstractServer, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the request arrived
        if behaviour == "close":
            writer.close()
        elif behaviour == "partial":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{")
            await writer.drain()
            writer.close()
        else:  # silent
            await asyncio.sleep(5)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _get(port: int, seconds: float = 2.0) -> None:
    async with httpx.AsyncClient(
        transport=UpstreamTransport(trust_env=False), timeout=seconds
    ) as client:
        await client.post(f"http://127.0.0.1:{port}/x", content=b"{}")


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("close", httpx.RemoteProtocolError),
        ("partial", httpx.ReadError),
        ("silent", httpx.ReadTimeout),
    ],
)
def test_failures_after_sending_are_not_connect_errors(
    behaviour: str, expected: type[Exception]
) -> None:
    async def main() -> None:
        server, port = await _serve(behaviour)
        async with server:
            with pytest.raises(expected) as caught:
                await _get(port, seconds=0.3)
            assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)

    asyncio.run(main())


def test_refused_connection_is_a_connect_error() -> None:
    with pytest.raises(httpx.ConnectError):
        asyncio.run(_get(free_tcp_port()))
