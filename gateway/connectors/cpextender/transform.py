"""Pure mappings between CP Extender's payloads and the gateway's domain shapes."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from typing import Any, Literal

import msgspec

from gateway.connectors.common import money, points_value
from gateway.connectors.cpextender import wire
from gateway.domain.models import (
    ActivityEntry,
    ActivityType,
    Balance,
    Member,
    MemberStatus,
    Redemption,
)
from gateway.settings import ProgramSettings

_DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
)


def parse_date(text: str | None) -> dt.datetime | None:
    """CP dates are US-style ``MM/DD/YYYY`` (optionally with a time) in UTC."""
    if not text:
        return None
    cleaned = text.strip()
    try:  # ISO-8601 with an offset (not what CP documents, but unambiguous)
        parsed = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def format_date(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return when.strftime("%m/%d/%Y %H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def decode_balance_check(raw: Any) -> wire.Loyalty:
    return msgspec.convert(raw, wire.BalanceCheck, strict=False).loyalty


def member_status(status: str | None) -> MemberStatus:
    value = (status or "").strip().lower()
    if value in ("active", "inactive", "pending"):
        return value  # type: ignore[return-value]
    if value in ("suspended", "closed", "disabled", "cancelled", "canceled"):
        return "inactive"
    return "unknown"


def to_member(program_id: str, member_id: str, loyalty: wire.Loyalty) -> Member:
    return Member(program=program_id, member_id=member_id, status=member_status(loyalty.status))


def to_balance(
    program: ProgramSettings, member_id: str, loyalty: wire.Loyalty, as_of: dt.datetime
) -> Balance:
    available = loyalty.available_point_balance
    if available is None:
        available = loyalty.point_balance - loyalty.open_authorizations
    return Balance(
        program=program.id,
        member_id=member_id,
        points=loyalty.point_balance,
        available_points=available,
        pending_points=loyalty.pending_points_earned,
        held_points=loyalty.open_authorizations,
        value=points_value(program, available),
        expiring=[],
        as_of=as_of,
    )


def _classify(entry: wire.HistoryEntry) -> tuple[ActivityType, int]:
    """The entry's type and its signed points (debits negative)."""
    amount = entry.point_amount
    activity = (entry.activity or "").lower()
    if not activity:
        # A plain earn line carries only Date, PointAmount, Document and Reason.
        return ("earn" if amount >= 0 else "adjust"), amount
    if "summary" in activity:
        return "adjust", amount
    if "pending" in activity or "authoriz" in activity or "hold" in activity:
        return "hold", -abs(amount)
    if "expir" in activity:
        return "expire", -abs(amount)
    if any(word in activity for word in ("redeem", "redemption", "charge", "debit", "spend")):
        return "redeem", -abs(amount)
    if any(word in activity for word in ("earn", "bonus", "credit", "award")):
        return "earn", abs(amount)
    if any(word in activity for word in ("void", "reversal", "refund", "adjust")):
        return "adjust", amount
    return "other", amount


def _entry_id(entry: wire.HistoryEntry, occurrence: int) -> str:
    # CP gives history lines no id; derive one from the content so it is stable across reads.
    basis = "|".join(
        str(part)
        for part in (
            entry.date,
            entry.point_amount,
            entry.activity,
            entry.document,
            entry.reason,
            entry.location,
            occurrence,
        )
    )
    return "cpx_" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def to_activity(history: list[wire.HistoryEntry]) -> list[ActivityEntry]:
    """History lines in the provider's order; undated lines are dropped."""
    seen: Counter[tuple[Any, ...]] = Counter()
    entries: list[ActivityEntry] = []
    for item in history:
        occurred = parse_date(item.date)
        if occurred is None:
            continue
        fingerprint = (item.date, item.point_amount, item.activity, item.document, item.reason)
        seen[fingerprint] += 1
        kind, points = _classify(item)
        entries.append(
            ActivityEntry(
                id=_entry_id(item, seen[fingerprint]),
                occurred_at=occurred,
                type=kind,
                points=points,
                description=item.reason or item.activity,
                reference=item.document,
                location=item.location,
            )
        )
    return entries


def earn_body(member_id: str, points: int, reason: str, reference: str) -> wire.EarnBody:
    return wire.EarnBody(
        customer_number=member_id, points=points, reason=reason, reference=reference
    )


def authorize_body(member_id: str, points: int, sale_id: str) -> wire.AuthorizeBody:
    return wire.AuthorizeBody(
        type="loyalty", ref=member_id, sale_id=sale_id, requested_points=points
    )


def to_redemption(
    program: ProgramSettings,
    member_id: str,
    requested_points: int,
    reference: str,
    answer: wire.AuthorizeResponse,
    created_at: dt.datetime,
) -> Redemption:
    points = answer.authorized_points if answer.authorized_points is not None else requested_points
    value = money(program, answer.authorized_amount) or points_value(program, points)
    return Redemption(
        id=answer.auth_code,
        program=program.id,
        member_id=member_id,
        points=points,
        value=value,
        reference=reference,
        order_id=reference,
        status="authorized",
        created_at=created_at,
    )


Found = Literal["found", "absent", "ambiguous"]


def find_hold(
    history: list[wire.HistoryEntry], sale_id: str, points: int
) -> tuple[Found, wire.HistoryEntry | None]:
    """An Authorize in the History: a hold (``Pending Charge``) or a charge whose
    ``Document`` is the ``SaleId`` sent. A line with that Document but another amount (the
    caller reused the reference, or CP authorized a part) fits more than one reading."""
    lines = [e for e in history if e.document == sale_id and _classify(e)[0] in ("hold", "redeem")]
    match = next((e for e in lines if abs(e.point_amount) == points), None)
    if match is not None:
        return "found", match
    return ("ambiguous" if lines else "absent"), None


def located_redemption(
    program: ProgramSettings,
    member_id: str,
    points: int,
    sale_id: str,
    line: wire.HistoryEntry,
) -> Redemption:
    """A redemption found in the History. CP's History has no AuthCode: the SaleId (the only
    handle CP keeps) is the id, and the value comes from the program's points value."""
    held = _classify(line)[0] == "hold"
    return Redemption(
        id=sale_id,
        program=program.id,
        member_id=member_id,
        points=points,
        value=points_value(program, points),
        reference=sale_id,
        order_id=sale_id,
        status="authorized" if held else "completed",
        created_at=parse_date(line.date) or dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
