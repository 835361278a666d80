"""Pure mappings between IRT's form fields / ``data`` objects and the gateway's shapes.

IRT's document names only some parameters (``call``, ``user``, ``pass``, ``cardnumber``,
``PIN``, ``Email``, ``pointType``, ``idempotencyKey``); the rest follow the same style and
are listed in ``docs/providers/irt.md``. Replies are read case-insensitively.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.connectors.common import points_value
from gateway.domain.commands import EnrollRequest, MemberPatch, flatten_member_fields
from gateway.domain.models import Address, Balance, Member, MemberStatus, Redemption, Transaction
from gateway.settings import ProgramSettings

#: Member field (dotted for address parts) -> IRT form field
FIELD_MAP: dict[str, str] = {
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "phone": "Phone",
    "birth_date": "Birthday",
    "address.line1": "Address1",
    "address.line2": "Address2",
    "address.line3": "Address3",
    "address.city": "City",
    "address.region": "State",
    "address.postal_code": "Zip",
    "address.country": "Country",
}
POINT_TYPES = {"annual": "Annual", "spendable": "Spendable"}


def point_type(value: str | None) -> str | None:
    return POINT_TYPES.get(value.lower(), value) if value else None


def _form_value(value: Any) -> str:
    """Blank clears a field at IRT; dates travel as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def profile_fields(values: dict[str, Any]) -> dict[str, str]:
    """Member fields -> IRT form fields. Present-with-None becomes blank (= clear)."""
    return {
        FIELD_MAP[key]: _form_value(value)
        for key, value in flatten_member_fields(values).items()
        if key in FIELD_MAP
    }


def register_fields(request: EnrollRequest) -> dict[str, str]:
    values = {
        name: getattr(request, name)
        for name in ("email", "first_name", "last_name", "phone", "birth_date")
        if getattr(request, name) is not None
    }
    if request.address is not None:
        values["address"] = {
            k: v
            for k, v in (
                (f, getattr(request.address, f)) for f in request.address.__struct_fields__
            )
            if v is not None
        }
    return profile_fields(values)


def update_fields(patch: MemberPatch) -> dict[str, str]:
    """Merge patch -> update fields: absent stays absent (kept), ``None`` is sent blank."""
    return profile_fields(patch)


def _ci(data: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in data.items()} if isinstance(data, dict) else {}


def _text(data: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name.lower())
        if value not in (None, ""):
            return str(value)
    return None


def _int(data: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = data.get(name.lower())
        if value in (None, ""):
            continue
        try:
            return int(float(value))
        except (TypeError, ValueError):
            continue
    return None


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text.strip()[:19], fmt).date()
        except ValueError:
            continue
    return None


def _timestamp(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        day = _date(text)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if day else None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def to_member(program_id: str, card: str, data: Any, status: MemberStatus = "active") -> Member:
    """``getinfo``'s ``data`` object as a Member (keys read case-insensitively)."""
    d = _ci(data)
    address = Address(
        line1=_text(d, "Address1", "Address"),
        line2=_text(d, "Address2"),
        line3=_text(d, "Address3"),
        city=_text(d, "City"),
        region=_text(d, "State", "Region"),
        postal_code=_text(d, "Zip", "ZipCode", "PostalCode"),
        country=(_text(d, "Country") or "").upper() or None,
    )
    has_address = any(
        v is not None
        for v in (
            address.line1,
            address.line2,
            address.line3,
            address.city,
            address.region,
            address.postal_code,
            address.country,
        )
    )
    return Member(
        program=program_id,
        member_id=card,
        status=status,
        email=_text(d, "Email"),
        first_name=_text(d, "FirstName", "First_Name"),
        last_name=_text(d, "LastName", "Last_Name"),
        phone=_text(d, "Phone", "CellPhone", "Mobile"),
        birth_date=_date(_text(d, "Birthday", "BirthDate", "DOB")),
        address=address if has_address else None,
        enrolled_at=_timestamp(_text(d, "EnrollDate", "Enrolled", "enrollment_date", "created_at")),
        tier=_text(d, "Tier", "Level"),
    )


def to_balance(program: ProgramSettings, card: str, data: Any, as_of: dt.datetime) -> Balance:
    d = _ci(data)
    points = _int(d, "balance", "points") or 0
    available = _int(d, "available", "available_balance", "spendable")
    available = points if available is None else available
    return Balance(
        program=program.id,
        member_id=card,
        points=points,
        available_points=available,
        pending_points=_int(d, "pending", "pending_points") or 0,
        value=points_value(program, available),
        as_of=as_of,
    )


def to_transaction(
    program_id: str,
    card: str,
    points: int,
    reason: str | None,
    reference: str,
    point_type_value: str | None,
    token: str,
    data: Any,
    created_at: dt.datetime,
) -> Transaction:
    d = _ci(data)
    return Transaction(
        id=_text(d, "loyalty_transaction_number", "transaction_id", "transactionId", "id") or token,
        program=program_id,
        member_id=card,
        points=points,
        reason=reason,
        reference=reference,
        status="completed",
        created_at=created_at,
        balance_after=_int(d, "balance", "new_balance", "newBalance"),
        point_type=point_type_value,
    )


def to_redemption(
    program: ProgramSettings,
    card: str,
    points: int,
    reference: str,
    point_type_value: str | None,
    token: str,
    data: Any,
    created_at: dt.datetime,
) -> Redemption:
    d = _ci(data)
    return Redemption(
        id=_text(
            d,
            "loyalty_transaction_number",
            "redemption_id",
            "transaction_id",
            "transactionId",
            "id",
        )
        or token,
        program=program.id,
        member_id=card,
        points=points,
        value=points_value(program, points),
        reference=reference,
        order_id=reference,
        status="completed",
        created_at=created_at,
        point_type=point_type_value,
    )
