"""Every status code the ShopYourWay document lists, mapped onto the contract's error codes.

Telluride answers HTTP 200 and puts the outcome in a status inside the body; each API has
its own table ("Error/Status Code"). ``status_codes.json`` holds those tables row by row,
exactly as written (one row per documented text, so a code with several texts has several
rows). The auth codes of "Authentication at Telluride" are in ``auth_errors.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.connectors.shopyourway import errors, transform
from gateway.connectors.shopyourway.errors import PROVIDER
from gateway.domain.errors import (
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

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "shopyourway"
STATUS_CODES: dict[str, list[dict[str, str]]] = json.loads(
    (FIXTURES / "status_codes.json").read_text(encoding="utf-8")
)
AUTH_ERRORS: list[dict[str, str]] = json.loads(
    (FIXTURES / "auth_errors.json").read_text(encoding="utf-8")
)

MAPPERS: dict[str, Callable[[str, str], GatewayError]] = {
    "CreateMember": errors.create_member_error,
    "GetMemberLookup": errors.lookup_error,
    "GetRewardBalance": errors.balance_error,
    "ProcessRedemption": errors.redemption_error,
    "PostExternalBonus": errors.bonus_error,
    "GetApplicableOffers": errors.offers_error,
    "GetMemberActivityDetail": errors.activity_error,
}

#: operation -> {status: error class}; a status whose meaning depends on its text is
#: resolved through BY_TEXT below
BY_STATUS: dict[str, dict[str, type[GatewayError]]] = {
    "CreateMember": {
        "62": UpstreamRejected,  # invalid affiliation code (the gateway sends none)
        "63": InvalidRequest,
        "71": InvalidRequest,
        "72": MemberAlreadyEnrolled,
        "77": UpstreamRejected,
        "80": InvalidRequest,
        "81": InvalidRequest,
        "83": InvalidRequest,
        "84": InvalidRequest,
        "85": InvalidRequest,
        "86": MemberAlreadyEnrolled,
        "87": MemberAlreadyEnrolled,
        "88": MemberAlreadyEnrolled,
        "90": UpstreamUnavailable,
        "92": InvalidRequest,
        "93": UpstreamUnavailable,
        "99": InvalidRequest,
    },
    "GetMemberLookup": {
        "46": UpstreamRejected,
        "47": UpstreamRejected,
        "48": UpstreamRejected,
        "50": UpstreamRejected,
        "63": UpstreamRejected,
        "64": MemberNotFound,
        "65": MemberNotFound,
        "66": MemberNotFound,
        "67": MemberNotFound,
        "68": MemberNotFound,
        "70": MemberNotFound,
        "71": MemberNotFound,
        "90": UpstreamUnavailable,
        "99": UpstreamRejected,
    },
    "GetRewardBalance": {
        "4": UpstreamUnavailable,
        "44": MemberNotFound,
        "99": UpstreamRejected,
    },
    "ProcessRedemption": {
        "01": InsufficientPoints,
        "03": MemberNotFound,
        "30": MemberNotFound,
        "31": MemberInactive,
        "32": MemberInactive,
        "33": MemberInactive,
        "35": MemberInactive,
        "90": UpstreamUnavailable,
        "91": UpstreamRejected,
        "93": UpstreamRejected,  # a void answered 93 is handled by the client (voided)
        "94": UpstreamRejected,
        "99": UpstreamRejected,
    },
    "PostExternalBonus": {
        "2": UpstreamRejected,
        "5": UpstreamRejected,
        "44": MemberNotFound,
        "45": MemberInactive,
        "99": UpstreamRejected,
    },
    "GetApplicableOffers": {
        "2": UpstreamRejected,
        "30": MemberNotFound,
        "81": UpstreamUnavailable,
        "99": UpstreamRejected,
    },
    "GetMemberActivityDetail": {
        "30": MemberNotFound,
        "81": UpstreamUnavailable,
        "99": UpstreamRejected,
    },
}

#: (operation, status, text) whose class differs from BY_STATUS because of the text
BY_TEXT: dict[tuple[str, str, str], type[GatewayError]] = {
    ("GetMemberLookup", "99", "INVALID MEMBER NUMBER"): MemberNotFound,
    ("GetMemberLookup", "99", "NO MATCHING RECORDS FOUND"): MemberNotFound,
    (
        "GetRewardBalance",
        "99",
        "* Invalid current date. Member number is not valid or length is not proper",
    ): MemberNotFound,
    ("PostExternalBonus", "44", "Member is not Active"): MemberInactive,
    # The only 99 "member number" text of this table says the number was missing; the
    # gateway always sends the path's member id, so "no such member" is the caller's view.
    ("GetMemberActivityDetail", "99", "Member Number is a required field"): MemberNotFound,
}

#: CreateMember rows answered as invalid_request: the field named for each documented text
#: (every 80 names "email"; any other text not listed here names the whole "body")
CREATE_MEMBER_FIELDS: dict[str, str] = {
    "Zip Code is required": "address.postal_code",
    "A valid email address or mobile phone # or home phone # is required": "email",
    "INVALID FIELD(FIRST NAME) ENTRY": "first_name",
    "INVALID FIELD(LAST NAME) ENTRY": "last_name",
    "Home Phone Reached Maximum Limit": "phone",
    "PHONE NUMBER REQUIRED": "phone",
    "Zip extension cannot exceed 4 positions": "address.postal_code",
    "ADDRESSLINE1 INVALID-The actual length is greater than the MaxLength value.": "address",
    "ADDRESSLINE2 INVALID-The actual length is greater than the MaxLength value.": "address",
    "STATE INVALID-The actual length is greater than the MaxLength value.": "address",
    "INVALID COUNTRY/STATE": "address",
    "PLEASE ENTER A VALID ZIPCODE": "address.postal_code",
    "PLEASE ENTER A VALID ZIPCODE EXTENSION": "address.postal_code",
    "INVALID FIELD(DOB) ENTRY": "birth_date",
    "RECEIPT PREF NEEDS A VALID EMAIL ADDRESS": "email",
    "Please enter a valid address": "address",
    "Address associated to more than 4 SYW memberships": "address",
    "FIRST NAME IS REQUIRED": "first_name",
    "LAST NAME IS REQUIRED": "last_name",
}


def create_member_field(status: str, text: str) -> str:
    return "email" if status == "80" else CREATE_MEMBER_FIELDS.get(text, "body")


def documented_rows() -> list[Any]:
    rows = []
    for operation, table in STATUS_CODES.items():
        for row in table:
            if transform.is_ok(row["status"]):
                continue
            rows.append(
                pytest.param(
                    operation,
                    row["status"],
                    row["text"],
                    id=f"{operation}-{row['status']}-{row['text'][:40]}",
                )
            )
    return rows


def expected_class(operation: str, status: str, text: str) -> type[GatewayError]:
    if operation == "CreateMember" and status == "99" and not errors.is_member_data(text):
        # REQUESTOR ID / MESSAGE VERSION / TNC ...: the program's settings, not member data
        return UpstreamRejected
    return BY_TEXT.get((operation, status, text)) or BY_STATUS[operation][status]


def test_the_fixture_holds_every_table():
    assert set(STATUS_CODES) == set(MAPPERS)
    assert {op: len(rows) for op, rows in STATUS_CODES.items()} == {
        "CreateMember": 84,
        "GetMemberLookup": 25,
        "GetRewardBalance": 8,
        "ProcessRedemption": 13,
        "PostExternalBonus": 25,
        "GetApplicableOffers": 6,
        "GetMemberActivityDetail": 5,
    }


@pytest.mark.parametrize(("operation", "status", "text"), documented_rows())
def test_every_documented_status(operation, status, text):
    error = MAPPERS[operation](status, text)

    cls = expected_class(operation, status, text)
    assert type(error) is cls
    assert error.code == cls.code
    # the provider's own status (as sent, leading zeros kept) and text are kept
    assert error.upstream == UpstreamDetail(
        provider=PROVIDER, status=200, code=status, message=text
    )
    if cls is not UpstreamUnavailable:
        assert error.outcome == "answered"


def invalid_request_rows() -> list[Any]:
    return [p for p in documented_rows() if expected_class(*p.values) is InvalidRequest]


@pytest.mark.parametrize(("operation", "status", "text"), invalid_request_rows())
def test_invalid_request_names_a_field(operation, status, text):
    error = MAPPERS[operation](status, text)

    assert operation == "CreateMember"
    assert error.errors is not None
    [field_error] = error.errors
    assert field_error.field == create_member_field(status, text)
    assert field_error.message == text


@pytest.mark.parametrize("operation", list(MAPPERS))
def test_each_table_has_one_success_status(operation):
    ok_rows = [r for r in STATUS_CODES[operation] if transform.is_ok(r["status"])]

    assert [r["text"] for r in ok_rows] in (
        ["Success"],
        ["Good Balance"],
        ["Good Response"],
        ["Successful Call"],
    )


# --- the examples the contract calls out, spelled out ----------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("01", "insufficient_points"),
        ("30", "member_not_found"),
        ("31", "member_inactive"),
        ("32", "member_inactive"),
        ("33", "member_inactive"),
        ("35", "member_inactive"),
        ("90", "upstream_unavailable"),
    ],
)
def test_redemption_statuses(status, code):
    assert errors.redemption_error(status, "text").code == code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("86", "member_already_enrolled"),
        ("87", "member_already_enrolled"),
        ("88", "member_already_enrolled"),
        ("72", "member_already_enrolled"),
        ("63", "invalid_request"),
        ("80", "invalid_request"),
        ("81", "invalid_request"),
    ],
)
def test_create_member_statuses(status, code):
    assert errors.create_member_error(status, "INVALID FIELD(FIRST NAME) ENTRY").code == code


def test_create_member_80_names_the_email_whatever_the_text():
    error = errors.create_member_error("80", "Cannot use this, please try again")

    assert error.errors is not None
    assert error.errors[0].field == "email"


@pytest.mark.parametrize("status", ["64", "65", "66", "67", "68", "70", "71"])
def test_lookup_not_found(status):
    assert errors.lookup_error(status, "NO MATCHING ROW FOUND").code == "member_not_found"


def test_balance_statuses():
    assert errors.balance_error("44", "Club ID Not Found").code == "member_not_found"
    assert errors.balance_error("4", "Retry DB Error").code == "upstream_unavailable"


@pytest.mark.parametrize(
    ("status", "text", "code"),
    [
        ("44", "Member is not Active", "member_inactive"),
        ("44", "Club ID Not Found", "member_not_found"),
        ("45", "Member not eligible to Earn Points", "member_inactive"),
        ("2", "OfferId is not activated", "upstream_rejected"),
        ("5", "Offer Qualification failed", "upstream_rejected"),
        ("99", "Points should be numeric", "upstream_rejected"),
    ],
)
def test_bonus_statuses(status, text, code):
    assert errors.bonus_error(status, text).code == code


def test_an_undocumented_status_is_upstream_rejected():
    for mapper in MAPPERS.values():
        error = mapper("57", "Something new")
        assert type(error) is UpstreamRejected
        assert error.upstream == UpstreamDetail(
            provider=PROVIDER, status=200, code="57", message="Something new"
        )


# --- "Authentication at Telluride" -------------------------------------------------------

AUTH_CODES = [row["code"] for row in AUTH_ERRORS]


def test_the_seven_documented_auth_codes_are_known():
    assert len(AUTH_CODES) == 7
    assert set(AUTH_CODES) <= set(errors.AUTH_CODES)
    assert set(errors.RETRY_WITH_NEW_TOKEN) == {"ACCESSTOKEN_EXPIRED", "ACCESSTOKEN_INVALID"}


@pytest.mark.parametrize("row", AUTH_ERRORS, ids=AUTH_CODES)
def test_auth_code_in_a_json_body(row):
    body = json.dumps({"code": row["code"], "message": row["description"]})

    assert errors.auth_code_in(body) == row["code"]


@pytest.mark.parametrize("row", AUTH_ERRORS, ids=AUTH_CODES)
def test_auth_code_in_plain_text(row):
    assert errors.auth_code_in(row["code"]) == row["code"]
    assert errors.auth_code_in(f"{row['code']}: {row['description']}") == row["code"]
    assert errors.auth_code_in(f"error={row['code'].lower()}") == row["code"]


@pytest.mark.parametrize("row", AUTH_ERRORS, ids=AUTH_CODES)
@pytest.mark.parametrize("http_status", [401, 500])
def test_auth_code_in_an_http_error_answer(row, http_status):
    response = httpx.Response(
        http_status, json={"code": row["code"], "message": row["description"]}
    )

    assert errors.auth_code_in(response.text) == row["code"]


@pytest.mark.parametrize(
    "name",
    [
        "token_answer",
        "create_member_response",
        "member_lookup_response",
        "reward_balance_response",
        "process_redemption_response",
        "post_external_bonus_response",
        "applicable_offers_response",
        "member_activity_details_response",
    ],
)
def test_no_auth_code_in_the_documents_answers(load_fixture, name):
    assert errors.auth_code_in(json.dumps(load_fixture("shopyourway", name))) is None


@pytest.mark.parametrize("text", ["", "Internal Server Error", '{"Status":"90"}'])
def test_no_auth_code_in_other_failures(text):
    assert errors.auth_code_in(text) is None


@pytest.mark.parametrize("code", AUTH_CODES)
def test_auth_failure(code):
    error = errors.auth_failure(code, 401)

    assert type(error) is UpstreamUnavailable
    assert error.upstream == UpstreamDetail(provider=PROVIDER, status=401, code=code)
    assert error.outcome == "not_sent"


# --- the tables themselves ---------------------------------------------------------------


def test_a_table_takes_its_first_matching_rule_and_rejects_the_rest() -> None:
    from gateway.connectors.shopyourway import errors
    from gateway.domain.errors import MemberInactive, MemberNotFound, UpstreamRejected

    # 44 with "not active" is the inactive rule, listed before the plain 44
    assert isinstance(errors.BONUS.map("44", "Member not active"), MemberInactive)
    assert isinstance(errors.BONUS.map("044", "Invalid member"), MemberNotFound)
    unknown = errors.BONUS.map("77", "something new")
    assert isinstance(unknown, UpstreamRejected)
    assert unknown.detail == errors.BONUS.otherwise
    assert unknown.upstream is not None
    assert (unknown.upstream.code, unknown.upstream.message) == ("77", "something new")
