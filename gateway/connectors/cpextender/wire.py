"""CP Extender's JSON as it travels (PascalCase; numbers may arrive as strings)."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class HistoryEntry(msgspec.Struct, rename="pascal"):
    date: str | None = None
    point_amount: int = 0
    activity: str | None = None
    document: str | None = None
    reason: str | None = None
    location: str | None = None


class Loyalty(msgspec.Struct, rename="pascal"):
    customer_number: str | None = None
    program_name: str | None = None
    status: str | None = None
    point_balance: int = 0
    open_authorizations: int = 0
    pending_points_earned: int = 0
    available_point_balance: int | None = None
    history: list[HistoryEntry] = msgspec.field(default_factory=list)


class BalanceCheck(msgspec.Struct, rename="pascal"):
    loyalty: Loyalty


class EarnBody(msgspec.Struct, rename="pascal"):
    customer_number: str
    points: int
    reason: str
    reference: str


class AuthorizeBody(msgspec.Struct, rename="pascal"):
    type: str
    ref: str
    sale_id: str
    requested_points: int


class AuthorizeResponse(msgspec.Struct, rename="pascal"):
    auth_code: str
    authorized_points: int | None = None
    authorized_amount: Decimal | None = None
    request_id: str | None = None
    type: str | None = None


class DateWindow(msgspec.Struct, omit_defaults=True):
    """Optional body of BalanceCheck: ``MM/DD/YYYY HH:MM:SS.fff`` in UTC; unset keys omitted."""

    startDate: str | None = None
    endDate: str | None = None
