"""Member-scoped access: end-user JWTs from a configured identity provider.

A token is accepted when its signature verifies against the provider's keys (a JWKS URL,
cached and re-fetched for an unknown ``kid``, and/or static keys), it uses an allowed
asymmetric algorithm, ``iss`` and ``aud`` match, and ``exp``/``nbf``/``iat`` hold within the
configured leeway. The memberships claim binds it to the (program, member) pairs it may
touch; its scopes can only narrow ``allowed_scopes``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import httpx
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from gateway.domain.errors import Unauthorized
from gateway.settings import ALL_SCOPES, SLUG, ClientSettings, IdentitySettings

_log = structlog.get_logger("gateway.identity")


class MemberCaller(ClientSettings, kw_only=True):
    """A caller authenticated by an end-user token: limited to its own memberships."""

    memberships: frozenset[tuple[str, str]] = frozenset()

    def owns(self, program_id: str, member_id: str) -> bool:
        return (program_id, member_id) in self.memberships


def _invalid(why: str) -> Unauthorized:
    return Unauthorized(
        "The member token is not valid.",
        headers={
            "WWW-Authenticate": f'Bearer realm="loyalty-gateway", error="invalid_token", '
            f'error_description="{why}"'
        },
    )


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def _import_key(text: str) -> dict[str, Any]:
    """A static key as a public JWK: JWK JSON as is, PEM (RSA or EC) converted."""
    stripped = text.strip()
    if stripped.startswith("{"):
        jwk: dict[str, Any] = json.loads(stripped)
        return jwk
    public = load_pem_public_key(stripped.encode())
    key_type = RSAKey if isinstance(public, rsa.RSAPublicKey) else ECKey
    return dict(key_type.import_key(stripped).as_dict(private=False))


class MemberTokens:
    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self._static = [_import_key(text) for text in settings.keys]
        self._fetched: list[dict[str, Any]] = []
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)
        self._claims = jwt.JWTClaimsRegistry(
            leeway=settings.leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.audience},
            exp={"essential": True},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _keys(self, refresh: bool) -> KeySet:
        url = self.settings.jwks_url
        stale = time.monotonic() - self._fetched_at > self.settings.jwks_cache_seconds
        if url and (refresh or stale or not self._fetched):
            async with self._lock:
                # another request may have refreshed while we waited; at most once per 10 s
                # on unknown kids, so a stream of junk tokens cannot hammer the IdP
                if time.monotonic() - self._fetched_at > (10 if refresh else 0) or stale:
                    await self._fetch(url)
        return KeySet.import_key_set({"keys": [*self._static, *self._fetched]})

    async def _fetch(self, url: str) -> None:
        try:
            response = await self._client.get(url)
            response.raise_for_status()
            keys = response.json().get("keys", [])
            self._fetched = [k for k in keys if isinstance(k, dict)]
            self._fetched_at = time.monotonic()
        except (httpx.HTTPError, ValueError) as exc:
            _log.warning("jwks_fetch_failed", error=type(exc).__name__)

    async def verify(self, token: str) -> MemberCaller:
        claims = await self._decode(token)
        try:
            self._claims.validate(claims)
        except JoseError as exc:
            raise _invalid(exc.error) from None
        self._check_lifetime(claims)
        return self._caller(claims)

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """A token living longer than the configured maximum is refused, whatever it says."""
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise _invalid("invalid_exp")
        start = iat if isinstance(iat, int | float) and not isinstance(iat, bool) else time.time()
        limit = self.settings.max_token_lifetime_seconds + self.settings.leeway_seconds
        if exp - start > limit:
            raise _invalid("lifetime_too_long")

    async def _decode(self, token: str) -> dict[str, Any]:
        for refresh in (False, True):
            keys = await self._keys(refresh)
            try:
                decoded = jwt.decode(token, keys, algorithms=self.settings.algorithms)
            except JoseError as exc:
                if exc.error in ("invalid_key_id", "missing_key"):
                    # a static PEM key has no kid, and an IdP's token names one: such keys
                    # are tried one by one when the token's kid is not in the set
                    claims = self._by_unnamed_key(token)
                    if claims is not None:
                        return claims
                    if not refresh:
                        continue
                raise _invalid(exc.error) from None
            except ValueError:
                raise _invalid("malformed") from None
            found: dict[str, Any] = dict(decoded.claims)
            return found
        raise _invalid("unknown_key")  # pragma: no cover

    def _by_unnamed_key(self, token: str) -> dict[str, Any] | None:
        for jwk in self._static:
            if "kid" in jwk:
                continue
            key = (RSAKey if jwk.get("kty") == "RSA" else ECKey).import_key(jwk)
            try:
                decoded = jwt.decode(token, key, algorithms=self.settings.algorithms)
            except (JoseError, ValueError):
                continue
            return dict(decoded.claims)
        return None

    def _caller(self, claims: dict[str, Any]) -> MemberCaller:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            # the subject scopes idempotency keys and rate limits: never shared by tokens
            raise _invalid("missing_sub")
        raw = claims.get(self.settings.memberships_claim) or []
        memberships: set[tuple[str, str]] = set()
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, str) and ":" in item:
                program, _, member = item.partition(":")
            elif isinstance(item, dict) and item.get("program") and item.get("member_id"):
                program, member = str(item["program"]), str(item["member_id"])
            else:
                continue
            if not SLUG.fullmatch(program) or not member:
                # only a program id as configured (a slug): a wildcard ("*:x") or a malformed
                # program would reach every program
                raise _invalid("invalid_membership")
            memberships.add((program, member))
        if not memberships:
            raise _invalid("no_memberships")
        scopes_raw = claims.get(self.settings.scopes_claim, "")
        scopes = scopes_raw.split() if isinstance(scopes_raw, str) else list(scopes_raw or [])
        allowed = [s for s in ALL_SCOPES if s in scopes and s in self.settings.allowed_scopes]
        return MemberCaller(
            id="member:" + hashlib.sha256(subject.encode()).hexdigest()[:12],
            api_key_sha256="0" * 64,
            programs=sorted({p for p, _ in memberships}),
            scopes=allowed,
            rate_limit=self.settings.rate_limit,
            memberships=frozenset(memberships),
        )
