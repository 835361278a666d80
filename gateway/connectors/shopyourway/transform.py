"""Pure mappings between Telluride's JSON and the gateway's shapes.

Telluride mixes PascalCase (most operations) and camelCase (GetRewardBalance) and nests
replies differently per operation, so replies are read case-insensitively and the status
is looked for where each operation's sample puts it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from msgspec import UNSET

from gateway.connectors.shopyourway import wire
from gateway.connectors.shopyourway.config import ShopYourWayOptions
from gateway.domain.commands import EnrollRequest
from gateway.domain.models import (
    ActivityEntry,
    ActivityType,
    Address,
    Balance,
    ExpiringPoints,
    Member,
    MemberStatus,
    Money,
    Offer,
)
from gateway.settings import ProgramSettings

_CLUB_STATUS: dict[str, MemberStatus] = {
    "A": "active",
    "I": "inactive",
    "O": "inactive",
    "R": "inactive",
    "P": "pending",
}


def get(data: Any, *names: str) -> Any:
    """``data[name]`` for the first name present, ignoring case; None if none is."""
    if not isinstance(data, dict):
        return None
    lowered = {str(k).lower(): v for k, v in data.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None:
            return value
    return None


def text(data: Any, *names: str) -> str | None:
    value = get(data, *names)
    if value is None or isinstance(value, dict | list):
        return None
    stripped = str(value).strip()
    return stripped or None


def integer(data: Any, *names: str) -> int | None:
    value = text(data, *names)
    if value is None:
        return None
    try:
        return int(Decimal(value.replace(",", "")))
    except (InvalidOperation, ValueError):
        return None


def reply_of(body: Any) -> Any:
    """CreateMember/GetMemberLookup wrap their answer: ``{XResult: {XReply: [reply]}}``."""
    for value in body.values() if isinstance(body, dict) else ():
        if isinstance(value, dict):
            replies = next((v for k, v in value.items() if str(k).lower().endswith("reply")), None)
            if isinstance(replies, list) and replies:
                return replies[0]
            if isinstance(replies, dict):
                return replies
    return body


def status_of(body: Any) -> tuple[str, str] | None:
    """``(status, status text)`` from ``Additional``/``additional`` or the top level."""
    for holder in (reply_of(body), body):
        additional = get(holder, "Additional")
        for source in (additional, holder):
            status = text(source, "Status")
            if status is not None:
                return status, text(source, "StatusText", "ResponseText") or ""
    return None


def is_ok(status: str) -> bool:
    return status.strip().lstrip("0") == ""


def members_of(reply: Any) -> list[Any]:
    members = get(get(reply, "Members"), "Member")
    if isinstance(members, dict):
        return [members]
    return [m for m in members or [] if isinstance(m, dict)]


def _ms_to_datetime(value: Any) -> dt.datetime | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=dt.UTC)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(value[:19], fmt).date()
        except ValueError:
            continue
    return None


def parse_timestamp(value: str | None) -> dt.datetime | None:
    """``YYYY-MM-DDTHH:MM:SS`` (Telluride's local time; treated as UTC)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        day = _date(value)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if day else None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _phone(member: Any) -> str | None:
    phones = get(get(member, "PhoneNumbers"), "Phone")
    if isinstance(phones, dict):
        phones = [phones]
    if not isinstance(phones, list):
        return None
    usable = [p for p in phones if isinstance(p, dict) and text(p, "PhoneNumber")]
    preferred = [p for p in usable if text(p, "PreferredPhoneType") == "Y"]
    chosen = preferred or usable
    return text(chosen[0], "PhoneNumber") if chosen else None


def to_member(program_id: str, member: Any) -> Member:
    zip_code = text(member, "ZipCode")
    extension = text(member, "ZipCodeExtension")
    address = Address(
        line1=text(member, "Address1"),
        line2=text(member, "Address2"),
        city=text(member, "City"),
        region=text(member, "State"),
        postal_code=f"{zip_code}-{extension}" if zip_code and extension else zip_code,
        country=text(member, "CountryCode"),
    )
    has_address = any(
        v is not None
        for v in (address.line1, address.line2, address.city, address.region, address.postal_code)
    )
    return Member(
        program=program_id,
        member_id=text(member, "MemberNumber") or "",
        status=_CLUB_STATUS.get((text(member, "ClubStatus") or "").upper(), "unknown"),
        email=text(member, "EmailAddress"),
        first_name=text(member, "FirstName"),
        last_name=text(member, "LastName"),
        phone=_phone(member),
        birth_date=_date(text(member, "DOB")),
        address=address if has_address else None,
        enrolled_at=_ms_to_datetime(get(member, "MemberSinceDate", "DateIssued")),
        tier=text(member, "VIPTier"),
    )


def create_member_body(
    request: EnrollRequest, options: ShopYourWayOptions, now: dt.datetime, pin: str | None
) -> wire.CreateMember:
    """CreateMember's request: the caller's fields plus the program's configured values."""
    address = request.address
    phone = "".join(ch for ch in request.phone if ch.isdigit())[-10:] if request.phone else ""
    return wire.CreateMember(
        email_address=request.email or "",
        first_name=request.first_name or "",
        last_name=request.last_name or "",
        address1=(address.line1 if address else None) or "",
        address2=(address.line2 if address else None) or "",
        city=(address.city if address else None) or "",
        state=(address.region if address else None) or "",
        zip_code=(address.postal_code if address else None) or "",
        country_code=((address.country if address else None) or "").upper(),
        dob=request.birth_date.isoformat() if request.birth_date else "",
        current_date=now.strftime("%Y-%m-%d"),
        current_time=now.strftime("%H:%M:%S"),
        club_membership_created_by=options.created_by,
        club_dnp_status=options.club_dnp_status,
        card_design_type=options.card_design_type,
        store_number=options.store_number,
        terminal=options.terminal,
        requestor_id=options.requestor_id,
        message_version=options.message_versions.create_member,
        pin_number=pin or UNSET,
        phone_numbers=wire.PhoneNumbers([wire.Phone(phone_number=phone)]) if phone else UNSET,
    )


def _money(amount: Decimal, currency: str = "USD") -> Money:
    return Money(
        amount=str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), currency=currency
    )


def dollars(value: str | None) -> Money | None:
    """A Telluride dollar amount (``"10.00"``) as Money."""
    if not value:
        return None
    try:
        return _money(Decimal(value))
    except InvalidOperation:
        return None


def to_balance(program: ProgramSettings, member_id: str, body: Any, now: dt.datetime) -> Balance:
    """GetRewardBalance: total, redeemable now, value from ``pointsPerCent``, expiring buckets."""
    summary = get(body, "totalAvailablePointsSummary")
    channels = get(get(summary, "channelWisePointsSummary"), "channel")
    channel = (
        channels[0]
        if isinstance(channels, list) and channels
        else (channels if isinstance(channels, dict) else None)
    )
    total = integer(summary, "totalAvailablePoints")
    if total is None:
        total = integer(channel, "availablePoints") or 0
    available = integer(channel, "availablePointsToRedeem", "memberOwnPoints")
    if available is None:
        available = integer(summary, "totalAvailableMemberOwnPoints")
    available = total if available is None else available
    per_cent = integer(channel, "pointsPerCent")
    if per_cent and per_cent > 0:
        value: Money | None = _money(Decimal(available) / Decimal(per_cent) / 100)
    elif program.points_value is not None:
        rate = program.points_value
        value = _money(Decimal(available) / Decimal(rate.points_per_unit), rate.currency)
    else:
        value = None
    buckets = get(get(channel, "availableMemberOwnPointsList"), "memberOwnPointsToExpire")
    expiring = []
    for bucket in buckets if isinstance(buckets, list) else []:
        points = integer(bucket, "memberOwnPoints")
        expires = _date(text(bucket, "memberOwnExpiryDate"))
        if points and expires:
            expiring.append(ExpiringPoints(points=points, expires_on=expires))
    return Balance(
        program=program.id,
        member_id=member_id,
        points=total,
        available_points=available,
        value=value,
        expiring=sorted(expiring, key=lambda e: e.expires_on),
        as_of=now,
    )


def transaction_number(token: str) -> str:
    """Telluride's ``TransactionNumber`` (16 chars) derived from the idempotency record, so
    every retry of one gateway request sends the same number and the write can be found."""
    return str(int(token[:13], 16)).zfill(16)[-16:]


def to_activity(body: Any) -> list[ActivityEntry]:
    details = get(get(body, "TransactionDetails"), "TransactionDetail")
    if isinstance(details, dict):
        details = [details]
    entries: list[ActivityEntry] = []
    for item in details if isinstance(details, list) else []:
        occurred = parse_timestamp(text(item, "TransactionDTTM", "PostTS"))
        if occurred is None:
            continue
        earned = integer(item, "TotalPoints") or 0
        redeemed = integer(item, "TotalPointsRedeemed") or 0
        expired = integer(item, "TotalExpired") or 0
        kind: ActivityType
        if redeemed > 0:
            kind, points = "redeem", -redeemed
        elif redeemed < 0:  # a void gives redeemed points back
            kind, points = "adjust", -redeemed
        elif expired:
            kind, points = "expire", -abs(expired)
        elif earned > 0:
            kind, points = "earn", earned
        elif earned < 0:
            kind, points = "adjust", earned
        else:
            kind, points = "other", 0
        number = text(item, "TransactionNumber")
        entries.append(
            ActivityEntry(
                id=text(item, "TransactionID") or f"syw_{number or occurred.isoformat()}",
                occurred_at=occurred,
                type=kind,
                points=points,
                description=text(item, "TransactionDescription"),
                reference=text(item, "OrderId", "OrderID") or number,
                location=text(item, "StoreLocation"),
            )
        )
    return entries


def to_offers(body: Any) -> list[Offer]:
    offers = get(get(body, "OffersSet"), "ApplicableOffer")
    if isinstance(offers, dict):
        offers = [offers]
    result = []
    for item in offers if isinstance(offers, list) else []:
        code = text(item, "OfferCode")
        if not code:
            continue
        reward = " ".join(
            part
            for part in (
                text(item, "OfferRewardType"),
                text(item, "RewardBasis"),
                text(item, "OfferRewardPotential"),
            )
            if part
        )
        result.append(
            Offer(
                code=code,
                name=text(item, "OfferName", "OfferTitle"),
                description=text(item, "Description", "OfferDescription"),
                starts_at=parse_timestamp(text(item, "StartDTTM")),
                ends_at=parse_timestamp(text(item, "EndDTTM")),
                reward=reward or None,
            )
        )
    return result
