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
    Member,
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


_FIELDS = (
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
_ECHOED = (
    "MemberNumber",
    "PickUpStoreNumber",
    "OrderStoreNumber",
    "RegisterNumber",
    "TransactionNumber",
    "OrderId",
    "TransactionDate",
    "TransactionTime",
)
_STRUCTURAL = "Structural Validation Errors"


class _Call:
    """One ProcessRedemption request: its fields, the fields every answer echoes, and the
    answers' common parts."""

    def __init__(self, body: dict[str, Any], started: float) -> None:
        self.f = {k: _s(body, k) for k in _FIELDS}
        self.echo: dict[str, Any] = {k: self.f[k] for k in _ECHOED}
        self.started = started
        self.function = self.f["Function"].upper()
        self.points = _int(self.f["RedemptionPoints"]) if self.f["RedemptionPoints"] else None

    def additional(self, status: str, text: str) -> dict[str, Any]:
        return {
            "msg1": {},
            "msg2": {},
            "Status": status,
            "StatusText": text,
            "MessageVersion": self.f["MessageVersion"],
            "SysPulse": _pulse(self.started),
        }

    def refuse(self, status: str, text: str, extra: dict[str, Any] | None = None) -> Reply:
        return {
            **self.echo,
            **(extra or {}),
            "ResponseText": text,
            "Additional": self.additional(status, text),
            "MTServerName": MT_SERVER_NAME,
        }, False


class _Refused(Exception):
    """A function's refusal, carrying the answer to give."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def _malformed(state: SYWState, call: _Call) -> tuple[str, str] | None:
    """The status a request the document's structure rules refuse gets, else ``None``."""
    f = call.f
    version = f["MessageVersion"]
    if not version or not _DIGITS.match(version) or len(version) > 3:
        return "99", "Message Version is invalid"
    if call.function not in ("R", "B", "V"):
        return "99", _STRUCTURAL
    if _requestor_problem(state, f["RequestorID"]) is not None:
        return "99", _STRUCTURAL
    if not f["MemberNumber"] and not f["MemberIdentifier"]:
        return "99", _STRUCTURAL
    for field, limit in (("PickUpStoreNumber", 5), ("OrderStoreNumber", 5), ("RegisterNumber", 3)):
        if not f[field] or len(f[field]) > limit:
            return "99", _STRUCTURAL
    if not _valid_date(f["TransactionDate"]) or not _TIME.match(f["TransactionTime"]):
        return "99", _STRUCTURAL
    if len(f["TransactionNumber"]) > 16 or len(f["OrderId"]) > 40:
        return "99", _STRUCTURAL
    points = call.points
    if call.function == "R" and (points is None or points <= 0 or len(f["RedemptionPoints"]) > 10):
        return "99", _STRUCTURAL
    if call.function == "V" and not f["AuthorizationCode"]:
        return "99", _STRUCTURAL
    number = f["MemberNumber"]
    if number and (not _DIGITS.match(number) or len(number) > 18):
        return "03", "Invalid Member Number/Password"
    return None


def _authorize(state: SYWState, member: Member, call: _Call) -> tuple[str, int]:
    """Function R: hold the points under a new authorization code (code, points applied)."""
    f, points = call.f, call.points
    assert points is not None
    if points > member.points:
        raise _Refused(
            call.refuse(
                "01",
                "Points Not Available",
                {"TotalAvailableRewardPoints": member.points, "RedemptionPoints": points},
            )
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
            when=_now(state),
            transaction_type="R",
            description=f"{f['OrderStoreNumber']} - Points Redemption",
            redeemed=points,
            balance=member.points,
            points_per_cent=state.points_per_cent,
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
    return code, points


def _void(state: SYWState, member: Member, call: _Call) -> tuple[str, int]:
    """Function V: give an authorization's points back (once), to the lots they came from."""
    f, code = call.f, call.f["AuthorizationCode"]
    authorization = member.authorizations.get(code)
    if authorization is None:
        raise _Refused(call.refuse("99", _STRUCTURAL))
    if authorization.voided:
        raise _Refused(call.refuse("93", "Redemption already voided"))
    if call.points is not None and call.points not in (0, authorization.points):
        raise _Refused(call.refuse("94", "Points not valid"))
    authorization.voided = True
    for lot in authorization.lots:
        member.credit(lot.points, lot.expiry)
    restored_elsewhere = authorization.points - sum(lot.points for lot in authorization.lots)
    if restored_elsewhere > 0:
        member.credit(restored_elsewhere, _expiry_in(state, days=365))
    transaction_number = f["TransactionNumber"] or authorization.transaction_number
    order_id = f["OrderId"] or authorization.order_id
    member.activity.append(
        activity_entry(
            when=_now(state),
            transaction_type="V",
            description=f"{f['OrderStoreNumber']} - Redemption Void",
            redeemed=-authorization.points,
            balance=member.points,
            points_per_cent=state.points_per_cent,
            transaction_number=transaction_number,
            order_id=order_id,
            store=f["OrderStoreNumber"],
            register=f["RegisterNumber"],
            reason_code="VOID",
            attributes=_code_attribute(state, code),
        )
    )
    state.ledger.append(
        LedgerEntry("void", member.member_number, authorization.points, transaction_number, code)
    )
    call.echo["TransactionNumber"] = transaction_number
    call.echo["OrderId"] = order_id
    return code, authorization.points


def process_redemption(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    call = _Call(body, started)
    problem = _malformed(state, call)
    if problem is not None:
        return call.refuse(*problem)
    member = _member_by(state, call.f["MemberNumber"], call.f["MemberIdentifier"])
    if member is None:
        return call.refuse("30", "No member found")
    call.echo["MemberNumber"] = member.member_number
    if member.club_status in _REDEMPTION_MEMBER_STATUS:
        return call.refuse(*_REDEMPTION_MEMBER_STATUS[member.club_status])

    before = member.points
    redeeming = (call.points or 0) if call.function == "R" else 0
    lines, cart = _line_items(body, redeeming, state.points_per_cent)
    max_redeemable = max(before, 0) if cart is None else min(max(before, 0), cart)
    code, applied = "", 0
    if call.function in ("R", "V"):
        try:
            code, applied = (_authorize if call.function == "R" else _void)(state, member, call)
        except _Refused as refused:
            return refused.reply
    return _answer(call, member, before, applied, code, max_redeemable, lines, state), (
        call.function in ("R", "V")
    )


def _answer(
    call: _Call,
    member: Member,
    before: int,
    applied: int,
    code: str,
    max_redeemable: int,
    lines: list[dict[str, Any]],
    state: SYWState,
) -> dict[str, Any]:
    """The document's success answer (its many surprise/XR point lists empty)."""
    ppc = state.points_per_cent
    nearest = min(member.lots, key=lambda lot: lot.expiry, default=None)
    bonus = applied if call.function == "R" else 0
    return {
        **call.echo,
        "RedemptionPoints": applied,
        "RedemptionDollarValue": _dollars(applied, ppc),
        "MaxRedeemablePoints": max_redeemable,
        "MaxRedeemableDollarValue": _dollars(max_redeemable, ppc),
        "TotalAvailableRewardPoints": member.points,
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
        "PointsRedeemedOnBonusOffer": str(bonus),
        "DollarValueOfPointsRedeemedOnBonusOffer": _dollars(bonus, ppc),
        "Additional": call.additional("0", "SUCCESS"),
        "MTServerName": MT_SERVER_NAME,
    }
