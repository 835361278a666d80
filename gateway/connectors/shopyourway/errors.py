"""Telluride status codes (inside the body) and auth error codes mapped onto the contract."""

from __future__ import annotations

from typing import NamedTuple

from gateway.domain.errors import (
    FieldError,
    GatewayError,
    InsufficientPoints,
    InvalidRequest,
    MemberAlreadyEnrolled,
    MemberInactive,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

PROVIDER = "shopyourway"

#: "Authentication at Telluride" codes; the first two mean "get a new token and retry"
RETRY_WITH_NEW_TOKEN = ("ACCESSTOKEN_EXPIRED", "ACCESSTOKEN_INVALID")
AUTH_CODES = (
    *RETRY_WITH_NEW_TOKEN,
    "ACCESSTOKEN_REQUIRED",
    "CLIENT_ID_INVALID",
    "CLIENT_ID_REQUIRED",
    "APPLICATION_NOT_PERMITTED",
    "AUTHENTICATION EXCEPTION",
    "AUTHENTICATION_EXCEPTION",
)


def auth_code_in(text: str) -> str | None:
    """The auth error code a Telluride answer carries, whatever its shape."""
    upper = text.upper()
    return next((code for code in AUTH_CODES if code in upper), None)


def auth_failure(code: str, status: int) -> UpstreamUnavailable:
    return UpstreamUnavailable(
        "ShopYourWay refused the gateway's credentials.",
        upstream=UpstreamDetail(provider=PROVIDER, status=status, code=code),
    )


def _detail(status: str, text: str) -> UpstreamDetail:
    return UpstreamDetail(provider=PROVIDER, status=200, code=status, message=text)


def _norm(status: str) -> str:
    return status.strip().lstrip("0") or "0"


def _text(text: str, *words: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


def create_member_error(status: str, text: str) -> GatewayError:
    """CreateMember's status codes."""
    code, up = _norm(status), _detail(status, text)
    if code in ("72", "86", "87", "88"):
        return MemberAlreadyEnrolled(
            "ShopYourWay already has a member with these details.", upstream=up
        )
    if code == "99" and not is_member_data(text):
        # REQUESTOR ID / MESSAGE VERSION / STORE NUMBER ...: the program's settings, not the
        # caller's data
        return UpstreamRejected("ShopYourWay rejected the program's request settings.", upstream=up)
    if code in ("63", "71", "80", "81", "83", "84", "85", "92", "99"):
        return InvalidRequest(
            "ShopYourWay rejected the member's details.",
            upstream=up,
            errors=[FieldError(field=_field_of(code, text), message=text)],
            outcome="answered",
        )
    if code in ("90", "93"):
        return UpstreamUnavailable(
            "ShopYourWay could not enroll the member right now.", upstream=up
        )
    return UpstreamRejected("ShopYourWay rejected the enrollment.", upstream=up)


_MEMBER_DATA = (
    "first name",
    "last name",
    "email",
    "phone",
    "zip",
    "address",
    "state",
    "country",
    "dob",
    "pin number",
    "name",
    "prefix",
    "suffix",
    "middle initial",
)
_SETTINGS_TEXT = ("club email status", "club membership created by")


def is_member_data(text: str) -> bool:
    """Does a CreateMember 99 text speak of the member's data (else of our settings)?"""
    lowered = text.lower()
    for setting in _SETTINGS_TEXT:
        lowered = lowered.replace(setting, "")
    return any(word in lowered for word in _MEMBER_DATA)


def _field_of(code: str, text: str) -> str:
    lowered = text.lower()
    if code == "80" or "email" in lowered:
        return "email"
    if code == "63" or "zip" in lowered:
        return "address.postal_code"
    if "first name" in lowered:
        return "first_name"
    if "last name" in lowered:
        return "last_name"
    if "phone" in lowered:
        return "phone"
    if "address" in lowered or "state" in lowered or "country" in lowered:
        return "address"
    if "dob" in lowered:
        return "birth_date"
    return "body"


#: GetMemberLookup statuses that simply mean "no such member"
LOOKUP_NOT_FOUND = frozenset({"64", "65", "66", "67", "68", "70", "71"})


class Rule(NamedTuple):
    """Status codes (leading zeros dropped) -> the contract error, when the text has one of
    ``words`` (any text when empty). A table's first matching rule wins."""

    codes: frozenset[str]
    error: type[GatewayError]
    detail: str
    words: tuple[str, ...] = ()


class Table(NamedTuple):
    rules: tuple[Rule, ...]
    #: the detail of the ``UpstreamRejected`` for a code no rule names
    otherwise: str

    def map(self, status: str, text: str) -> GatewayError:
        code, up = _norm(status), _detail(status, text)
        for rule in self.rules:
            if code in rule.codes and (not rule.words or _text(text, *rule.words)):
                return rule.error(rule.detail, upstream=up)
        return UpstreamRejected(self.otherwise, upstream=up)


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


_NO_MEMBER = "ShopYourWay has no such member."

LOOKUP = Table(
    (
        Rule(LOOKUP_NOT_FOUND, MemberNotFound, _NO_MEMBER),
        Rule(_codes("99"), MemberNotFound, _NO_MEMBER, ("no matching", "invalid member")),
        Rule(_codes("90"), UpstreamUnavailable, "ShopYourWay's member database failed."),
    ),
    "ShopYourWay rejected the lookup.",
)
BALANCE = Table(
    (
        Rule(_codes("44"), MemberNotFound, _NO_MEMBER),
        Rule(_codes("99"), MemberNotFound, _NO_MEMBER, ("member number",)),
        Rule(_codes("4"), UpstreamUnavailable, "ShopYourWay asked to retry (database error)."),
    ),
    "ShopYourWay rejected the balance request.",
)
#: PostExternalBonus
BONUS = Table(
    (
        Rule(
            _codes("44"),
            MemberInactive,
            "The member is not active at ShopYourWay.",
            ("not active",),
        ),
        Rule(_codes("44"), MemberNotFound, _NO_MEMBER),
        Rule(_codes("45"), MemberInactive, "The member may not earn points."),
    ),
    "ShopYourWay did not award the points.",
)
#: ProcessRedemption (two digits in the document: 00, 01, 30 ...)
REDEMPTION = Table(
    (
        Rule(_codes("1"), InsufficientPoints, "The member does not have enough points."),
        Rule(_codes("3", "30"), MemberNotFound, _NO_MEMBER),
        Rule(
            _codes("31", "32", "33", "35"),
            MemberInactive,
            "The member's status does not allow redemptions.",
        ),
        Rule(_codes("90"), UpstreamUnavailable, "ShopYourWay's database failed."),
    ),
    "ShopYourWay rejected the redemption.",
)
ACTIVITY = Table(
    (
        Rule(_codes("30"), MemberNotFound, _NO_MEMBER),
        Rule(_codes("99"), MemberNotFound, _NO_MEMBER, ("member number",)),
        Rule(_codes("81"), UpstreamUnavailable, "ShopYourWay failed to read the activity."),
    ),
    "ShopYourWay rejected the activity request.",
)
OFFERS = Table(
    (
        Rule(_codes("30"), MemberNotFound, _NO_MEMBER),
        Rule(_codes("81"), UpstreamUnavailable, "ShopYourWay failed to read the offers."),
    ),
    "ShopYourWay rejected the offers request.",
)

lookup_error = LOOKUP.map
balance_error = BALANCE.map
bonus_error = BONUS.map
redemption_error = REDEMPTION.map
activity_error = ACTIVITY.map
offers_error = OFFERS.map
