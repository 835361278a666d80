"""Telluride's JSON read into the gateway's shapes, on the document's own samples.

Every payload is a fixture copied from ``shopyourway-rewards-api.txt`` (see
``tests/fixtures/README.md``); the expected values are read off the document.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec
import pytest

from gateway.connectors.shopyourway import transform
from gateway.connectors.shopyourway.config import ShopYourWayOptions
from gateway.domain.commands import EnrollRequest
from gateway.domain.models import (
    ActivityEntry,
    Address,
    Balance,
    ExpiringPoints,
    Member,
    Money,
    Offer,
)
from gateway.services.writes import WriteContext

PROGRAM = "syw-test"
NOW = dt.datetime(2022, 2, 4, 10, 16, 57, tzinfo=dt.UTC)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


# --- reply_of / status_of / members_of -------------------------------------------------


def test_reply_of_create_member_unwraps_the_result_and_the_reply_list(load_fixture):
    body = load_fixture("shopyourway", "create_member_response")

    reply = transform.reply_of(body)

    assert reply is body["CreateMemberResult"]["GetMemberLookupReply"][0]
    assert reply["Type"] == "PROCESSED"


def test_reply_of_member_lookup_unwraps_the_result_and_the_reply_list(load_fixture):
    body = load_fixture("shopyourway", "member_lookup_response")

    reply = transform.reply_of(body)

    assert reply is body["GetMemberLookupResult"]["GetMemberLookupReply"][0]
    assert reply["MTServerName"] == "149-188_rewards_ds21"


@pytest.mark.parametrize(
    "name", ["reward_balance_response", "post_external_bonus_response"], ids=["balance", "bonus"]
)
def test_reply_of_an_unwrapped_answer_is_the_answer_itself(load_fixture, name):
    body = load_fixture("shopyourway", name)

    assert transform.reply_of(body) is body


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("create_member_response", ("0", "Success")),  # Result.Reply[0].Additional.Status
        ("member_lookup_response", ("0", "Success")),  # Result.Reply[0].Additional.Status
        ("reward_balance_response", ("0", "Good Balance")),  # additional.status (camelCase)
        ("process_redemption_response", ("0", "SUCCESS")),  # Additional.Status
        ("post_external_bonus_response", ("0", "Success")),  # top-level Status
        ("applicable_offers_response", ("0", "SUCCESS")),  # top-level Status
        ("member_activity_details_response", ("0", "Success")),  # top-level Status
    ],
    ids=["create", "lookup", "balance", "redemption", "bonus", "offers", "activity"],
)
def test_status_of_every_sample(load_fixture, name, expected):
    assert transform.status_of(load_fixture("shopyourway", name)) == expected


def test_status_of_reads_camel_case_additional_status():
    body = {"additional": {"status": "44", "statusText": "Club ID Not Found"}}

    assert transform.status_of(body) == ("44", "Club ID Not Found")


def test_status_of_reads_a_top_level_status():
    body = {
        "MemberNumber": "7081317715047317",
        "StatusText": "Member is not Active",
        "Status": "44",
    }

    assert transform.status_of(body) == ("44", "Member is not Active")


def test_status_of_prefers_additional_status_over_response_text(load_fixture):
    body = load_fixture("shopyourway", "process_redemption_response")
    body["Additional"]["Status"] = "01"
    body["Additional"]["StatusText"] = "Points Not Available"

    # ResponseText still says SUCCESS at the top level; the status is Additional's
    assert body["ResponseText"] == "SUCCESS"
    assert transform.status_of(body) == ("01", "Points Not Available")


def test_status_of_inside_a_wrapped_reply():
    body = {
        "GetMemberLookupResult": {
            "GetMemberLookupReply": [
                {"Additional": {"Status": "65", "StatusText": "NO MATCHING EMAIL ADDRESS FOUND"}}
            ]
        }
    }

    assert transform.status_of(body) == ("65", "NO MATCHING EMAIL ADDRESS FOUND")


@pytest.mark.parametrize(
    "body",
    [{"code": "ACCESSTOKEN_EXPIRED", "message": "expired"}, {}, None, [], "text"],
    ids=["auth-error", "empty", "none", "list", "string"],
)
def test_status_of_a_body_without_status_is_none(body):
    assert transform.status_of(body) is None


@pytest.mark.parametrize("status", ["0", "00", "000", " 0 "])
def test_is_ok(status):
    assert transform.is_ok(status)


@pytest.mark.parametrize("status", ["01", "30", "93", "4", "99"])
def test_is_not_ok(status):
    assert not transform.is_ok(status)


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("create_member_response", "7081460000037153"),
        ("member_lookup_response", "7081207612717221"),
    ],
    ids=["create", "lookup"],
)
def test_members_of_the_samples(load_fixture, name, number):
    members = transform.members_of(transform.reply_of(load_fixture("shopyourway", name)))

    assert [m["MemberNumber"] for m in members] == [number]


def test_members_of_a_single_member_object():
    assert transform.members_of({"Members": {"Member": {"MemberNumber": "1"}}}) == [
        {"MemberNumber": "1"}
    ]


@pytest.mark.parametrize(
    "reply",
    [{}, {"Members": {}}, {"Members": {"Member": []}}, None],
    ids=["empty", "no-member-key", "empty-list", "none"],
)
def test_members_of_no_members(reply):
    assert transform.members_of(reply) == []


# --- to_member ---------------------------------------------------------------------------


def test_to_member_on_the_lookup_sample(load_fixture):
    body = load_fixture("shopyourway", "member_lookup_response")
    [raw] = transform.members_of(transform.reply_of(body))

    member = transform.to_member(PROGRAM, raw)

    assert member == Member(
        program=PROGRAM,
        member_id="7081207612717221",
        status="active",
        email="CRTestID01@automation.com",
        first_name="BOB",
        last_name="ROB",
        phone="8472002626",
        birth_date=dt.date(1988, 3, 21),
        address=Address(
            line1="3333 Beverly Rd",
            city="Hoffman estates",
            region="IL",
            postal_code="60179",
            country="US",
        ),
        # MemberSinceDate 1638459446000 ms
        enrolled_at=utc(2021, 12, 2, 15, 37, 26),
        tier=None,
    )


def test_to_member_on_the_create_member_sample(load_fixture):
    body = load_fixture("shopyourway", "create_member_response")
    [raw] = transform.members_of(transform.reply_of(body))

    member = transform.to_member(PROGRAM, raw)

    assert (member.member_id, member.status) == ("7081460000037153", "active")
    assert (member.first_name, member.last_name) == ("Smithy", "RRob")
    assert member.email == "Gang.Test03@automation.com"
    assert member.phone == "9169024998"
    assert member.birth_date == dt.date(2018, 6, 9)
    # every address line is empty in the sample: only the zip code is there
    assert member.address == Address(postal_code="12345")
    assert member.enrolled_at == dt.datetime.fromtimestamp(1528401419, tz=dt.UTC)


@pytest.mark.parametrize(
    ("club_status", "expected"),
    [
        ("A", "active"),
        ("a", "active"),
        ("I", "inactive"),
        ("O", "inactive"),
        ("R", "inactive"),
        ("P", "pending"),
        ("", "unknown"),
        ("Z", "unknown"),
    ],
)
def test_club_status(club_status, expected):
    member = transform.to_member(PROGRAM, {"MemberNumber": "1", "ClubStatus": club_status})

    assert member.status == expected


def test_preferred_phone_wins():
    raw = {
        "MemberNumber": "1",
        "PhoneNumbers": {
            "Phone": [
                {"PhoneType": "H", "PreferredPhoneType": "N", "PhoneNumber": "3125550100"},
                {"PhoneType": "M", "PreferredPhoneType": "Y", "PhoneNumber": "8472002626"},
            ]
        },
    }

    assert transform.to_member(PROGRAM, raw).phone == "8472002626"


def test_zip_code_extension_is_joined():
    raw = {"MemberNumber": "1", "ZipCode": "60179", "ZipCodeExtension": "1234"}

    member = transform.to_member(PROGRAM, raw)

    assert member.address == Address(postal_code="60179-1234")


def test_member_without_address_or_dates():
    member = transform.to_member(PROGRAM, {"MemberNumber": "1", "Address1": "", "DOB": ""})

    assert (member.address, member.birth_date, member.enrolled_at) == (None, None, None)


# --- to_balance --------------------------------------------------------------------------


def test_to_balance_on_the_sample(load_fixture, make_program):
    body = load_fixture("shopyourway", "reward_balance_response")
    program = make_program("shopyourway", program_id=PROGRAM)

    balance = transform.to_balance(program, "7081137708564387", body, NOW)

    assert balance == Balance(
        program=PROGRAM,
        member_id="7081137708564387",
        points=10000,  # totalAvailablePoints
        available_points=7000,  # availablePointsToRedeem
        value=Money(amount="7.00", currency="USD"),  # 7000 points at pointsPerCent 10
        expiring=[
            ExpiringPoints(points=5000, expires_on=dt.date(2022, 2, 28)),
            ExpiringPoints(points=2000, expires_on=dt.date(2022, 6, 30)),
        ],
        as_of=NOW,
    )
    # the document's own dollar figures agree with pointsPerCent
    channel = body["totalAvailablePointsSummary"]["channelWisePointsSummary"]["channel"][0]
    assert channel["redeemableDollars"] == balance.value.amount


def test_to_balance_sorts_expiring_buckets(load_fixture, make_program):
    body = load_fixture("shopyourway", "reward_balance_response")
    channel = body["totalAvailablePointsSummary"]["channelWisePointsSummary"]["channel"][0]
    buckets = channel["availableMemberOwnPointsList"]["memberOwnPointsToExpire"]
    buckets.reverse()

    balance = transform.to_balance(make_program("shopyourway"), "1", body, NOW)

    assert [e.expires_on for e in balance.expiring] == [dt.date(2022, 2, 28), dt.date(2022, 6, 30)]


def test_to_balance_without_points_per_cent_uses_the_programs_rate(load_fixture, make_program):
    body = load_fixture("shopyourway", "reward_balance_response")
    channel = body["totalAvailablePointsSummary"]["channelWisePointsSummary"]["channel"][0]
    del channel["pointsPerCent"]

    with_rate = transform.to_balance(
        make_program("shopyourway", points_per_unit=500, currency="EUR"), "1", body, NOW
    )
    without = transform.to_balance(make_program("shopyourway"), "1", body, NOW)

    assert with_rate.value == Money(amount="14.00", currency="EUR")
    assert without.value is None


# --- to_activity / to_offers -------------------------------------------------------------


def test_to_activity_on_the_sample(load_fixture):
    body = load_fixture("shopyourway", "member_activity_details_response")

    assert transform.to_activity(body) == [
        ActivityEntry(
            id="116624590EDCEA311EFE3EEC123F5890",
            occurred_at=utc(2024, 1, 14, 23, 29, 13),
            type="earn",
            points=60,
            description="09305 - SYW.com",
            reference="110017374",
            location="09305",
        )
    ]


@pytest.mark.parametrize(
    ("changes", "kind", "points"),
    [
        ({"TotalPoints": 0, "TotalPointsRedeemed": 10000}, "redeem", -10000),
        ({"TotalPoints": 0, "TotalExpired": 500}, "expire", -500),
        ({"TotalPoints": -25}, "adjust", -25),
        ({"TotalPoints": 0}, "other", 0),
    ],
    ids=["redeem", "expire", "adjust", "other"],
)
def test_to_activity_types(load_fixture, changes, kind, points):
    body = load_fixture("shopyourway", "member_activity_details_response")
    body["TransactionDetails"]["TransactionDetail"][0].update(changes)

    [entry] = transform.to_activity(body)

    assert (entry.type, entry.points) == (kind, points)


def test_to_activity_skips_entries_without_a_time(load_fixture):
    body = load_fixture("shopyourway", "member_activity_details_response")
    detail = body["TransactionDetails"]["TransactionDetail"][0]
    del detail["TransactionDTTM"]
    del detail["PostTS"]

    assert transform.to_activity(body) == []


def test_to_offers_on_the_sample(load_fixture):
    body = load_fixture("shopyourway", "applicable_offers_response")

    assert transform.to_offers(body) == [
        Offer(
            code="99769-1",
            name="3xSurpriseOffer_Cars",
            description="Decs:3xSurpriseOffer_Cars test",
            starts_at=utc(2022, 12, 9, 0, 0, 0),
            ends_at=utc(2024, 7, 30, 23, 59, 59),
            reward="XR DollarSpend",
        ),
        Offer(
            code="99768",
            name="EarnSpendthresh_CARs_NAME",
            description="EarnSpendthresh_CARs_99768",
            starts_at=utc(2023, 1, 31, 0, 0, 0),
            ends_at=utc(2025, 5, 14, 23, 59, 59),
            reward="EARN ItemCount 2",
        ),
        Offer(
            code="7.7GRB-subclub_noMG",
            name="7.7GRB-subclub",
            description="desc7.7GRB-subclub",
            starts_at=utc(2018, 8, 31, 0, 0, 0),
            ends_at=utc(2035, 7, 31, 23, 59, 59),
            reward="XR DollarSpend",
        ),
    ]


def test_to_offers_of_an_answer_without_offers():
    assert transform.to_offers({"Status": "0", "StatusText": "SUCCESS"}) == []


# --- transaction_number ------------------------------------------------------------------

TOKENS = [
    "0" * 32,
    "f" * 32,
    "0123456789abcdef0123456789abcdef",
    WriteContext(client_id="demo", idempotency_key="order-1").token,
    WriteContext(client_id="demo", idempotency_key="order-2").token,
]


@pytest.mark.parametrize("token", TOKENS)
def test_transaction_number_is_16_digits(token):
    number = transform.transaction_number(token)

    assert len(number) == 16
    assert re.fullmatch(r"[0-9]{16}", number)


@pytest.mark.parametrize("token", TOKENS)
def test_transaction_number_is_deterministic(token):
    assert transform.transaction_number(token) == transform.transaction_number(token[:])


@pytest.mark.parametrize(
    ("token", "number"),
    [
        ("0" * 32, "0000000000000000"),
        ("0123456789abcdef0123456789abcdef", "0020015998343868"),
        ("f" * 32, "4503599627370495"),
    ],
)
def test_transaction_number_values(token, number):
    # the first 13 hex digits (52 bits) as a zero-padded decimal
    assert transform.transaction_number(token) == number


def test_transaction_numbers_of_different_tokens_differ():
    numbers = {transform.transaction_number(t) for t in TOKENS}

    assert len(numbers) == len(TOKENS)


# --- create_member_body ------------------------------------------------------------------

#: keys of the document's sample request that the gateway does not send (optional fields)
NOT_SENT = {
    "EmailValidation",
    "Prefix",
    "Suffix",
    "MiddleInitial",
    "TestAccount",
    "ZipCodeExtension",
    "AddressOverride",
    "WirelessPermissionFlag",
    "SHCAssociateInd",
    "ClubEmailOptStatus",
    "PreferredLanguage",
    "TnCStatus",
    "TnCVersion",
    "EnrollmentOfferCode",
}

#: the program's configured values: the defaults, as the document's sample has them
OPTIONS = ShopYourWayOptions(requestor_id="DEMO", offer_id="OFFER1")


def _body(*args: Any) -> dict[str, Any]:
    """CreateMember's body as it goes on the wire (its struct encoded, unset fields left out)."""
    decoded: dict[str, Any] = msgspec.json.decode(
        msgspec.json.encode(transform.create_member_body(*args))
    )
    return decoded


ENROLL = EnrollRequest(
    email="ada@example.com",
    first_name="Ada",
    last_name="Lovelace",
    phone="+1 (847) 200-2626",
    birth_date=dt.date(1990, 1, 5),
    address=Address(
        line1="3333 Beverly Rd", city="Hoffman Estates", region="IL", postal_code="60179"
    ),
)


def test_create_member_body_has_the_documents_keys(load_fixture):
    sample = load_fixture("shopyourway", "create_member_request")

    body = _body(ENROLL, OPTIONS, NOW, "11111")

    assert set(sample) >= NOT_SENT
    assert set(body) == set(sample) - NOT_SENT


def test_create_member_body_values():
    body = _body(ENROLL, OPTIONS, NOW, "11111")

    assert body == {
        "MemberNumber": "",
        "EmailAddress": "ada@example.com",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Address1": "3333 Beverly Rd",
        "Address2": "",
        "City": "Hoffman Estates",
        "State": "IL",
        "ZipCode": "60179",
        "CountryCode": "",
        "DOB": "1990-01-05",
        "CurrentDate": "2022-02-04",
        "CurrentTime": "10:16:57",
        "PinNumber": "11111",
        "PhoneNumbers": {
            "Phone": [
                {
                    "PhoneNumber": "8472002626",
                    "PhoneType": "M",
                    "PreferredPhoneType": "Y",
                    "CarrierCode": "",
                    "PhoneValidated": "",
                }
            ]
        },
        "ClubMembershipCreatedBy": "GATEWAY",
        "ClubDNPStatus": "M",
        "CardDesignType": "VRTL",
        "StoreNumber": "00001",
        "Terminal": "001",
        "RequestorID": "DEMO",
        "MessageVersion": "14",
    }


def test_create_member_body_date_time_formats(load_fixture):
    sample = load_fixture("shopyourway", "create_member_request")
    body = _body(ENROLL, OPTIONS, utc(2018, 6, 8, 1, 26, 59), None)

    date_format, time_format = r"[0-9]{4}-[0-9]{2}-[0-9]{2}", r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
    # the document's own sample matches the formats checked here
    assert re.fullmatch(date_format, sample["CurrentDate"])
    assert re.fullmatch(time_format, sample["CurrentTime"])
    assert (body["CurrentDate"], body["CurrentTime"]) == (
        sample["CurrentDate"],
        sample["CurrentTime"],
    )
    assert re.fullmatch(date_format, body["DOB"])


def test_create_member_body_phone_numbers_shape(load_fixture):
    sample = load_fixture("shopyourway", "create_member_request")

    body = _body(ENROLL, OPTIONS, NOW, None)

    [phone] = body["PhoneNumbers"]["Phone"]
    [sample_phone] = sample["PhoneNumbers"]["Phone"]
    assert set(body["PhoneNumbers"]) == set(sample["PhoneNumbers"]) == {"Phone"}
    assert set(phone) == set(sample_phone)
    assert re.fullmatch(r"[0-9]{10}", phone["PhoneNumber"])
    assert (phone["PhoneType"], phone["PreferredPhoneType"]) == ("M", "Y")


def test_create_member_body_without_pin_or_phone():
    request = EnrollRequest(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        address=Address(postal_code="60179", country="us"),
    )

    body = _body(request, OPTIONS, NOW, None)

    assert "PinNumber" not in body
    assert "PhoneNumbers" not in body
    assert (body["DOB"], body["CountryCode"]) == ("", "US")
