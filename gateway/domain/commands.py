"""What callers ask for: the inbound bodies of the contract, validated before any upstream call.

Structs here forbid unknown fields; litestar decodes request bodies into them and the HTTP
edge reports violations as ``invalid_request`` with per-field errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from gateway.domain.models import Address, Member

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
Points = Annotated[int, msgspec.Meta(gt=0, le=100_000_000)]
PointType = Annotated[str, msgspec.Meta(pattern=r"^(?i:annual|spendable)$")]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^\+?[0-9 ().-]+$")]


class EnrollRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Enroll a member: what the caller knows of them, plus ``card_number`` for card programs."""

    email: Email | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    phone: Phone | None = None
    birth_date: dt.date | None = None
    address: Address | None = None
    card_number: ShortText | None = None

    def as_member(self, program: str, member_id: str) -> Member:
        """The member this enrollment makes, as far as the request tells."""
        return Member(
            program=program,
            member_id=member_id,
            status="active",
            email=self.email,
            first_name=self.first_name,
            last_name=self.last_name,
            phone=self.phone,
            birth_date=self.birth_date,
            address=self.address,
        )


class EarnRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    points: Points
    reason: Text | None = None
    reference: Reference | None = None
    point_type: PointType | None = None


class RedemptionRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    points: Points
    reference: Reference | None = None
    point_type: PointType | None = None


class EarnCommand(msgspec.Struct, kw_only=True):
    """An earn as a connector sees it: the reference and idempotency token are always set."""

    points: int
    reason: str | None
    reference: str
    point_type: str | None
    idempotency_token: str
    pin: str | None = None


class RedeemCommand(msgspec.Struct, kw_only=True):
    points: int
    reference: str
    point_type: str | None
    idempotency_token: str
    pin: str | None = None


class WriteJob(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One state-changing request, as kept in its idempotency record: enough for the
    reconciler to look the write up (and render its answer) with no request at hand.
    Never a PIN or any other credential."""

    client_id: str = ""
    idempotency_key: str = ""
    program: str
    operation: Literal["enroll", "earn", "redeem", "void"]
    member_id: str | None = None
    redemption_id: str | None = None
    enroll: EnrollRequest | None = None
    earn: EarnRequest | None = None
    redemption: RedemptionRequest | None = None

    @property
    def summary(self) -> str:
        """``program/operation``: the bounded labels of the open-unknowns gauge."""
        return f"{self.program}/{self.operation}"


class ActivityQuery(msgspec.Struct, kw_only=True):
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 50
    cursor: str | None = None


# A JSON Merge Patch (RFC 7396) of a Member, already checked against the Member's fields:
# a key that is absent stays unchanged, a key set to None is cleared.
MemberPatch = dict[str, Any]


class AddressPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    line1: Text | msgspec.UnsetType | None = msgspec.UNSET
    line2: Text | msgspec.UnsetType | None = msgspec.UNSET
    line3: Text | msgspec.UnsetType | None = msgspec.UNSET
    city: Text | msgspec.UnsetType | None = msgspec.UNSET
    region: Text | msgspec.UnsetType | None = msgspec.UNSET
    postal_code: ShortText | msgspec.UnsetType | None = msgspec.UNSET
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$")] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )


class MemberPatchRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """JSON Merge Patch of a Member: an absent field is kept, ``null`` clears it."""

    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    first_name: Text | msgspec.UnsetType | None = msgspec.UNSET
    last_name: Text | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    birth_date: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    address: AddressPatch | msgspec.UnsetType | None = msgspec.UNSET

    def as_patch(self) -> MemberPatch:
        """The fields that were present (``None`` for the ones to clear)."""
        patch: MemberPatch = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is msgspec.UNSET:
                continue
            if isinstance(value, AddressPatch):
                value = {
                    k: getattr(value, k)
                    for k in value.__struct_fields__
                    if getattr(value, k) is not msgspec.UNSET
                }
            patch[name] = value
        return patch


def flatten_member_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``{"address": {"city": x}}`` -> ``{"address.city": x}``; ``address: None`` clears
    every address part. Connectors map the dotted names onto their providers' fields."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if key != "address":
            flat[key] = value
        elif value is None:
            flat.update({f"address.{part}": None for part in Address.__struct_fields__})
        else:
            flat.update({f"address.{part}": v for part, v in value.items()})
    return flat
