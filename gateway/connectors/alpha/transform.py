"""Pure mappings between Alpha recipients and the gateway's Member / Balance shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from gateway.connectors.alpha import wire
from gateway.connectors.common import points_value
from gateway.domain.commands import EnrollRequest, MemberPatch, flatten_member_fields
from gateway.domain.errors import FieldError
from gateway.domain.models import Address, Balance, Member, MemberStatus
from gateway.settings import ProgramSettings

#: Member field (dotted for address parts) -> Alpha recipient field
FIELD_MAP: dict[str, str] = {
    "email": "email",
    "first_name": "firstname",
    "last_name": "surname",
    "phone": "telephone",
    "card_number": "public_key",
    "address.line1": "address1",
    "address.line2": "address2",
    "address.line3": "address3",
    "address.city": "town",
    "address.postal_code": "postcode",
    "address.country": "country_code",
}
ALPHA_TO_MEMBER = {alpha: ours for ours, alpha in FIELD_MAP.items()}
#: fields a recipient cannot lose (the create call requires them)
REQUIRED = ("email", "first_name", "last_name")


def decode_recipient(raw: Any) -> wire.Recipient:
    if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
        raw = raw["data"]  # some deployments wrap resources in {"data": ...}
    return msgspec.convert(raw, wire.Recipient, strict=False)


def parse_timestamp(text: str | None) -> dt.datetime | None:
    """Alpha writes ``YYYY-MM-DD HH:MM:SS`` (UTC); ISO-8601 is accepted too."""
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def to_member(program_id: str, recipient: wire.Recipient) -> Member:
    address = Address(
        line1=recipient.address1,
        line2=recipient.address2,
        line3=recipient.address3,
        city=recipient.town,
        postal_code=recipient.postcode,
        country=recipient.country_code.upper() if recipient.country_code else None,
    )
    status: MemberStatus = "unknown"
    if recipient.active is not None:
        status = "active" if bool(recipient.active) else "inactive"
    return Member(
        program=program_id,
        member_id=recipient.id,
        status=status,
        email=recipient.email,
        first_name=recipient.firstname,
        last_name=recipient.surname,
        phone=recipient.telephone,
        address=address if any(msgspec.structs.astuple(address)) else None,
        enrolled_at=parse_timestamp(recipient.created_at),
    )


def to_balance(program: ProgramSettings, recipient: wire.Recipient, as_of: dt.datetime) -> Balance:
    points = recipient.balance or 0
    return Balance(
        program=program.id,
        member_id=recipient.id,
        points=points,
        available_points=points,
        value=points_value(program, points),
        as_of=as_of,
    )


def _to_alpha(flat: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in flat.items():
        alpha_key = FIELD_MAP.get(key)
        if alpha_key is None:
            continue  # no Alpha field for it (birth_date, address.region): documented as ignored
        if alpha_key == "country_code" and isinstance(value, str):
            value = value.lower()
        body[alpha_key] = value
    return body


def create_body(request: EnrollRequest) -> dict[str, Any]:
    """The create-recipient body; absent fields are left out, as Alpha asks."""
    values = msgspec.to_builtins(request)  # omits None
    return {k: v for k, v in _to_alpha(flatten_member_fields(values)).items() if v is not None}


def missing_required(request: EnrollRequest) -> list[FieldError]:
    return [
        FieldError(field=name, message="required by this program's provider")
        for name in REQUIRED
        if getattr(request, name) is None
    ]


def update_body(patch: MemberPatch) -> tuple[dict[str, Any], list[FieldError]]:
    """Merge patch -> Alpha update body (``null`` sent as ``null`` to clear) + field errors."""
    flat = flatten_member_fields(patch)
    errors = [
        FieldError(field=name, message="cannot be cleared: required by this program's provider")
        for name in REQUIRED
        if name in flat and flat[name] is None
    ]
    return _to_alpha(flat), errors


def field_errors(failure: wire.ValidationFailure) -> list[FieldError]:
    """Alpha's per-field messages keyed by the gateway's field names."""
    return [
        FieldError(field=ALPHA_TO_MEMBER.get(name, name), message=message)
        for name, messages in failure.errors.items()
        for message in messages
    ]
