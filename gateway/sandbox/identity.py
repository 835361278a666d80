"""A test identity provider: serves a JWKS and mints end-user tokens (sandbox only)."""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from litestar import Litestar, get

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

    return Litestar([jwks], openapi_config=None)
