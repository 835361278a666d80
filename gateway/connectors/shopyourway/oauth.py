"""Telluride's OAuth 2.0 JWT-bearer grant (RFC 7523 as Telluride does it).

The assertion is RS256-signed with ``iss`` = client id, ``aud`` = the token URL and
``iat``/``exp`` in *milliseconds* since the epoch (Telluride's reading of the claims; exp at
most 4 h after iat). The token answer's ``exp`` is in milliseconds too and is normalized to
seconds here, because authlib's token helpers assume seconds. Signing uses joserfc, the JOSE
library authlib itself now points to (``authlib.jose`` is deprecated in its favour).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.connectors.shopyourway.config import ShopYourWayAuth
from gateway.infra.tokens import Token

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_MS = 5 * 60 * 1000  # well inside Telluride's 4 h maximum


def load_private_key(auth: ShopYourWayAuth) -> str:
    """The PEM from ``auth.private_key`` (inline or ``${ENV}``) or ``auth.private_key_file``."""
    if auth.private_key:
        return auth.private_key
    if auth.private_key_file:
        return Path(auth.private_key_file).read_text(encoding="utf-8")
    raise ValueError("no private key configured")


def usable_private_key(pem: str) -> bool:
    try:
        RSAKey.import_key(pem)
    except (ValueError, TypeError):
        return False
    return "PRIVATE KEY" in pem


def make_assertion(
    client_id: str, token_url: str, private_key_pem: str, now_ms: int | None = None
) -> str:
    issued = int(time.time() * 1000) if now_ms is None else now_ms
    claims = {
        "iss": client_id,
        "scope": "",
        "aud": token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_MS,
    }
    key = RSAKey.import_key(private_key_pem)
    return jwt.encode({"alg": "RS256", "typ": "JWT"}, claims, key)


def _epoch_seconds(value: Any) -> float | None:
    """Telluride sends epoch milliseconds; accept seconds too (values below 10^11)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 1000 if number > 1e11 else number


def token_from_answer(body: Any, now: float) -> Token | None:
    """The token answer as a :class:`Token` with times in seconds, or None if unreadable."""
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        return None
    issued = _epoch_seconds(body.get("iss")) or now
    expires = _epoch_seconds(body.get("exp"))
    if expires is None:
        lifetime = _epoch_seconds(body.get("expires_in"))  # RFC 6749 form, in seconds
        expires = now + (lifetime if lifetime is not None else 300)
    return Token(value=body["access_token"], expires_at=expires, issued_at=min(issued, now))
