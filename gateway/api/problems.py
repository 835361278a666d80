"""RFC 9457 problem+json: the single exception handler of the HTTP edge."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from gateway.domain import errors as e
from gateway.infra import context

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://loyalty-gateway.dev/problems/"
_log = structlog.get_logger("gateway.problems")


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[e.FieldError] | None = None
    upstream: e.UpstreamDetail | None = None


def problem_of(error: e.GatewayError) -> Problem:
    return Problem(
        type=TYPE_BASE + error.code,
        title=error.title,
        status=error.status,
        detail=error.detail,
        code=error.code,
        request_id=context.request_id(),
        errors=error.errors or None,
        upstream=error.upstream,
    )


def problem_bytes(error: e.GatewayError) -> bytes:
    return msgspec.json.encode(problem_of(error))


def problem_headers(
    error: e.GatewayError, body: bytes, extra: Iterable[tuple[bytes, bytes]] = ()
) -> list[tuple[bytes, bytes]]:
    """ASGI headers for ``error``'s problem ``body``: its media type and length, ``extra``,
    then the error's own (``Retry-After`` ...)."""
    return [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", b"%d" % len(body)),
        *extra,
        *((name.lower().encode(), value.encode()) for name, value in error.headers.items()),
    ]


#: an ASGI ``send`` (litestar's, the edge's own wrapper, uvicorn's)
AnySend = Callable[[Any], Awaitable[None]]


async def send_problem(
    send: AnySend, error: e.GatewayError, extra: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer ``error`` on a raw ASGI ``send``, where no litestar response exists (in front
    of routing, on the fast balance path, from the server's protocol)."""
    body = problem_bytes(error)
    headers = problem_headers(error, body, extra)
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def problem_response(error: e.GatewayError) -> Response[bytes]:
    headers = dict(error.headers)
    return Response(
        content=problem_bytes(error),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.DOTALL)


_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _field_errors(exc: ValidationException) -> list[e.FieldError]:
    """Litestar/msgspec validation messages as ``{field, message}`` with our field paths."""
    out: list[e.FieldError] = []
    extra: Any = exc.extra
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        match = _AT.match(str(item.get("message", "invalid")))
        text, where = (match.group(1), match.group(2)) if match else ("invalid", None)
        key = str(item.get("key") or "")
        field = where.lstrip(".") if where else ("" if key == "data" else key)
        named = _NAMED.search(text)
        if named:
            field = f"{field}.{named.group(1)}" if field else named.group(1)
        out.append(e.FieldError(field=field or "body", message=text.strip()))
    return out


def translate(exc: Exception) -> e.GatewayError:
    """Any exception as a member of the error vocabulary; unknown ones become a bare 500."""
    if isinstance(exc, e.GatewayError):
        return exc
    if isinstance(exc, ValidationException):
        errors = _field_errors(exc)
        if errors:
            return e.InvalidRequest("The request is invalid; see errors.", errors=errors)
        return _bad_json(str(exc.detail))
    if isinstance(exc, HTTPException):
        mapped: dict[int, type[e.GatewayError]] = {
            400: e.InvalidRequest,
            401: e.Unauthorized,
            403: e.Forbidden,
            404: e.NotFound,
            405: e.MethodNotAllowed,
            413: e.PayloadTooLarge,
            415: e.UnsupportedMediaType,
            429: e.RateLimited,
            503: e.ServiceUnavailable,
        }
        cls = mapped.get(exc.status_code)
        if cls is e.InvalidRequest:
            return _bad_json(str(exc.detail))
        if cls is not None:
            return cls(_plain_detail(exc, cls), headers=dict(exc.headers or {}))
    return e.GatewayError("An unexpected error occurred; it has been logged.")


def _bad_json(reason: str) -> e.InvalidRequest:
    return e.InvalidRequest(
        "The request body is not valid JSON.",
        errors=[e.FieldError(field="body", message=f"not valid JSON: {reason}")],
    )


def _plain_detail(exc: HTTPException, cls: type[e.GatewayError]) -> str:
    if cls is e.NotFound:
        return "No resource at this path."
    if cls is e.MethodNotAllowed:
        return "This method is not allowed on this path."
    return str(exc.detail) if exc.detail else cls.title


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return problem_response(problem_for(exc, request.method))


def problem_for(exc: Exception, method: str) -> e.GatewayError:
    """``translate``, logging what was not an expected error (a bug: no detail reaches the
    caller, the log has the exception type)."""
    error = translate(exc)
    if type(error) is e.GatewayError:
        _log.error("unhandled_exception", exc_type=type(exc).__name__, method=method)
    return error
