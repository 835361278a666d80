"""The upstream transport: aiohttp under httpx's API (httpx-aiohttp), with safe error mapping.

bench/transport_compare.py measured httpx's default transport against httpx over aiohttp:
1.6x the requests per second at concurrency 1 and 3.4x at 32, at a third of the CPU per
request. httpx-aiohttp maps aiohttp's errors onto httpx's, but maps every
``ClientConnectionError`` (including a connection the server closed *after* receiving a
request) to ``ConnectTimeout`` — which would make a write that may have been applied look
"not sent". The mapping here decides by the original aiohttp error instead:

    ClientConnectorError (refused, DNS, TLS setup)  -> httpx.ConnectError    (nothing sent)
    ConnectionTimeoutError                          -> httpx.ConnectTimeout  (nothing sent)
    SocketTimeoutError / ServerTimeoutError         -> httpx.ReadTimeout     (may be applied)
    ClientPayloadError                              -> httpx.ReadError       (may be applied)
    any other ClientConnectionError (disconnect)    -> httpx.RemoteProtocolError (may be applied)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def _classify(cause: BaseException | None) -> type[httpx.TransportError]:
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout
    if isinstance(cause, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout
    if isinstance(cause, aiohttp.ClientPayloadError):
        return httpx.ReadError
    return httpx.RemoteProtocolError


def _remap(exc: Exception, request: httpx.Request | None) -> httpx.TransportError:
    cause = exc.__cause__ if isinstance(exc, httpx.HTTPError) else exc
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        return exc
    return _classify(cause)(str(exc) or type(cause).__name__, request=request)


class Transport(Protocol):
    """What ``UpstreamClient`` sends through: ``UpstreamTransport`` in production; a test
    hands in its own (tests/unit/connectors/transports.py) and so gets the bytes the
    production encoder made."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        *,
        connect: float | None,
        read: float | None,
        pool: float | None,
        request: httpx.Request | None = None,
    ) -> httpx.Response: ...

    async def aclose(self) -> None: ...


class UpstreamTransport(AiohttpTransport):
    """``AiohttpTransport`` whose errors say truthfully whether the request went out.

    It reads the whole answer before returning (every connector needs the full body), so a
    failure while reading is mapped in the same place, and its session keeps no cookies:
    providers are called with explicit credentials, never with cookies one of them set.
    """

    def get_client(self) -> aiohttp.ClientSession:
        if self.client is not None:  # a session (factory) given by the caller
            return super().get_client()
        connector = aiohttp.TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            limit=self.limits.max_connections or 0,
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        response = await self.send(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            request.content or None,
            connect=timeout.get("connect"),
            read=timeout.get("read"),
            pool=timeout.get("pool"),
            request=request,
        )
        response.request = request
        return response

    async def send(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        *,
        connect: float | None,
        read: float | None,
        pool: float | None,
        request: httpx.Request | None = None,
    ) -> httpx.Response:
        """One exchange, answered with the whole body read. ``UpstreamClient`` calls this
        directly with an encoded body: building an ``httpx.Request`` (URL parsing, header
        normalisation) was an eighth of a pass-through read's CPU time."""
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        try:
            async with self.client.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes by Content-Encoding
                compress=False,
                timeout=aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool),
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _remap(exc, request) from exc
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode()
        return httpx.Response(
            status_code=answer.status,
            headers=answer.raw_headers,
            content=content,
            extensions=extensions,
        )
