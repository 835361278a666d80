"""A test identity provider: serves a JWKS and mints end-user tokens (sandbox only).

``POST /token`` hands a member token to anyone who asks (it is the sandbox's: there is no
sign-in): a JSON or form body with ``program`` and ``member_id`` (or ``memberships``, a list
of ``"program:member_id"``) and an optional ``scope``; the answer is an OAuth-style
``{"access_token", "token_type": "Bearer", "expires_in"}``. The gateway of the demo accepts
``members:read`` and ``points:redeem`` from it (``identity.allowed_scopes``)."""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from litestar import Litestar, Request, Response, get, post

from gateway.settings import SLUG

ISSUER = "https://idp.sandbox.local/"
AUDIENCE = "loyalty-gateway"


class IdentityProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "sandbox-1", "use": "sig"})
        self.jwks_requests = 0

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    def mint(
        self,
        memberships: list[str],
        *,
        scope: str = "members:read",
        subject: str = "user-1",
        lifetime: int = 300,
        audience: str = AUDIENCE,
        issuer: str = ISSUER,
        key: RSAKey | None = None,
        now: int | None = None,
        omit: tuple[str, ...] = (),
    ) -> str:
        issued = int(time.time()) if now is None else now
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "iat": issued,
            "exp": issued + lifetime,
            "scope": scope,
            "memberships": memberships,
        }
        for name in omit:  # e.g. a token without ``sub`` or ``iat``
            claims.pop(name, None)
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid or "sandbox-1"}, claims, signer)


def create_app(provider: IdentityProvider) -> Litestar:
    @get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        provider.jwks_requests += 1
        return provider.jwks()

    @post("/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        body: Any
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                body = None
        else:
            body = dict(await request.form())
        if not isinstance(body, dict):
            return _refused("a JSON object or a form with program and member_id")
        wanted = body.get("memberships") or [f"{body.get('program')}:{body.get('member_id')}"]
        if not isinstance(wanted, list) or not all(_membership(m) for m in wanted):
            return _refused("program (a program id) and member_id, or memberships")
        scope = body.get("scope") or "members:read"
        if not isinstance(scope, str):
            return _refused("scope: a space-separated string")
        lifetime = 3600
        minted = provider.mint(wanted, scope=scope, subject="demo-" + wanted[0], lifetime=lifetime)
        return Response({"access_token": minted, "token_type": "Bearer", "expires_in": lifetime})

    return Litestar([jwks, token], openapi_config=None)


def _membership(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    program, _, member = value.partition(":")
    return bool(SLUG.fullmatch(program)) and bool(member) and member != "None"


def _refused(why: str) -> Response[Any]:
    return Response(
        {"error": "invalid_request", "error_description": f"give {why}"}, status_code=400
    )
