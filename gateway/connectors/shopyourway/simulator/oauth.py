"""The Telluride token server: the JWT-bearer assertion (RS256, times in milliseconds) checked
against the registered key, and the document's token answer."""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from gateway.connectors.shopyourway.simulator.state import (
    DOCUMENT_ALG_NAMES,
    GRANT_TYPE,
    TOKEN_PATH,
    SYWState,
    _now_ms,
)


class TokenRefused(Exception):
    def __init__(self, description: str, error: str = "invalid_grant") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _token_params(content_type: str, raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/json":
        try:
            body = json.loads(text)
        except ValueError:
            raise TokenRefused("the body is not JSON", "invalid_request") from None
        if not isinstance(body, dict):
            raise TokenRefused("the body is not a JSON object", "invalid_request")
        return {k: v for k, v in body.items() if isinstance(v, str)}
    if content_type in ("application/xml", "text/xml"):
        params = {}
        for name in ("grant_type", "assertion"):
            found = re.search(rf"<{name}>\s*(.*?)\s*</{name}>", text, re.DOTALL)
            if found:
                params[name] = html.unescape(found.group(1))
        return params
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    raise TokenRefused(
        "Content-Type must be application/json, application/xml or "
        "application/x-www-form-urlencoded",
        "invalid_request",
    )


def _b64decode(part: str) -> bytes:
    """Base64url as JWS says, or the padded standard base64 of the document's sample."""
    padded = part + "=" * (-len(part) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise TokenRefused("the assertion is not a JWT") from None


def _public_key(pem: str) -> rsa.RSAPublicKey:
    data = pem.encode()
    key: Any = (
        x509.load_pem_x509_certificate(data).public_key()
        if b"BEGIN CERTIFICATE" in data
        else serialization.load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the registered key is not an RSA key")
    return key


def _verified_claims(assertion: str, public_key_pem: str) -> dict[str, Any]:
    """The assertion's claims once its RSA-SHA256 signature checks out against the key."""
    parts = assertion.split(".")
    if len(parts) != 3 or not all(parts):
        raise TokenRefused("the assertion is not a JWT")
    try:
        header = json.loads(_b64decode(parts[0]))
    except ValueError:
        raise TokenRefused("the assertion's header is not JSON") from None
    alg = header.get("alg") if isinstance(header, dict) else None
    key = _public_key(public_key_pem)
    # joserfc accepts only canonical base64url segments; the document's padded standard
    # base64 (which authlib.jose tolerated for RS256 too) is checked below like its alg names.
    canonical = all(re.fullmatch(r"[A-Za-z0-9_-]+", part) for part in parts)
    if alg == "RS256" and canonical:
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")
        try:
            token = jwt.decode(assertion, RSAKey.import_key(pem), algorithms=["RS256"])
        except (JoseError, ValueError, TypeError):
            raise TokenRefused("the assertion's signature does not verify") from None
        return dict(token.claims)
    if alg in DOCUMENT_ALG_NAMES or alg == "RS256":
        try:
            key.verify(
                _b64decode(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise TokenRefused("the assertion's signature does not verify") from None
        try:
            body = json.loads(_b64decode(parts[1]))
        except ValueError:
            raise TokenRefused("the assertion's claims are not JSON") from None
        if not isinstance(body, dict):
            raise TokenRefused("the assertion's claims are not a JSON object")
        return body
    raise TokenRefused(f"unsupported alg {alg!r}: only RS256 (SHA256withRSA) is accepted")


def _check_claims(state: SYWState, claims: dict[str, Any]) -> None:
    if claims.get("iss") != state.client_id:
        raise TokenRefused("iss is not a registered client id")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if state.token_url:
        good = state.token_url in audiences
    else:
        good = any(isinstance(a, str) and a.rstrip("/").endswith(TOKEN_PATH) for a in audiences)
    if not good:
        raise TokenRefused("aud is not this token endpoint's URL")
    stamps: dict[str, int] = {}
    for name in ("iat", "exp"):
        value = claims.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenRefused(
                f"{name} must be an integer: milliseconds since the epoch, without decimals"
            )
        if value < 10**12:
            raise TokenRefused(f"{name} looks like seconds; it must be milliseconds")
        stamps[name] = value
    now_ms = _now_ms(state)
    iat, exp = stamps["iat"], stamps["exp"]
    if iat > now_ms + 60_000:
        raise TokenRefused("iat is in the future")
    if exp <= now_ms:
        raise TokenRefused("the assertion has expired (exp is in the past)")
    if exp - iat > state.max_assertion_lifetime_seconds * 1000:
        raise TokenRefused("exp is more than 4 hours after iat")


def _token_answer(state: SYWState, content_type: str, raw: bytes) -> dict[str, Any]:
    params = _token_params(content_type, raw)
    if params.get("grant_type") != GRANT_TYPE:
        raise TokenRefused(f"grant_type must be {GRANT_TYPE}", "unsupported_grant_type")
    assertion = params.get("assertion", "").strip()
    if not assertion:
        raise TokenRefused("assertion is required", "invalid_request")
    try:
        claims = _verified_claims(assertion, state.public_key_pem)
    except ValueError as exc:  # the registered key itself is unusable
        raise TokenRefused(str(exc)) from None
    _check_claims(state, claims)
    with state.lock:
        token = state.issue_token(state.client_id)
        issued = state.tokens[token]
    issued_ms = int(issued.issued_at * 1000)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "exp": issued_ms + int(state.token_lifetime_seconds * 1000),
        "iss": issued_ms,
    }
