"""Rewards API calls about members: the member view, enrollment (CreateMember) and its field
rules. Every call is (state, body, started) -> (answer, applied a write)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from gateway.connectors.shopyourway.simulator.helpers import (
    _pulse,
    _response_date_time,
    _s,
    _valid_date,
)
from gateway.connectors.shopyourway.simulator.state import (
    _DIGITS,
    _LENGTH,
    _NAME,
    MSG1,
    MSG2,
    MT_SERVER_NAME,
    PROFILE_DEFAULTS,
    Member,
    SYWState,
    _copy,
    _now,
)

#: what every Rewards call answers: (its answer, whether it applied a write)
Reply = tuple[dict[str, Any], bool]


def _member_view(state: SYWState, member: Member, search_type: str) -> dict[str, Any]:
    p = member.profile
    phones = member.phones()
    return {
        "msg1": MSG1,
        "msg2": MSG2,
        "msg3": "",
        "msg4": "",
        "msg5": "",
        **{k: p.get(k, "") for k in list(PROFILE_DEFAULTS)[:12]},
        "MemberNumber": member.member_number,
        "ClubStatus": member.club_status,
        "AuthFirstName": "",
        "AuthLastName": "",
        "ClubStatusChangeDate": member.date_issued_ms,
        "StatusChangeReasonCode": "",
        "StatusChangeReasonDesc": "",
        "CreatedBy": p.get("CreatedBy", ""),
        "DateIssued": member.date_issued_ms,
        "MemberSinceDate": member.date_issued_ms,
        "ClubDNPStatus": p.get("ClubDNPStatus", ""),
        "AgeEligible": p.get("AgeEligible", "Y"),
        "DOB": p.get("DOB", ""),
        "OnlineValidationFlag": p.get("OnlineValidationFlag", "N"),
        "OnlineValidationDate": member.date_issued_ms - member.date_issued_ms % 86_400_000,
        "WirelessPermissionFlag": p.get("WirelessPermissionFlag", ""),
        "LanguagePreference": p.get("LanguagePreference", "E"),
        "VIPTier": "",
        "TotalSpentYTD": 0,
        "TotalTripYTD": 0,
        "SpendNextTierLevel": "0",
        "VIPNextLevel": [{}],
        "CardDesignType": p.get("CardDesignType", "VRTL"),
        "SHCAssociateInd": p.get("SHCAssociateInd", "N"),
        "TotalRedeemablePoints": max(member.points, 0),
        "EmailStatusReturn": "",
        "RedemptionSystemCode": "M",
        "ClubEmailOptStatus": p.get("ClubEmailOptStatus", "N"),
        "SearchType": search_type,
        "Deceased": False,
        "CountryCode": p.get("CountryCode", "US"),
        "PhoneNumbers": {
            "Phone": [
                {
                    "PhoneType": ph.get("PhoneType", "M"),
                    "PreferredPhoneType": ph.get("PreferredPhoneType")
                    or ("Y" if len(phones) == 1 else "N"),
                    "PhoneNumber": str(ph.get("PhoneNumber", "")),
                    "CarrierCode": ph.get("CarrierCode", ""),
                }
                for ph in phones
            ]
        },
        "IncompleteProfileInd": "N",
        "EmailConfirmed": "N",
        "MemberEarnType": p.get("MemberEarnType", "BASE"),
        "TestCardIndicator": p.get("TestCardIndicator", ""),
        "MobileValid": "",
        "Affinities": _copy(p.get("Affinities", {"Affinity": []})),
        "Attributes": _copy(p.get("Attributes", PROFILE_DEFAULTS["Attributes"])),
        "TermsAndConditions": _copy(p.get("TermsAndConditions", {"TermAndCondition": []})),
        "CheckoutPrompt": {},
        "Charity": "N",
        "EnrollmentSourceCode": p.get("EnrollmentSourceCode", ""),
        "EnrollmentStoreNumber": p.get("EnrollmentStoreNumber", ""),
        "SurvivorMemberNumber": "",
        "MobileConfirmed": "N",
        "Gender": p.get("Gender", ""),
    }


def _lookup_reply(
    state: SYWState,
    result: str,
    started: float,
    status: str,
    text: str,
    version: str,
    members: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``<result>.GetMemberLookupReply[0]`` wrapper CreateMember and GetMemberLookup share."""
    date, time_of_day = _response_date_time(state)
    messages = (MSG1, MSG2) if result == "GetMemberLookupResult" else (None, None)
    return {
        result: {
            "GetMemberLookupReply": [
                {
                    "MTServerName": MT_SERVER_NAME,
                    "Additional": {
                        "msg1": messages[0],
                        "msg2": messages[1],
                        "Status": status,
                        "StatusText": text,
                        "MessageVersion": version,
                        "SysPulse": _pulse(started),
                    },
                    "Type": "PROCESSED",
                    "ResponseDate": date,
                    "ResponseTime": time_of_day,
                    "NumRecordsReturned": len(members),
                    "Members": {"Member": members},
                }
            ]
        }
    }


def _requestor_problem(state: SYWState, requestor: str) -> str | None:
    if not requestor:
        return "REQUESTOR ID IS REQUIRED"
    if len(requestor) > 4:
        return f"REQUESTOR ID IS INVALID -{_LENGTH}"
    if requestor != state.requestor_id:
        return "REQUESTOR ID IS INVALID"
    return None


def _email_problem(email: str) -> str | None:
    """CreateMember's status 80 texts."""
    if len(email) >= 50:
        return "Email Address must be < 50 characters"
    if "@" not in email:
        return 'Invalid email - Missing "@" sign'
    if email.count("@") > 1:
        return "Invalid email - Extra '@' in email"
    user, domain = email.split("@")
    if not user:
        return "Invalid email - Missing User Name"
    if not domain:
        return "Invalid email - Missing domain name"
    if email.startswith("."):
        return 'Invalid email - Email begins with "."'
    if domain.startswith("."):
        return 'Invalid email - "." following "@" sign'
    if ".." in domain:
        return 'Invalid email - double "." in domain'
    if re.search(r"[\s,;:<>()\[\]\\\"]", email):
        return "Invalid character in email"
    if "." not in domain or not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        return "Invalid email - Bad domain name"
    return None


def _create_member_problem(state: SYWState, body: dict[str, Any]) -> tuple[str, str] | None:
    """The first documented structural problem of a CreateMember request, as (status, text)."""
    get = body.get
    s = {k: _s(body, k) for k in body}
    v = s.get
    if (problem := _requestor_problem(state, v("RequestorID", ""))) is not None:
        return "99", problem
    version = v("MessageVersion", "")
    if not version:
        return "99", "MESSAGE VERSION IS REQUIRED"
    if not _DIGITS.match(version) or len(version) > 3:
        return "99", "MESSAGE VERSION IS NOT VALID"
    for field, text in (
        ("FirstName", "FIRST NAME IS REQUIRED"),
        ("LastName", "LAST NAME IS REQUIRED"),
        ("CurrentDate", "CURRENT DATE IS REQUIRED"),
        ("CurrentTime", "CURRENT TIME IS REQUIRED"),
    ):
        if not v(field):
            return "99", text
    created_by = v("ClubMembershipCreatedBy", "")
    if not created_by or len(created_by) > 12:
        return "99", "CLUB MEMBERSHIP CREATED BY IS INVALID"
    for field, limit, label in (
        ("StoreNumber", 5, "STORE NUMBER"),
        ("Terminal", 3, "TERMINAL NUMBER"),
    ):
        value = v(field, "")
        if len(value) > limit:
            return "99", f"{label} IS INVALID -{_LENGTH}."
        if not _DIGITS.match(value):
            return "99", f"{label} IS INVALID"
    for field, allowed, text in (
        ("SHCAssociateInd", ("", "N", "A", "R"), "SHC ASSOCIATE ID IS INVALID"),
        ("PreferredLanguage", ("", "E", "S"), "LANGUAGE PREFERENCE IS INVALID"),
        ("ClubEmailOptStatus", ("", "Y", "N"), "CLUB EMAIL STATUS IS INVALID"),
        ("TnCStatus", ("", "Y", "N"), "TNCSTATUS IS INVALID"),
    ):
        if v(field, "") not in allowed:
            return "99", text
    if len(v("CardDesignType", "")) > 4:
        return "99", "CARD DESIGN TYPE IS INVALID"
    pin = v("PinNumber", "")
    if pin and (not _DIGITS.match(pin) or len(pin) > 8):
        return "99", "PIN NUMBER IS INVALID"
    # field entries (81)
    for field, label in (("FirstName", "FIRST NAME"), ("LastName", "LAST NAME")):
        value = v(field, "")
        if len(value) > 30 or not _NAME.match(value):
            return "81", f"INVALID FIELD({label}) ENTRY"
        if " " in value:
            return "81", "USE A DASH INSTEAD OF SPACE FOR NAME"
    middle = v("MiddleInitial", "")
    if middle and (len(middle) > 1 or not middle.isalpha()):
        return "81", "INVALID FIELD(MIDDLE INITIAL) ENTRY"
    for field, limit, text in (
        ("Prefix", 4, "INVALID PREFIX-The length cannot exceed 4 positions."),
        ("Suffix", 4, f"SUFFIX IS INVALID-{_LENGTH}."),
        ("Address1", 40, f"ADDRESSLINE1 INVALID-{_LENGTH}."),
        ("Address2", 40, f"ADDRESSLINE2 INVALID-{_LENGTH}."),
        ("State", 2, f"STATE INVALID-{_LENGTH}."),
        ("EnrollmentOfferCode", 10, f"ENROLLMENT OFFER CODE IS INVALID-{_LENGTH}."),
    ):
        if len(v(field, "")) > limit:
            return "81", text
    country = v("CountryCode", "").upper()
    if country not in ("", "US", "CA", "MX"):
        return "81", "INVALID COUNTRY/STATE"
    for field, text in (
        ("TestAccount", "TEST_ACCOUNT FLAG IS INVALID"),
        ("WirelessPermissionFlag", "WIRELESS PERMISSION FLAG IS INVALID"),
    ):
        if v(field, "") not in ("", "Y", "N"):
            return "81", text
    if v("ClubDNPStatus", "") not in ("", "M", "P", "B"):
        return "81", "CLUBDNPSTATUS IS INVALID"
    dob = v("DOB", "")
    if dob and not _valid_date(dob):
        return "81", "INVALID FIELD(DOB) ENTRY"
    zip_code = v("ZipCode", "")
    if not zip_code:
        return "63", "Zip Code is required"
    zip_ok = (
        bool(re.fullmatch(r"[A-Za-z0-9]{3,6}", zip_code))
        if country == "CA"
        else bool(re.fullmatch(r"\d{5}", zip_code))
    )
    if not zip_ok:
        return "81", "PLEASE ENTER A VALID ZIPCODE"
    extension = v("ZipCodeExtension", "")
    if len(extension) > 4:
        return "81", "Zip extension cannot exceed 4 positions"
    if extension and not extension.isalnum():
        return "81", "PLEASE ENTER A VALID ZIPCODE EXTENSION"
    phones_block = get("PhoneNumbers")
    phones = phones_block.get("Phone") if isinstance(phones_block, dict) else None
    if phones_block is not None and not isinstance(phones, list):
        return "81", "PHONE NUMBER REQUIRED"
    homes = 0
    for phone in phones or []:
        number = _s(phone, "PhoneNumber") if isinstance(phone, dict) else ""
        if not re.fullmatch(r"\d{10}", number):
            return "81", "PHONE NUMBER REQUIRED"
        homes += _s(phone, "PhoneType") == "H"
    if homes > 1:
        return "81", "Home Phone Reached Maximum Limit"
    email = v("EmailAddress", "")
    if not email and not phones:
        return "71", "A valid email address or mobile phone # or home phone # is required"
    if email and (problem := _email_problem(email)) is not None:
        return "80", problem
    return None


def create_member(state: SYWState, body: dict[str, Any], started: float) -> Reply:
    version = _s(body, "MessageVersion")

    def reply(status: str, text: str, members: list[dict[str, Any]] | None = None) -> Reply:
        answer = _lookup_reply(
            state, "CreateMemberResult", started, status, text, version, members or []
        )
        return answer, bool(members)

    if (problem := _create_member_problem(state, body)) is not None:
        return reply(*problem)
    wanted = _s(body, "MemberNumber")
    if wanted:
        if not re.fullmatch(r"7081\d{12}", wanted):
            return reply("77", "CLUB ID INVALID IN MEMBERSHIP SERVICES")
        if wanted in state.members:
            return reply("72", "CLUB ID ALREADY USED, TRY ANOTHER CARD")
    email = _s(body, "EmailAddress")
    phones: list[dict[str, Any]] = (body.get("PhoneNumbers") or {}).get("Phone") or []
    mobiles = {_s(p, "PhoneNumber") for p in phones if _s(p, "PhoneType") in ("M", "")}
    active = [m for m in state.members.values() if m.club_status == "A"]
    email_taken = bool(email) and any(
        m.profile.get("EmailAddress", "").lower() == email.lower() for m in active
    )
    mobile_taken = any(
        str(p.get("PhoneNumber", "")) in mobiles and p.get("PhoneType", "M") == "M"
        for m in active
        for p in m.phones()
    )
    if email_taken and mobile_taken:
        return reply("88", "EMAIL ADDRESS AND MOBILE PHONE EXISTS ON AN ACTIVE MEMBER")
    if email_taken:
        return reply("86", "EMAIL ADDRESS EXISTS ON AN ACTIVE MEMBER")
    if mobile_taken:
        return reply("87", "MOBILE PHONE EXISTS ON AN ACTIVE MEMBER")

    dob = _s(body, "DOB")
    age_eligible = "Y"
    if dob:
        born = dt.date.fromisoformat(dob)
        today = _now(state).date()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        age_eligible = "Y" if age > 13 else "N"
    store = _s(body, "StoreNumber")
    profile: dict[str, Any] = {k: _s(body, k) for k in list(PROFILE_DEFAULTS)[:12]}
    profile.update(
        {
            "CreatedBy": _s(body, "ClubMembershipCreatedBy"),
            "ClubDNPStatus": _s(body, "ClubDNPStatus"),
            "AgeEligible": age_eligible,
            "DOB": dob,
            "WirelessPermissionFlag": _s(body, "WirelessPermissionFlag"),
            "LanguagePreference": _s(body, "PreferredLanguage") or "E",
            "CardDesignType": _s(body, "CardDesignType") or "VRTL",
            "SHCAssociateInd": _s(body, "SHCAssociateInd") or "N",
            "ClubEmailOptStatus": _s(body, "ClubEmailOptStatus") or "N",
            "CountryCode": _s(body, "CountryCode").upper() or "US",
            "PhoneNumbers": {
                "Phone": [
                    {
                        "PhoneType": _s(p, "PhoneType") or "M",
                        "PreferredPhoneType": _s(p, "PreferredPhoneType")
                        or ("Y" if len(phones) == 1 else "N"),
                        "PhoneNumber": _s(p, "PhoneNumber"),
                        "CarrierCode": _s(p, "CarrierCode"),
                    }
                    for p in phones
                ]
            },
            "MemberEarnType": (
                "BONUS" if email and _s(body, "ClubEmailOptStatus") == "Y" else "BASE"
            ),
            "TestCardIndicator": _s(body, "TestAccount"),
            "TermsAndConditions": {
                "TermAndCondition": [
                    {
                        "TnCStatus": _s(body, "TnCStatus"),
                        "Version": _s(body, "TnCVersion"),
                        "StoreNumber": store,
                        "RegisterNumber": _s(body, "Terminal"),
                        "AssociateID": "",
                        "Prompt": "N",
                        "LatestVersion": _s(body, "TnCVersion"),
                    }
                ]
            },
            "EnrollmentSourceCode": _s(body, "RequestorID"),
            "EnrollmentStoreNumber": store,
            "Gender": _s(body, "Gender"),
        }
    )
    member = state.add_member(
        wanted or state.allocate_member_number(),
        profile=profile,
        pin_number=_s(body, "PinNumber") or _s(body, "ZipCode")[:5],
    )
    return reply("0", "Success", [_member_view(state, member, "5")])
