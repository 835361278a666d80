"""The balance read (``GET …/members/{member_id}/balance``) answered in front of litestar.

It is the gateway's most frequent call, and with the cache in front of the provider most of
its cost was litestar's per-request work (routing, two exception layers, the authentication
middleware, parameter parsing and validation, the ``Response`` object): with Redis taken out
entirely the route still cost twice the bare route (bench/README.md). This module answers
the plain form of that call with the same functions the litestar handler uses — API key
lookup, program visibility and scope checks, ``BalanceService.read``, the problem encoder —
and hands every other form to litestar untouched:

- a method other than GET, a query string, a trailing slash or a ``root_path``;
- ``X-Member-PIN`` or a member token (JWT) in the request, or the request repeats a header
  this path reads (``Authorization``, ``Cache-Control``);
- a missing or unknown API key, a program the client may not see, a missing scope;
- a client with a rate limit (the limiter's 429 and headers stay in one place);
- a program whose balances are not cached.

So authentication failures, 404s, 403s, 429s and input errors are litestar's answers as
before; what this path produces itself is a 200 with the balance, or the problem for an
error of the read (provider down, member unknown), built exactly as the exception handler
builds it. ``tests/integration/test_fast_balance.py`` sends the same requests with and
without this path and compares status, headers and bytes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from gateway.api.auth import bearer_key, find_client
from gateway.api.members import provider_data
from gateway.api.points import BALANCE_SCOPE, balance_headers, forces_fresh
from gateway.api.problems import problem_for, send_problem
from gateway.domain.ids import is_valid_id
from gateway.infra import context
from gateway.infra.identity import looks_like_jwt

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
    if authorization is None:
        return False
    key = bearer_key(authorization.decode("latin-1"))
    services = app.state.get("services")
    if key is None or services is None:
        return False
    if services.identity is not None and looks_like_jwt(key):
        return False
    client = find_client(services.settings, key)
    program, member_id = match.group(1), match.group(2)
    if (
        client is None
        or client.rate_limit is not None
        or client.program_rate_limits.get(program) is not None
        or BALANCE_SCOPE not in client.scopes
    ):
        return False
    connector = services.directory.find(client, program)
    if connector is None or not connector.balance_cacheable:
        return False
    if not is_valid_id(member_id, connector.member_id_pattern):
        return False  # litestar answers it (400 invalid_request, see api/auth.py)
    if connector.program.balance_ttl_seconds <= 0:
        return False

    scope["path_template"] = ROUTE
    ctx = context.current()
    if ctx is not None:
        ctx.client_id = client.id
        ctx.program = program
    try:
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
