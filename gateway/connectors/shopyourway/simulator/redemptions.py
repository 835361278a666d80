"""ProcessRedemption: authorize (R), void (V) and the line items, with the document's status
codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gateway.connectors.shopyourway.simulator.helpers import (
    _auth_code,
    _code_attribute,
    _dollars,
    _int,
    _member_by,
    _pulse,
    _s,
    _valid_date,
    activity_entry,
)
from gateway.connectors.shopyourway.simulator.members import Reply, _requestor_problem
from gateway.connectors.shopyourway.simulator.state import (
    _DIGITS,
    _TIME,
    MT_SERVER_NAME,
    Authorization,
    LedgerEntry,
    SYWState,
    _expiry_in,
    _now,
)

_REDEMPTION_MEMBER_STATUS = {
    "S": ("31", "Member's status is Suspended"),
    "I": ("32", "Member's status is Inactive"),
    "O": ("33", "Member's status is Merge and alternate member not found or not active"),
    "R": ("33", "Member's status is Merge and alternate member not found or not active"),
    "P": ("35", "Member's status is Pending Verified"),
}


def _line_items(
    body: dict[str, Any], points: int, points_per_cent: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Echo the request's LineItems with the redeemed points spread over them in order, and
    the cart's redeemable value in points (None without line items)."""
    raw = body.get("LineItems")
    items = raw.get("LineItem") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        return [], None
    remaining, cart, lines = points, 0, []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            value = Decimal(_s(item, "DollarValuePostDisc") or "0")
        except ArithmeticError:
            value = Decimal(0)
        excluded = _s(item, "RedemptionExclusionFlag") == "Y"
        line_points = 0 if excluded else int(value * points_per_cent * 100)
        cart += line_points
        used = min(line_points, remaining)
        remaining -= used
        lines.append(
            {
                "LineNumber": _s(item, "LineNumber"),
                "ItemType": _s(item, "ItemType"),
                "Division": _s(item, "Division"),
                "ItemNumber": _s(item, "ItemNumber"),
                "LineItemAmountTypeCode": _s(item, "LineItemAmountTypeCode"),
                "DollarValuePreDisc": _s(item, "DollarValuePreDisc"),
                "DollarValuePostDisc": _s(item, "DollarValuePostDisc"),
                "Quantity": _s(item, "Quantity"),
                "PointsRedeemed": str(used),
                "DollarValueOfPointsRedeemed": _dollars(used, points_per_cent),
                "RedemptionExclusionFlag": _s(item, "RedemptionExclusionFlag") or "N",
                "TaxAmount": "0.00",
                "PostSalesAdjustmentAmount": "0.00",
                "NonMemberPrice": "0.00",
            }
        )
    return lines, cart


def process_redemption(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    f = {
        k: _s(body, k)
        for k in (
            "MessageVersion",
            "Function",
            "RequestorID",
            "MemberNumber",
            "MemberIdentifier",
            "PickUpStoreNumber",
            "OrderStoreNumber",
            "RegisterNumber",
            "TransactionDate",
            "TransactionTime",
            "RedemptionPoints",
            "AuthorizationCode",
            "TransactionNumber",
            "OrderId",
        )
    }
    ppc = state.points_per_cent
    echo = {
        "MemberNumber": f["MemberNumber"],
        "PickUpStoreNumber": f["PickUpStoreNumber"],
        "OrderStoreNumber": f["OrderStoreNumber"],
        "RegisterNumber": f["RegisterNumber"],
        "TransactionNumber": f["TransactionNumber"],
        "OrderId": f["OrderId"],
        "TransactionDate": f["TransactionDate"],
        "TransactionTime": f["TransactionTime"],
    }

    def additional(status: str, text: str) -> dict[str, Any]:
        return {
            "msg1": {},
            "msg2": {},
            "Status": status,
            "StatusText": text,
            "MessageVersion": f["MessageVersion"],
            "SysPulse": _pulse(started),
        }

    def refuse(status: str, text: str, extra: dict[str, Any] | None = None) -> Reply:
        return {
            **echo,
            **(extra or {}),
            "ResponseText": text,
            "Additional": additional(status, text),
            "MTServerName": MT_SERVER_NAME,
        }, False

    structural = "Structural Validation Errors"
    version = f["MessageVersion"]
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return refuse("99", "Message Version is invalid")
    function = f["Function"].upper()
    if function not in ("R", "B", "V"):
        return refuse("99", structural)
    if _requestor_problem(state, f["RequestorID"]) is not None:
        return refuse("99", structural)
    if not f["MemberNumber"] and not f["MemberIdentifier"]:
        return refuse("99", structural)
    for field, limit in (("PickUpStoreNumber", 5), ("OrderStoreNumber", 5), ("RegisterNumber", 3)):
        if not f[field] or len(f[field]) > limit:
            return refuse("99", structural)
    if not _valid_date(f["TransactionDate"]) or not _TIME.match(f["TransactionTime"]):
        return refuse("99", structural)
    if len(f["TransactionNumber"]) > 16 or len(f["OrderId"]) > 40:
        return refuse("99", structural)
    points = _int(f["RedemptionPoints"]) if f["RedemptionPoints"] else None
    if function == "R" and (points is None or points <= 0 or len(f["RedemptionPoints"]) > 10):
        return refuse("99", structural)
    if function == "V" and not f["AuthorizationCode"]:
        return refuse("99", structural)
    number = f["MemberNumber"]
    if number and (not _DIGITS.match(number) or len(number) > 18):
        return refuse("03", "Invalid Member Number/Password")
    member = _member_by(state, number, f["MemberIdentifier"])
    if member is None:
        return refuse("30", "No member found")
    echo["MemberNumber"] = member.member_number
    if member.club_status in _REDEMPTION_MEMBER_STATUS:
        return refuse(*_REDEMPTION_MEMBER_STATUS[member.club_status])

    before = member.points
    requested = points or 0
    lines, cart = _line_items(body, requested if function == "R" else 0, ppc)
    max_redeemable = max(before, 0) if cart is None else min(max(before, 0), cart)
    code = ""
    applied = 0
    now = _now(state)
    if function == "R":
        assert points is not None
        if points > before:
            return refuse(
                "01",
                "Points Not Available",
                {"TotalAvailableRewardPoints": before, "RedemptionPoints": points},
            )
        code = _auth_code(state)
        taken = member.debit(points)
        member.authorizations[code] = Authorization(
            code=code,
            member_number=member.member_number,
            points=points,
            lots=taken,
            transaction_number=f["TransactionNumber"],
            order_id=f["OrderId"],
        )
        member.activity.append(
            activity_entry(
                when=now,
                transaction_type="R",
                description=f"{f['OrderStoreNumber']} - Points Redemption",
                redeemed=points,
                balance=member.points,
                points_per_cent=ppc,
                transaction_number=f["TransactionNumber"],
                order_id=f["OrderId"],
                store=f["OrderStoreNumber"],
                register=f["RegisterNumber"],
                attributes=_code_attribute(state, code),
            )
        )
        state.ledger.append(
            LedgerEntry("redeem", member.member_number, -points, f["TransactionNumber"], code)
        )
        applied = points
    elif function == "V":
        code = f["AuthorizationCode"]
        authorization = member.authorizations.get(code)
        if authorization is None:
            return refuse("99", structural)
        if authorization.voided:
            return refuse("93", "Redemption already voided")
        if points is not None and points not in (0, authorization.points):
            return refuse("94", "Points not valid")
        authorization.voided = True
        for lot in authorization.lots:
            member.credit(lot.points, lot.expiry)
        restored_elsewhere = authorization.points - sum(lot.points for lot in authorization.lots)
        if restored_elsewhere > 0:
            member.credit(restored_elsewhere, _expiry_in(state, days=365))
        member.activity.append(
            activity_entry(
                when=now,
                transaction_type="V",
                description=f"{f['OrderStoreNumber']} - Redemption Void",
                redeemed=-authorization.points,
                balance=member.points,
                points_per_cent=ppc,
                transaction_number=f["TransactionNumber"] or authorization.transaction_number,
                order_id=f["OrderId"] or authorization.order_id,
                store=f["OrderStoreNumber"],
                register=f["RegisterNumber"],
                reason_code="VOID",
                attributes=_code_attribute(state, code),
            )
        )
        state.ledger.append(
            LedgerEntry(
                "void",
                member.member_number,
                authorization.points,
                f["TransactionNumber"] or authorization.transaction_number,
                code,
            )
        )
        applied = authorization.points
        echo["TransactionNumber"] = f["TransactionNumber"] or authorization.transaction_number
        echo["OrderId"] = f["OrderId"] or authorization.order_id
    after = member.points
    nearest = min(member.lots, key=lambda lot: lot.expiry, default=None)
    answer = {
        **echo,
        "RedemptionPoints": applied,
        "RedemptionDollarValue": _dollars(applied, ppc),
        "MaxRedeemablePoints": max_redeemable,
        "MaxRedeemableDollarValue": _dollars(max_redeemable, ppc),
        "TotalAvailableRewardPoints": after,
        "AuthorizationCode": code,
        "MaxRedeemableMemberOwnPoints": max_redeemable,
        "MaxRedeemableMemberOwnPointsDollarValue": _dollars(max_redeemable, ppc),
        "MaxRedeemableSurprisePoints": 0,
        "MaxRedeemableSurprisePointsDollarValue": "0.00",
        "TotalAvailableMemberOwnPoints": before,
        "TotalAvailableMemberOwnPointsDollarValue": _dollars(before, ppc),
        "TotalAvailableSurprisePoints": 0,
        "TotalAvailableSurprisePointsDollarValue": "0.00",
        "MaxRedeemableSurprisePointsList": {"RedeemableSurprisePoints": []},
        "TotalAvailableSurprisePointsList": {"AvailableSurprisePoints": []},
        "TotalQualifiedXRPointsList": {"QualifiedXRPoints": []},
        "MaxRedeemableXRPointsList": {"RedeemableXRPoints": []},
        "TotalAvailableXRPointsList": {"AvailableXRPoints": []},
        "LineItems": {"LineItem": lines},
        "ResponseText": "SUCCESS",
        "PointsToExpire": nearest.points if nearest else 0,
        "PointExpirationDate": (
            f"{nearest.expiry[:4]}-{nearest.expiry[4:6]}-{nearest.expiry[6:]}" if nearest else ""
        ),
        "PointsRedeemedOnBaseOffer": "0",
        "DollarValueOfPointsRedeemedOnBaseOffer": "0.00",
        "PointsRedeemedOnBonusOffer": str(applied if function == "R" else 0),
        "DollarValueOfPointsRedeemedOnBonusOffer": _dollars(applied if function == "R" else 0, ppc),
        "Additional": additional("0", "SUCCESS"),
        "MTServerName": MT_SERVER_NAME,
    }
    return answer, function in ("R", "V")
