"""Rewards API calls that find a member and read the balance: GetMemberLookup and
GetRewardBalance."""

from __future__ import annotations

from typing import Any

from gateway.connectors.shopyourway.simulator.helpers import (
    _dollars,
    _int,
    _member_by,
    _pulse,
    _s,
    _valid_date,
)
from gateway.connectors.shopyourway.simulator.members import Reply, _lookup_reply, _member_view
from gateway.connectors.shopyourway.simulator.state import (
    _DIGITS,
    _LENGTH,
    MT_SERVER_NAME,
    Member,
    SYWState,
)


def _lookup_matches(
    state: SYWState, search: str, body: dict[str, Any]
) -> tuple[list[Member] | None, str, str]:
    """(members found, status and text for none found), or (None, status, text) for a
    request problem."""
    v = {k: _s(body, k) for k in ("MemberNumber", "EmailAddress", "PhoneNumber")}
    first, last = _s(body, "FirstName").lower(), _s(body, "LastName").lower()
    members = list(state.members.values())

    def names_match(m: Member, *, required: bool) -> bool:
        if (required or first) and str(m.profile.get("FirstName", "")).lower() != first:
            return False
        return not (required or last) or str(m.profile.get("LastName", "")).lower() == last

    def by_email(m: Member) -> bool:
        return str(m.profile.get("EmailAddress", "")).lower() == v["EmailAddress"].lower()

    def by_phone(m: Member) -> bool:
        return any(str(p.get("PhoneNumber", "")) == v["PhoneNumber"] for p in m.phones())

    if search in ("01",):
        if not first:
            return None, "46", "FIRST NAME IS REQUIRED"
        if not last:
            return None, "47", "LAST NAME IS REQUIRED"
        return [m for m in members if names_match(m, required=True)], "64", "NO MATCHING NAME FOUND"
    if search in ("02", "10"):
        if not v["EmailAddress"]:
            return None, "48", "EMAIL ADDRESS IS REQUIRED"
        found = [m for m in members if by_email(m)]
        if found and search == "10":
            named = [m for m in found if names_match(m, required=False)]
            return named, "64", "NO MATCHING NAME FOUND"
        return found, "65", "NO MATCHING EMAIL ADDRESS FOUND"
    if search in ("04", "11"):
        if not v["PhoneNumber"]:
            return None, "50", "PHONE NUMBER IS REQUIRED"
        found = [m for m in members if by_phone(m)]
        if found and search == "11":
            named = [m for m in found if names_match(m, required=False)]
            return named, "64", "NO MATCHING NAME FOUND"
        return found, "66", "NO MATCHING PHONE NUMBER FOUND"
    if search in ("05", "09"):
        number = v["MemberNumber"]
        if not number:
            return None, "99", "MEMBER NUMBER IS REQUIRED"
        if not _DIGITS.match(number) or len(number) > 18:
            return None, "99", "INVALID MEMBER NUMBER"
        found = [m for m in members if m.member_number == number]
        if found and search == "09":
            named = [m for m in found if names_match(m, required=False)]
            return named, "64", "NO MATCHING NAME FOUND"
        return found, "68", "CLUB MEMBER NOT FOUND"
    if search == "06":
        if not v["PhoneNumber"]:
            return None, "50", "PHONE NUMBER IS REQUIRED"
        if not v["EmailAddress"]:
            return None, "48", "EMAIL ADDRESS IS REQUIRED"
        both = [m for m in members if by_email(m) and by_phone(m)]
        return both, "67", "NO MATCHING ROW FOUND"
    return None, "99", f"INVALID SEARCH TYPE FOR \u201c{_s(body, 'RequestorID')}\u201d"


def get_member_lookup(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    version = _s(body, "MessageVersion")

    def reply(status: str, text: str, members: list[dict[str, Any]] | None = None) -> Reply:
        answer = _lookup_reply(
            state, "GetMemberLookupResult", started, status, text, version, members or []
        )
        return answer, False

    requestor = _s(body, "RequestorID")
    search = _s(body, "SearchType")
    search = search.zfill(2) if _DIGITS.match(search) else search
    if not version:
        return reply("99", "MESSAGE VERSION IS REQUIRED")
    if not _DIGITS.match(version) or len(version) > 3:
        return reply("99", "MESSAGE VERSION IS NOT VALID")
    if requestor != state.requestor_id:
        return reply("99", f"INVALID SEARCH TYPE FOR \u201c{requestor}\u201d")
    store, terminal = _s(body, "StoreNumber"), _s(body, "Terminal")
    if store and (len(store) > 5 or not _DIGITS.match(store)):
        return reply("99", "STORE NUMBER IS INVALID")
    if terminal and (len(terminal) > 3 or not _DIGITS.match(terminal)):
        return reply("99", "TERMINAL NUMBER IS INVALID")
    members, status, text = _lookup_matches(state, search, body)
    if members is None:
        return reply(status, text)
    limit = _int(_s(body, "MaxRecords"))
    if limit is not None and limit > 0:
        members = members[:limit]
    if not members:
        return reply(status, text)
    return reply("0", "Success", [_member_view(state, m, _s(body, "SearchType")) for m in members])


def get_reward_balance(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    number, identifier = _s(body, "memberNumber"), _s(body, "memberIdentifier")

    def refuse(status: str, text: str) -> Reply:
        return {
            "mtServerName": MT_SERVER_NAME,
            "memberNumber": number,
            "additional": {"status": status, "statusText": text, "sysPulse": _pulse(started)},
        }, False

    requestor, store = _s(body, "requestorID"), _s(body, "storeNumber")
    if requestor and len(requestor) > 4:
        return refuse("99", f"Requestor Id is invalid {_LENGTH}")
    if requestor and requestor != state.requestor_id:
        return refuse("99", "Requestor Id is invalid")
    if len(store) > 5:
        return refuse("99", f"StoreNumber is invalid; {_LENGTH}")
    current = _s(body, "currentDate")
    bad_number = bool(number) and (not _DIGITS.match(number) or len(number) > 18)
    if (current and not _valid_date(current)) or bad_number:
        return refuse(
            "99", "Invalid current date. Member number is not valid or length is not proper"
        )
    if not number and not identifier:
        return refuse(
            "99", "Indicates a problem with the input. Telluride could not perform the match"
        )
    member = _member_by(state, number, identifier)
    if member is None:
        return refuse("44", "Club ID Not Found")
    own = member.points
    dollars = _dollars(own, state.points_per_cent)
    buckets = [
        {
            "memberOwnPoints": str(lot.points),
            "memberOwnExpiryDate": lot.expiry,
            "memberOwnBasePoints": 0,
            "memberOwnBonusPoints": lot.points,
        }
        for lot in sorted(member.lots, key=lambda lot: lot.expiry)[:5]
    ]
    return {
        "mtServerName": MT_SERVER_NAME,
        "emailAddress": member.profile.get("EmailAddress", ""),
        "firstName": member.profile.get("FirstName", ""),
        "lastName": member.profile.get("LastName", ""),
        "memberNumber": int(member.member_number),
        "additional": {"status": "0", "statusText": "Good Balance", "sysPulse": _pulse(started)},
        "totalAvailablePointsSummary": {
            "totalAvailableBasePoints": "0",
            "totalAvailableBonusPoints": str(own),
            "totalAvailablePoints": str(own),
            "totalAvailableMemberOwnPoints": str(own),
            "totalAvailableSurprisePoints": "0",
            "channelWisePointsSummary": {
                "channel": [
                    {
                        "memberOwnPoints": own,
                        "pointsPerCent": state.points_per_cent,
                        "availablePoints": own,
                        "surprisePoints": 0,
                        "restrictedPoints": 0,
                        "availableDollars": dollars,
                        "availableBonusPoints": own,
                        "availableBasePoints": 0,
                        "availableMemberOwnPointsList": {"memberOwnPointsToExpire": buckets},
                        "availableSurprisePointsList": {"availableSurprisePoints": []},
                        "availablePartnerBenefitsPointsList": {"availableSurprisePoints": []},
                        "availableXROfferList": {"totalAvailableXROffers": []},
                        "availablePointsToRedeem": max(own, 0),
                        "redeemableDollars": _dollars(max(own, 0), state.points_per_cent),
                        "redemptionCapDetails": {"capDuration": "", "capValue": "0", "capType": ""},
                    }
                ]
            },
        },
    }, False
