"""The one HTTP client wrapper every connector uses to reach its provider.

httpx's exceptions, and what each means for a call (``outcome`` in the error vocabulary)::

    httpx.HTTPError
    ├── httpx.TransportError
    │   ├── TimeoutException
    │   │   ├── ConnectTimeout  -> upstream_unavailable, nothing sent
    │   │   ├── PoolTimeout     -> upstream_unavailable, nothing sent
    │   │   ├── ReadTimeout     -> upstream_timeout; a write may have been applied
    │   │   └── WriteTimeout    -> upstream_timeout; a write may have been applied
    │   ├── NetworkError
    │   │   ├── ConnectError    -> upstream_unavailable, nothing sent
    │   │   ├── ReadError       -> upstream_unavailable; a write may have been applied
    │   │   ├── WriteError      -> upstream_unavailable; a write may have been applied
    │   │   └── CloseError      -> upstream_unavailable; a write may have been applied
    │   ├── ProtocolError (RemoteProtocolError: connection cut mid-answer) -> as ReadError
    │   └── ProxyError / UnsupportedProtocol -> upstream_unavailable, nothing sent
    └── (HTTPStatusError is never raised: connectors read status codes themselves)
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlencode

import httpx
import msgspec
import structlog

from gateway import __version__
from gateway.connectors.circuits import Circuits, group_of
from gateway.connectors.transport import Transport, UpstreamTransport
from gateway.domain.errors import (
    GatewayError,
    UpstreamDetail,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.infra import context, metrics
from gateway.infra.logging import debug_enabled
from gateway.infra.resilience import (
    CircuitBreaker,
    ConnectionGate,
    RetryBudget,
    Saturated,
    backoff_seconds,
)
from gateway.settings import ProgramSettings

_log = structlog.get_logger("gateway.upstream")
#: a path given as a whole URL (e.g. ShopYourWay's token endpoint) is used as it is
_ABSOLUTE = ("http://", "https://")


class Outgoing(NamedTuple):
    """One request as a connector asked for it."""

    method: str
    path: str
    operation: str
    write: bool
    json: Any
    content: bytes | None
    data: dict[str, str] | None
    headers: dict[str, str] | None


class _Refused(UpstreamUnavailable):
    """503 from the gateway for itself (circuit open, pool full): never a provider failure."""


class UpstreamClient:
    """httpx requests to one program's provider, with error translation and timing."""

    def __init__(
        self,
        program: ProgramSettings,
        provider: str,
        *,
        headers: dict[str, str] | None = None,
        transport: Transport | None = None,
        benign: Callable[[httpx.Response], bool] | None = None,
    ) -> None:
        self.program = program
        self.provider = provider
        verify: ssl.SSLContext | bool = True
        if program.ca_bundle:
            # A custom CA bundle adds to the system roots; turning verification off is not
            # possible at all.
            verify = ssl.create_default_context()
            verify.load_verify_locations(cafile=program.ca_bundle)
        self.circuits = Circuits(program, provider)
        self.budget = RetryBudget(program.retries.budget_ratio)
        #: answers that are 5xx but not the provider failing (e.g. an expired token signal)
        self._benign = benign or (lambda _: False)
        pool = program.connections
        in_use = metrics.child(metrics.UPSTREAM_CONNECTIONS, program.id, "in_use")
        waiting = metrics.child(metrics.UPSTREAM_CONNECTIONS, program.id, "waiting")
        metrics.child(metrics.UPSTREAM_CONNECTIONS, program.id, "limit").set(pool.max)
        in_use.set(0)
        waiting.set(0)

        def pool_changed(used: int, queued: int) -> None:
            in_use.set(used)
            waiting.set(queued)

        # The gate, not aiohttp's own limit, decides who waits: aiohttp reports a wait for a
        # pooled connection as a connect timeout, which would read as the provider failing.
        self.gate = ConnectionGate(
            pool.max, pool.max_waiting, pool.queue_timeout_seconds, on_change=pool_changed
        )
        limits = httpx.Limits(max_connections=pool.max, max_keepalive_connections=pool.max)
        self._base = program.base_url.rstrip("/")
        self._headers = {"User-Agent": f"loyalty-gateway/{__version__}", **(headers or {})}
        # Requests go straight to the transport: httpx.AsyncClient's per-request work (URL
        # merging, cookie jar, auth and redirect flows, none of which a provider call uses)
        # was about a quarter of a pass-through read's CPU time (bench/app_overhead.py).
        self._transport = transport or UpstreamTransport(
            verify=verify, limits=limits, trust_env=False
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        write: bool = False,
        json: Any = None,
        content: bytes | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request through the program's circuit breaker, retrying what is safe.

        Reads are retried after transport errors, timeouts and 5xx answers; writes only
        after errors where nothing was sent. At most ``retries.max_retries`` retries, with
        full-jitter backoff, and only while the retry budget allows. Within an aggregate,
        identical GETs are made once.
        """
        call = Outgoing(method, path, operation, write, json, content, data, headers)
        ctx = context.current()
        if ctx is not None and ctx.coalesce_reads and method == "GET" and not write:
            key = (self.program.id, path, content)
            shared = ctx.read_memo.get(key)
            if shared is None:
                shared = ctx.read_memo[key] = asyncio.ensure_future(self._request(call))
            return await asyncio.shield(shared)
        return await self._request(call)

    async def _request(self, call: Outgoing) -> httpx.Response:
        self.budget.record_call()
        breaker = self.circuits.breaker(group_of(call.operation))
        attempt = 0
        while True:
            if breaker.rejecting():  # before queueing: an open circuit answers at once
                raise self._circuit_open(breaker)
            try:
                response = await self._attempt(call, breaker)
            except _Refused:
                raise  # the gateway's own refusal: not the provider failing
            except GatewayError as exc:
                breaker.record_failure()
                if exc.outcome == "not_sent" and self._may_retry(attempt):
                    attempt += 1
                    await asyncio.sleep(backoff_seconds(attempt))
                    continue
                raise
            if response.status_code >= 500 and not self._benign(response):
                breaker.record_failure()
                if not call.write and self._may_retry(attempt):
                    attempt += 1
                    await asyncio.sleep(backoff_seconds(attempt))
                    continue
            else:
                breaker.record_success()
            return response

    async def _attempt(self, call: Outgoing, breaker: CircuitBreaker) -> httpx.Response:
        """One send, holding a connection slot only while it is on the wire."""
        await self._acquire()
        try:
            if not breaker.allow():  # half-open, and its one probe is already out
                raise self._circuit_open(breaker)
            return await self._send_once(call)
        except asyncio.CancelledError:
            breaker.abandon_probe()  # a probe whose caller left must not block the circuit
            raise
        finally:
            self.gate.release()

    async def _acquire(self) -> None:
        """A connection slot, or ``503`` for the gateway itself: nothing was sent, and no
        breaker hears of it (a busy gateway is not a failing provider)."""
        try:
            await self.gate.acquire()
        except Saturated as exc:
            metrics.child(metrics.UPSTREAM_SATURATED, self.program.id, exc.reason).inc()
            raise _Refused(
                f"The gateway is busy: every connection to {self.provider} is in use.",
                upstream=UpstreamDetail(provider=self.provider, code="gateway_saturated"),
                headers={"Retry-After": "1"},
            ) from None

    def _circuit_open(self, breaker: CircuitBreaker) -> UpstreamUnavailable:
        return _Refused(
            f"{self.provider} is failing; calls are paused for a moment.",
            upstream=UpstreamDetail(provider=self.provider, code="circuit_open"),
            headers={"Retry-After": str(breaker.retry_after())},
        )

    def _may_retry(self, attempt: int) -> bool:
        return attempt < self.program.retries.max_retries and self.budget.try_spend()

    async def _send_once(self, call: Outgoing) -> httpx.Response:
        headers = dict(call.headers or {})
        rid = context.request_id()
        if rid:
            headers["X-Request-ID"] = rid
        timeouts = self.program.timeouts
        read = timeouts.operations.get(call.operation, timeouts.read_seconds)
        write, operation = call.write, call.operation
        started = time.perf_counter()
        outcome = "error"
        status: int | None = None
        connect = timeouts.connect_seconds
        try:
            url = call.path if call.path.startswith(_ABSOLUTE) else self._base + call.path
            body, content_type = _encoded_body(call)
            if content_type is not None:  # the connector set none of its own
                headers["Content-Type"] = content_type
            merged = _merged(self._headers, headers)
            response = await self._transport.send(
                call.method, url, merged.items(), body, connect=connect, read=read, pool=read
            )
            status = response.status_code
            outcome = "ok" if status < 400 else f"http_{status // 100}xx"
            if debug_enabled():
                _log.debug(
                    "upstream_exchange",
                    provider=self.provider,
                    program=self.program.id,
                    operation=operation,
                    method=call.method,
                    status=status,
                    request_body=_body_for_log(call.json, call.content, call.data),
                    response_body=_body_for_log(None, response.content, None),
                )
            return response
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            outcome = "connect_timeout"
            raise self._unavailable("connection timed out", exc, "not_sent") from None
        except httpx.TimeoutException as exc:
            outcome = "timeout"
            raise UpstreamTimeout(
                f"{self.provider} did not answer in time.",
                upstream=UpstreamDetail(provider=self.provider, message=type(exc).__name__),
                outcome="ambiguous" if write else "not_sent",
            ) from None
        except (httpx.ConnectError, httpx.ProxyError, httpx.UnsupportedProtocol) as exc:
            outcome = "connect_error"
            raise self._unavailable("connection failed", exc, "not_sent") from None
        except httpx.TransportError as exc:
            outcome = "transport_error"
            raise self._unavailable(
                "connection broken", exc, "ambiguous" if write else "not_sent"
            ) from None
        finally:
            ctx = context.current()
            if ctx is not None:
                ctx.upstream_calls.append(
                    context.UpstreamCall(
                        provider=self.provider,
                        program=self.program.id,
                        operation=operation,
                        outcome=outcome,
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )
                )

    def _unavailable(self, what: str, exc: Exception, outcome: Any) -> UpstreamUnavailable:
        return UpstreamUnavailable(
            f"{self.provider} is unreachable ({what}).",
            upstream=UpstreamDetail(provider=self.provider, message=type(exc).__name__),
            outcome=outcome,
        )


def _encoded_body(call: Outgoing) -> tuple[bytes | None, str | None]:
    """The body and its Content-Type, encoded as httpx would (compact JSON, form fields).

    A Content-Type the connector set itself is kept (only added when absent)."""
    if call.content is not None:
        return call.content, None
    if call.data is not None:
        form = urlencode(call.data).encode()
        return form, _default_type(call, "application/x-www-form-urlencoded")
    if call.json is not None:
        return msgspec.json.encode(call.json), _default_type(call, "application/json")
    return None, None


def _default_type(call: Outgoing, content_type: str) -> str | None:
    given = call.headers or {}
    return None if any(name.lower() == "content-type" for name in given) else content_type


def _merged(defaults: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """``defaults`` overridden by ``extra``, header names compared without regard to case."""
    if not extra:
        return defaults
    taken = {name.lower() for name in extra}
    merged = {name: value for name, value in defaults.items() if name.lower() not in taken}
    merged.update(extra)
    return merged


def _body_for_log(json: Any, content: bytes | None, data: dict[str, str] | None) -> Any:
    """What was sent, for debug logs (the redaction step masks secrets and PII by key)."""
    if json is not None:
        return json
    if data is not None:
        return data
    if not content:
        return None
    try:
        return msgspec.json.decode(content)  # structured, so keys can be redacted
    except msgspec.DecodeError:
        return content.decode("utf-8", "replace")[:2000]
