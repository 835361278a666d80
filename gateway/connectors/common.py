"""Small helpers shared by connectors: static auth headers, error text, points value."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import msgspec

from gateway.domain.models import Money
from gateway.settings import ProgramSettings

_json_any = msgspec.json.Decoder()


class StaticAuth(msgspec.Struct, kw_only=True):
    """``auth`` of a provider that takes a fixed secret on every call (CP Extender, Alpha).

    Keys of other providers' auth shapes are ignored (docs/configuration.md); a key no
    provider knows is refused by the registry."""

    type: str = "none"
    token: str | None = None
    header: str | None = None


def static_auth_headers(auth: StaticAuth) -> dict[str, str]:
    """Headers for the ``bearer`` and ``header`` auth types (other types sign requests)."""
    if auth.type == "bearer" and auth.token:
        return {"Authorization": f"Bearer {auth.token}"}
    if auth.type == "header" and auth.header and auth.token:
        return {auth.header: auth.token}
    return {}


def check_static_auth(auth: StaticAuth) -> str | None:
    """Return the key at fault when a bearer/header auth block is incomplete."""
    if auth.type not in ("bearer", "header", "none"):
        return "auth.type: must be bearer, header or none for this provider"
    if auth.type in ("bearer", "header") and not auth.token:
        return "auth.token: required for this auth type"
    if auth.type == "header" and not auth.header:
        return "auth.header: required for auth type header"
    return None


def decode_json(response: httpx.Response) -> Any:
    """The body as JSON, or ``None`` when it is empty or not JSON."""
    if not response.content:
        return None
    try:
        return _json_any.decode(response.content)
    except msgspec.DecodeError:
        return None


def error_message(response: httpx.Response) -> str:
    """The provider's own words from an error answer, whatever shape it took.

    Providers answer errors as ``{"Message": ...}``, ``{"message": ...}``, a JSON string or
    plain text; every reading is accepted. Falls back to the HTTP reason phrase.
    """
    body = decode_json(response)
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    if isinstance(body, dict):
        for key in (
            "Message",
            "message",
            "error_description",
            "error",
            "Error",
            "detail",
            "title",
            "ErrorMessage",
        ):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:500]
    if body is None and response.content:
        text = response.content.decode("utf-8", "replace").strip()
        if text and not text.lstrip().startswith("<"):
            return text[:500]
    return response.reason_phrase or f"HTTP {response.status_code}"


def points_value(program: ProgramSettings, points: int) -> Money | None:
    """The currency value of ``points`` under the program's configured rate."""
    rate = program.points_value
    if rate is None:
        return None
    amount = (Decimal(points) / Decimal(rate.points_per_unit)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return Money(amount=str(amount), currency=rate.currency)


def money(program: ProgramSettings, amount: Any) -> Money | None:
    """A provider-reported amount as Money in the program's currency (``USD`` if unset)."""
    if amount is None:
        return None
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except ArithmeticError:
        return None
    currency = program.points_value.currency if program.points_value else "USD"
    return Money(amount=str(value), currency=currency)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
