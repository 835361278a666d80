"""Normalized shapes every provider is mapped onto (API.md "Shapes")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

MemberStatus = Literal["active", "inactive", "pending", "unknown"]
ActivityType = Literal["earn", "redeem", "adjust", "expire", "hold", "other"]
RedemptionStatus = Literal["authorized", "completed", "voided"]


class Address(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


class Money(msgspec.Struct):
    """An amount as a decimal string (never a float) and an ISO 4217 currency."""

    amount: str
    currency: str


class Member(msgspec.Struct):
    program: str
    member_id: str
    status: MemberStatus = "unknown"
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    birth_date: dt.date | None = None
    address: Address | None = None
    enrolled_at: dt.datetime | None = None
    tier: str | None = None
    provider_data: dict[str, Any] | None = None


class MemberList(msgspec.Struct):
    data: list[Member]


class ExpiringPoints(msgspec.Struct):
    points: int
    expires_on: dt.date


class Balance(msgspec.Struct):
    program: str
    member_id: str
    points: int
    available_points: int
    pending_points: int = 0
    held_points: int = 0
    value: Money | None = None
    expiring: list[ExpiringPoints] = msgspec.field(default_factory=list)
    as_of: dt.datetime | None = None
    provider_data: dict[str, Any] | None = None


class Transaction(msgspec.Struct):
    id: str
    program: str
    member_id: str
    points: int
    reason: str | None
    reference: str
    status: Literal["completed", "pending"]
    created_at: dt.datetime
    balance_after: int | None = None
    point_type: str | None = None


class Redemption(msgspec.Struct):
    id: str
    program: str
    member_id: str
    points: int
    value: Money | None
    reference: str
    order_id: str
    status: RedemptionStatus
    created_at: dt.datetime
    point_type: str | None = None


class ActivityEntry(msgspec.Struct):
    id: str
    occurred_at: dt.datetime
    type: ActivityType
    points: int
    description: str | None = None
    reference: str | None = None
    location: str | None = None


class ActivityPage(msgspec.Struct):
    program: str
    member_id: str
    data: list[ActivityEntry]
    next_cursor: str | None = None
    provider_data: dict[str, Any] | None = None


class Offer(msgspec.Struct):
    code: str
    name: str | None = None
    description: str | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    reward: str | None = None


class OfferList(msgspec.Struct):
    program: str
    member_id: str
    data: list[Offer]


class PointsValue(msgspec.Struct):
    """How many points make one unit of ``currency``."""

    points_per_unit: int
    currency: str


class ProgramInfo(msgspec.Struct):
    id: str
    name: str
    provider: str
    capabilities: list[str]
    lookup_by: list[str]
    points_value: PointsValue | None


class ProgramList(msgspec.Struct):
    data: list[ProgramInfo]


CircuitState = Literal["closed", "open", "half_open"]


class ProgramHealth(msgspec.Struct):
    program: str
    provider: str
    reachable: bool
    latency_ms: float | None
    circuit: Annotated[CircuitState, msgspec.Meta(description="The worst of `circuits`.")]
    checked_at: dt.datetime
    detail: str | None = None
    circuits: Annotated[
        dict[str, CircuitState],
        msgspec.Meta(
            description="Each operation group's circuit breaker (`token`, `reads`, `writes`, "
            "`activity`, `offers`, `health`: the groups this provider's calls use), as the "
            "worker that answered sees it."
        ),
    ] = msgspec.field(default_factory=dict)
