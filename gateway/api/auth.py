"""Caller authentication (API keys, member tokens) and per-route authorization (program,
scope, key header), both in one middleware that runs after routing.

Authorization used to be a litestar guard; litestar hands every guard a ``copy()`` of the
route handler, about a tenth of a cached balance read's CPU time, so the middleware does it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from gateway.api.ratelimit import enforce
from gateway.domain.errors import (
    Forbidden,
    IdempotencyKeyMissing,
    InvalidRequest,
    MemberNotFound,
    Unauthorized,
)
from gateway.infra import context
from gateway.infra.identity import MemberCaller, looks_like_jwt
from gateway.services.programs import ProgramDirectory
from gateway.settings import ClientSettings, Scope, Settings

IDEMPOTENCY_HEADER = "idempotency-key"


def find_client(settings: Settings, api_key: str) -> ClientSettings | None:
    """The client whose key hash matches, comparing every hash in constant time."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    found: ClientSettings | None = None
    for client in settings.clients:
        # no early exit: the time taken does not depend on which client (if any) matched
        if hmac.compare_digest(digest, client.api_key_sha256):
            found = client
    return found


def bearer_key(authorization: str) -> str | None:
    """The credential of an ``Authorization: Bearer <credential>`` header, else None."""
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        key = bearer_key(connection.headers.get("authorization", ""))
        if key is None:
            raise Unauthorized(
                "Send the API key as 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": 'Bearer realm="loyalty-gateway"'},
            )
        settings: Settings = connection.app.state.settings
        identity = connection.app.state.services.identity
        client: ClientSettings | None
        if identity is not None and looks_like_jwt(key):
            client = await identity.verify(key)
        else:
            client = find_client(settings, key)
        if client is None:
            raise Unauthorized(
                "The API key is not valid.",
                headers={
                    "WWW-Authenticate": 'Bearer realm="loyalty-gateway", error="invalid_token"'
                },
            )
        ctx = context.current()
        if ctx is not None:
            ctx.client_id = client.id
        if client.rate_limit is not None:
            await enforce(
                connection.app.state.services.store, client.id, "client", client.rate_limit
            )
        await authorize(client, connection, connection.route_handler)
        return AuthenticationResult(user=client, auth=None)


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> ClientSettings:
    user = connection.scope.get("user")
    if not isinstance(user, ClientSettings):  # the middleware guarantees it on /v1
        raise Unauthorized()
    return user


async def authorize(
    caller: ClientSettings,
    connection: ASGIConnection[Any, Any, Any, Any],
    handler: BaseRouteHandler,
) -> None:
    """Program visible to the caller (else 404), then scope (403), then the key header.

    Runs before the body is parsed, so a caller learns about access before input problems.
    """
    program = connection.path_params.get("program")
    if program is not None:
        directory: ProgramDirectory = connection.app.state.directory
        connector = directory.connector(caller, program)
        # ids are opaque path segments: checked before anything reaches the provider
        connector.check_ids(
            connection.path_params.get("member_id"), connection.path_params.get("redemption_id")
        )
        ctx = context.current()
        if ctx is not None:
            ctx.program = program
        limit = caller.program_rate_limits.get(program)
        if limit is not None:
            await enforce(connection.app.state.services.store, caller.id, program, limit)
    if isinstance(caller, MemberCaller) and program is not None:
        member_id = connection.path_params.get("member_id")
        if member_id is None:
            # lookups and enrollment reach beyond the token's own memberships
            raise Forbidden("A member token can only reach its own memberships.")
        if not caller.owns(program, member_id):
            raise MemberNotFound("No such member for this token.")
    scope: Scope | None = handler.opt.get("scope")
    if scope is not None and scope not in caller.scopes:
        raise Forbidden(f"This client lacks the scope {scope!r}.")
    if handler.opt.get("idempotent"):
        idempotency_key(connection)


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
