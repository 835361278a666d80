"""uvicorn's httptools protocol with the connection limits uvicorn itself does not enforce.

uvicorn (0.54, httptools) keeps a connection open for as long as its request head or body
takes to arrive, buffers a header of any size before the app sees it, and answers its own
concurrency limit with a text/plain 503. Measured against granian and hypercorn
(``bench/server_compare.py``, numbers in ``docs/security.md``) neither alternative bounds the
body either, and the one that is faster (granian) has no idle keep-alive setting nor a
connection limit; so the gateway keeps uvicorn and adds here, per connection:

* **header timeout**: the request line and headers must be complete within
  ``header_timeout`` seconds of the connection opening, or of the first byte of the next
  request on a kept-alive one. A connection that sent nothing is closed without a word;
  one that sent part of a head gets ``408 request_timeout``.
* **body timeout**: a declared body must be complete within ``body_timeout`` seconds of the
  head (one deadline, not an idle timer: a sender trickling one byte a second is cut too).
  ``408`` if no answer has started, else the connection is closed.
* **head size at the socket**: the request line and header fields are counted as they
  arrive; past ``max_head_bytes`` the answer is ``431`` and the connection is closed, so a
  32 MB header is never buffered. (``api/edge.py`` checks the exact configured field limits
  after parsing; this bound adds the request-target allowance on top.)
* **over the connection limit** the ``503`` is a problem document, like every other error.

``gateway serve``, ``gateway demo`` and the test suite's gateway all serve through
:func:`config` with :func:`uvicorn_options`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.api.problems import problem_bytes, problem_headers
from gateway.domain.errors import GatewayError, HeadersTooLarge, RequestTimeout, ServiceUnavailable
from gateway.infra import context, metrics

if TYPE_CHECKING:
    from gateway.settings import ServerSettings

#: bytes the request line may take beyond the configured header-field limit
REQUEST_LINE_ALLOWANCE = 8192
_END_OF_HEAD = b"\r\n\r\n"


#: after a refusal sent while the client is still sending, its bytes are read and dropped
#: for this long, so that it reads the answer instead of a reset (nginx's lingering close)
LINGER_SECONDS = 2.0


class ConnectionLimits(msgspec.Struct, frozen=True):
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_head_bytes: int = 16_384 + REQUEST_LINE_ALLOWANCE


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """The ``uvicorn.Config`` arguments that enforce ``server:``'s connection limits; the
    ``connection_limits`` entry goes on the Config object itself (see :func:`config`)."""
    return {
        "http": LimitedHttpToolsProtocol,
        "timeout_keep_alive": server.keep_alive_seconds,
        "limit_concurrency": server.max_connections_per_worker,
        "server_header": False,  # no "server: uvicorn" banner for scanners
        "connection_limits": ConnectionLimits(
            header_timeout=server.header_timeout_seconds,
            body_timeout=server.body_timeout_seconds,
            max_head_bytes=server.max_header_bytes + REQUEST_LINE_ALLOWANCE,
        ),
    }


def config(app: Any, **options: Any) -> uvicorn.Config:
    """``uvicorn.Config(app, **options)``, with ``connection_limits`` set on the instance:
    uvicorn hands that object (pickled) to every worker it spawns."""
    limits = options.pop("connection_limits", None)
    made = uvicorn.Config(app, **options)
    if limits is not None:
        made.connection_limits = limits  # type: ignore[attr-defined]
    return made


_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def _closing(error: GatewayError) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """``error``'s problem body and headers, under a request id of its own, then the close."""
    rid = context.new_request_id()
    context.begin(rid)
    body = problem_bytes(error)
    closing = ((b"x-request-id", rid.encode()), (b"connection", b"close"))
    return body, problem_headers(error, body, closing)


def raw_problem(error: GatewayError) -> bytes:
    """A complete HTTP/1.1 answer, written straight to the socket (no ASGI cycle exists)."""
    body, headers = _closing(error)
    reason = _REASONS.get(error.status, b"Service Unavailable")
    lines = [b"HTTP/1.1 %d %s\r\n" % (error.status, reason)]
    lines += [name + b": " + value + b"\r\n" for name, value in headers]
    return b"".join(lines) + b"\r\n" + body


_TIMEOUT = RequestTimeout("The request was not received in time; the connection is closed.")


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring. Everything not named here is uvicorn's own behaviour.

    A request that arrives whole in one read (nearly all of them) arms no timer: a clock is
    started only when a read ends in the middle of a head or a body. Per connection there is
    at most one timer, ``_clock`` names which.
    """

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", ConnectionLimits())
        #: uvicorn's own concurrency check answers text/plain: this class checks instead
        self.max_connections = self.limit_concurrency
        self.limit_concurrency = None
        self._app = self.app
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""  # the last bytes of the head so far, to find a split CRLFCRLF
        self._timer: asyncio.TimerHandle | None = None
        self._clock: str | None = None  # "head" or "body": what the timer is waiting for
        self._discarding = False  # refused: what still arrives is read and dropped

    # -- timers -------------------------------------------------------------------------------
    def _start(self, clock: str) -> None:
        if self._clock == clock:
            return  # already running: a deadline is not moved by more bytes arriving
        self._stop()
        seconds = self.limits.header_timeout if clock == "head" else self.limits.body_timeout
        handler = self._head_timed_out if clock == "head" else self._body_timed_out
        self._timer = self.loop.call_later(seconds, handler)
        self._clock = clock

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._clock = None

    def _answer_and_close(self, limit: str, answer: bytes | None, *, linger: bool = False) -> None:
        if self.transport.is_closing() or self._discarding:
            return
        metrics.child(metrics.CONNECTIONS_REFUSED, limit).inc()
        self._stop()
        if self.cycle is not None:
            self.cycle.disconnected = True  # the app's own answer, if any, is dropped
            self.cycle.message_event.set()
        if answer is not None:
            self.transport.write(answer)
        if linger and self.transport.can_write_eof():
            # closing with unread bytes makes the kernel send a reset, which can destroy the
            # answer before the client reads it: end our side, then read and drop for a while
            self.transport.write_eof()
            self._discarding = True
            self.flow.resume_reading()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
            return
        self.transport.close()

    def _head_timed_out(self) -> None:
        self._timer = self._clock = None
        if self.cycle is not None and not self.cycle.response_complete:
            # a pipelined head waits while the previous answer is made: not the client's delay
            self._start("head")
            return
        if self._head_bytes:  # part of a head arrived (reset only when a head completes)
            self._answer_and_close("header_timeout", raw_problem(_TIMEOUT), linger=True)
        else:
            self._answer_and_close("silent", None)

    def _body_timed_out(self) -> None:
        self._timer = self._clock = None
        started = self.cycle is not None and self.cycle.response_started
        answer = None if started else raw_problem(_TIMEOUT)
        self._answer_and_close("body_timeout", answer, linger=not started)

    # -- protocol -----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start("head")  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._in_head and data:
            carried = len(self._tail)  # 0 at a request's start: no copy on the common path
            window = self._tail + data if carried else data
            end = window.find(_END_OF_HEAD)
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - carried)
            self._tail = window[-3:] if end < 0 else b""
            if self._head_bytes > self.limits.max_head_bytes:
                too_large = HeadersTooLarge(
                    f"The request line and header fields exceed {self.limits.max_head_bytes} bytes."
                )
                self._answer_and_close("head_too_large", raw_problem(too_large), linger=True)
                return
        super().data_received(data)
        if self.transport.is_closing():
            return
        if not self._in_head:
            self._start("body")  # the read ended inside a body
        elif self._head_bytes:
            self._start("head")  # ... inside a head (the first one's clock runs since connect)
        elif self._clock is not None and self.cycle is not None:
            self._stop()  # between requests: uvicorn's keep-alive timer is in charge

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._tail = b""
        if self._clock == "head":
            self._stop()
        connections, tasks = len(self.connections), len(self.tasks)
        limit = self.max_connections
        over = limit is not None and max(connections, tasks) >= limit
        self.app = self._busy if over else self._app
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        if self._clock == "body":
            self._stop()
        super().on_message_complete()

    async def _busy(self, scope: Any, receive: Any, send: Any) -> None:
        metrics.child(metrics.CONNECTIONS_REFUSED, "busy").inc()
        busy = ServiceUnavailable(
            f"This gateway worker is serving its limit of {self.max_connections} connections; "
            "retry shortly.",
            headers={"Retry-After": "1"},
        )
        body, headers = _closing(busy)
        await send({"type": "http.response.start", "status": busy.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
