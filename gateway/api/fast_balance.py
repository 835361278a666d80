"""The balance read (``GET …/members/{member_id}/balance``) answered in front of litestar.

It is the gateway's most frequent call, and with the cache in front of the provider most of
its cost was litestar's per-request work (routing, two exception layers, the authentication
middleware, parameter parsing and validation, the ``Response`` object): with Redis taken out
entirely the route still cost twice the bare route (bench/README.md). This module answers
the plain form of that call with the same functions the litestar handler uses — the access
decision (``services/access.py``: authentication, rate limits, program, ids, scope, every
added rule), ``BalanceService.read``, the problem encoder — and hands the other forms, which
litestar parses differently, to it untouched (before anything is counted):

- a method other than GET, a query string, a trailing slash or a ``root_path``;
- ``X-Member-PIN`` in the request, or the request repeats a header this path reads
  (``Authorization``, ``Cache-Control``);
- a program that is not configured, or whose balances are not cached.

What this path answers is the 200 with the balance, or the problem of a refusal or of the
read, built exactly as the exception handler builds it.
``tests/integration/test_fast_balance.py`` sends the same requests with and without this
path and compares status, headers and bytes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from gateway.api.members import provider_data
from gateway.api.points import BALANCE_SCOPE, balance_headers, forces_fresh
from gateway.api.problems import problem_for, send_problem
from gateway.services.access import Target

#: litestar's template for the route, so metrics and logs label both paths alike
ROUTE = "/v1/programs/{program}/members/{member_id}/balance"
_PATH = re.compile(r"^/v1/programs/([^/]+)/members/([^/]+)/balance$")
_PIN = b"x-member-pin"
_encode = msgspec.json.encode

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def answer(app: Any, scope: MutableMapping[str, Any], send: Send) -> bool:
    """Answer the request and return True, or return False (nothing sent) for litestar."""
    if scope["method"] != "GET" or scope.get("query_string") or scope.get("root_path"):
        return False
    match = _PATH.match(scope["path"])
    if match is None:
        return False
    authorization = cache_control = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is not None:
                return False
            authorization = value
        elif name == b"cache-control":
            if cache_control is not None:
                return False
            cache_control = value
        elif name == _PIN:
            return False
    services = app.state.get("services")
    if services is None:
        return False
    program, member_id = match.group(1), match.group(2)
    connector = services.directory.connectors.get(program)
    if connector is None or not connector.balance_cacheable:
        return False  # litestar answers it: 404 (or an uncached read)
    if connector.program.balance_ttl_seconds <= 0:
        return False

    scope["path_template"] = ROUTE
    try:
        access = services.access
        caller = await access.authenticate(
            None if authorization is None else authorization.decode("latin-1")
        )
        connector = await access.admit(caller, BALANCE_SCOPE, Target(program, member_id))
        assert connector is not None  # a program was named
        fresh = cache_control is not None and forces_fresh(cache_control.decode("latin-1"))
        read = await services.balances.read(connector, member_id, no_cache=fresh)
    except Exception as exc:  # as litestar's exception handler answers it
        error = problem_for(exc, "GET")
        await send_problem(send, error)
        return True
    read.balance.provider_data = provider_data(None, read.balance.provider_data)  # no ?include
    await _send(send, 200, "application/json", _encode(read.balance), balance_headers(read))
    return True


async def _send(
    send: Send, status: int, media_type: str, body: bytes, headers: dict[str, str]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *((name.lower().encode(), value.encode()) for name, value in headers.items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
