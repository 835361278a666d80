"""Member tokens verified with static keys (no IdP): signature, algorithm, claims, lifetime,
the memberships they bind and the scopes they can only narrow."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.domain.errors import Unauthorized
from gateway.infra.identity import MemberTokens, looks_like_jwt
from gateway.settings import IdentitySettings

KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})
PUBLIC_PEM = KEY.as_pem(private=False).decode()


def _settings(**changes: Any) -> IdentitySettings:
    base: dict[str, Any] = {
        "issuer": "https://idp.test",
        "audience": "loyalty",
        "keys": [PUBLIC_PEM],
        "allowed_scopes": ["members:read", "points:redeem"],
    }
    return IdentitySettings(**{**base, **changes})


def _token(key: RSAKey = KEY, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://idp.test",
        "aud": "loyalty",
        "sub": "user-1",
        "iat": now,
        "exp": now + 600,
        "memberships": ["cafe-rewards:2059378440"],
        "scope": "members:read points:redeem points:earn",
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "k1"}, payload, key)


def _verify(token: str, settings: IdentitySettings | None = None) -> Any:
    async def run() -> Any:
        tokens = MemberTokens(settings or _settings())
        try:
            return await tokens.verify(token)
        finally:
            await tokens.aclose()

    return asyncio.run(run())


def _refused(token: str, settings: IdentitySettings | None = None) -> str:
    with pytest.raises(Unauthorized) as raised:
        _verify(token, settings)
    header = (raised.value.headers or {})["WWW-Authenticate"]
    assert 'error="invalid_token"' in header
    return header


def test_a_valid_token_becomes_a_member_caller() -> None:
    """With a static PEM key, which has no kid, while the token names one (as IdPs do)."""
    caller = _verify(_token())
    assert caller.owns("cafe-rewards", "2059378440")
    assert not caller.owns("cafe-rewards", "other")
    assert caller.programs == ["cafe-rewards"]
    # points:earn is in the token but not allowed: scopes only narrow
    assert caller.scopes == ["members:read", "points:redeem"]
    assert caller.id.startswith("member:")
    assert "user-1" not in caller.id  # the subject is hashed, never shown


def test_memberships_as_objects_are_read_too() -> None:
    caller = _verify(_token(memberships=[{"program": "irt-rewards", "member_id": "6001"}]))
    assert caller.memberships == frozenset({("irt-rewards", "6001")})


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "someone-else"}, "invalid_claim"),
        ({"iss": "https://evil.test"}, "invalid_claim"),
        ({"exp": int(time.time()) - 3600}, "expired_token"),
        ({"exp": int(time.time()) + 40 * 86_400}, "lifetime_too_long"),
        ({"sub": None}, "missing_sub"),
        ({"memberships": []}, "no_memberships"),
        ({"memberships": ["*:2059378440"]}, "invalid_membership"),
    ],
)
def test_claims_that_do_not_hold_are_refused(claims: dict[str, Any], why: str) -> None:
    assert why in _refused(_token(**claims))


def test_a_token_signed_by_another_key_is_refused() -> None:
    _refused(_token(key=OTHER))


def test_an_algorithm_not_allowed_is_refused() -> None:
    _refused(_token(), _settings(algorithms=["ES256"]))


def test_a_static_jwk_with_the_tokens_kid_is_used() -> None:
    jwk = KEY.as_dict(private=False)
    assert jwk["kid"] == "k1"
    caller = _verify(_token(), _settings(keys=[json.dumps(jwk)]))
    assert caller.owns("cafe-rewards", "2059378440")


def test_garbage_is_refused_not_raised() -> None:
    _refused("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
    _refused("eyJ.not.base64")


def test_looks_like_jwt_tells_tokens_from_api_keys() -> None:
    assert looks_like_jwt(_token())
    assert not looks_like_jwt("demo-key-for-the-sandbox-only")
