"""The access decision (``services/access.py``) at the HTTP edge: one middleware that runs
after routing, reads the caller's credential and the route's path parameters and scope, and
checks the ``Idempotency-Key`` header of a write.

Authorization used to be a litestar guard; litestar hands every guard a ``copy()`` of the
route handler, about a tenth of a cached balance read's CPU time, so the middleware does it.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from gateway.domain.errors import IdempotencyKeyMissing, InvalidRequest, Unauthorized
from gateway.services.access import Access, Target
from gateway.settings import ClientSettings

IDEMPOTENCY_HEADER = "idempotency-key"


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        access: Access = connection.app.state.services.access
        caller = await access.authenticate(connection.headers.get("authorization"))
        handler = connection.route_handler
        await access.admit(caller, handler.opt.get("scope"), target_of(connection))
        # before the body is parsed: a caller learns about access before input problems
        if handler.opt.get("idempotent"):
            idempotency_key(connection)
        return AuthenticationResult(user=caller, auth=None)


def target_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Target:
    params = connection.path_params
    return Target(params.get("program"), params.get("member_id"), params.get("redemption_id"))


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ClientSettings:
    user = connection.scope.get("user")
    if not isinstance(user, ClientSettings):  # the middleware guarantees it on /v1
        raise Unauthorized()
    return user


def idempotency_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The ``Idempotency-Key`` value; the IETF draft's quoted sf-string form is accepted."""
    raw = connection.headers.get(IDEMPOTENCY_HEADER)
    if raw is None or not raw.strip():
        raise IdempotencyKeyMissing(
            "State-changing requests need an 'Idempotency-Key' header (e.g. a UUID)."
        )
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 1 <= len(value) <= 255 or not all(0x21 <= ord(ch) <= 0x7E for ch in value):
        raise InvalidRequest(
            "The Idempotency-Key must be 1-255 printable ASCII characters without spaces.",
            errors=None,
        )
    return value
