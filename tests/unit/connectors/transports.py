"""A transport for connector tests: ``UpstreamClient`` encodes the request as in production
and hands it here, where a handler (a fake provider, as for ``httpx.MockTransport``) reads
it as an ``httpx.Request`` and answers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable

import httpx

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class HandlerTransport:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler

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
        timeouts = {"connect": connect, "read": read, "write": read, "pool": pool}
        sent = httpx.Request(
            method, url, headers=list(headers), content=body, extensions={"timeout": timeouts}
        )
        answer = self.handler(sent)
        if inspect.isawaitable(answer):
            answer = await answer
        await answer.aread()
        return answer

    async def aclose(self) -> None:
        pass
