"""Earning (PostExternalBonus), offers (GetApplicableOffers) and the member's activity
(GetMemberActivityDetail)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from gateway.connectors.shopyourway.simulator.helpers import (
    _dollars,
    _int,
    _parse,
    _pulse,
    _s,
    activity_entry,
)
from gateway.connectors.shopyourway.simulator.members import Reply
from gateway.connectors.shopyourway.simulator.state import (
    _DIGITS,
    MT_SERVER_NAME,
    LedgerEntry,
    SYWState,
    _copy,
    _expiry_in,
    _now,
)


def post_external_bonus(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    number = _s(body, "MemberNumber")

    def refuse(status: str, text: str) -> Reply:
        return {
            "MemberNumber": number,
            "MTServerName": MT_SERVER_NAME,
            "StatusText": text,
            "Status": status,
            "SysPulse": _pulse(started),
        }, False

    structural = "Structural validation errors"
    requestor = _s(body, "RequestorID")
    if not requestor:
        return refuse("99", "RequestorId is a required field")
    if requestor != state.requestor_id:
        return refuse("99", "Requestor Id invalid")
    version = _s(body, "MessageVersion")
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return refuse("99", structural)
    if not _s(body, "FileIdentifier"):
        return refuse("99", "FileIdentifier is a required field")
    if len(_s(body, "FileIdentifier")) > 50:
        return refuse("99", structural)
    offer = _s(body, "OfferId")
    if offer and _s(body, "Channel"):
        return refuse("99", "Provide either OfferId or Channel in the request, not both")
    raw_points = _s(body, "PointsToAdd")
    if not raw_points:
        return refuse("99", "Points to Add is a required field")
    points = _int(raw_points)
    if points is None or len(raw_points) > 11:
        return refuse("99", "Points should be numeric")
    if points == 0:
        return refuse("99", "PointsToAdd is invalid- Bank will not allow 0 points")
    if not number or not _DIGITS.match(number) or len(number) > 18:
        return refuse("99", structural)
    when_text = _s(body, "TransactionTs")
    when = _parse(when_text, "%Y-%m-%dT%H:%M:%S") if len(when_text) == 19 else None
    if when is None:
        return refuse("99", structural)
    ends: dt.datetime | None = None
    for field in ("PointsStartDate", "PointsEndDate"):
        text = _s(body, field)
        if text:
            parsed = _parse(text, "%Y-%m-%dT%H:%M:%S")
            if parsed is None:
                return refuse("99", structural)
            ends = parsed if field == "PointsEndDate" else ends
    transaction_number = _s(body, "TransactionNumber")
    if len(transaction_number) > 16 or len(_s(body, "StoreNumber")) > 5:
        return refuse("99", structural)
    if not offer:
        return refuse("2", "Bonus Offer Code Not Defined")
    if offer not in state.bonus_offer_ids:
        return refuse("2", "OfferId is not activated")
    member = state.members.get(number)
    if member is None:
        return refuse("44", "Club ID Not Found")
    if member.club_status != "A":
        return refuse("44", "Member is not Active")
    if points > 0:
        expiry = ends.strftime("%Y%m%d") if ends else _expiry_in(state, days=365)
        member.credit(points, expiry)
    else:
        member.debit(-points)
    store = _s(body, "StoreNumber") or "00001"
    member.activity.append(
        activity_entry(
            when=_now(state),
            transaction_type="P",
            description=f"{store} - {offer}",
            points=points,
            balance=member.points,
            points_per_cent=state.points_per_cent,
            transaction_number=transaction_number,
            store=store,
            register=_s(body, "RegisterNumber") or "001",
            offer=(offer, offer),
            attributes={"fileIdentifier": _s(body, "FileIdentifier")},
        )
    )
    state.ledger.append(LedgerEntry("earn", member.member_number, points, transaction_number, ""))
    return {
        "MemberNumber": member.member_number,
        "CurrentBalance": member.points,
        "MTServerName": MT_SERVER_NAME,
        "StatusText": "Success",
        "Status": "0",
        "SysPulse": _pulse(started),
    }, True


def get_applicable_offers(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    number = _s(body, "MemberNumber")

    def refuse(status: str, text: str) -> Reply:
        return {
            "MemberNumber": number,
            "MTServerName": MT_SERVER_NAME,
            "StatusText": text,
            "Status": status,
            "SysPulse": _pulse(started),
        }, False

    for field in ("MessageVersion", "MemberNumber", "RequestorID", "OrderStoreNumber"):
        if not _s(body, field):
            return refuse("2", "Validation Error")
    if _s(body, "RequestorID") != state.requestor_id or len(_s(body, "OrderStoreNumber")) > 5:
        return refuse("2", "Validation Error")
    if _s(body, "BenefitOnly") not in ("Y", "N"):
        return refuse("2", "Validation Error")
    current = _parse(_s(body, "CurrentDTTM"), "%Y-%m-%d %H:%M:%S") or _parse(
        _s(body, "CurrentDTTM"), "%Y-%m-%dT%H:%M:%S"
    )
    if current is None:
        return refuse("99", "Invalid currentDTTM")
    products_block = body.get("ProductList")
    products = products_block.get("Product") if isinstance(products_block, dict) else []
    if products_block is not None and not isinstance(products, list):
        return refuse("99", "HierarchyLevels are invalid")
    spend = Decimal(0)
    for product in products or []:
        if not isinstance(product, dict) or not isinstance(
            product.get("HierarchyLevels", []), list
        ):
            return refuse("99", "HierarchyLevels are invalid")
        try:
            spend += Decimal(_s(product, "ItemPrice") or "0") * Decimal(
                _s(product, "Quantity") or "1"
            )
        except ArithmeticError:
            return refuse("2", "Validation Error")
    member = state.members.get(number)
    if member is None:
        return refuse("30", "No member found")
    live = [
        o
        for o in state.offers
        if (start := _parse(str(o.get("StartDTTM", "")), "%Y-%m-%dT%H:%M:%S")) is not None
        and (end := _parse(str(o.get("EndDTTM", "")), "%Y-%m-%dT%H:%M:%S")) is not None
        and start <= current <= end
    ]
    limit = _int(_s(body, "MaxBenefits"))
    if limit is not None and limit > 0:
        live = live[:limit]
    base = int(spend * 10)
    bonus = sum(
        _int(str(o.get("OfferRewardPotential", ""))) or 0
        for o in live
        if o.get("OfferRewardType") == "EARN"
    )
    unconditional = [str(o["EndDTTM"]) for o in live if o.get("Conditional") == "N"]
    return {
        "MemberNumber": member.member_number,
        "RewardsSummary": {
            "RewardPotentialDetails": [
                {
                    "Conditional": "N",
                    "BasePoints": base,
                    "BonusPoints": bonus,
                    "EarliestExpiringOfferDate": min(unconditional, default=""),
                    "RewardType": "EARN",
                    "RewardPotential": [
                        {
                            "RewardPotentialUnit": "Points",
                            "RewardPotentialValue": str(base + bonus),
                        },
                        {
                            "RewardPotentialUnit": "Dollars",
                            "RewardPotentialValue": _dollars(base + bonus, state.points_per_cent),
                        },
                    ],
                }
            ]
        },
        "OffersSet": {"ApplicableOffer": _copy(live)},
        "MTServerName": MT_SERVER_NAME,
        "StatusText": "SUCCESS",
        "Status": "0",
        "SysPulse": _pulse(started),
    }, False


def get_member_activity_detail(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    def refuse(status: str, text: str) -> Reply:
        return {
            "MTServerName": MT_SERVER_NAME,
            "StatusText": text,
            "Status": status,
            "SysPulse": _pulse(started),
        }, False

    number = _s(body, "MemberNumber")
    if not number:
        return refuse("99", "Member Number is a required field")
    version = _s(body, "MessageVersion")
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return refuse("99", "MessageVersion is invalid")
    if _s(body, "RequestorID") != state.requestor_id:
        return refuse("99", "Requestor Id invalid")
    start_text, end_text = _s(body, "StartDTTM"), _s(body, "EndDTTM")
    start = _parse(start_text, "%Y-%m-%dT%H:%M:%S") if len(start_text) == 19 else None
    if start is None:
        return refuse("99", "Invalid StartDTTM")
    end = _parse(end_text, "%Y-%m-%dT%H:%M:%S") if len(end_text) == 19 else None
    if end is None or end < start:
        return refuse("99", "Invalid EndDTTM")
    member = state.members.get(number) if _DIGITS.match(number) else None
    if member is None:
        return refuse("30", "Invalid Member Number")
    entries = [
        _copy(e)
        for e in member.activity
        if start_text <= str(e.get("TransactionDTTM", "")) <= end_text
    ]
    entries.reverse()  # newest first, also among entries of the same second
    entries.sort(key=lambda e: str(e["TransactionDTTM"]), reverse=True)
    return {
        "TransactionDetails": {"TransactionDetail": entries},
        "MTServerName": MT_SERVER_NAME,
        "StatusText": "Success",
        "Status": "0",
        "SysPulse": _pulse(started),
    }, False


#: path under /tellurideAS -> the call
