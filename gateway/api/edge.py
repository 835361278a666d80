"""The outermost ASGI layer: request id, access log line and request metrics.

It wraps the litestar app so that even routing failures (404/405) carry a request id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import structlog

from gateway.api.problems import send_problem
from gateway.domain.errors import FieldError, HeadersTooLarge, InvalidRequest, NotFound
from gateway.infra import context, metrics
from gateway.infra.logging import debug_enabled, info_enabled

AsgiScope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]
FastPath = Callable[[Any, AsgiScope, Send], Awaitable[bool]]

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_log = structlog.get_logger("gateway.access")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: asked every few seconds by orchestrators and Prometheus: their access lines are debug
_ROUTINE = frozenset({"/healthz", "/readyz", "/metrics"})


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        fast_path: FastPath | None = None,
        max_header_bytes: int = 16_384,
        max_headers: int = 100,
    ) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        #: answers some requests in front of litestar, or returns False having sent nothing
        #: (create_app gives it gateway/api/fast_balance.py's plain balance reads)
        self.fast_path = fast_path

    def _headers_too_large(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """More header fields, or more header bytes, than configured: the exact limits. The
        server's protocol (gateway/http_limits.py) already cut any head far beyond them while
        it arrived; this check holds under any ASGI server."""
        return len(headers) > self.max_headers or _header_bytes(headers) > self.max_header_bytes

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if incoming and _VALID_ID.match(incoming) else context.new_request_id()
        ctx = context.begin(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                present = {name.lower() for name, _ in headers}
                for name, value in ctx.response_headers.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        try:
            if self._headers_too_large(scope["headers"]):
                await send_problem(
                    send_with_id,
                    HeadersTooLarge(
                        f"The request's header fields exceed {self.max_headers} fields or "
                        f"{self.max_header_bytes} bytes.",
                    ),
                )
                return
            if _encoded_separator(scope):
                await send_problem(send_with_id, _separator_error())
                return
            fast = self.fast_path
            if scope["path"].startswith("/docs"):
                # litestar's docs router answers an unknown path below /docs in HTML
                await self.app(scope, receive, _problem_for_html_404(send_with_id))
            elif not (fast is not None and await fast(self.app, scope, send_with_id)):
                await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = str(scope.get("path_template") or "unmatched")
            method = scope["method"]
            if method not in _METHODS:
                method = "other"  # a made-up method must not mint new label values
            metrics.child(metrics.HTTP_REQUESTS, route, method, str(status)).inc()
            metrics.child(metrics.HTTP_LATENCY, route, method).observe(elapsed)
            for call in ctx.upstream_calls:
                metrics.child(
                    metrics.UPSTREAM_CALLS,
                    call.provider,
                    call.program,
                    call.operation,
                    call.outcome,
                ).inc()
                metrics.child(
                    metrics.UPSTREAM_LATENCY, call.provider, call.program, call.operation
                ).observe(call.duration_ms / 1000)
            routine = route in _ROUTINE
            if debug_enabled() if routine else info_enabled():  # else not even built
                (_log.debug if routine else _log.info)(
                    "request",
                    request_id=rid,
                    client=ctx.client_id,
                    program=ctx.program,
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    upstream=[_call(c) for c in ctx.upstream_calls] or None,
                    cache=ctx.cache,
                    idempotency=ctx.idempotency,
                )


def _problem_for_html_404(send: Send) -> Send:
    """A ``send`` that answers the not-found problem in place of a 404 in another type."""
    replaced = False

    async def send_problem_instead(message: Message) -> None:
        nonlocal replaced
        if message["type"] == "http.response.start" and message["status"] == 404:
            types = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
            if not types or not types[0].startswith(b"application/problem+json"):
                replaced = True
                await send_problem(send, NotFound("No resource at this path."))
                return
        if replaced:
            return  # the HTML page's body
        await send(message)

    return send_problem_instead


def _call(call: context.UpstreamCall) -> dict[str, Any]:
    return {
        "provider": call.provider,
        "operation": call.operation,
        "outcome": call.outcome,
        "status": call.status,
        "ms": call.duration_ms,
    }


_SEPARATORS = (b"%2f", b"%5c")


def _header_bytes(headers: list[tuple[bytes, bytes]]) -> int:
    return sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"


def _encoded_separator(scope: AsgiScope) -> bool:
    """An encoded ``/`` or ``\\`` inside an API path: the server decodes it, so the id it
    was in would turn into two segments (or a path at the provider). Never routed."""
    raw = scope.get("raw_path") or b""
    if b"%" not in raw or not raw.startswith(b"/v1/"):  # the common case: nothing encoded
        return False
    lowered = raw.lower()
    return any(separator in lowered for separator in _SEPARATORS)


def _separator_error() -> InvalidRequest:
    return InvalidRequest(
        "A path segment holds an encoded '/' or '\\'; ids are single path segments.",
        errors=[FieldError(field="path", message="no encoded slash or backslash")],
    )
