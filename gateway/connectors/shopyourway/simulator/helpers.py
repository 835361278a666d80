"""Small helpers the calls share: the document's date/time formats, field access in the
request body, money, authorization codes and activity entries."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from gateway.connectors.shopyourway.simulator.state import _DATE, Member, SYWState, _now_ms


def _dttm(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _parse(text: str, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, fmt)
    except ValueError:
        return None


def _valid_date(text: str) -> bool:
    return bool(_DATE.match(text)) and _parse(text, "%Y-%m-%d") is not None


def _s(body: dict[str, Any], key: str) -> str:
    """A request field as stripped text ("" when absent, null or not a scalar)."""
    value = body.get(key)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value).strip()
    return ""


def _int(text: str) -> int | None:
    """An integer written with digits only (an optional leading minus)."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return None


def _dollars(points: int, points_per_cent: int) -> str:
    value = Decimal(points) / Decimal(points_per_cent * 100)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _pulse(started: float) -> str:
    return f"{int((time.perf_counter() - started) * 1000)}ms"


def _response_date_time(state: SYWState) -> tuple[int, int]:
    """(ResponseDate, ResponseTime): midnight in epoch ms, and ms since midnight."""
    now_ms = _now_ms(state)
    midnight = now_ms - now_ms % 86_400_000
    return midnight, now_ms - midnight


def _auth_code(state: SYWState) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(8))
        if not any(code in m.authorizations for m in state.members.values()):
            return code


def _code_attribute(state: SYWState, code: str) -> dict[str, str] | None:
    return {"authorizationCode": code} if state.activity_shows_authorization_code else None


def _member_by(state: SYWState, number: str, identifier: str) -> Member | None:
    if number:
        return state.members.get(number)
    return next((m for m in state.members.values() if m.member_identifier == identifier), None)


def activity_entry(
    *,
    when: dt.datetime,
    transaction_type: str,
    description: str,
    points: int = 0,
    redeemed: int = 0,
    balance: int,
    points_per_cent: int = 10,
    transaction_number: str = "",
    order_id: str = "",
    store: str = "00001",
    register: str = "001",
    reason_code: str = "",
    offer: tuple[str, str] | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``TransactionDetail`` of GetMemberActivityDetail, in the document sample's shape."""
    return {
        "TransactionDTTM": _dttm(when),
        "TransactionID": secrets.token_hex(16).upper(),
        "TransactionDescription": description,
        "TransactionType": transaction_type,
        "TotalPoints": points,
        "TotalBasePoints": 0,
        "TotalBonusPoints": points,
        "SpecialUsePoints": 0,
        "TotalPointsRedeemed": redeemed,
        "SpecialUsePointsRedeemed": 0,
        "DollarValueOfPointsRedeemed": float(_dollars(redeemed, points_per_cent)),
        "SpecialUsePointsRedeemedDollarValue": 0,
        "TotalExpired": 0,
        "StoreLocation": store,
        "StoreFormat": "TLCO",
        "EarnType": "BONUS",
        "GrossSpend": "0.00",
        "ReasonCode": reason_code,
        "PostTS": _dttm(when),
        "PickUpStoreNumber": store,
        "TotalTax": "0.00",
        "AssociateID": "",
        "ProcessStatus": "A",
        "TransactionNumber": transaction_number,
        "RegisterNumber": register,
        "TotalDollarSaving": 0.0,
        "OrderId": order_id,
        "OrderSource": "TELL",
        "PointBalance": balance,
        "EarnOffers": {
            "EarnOffer": (
                [
                    {
                        "EarnOfferCode": offer[0],
                        "EarnOfferName": offer[1],
                        "EarnOfferType": "BONUS",
                        "PointsEarned": points,
                        "QualifiedAmount": 0.0,
                    }
                ]
                if offer
                else []
            )
        },
        "TransactionAttributes": {
            "TransactionAttribute": [
                {"TransactionAttributeKey": k, "TransactionAttributeValue": v}
                for k, v in (attributes or {}).items()
            ]
        },
    }
