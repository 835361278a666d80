"""Alpha pure mappings, fed with the payloads of the Alpha Recipients document."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from gateway.connectors.alpha import transform, wire
from gateway.domain.commands import EnrollRequest, MemberPatchRequest
from gateway.domain.errors import FieldError
from gateway.domain.models import Address, Balance, Member, Money

UTC = dt.UTC
AS_OF = dt.datetime(2020, 3, 25, 9, 0, tzinfo=UTC)
CLEAR_MESSAGE = "cannot be cleared: required by this program's provider"


@pytest.fixture
def recipient_raw(load_fixture):
    return load_fixture("alpha", "recipient")


@pytest.fixture
def recipient(recipient_raw) -> wire.Recipient:
    return transform.decode_recipient(recipient_raw)


@pytest.fixture
def wallace() -> EnrollRequest:
    """The document's sample recipient, as a caller of the gateway would enroll them."""
    return EnrollRequest(
        email="wallace@example.com",
        first_name="Wallace",
        last_name="Wensleydale",
        phone="01942 992143",
        address=Address(
            line1="62 West Wallaby Street", city="Wigan", postal_code="WG7 7FU", country="GB"
        ),
    )


# --- Recipient -> Member / Balance -------------------------------------------------------


def test_to_member_maps_the_documented_recipient(recipient):
    member = transform.to_member("alpha-test", recipient)

    assert member == Member(
        program="alpha-test",
        member_id="OLMKne7Y3N",
        status="active",
        email="wallace@example.com",
        first_name="Wallace",
        last_name="Wensleydale",
        phone="01942 992143",
        address=Address(
            line1="62 West Wallaby Street",
            city="Wigan",
            postal_code="WG7 7FU",
            country="GB",
        ),
        enrolled_at=dt.datetime(2020, 1, 24, 15, 14, 5, tzinfo=UTC),
    )
    assert msgspec.json.encode(member.enrolled_at) == b'"2020-01-24T15:14:05Z"'


def test_decode_recipient_unwraps_a_data_envelope(recipient_raw, recipient):
    assert transform.decode_recipient({"data": recipient_raw}) == recipient


def test_decode_recipient_requires_an_id(recipient_raw):
    del recipient_raw["id"]
    with pytest.raises(msgspec.ValidationError):
        transform.decode_recipient(recipient_raw)


@pytest.mark.parametrize(
    ("active", "status"),
    [(1, "active"), (0, "inactive"), (True, "active"), (False, "inactive"), (None, "unknown")],
)
def test_member_status_follows_active(recipient_raw, active, status):
    recipient_raw["active"] = active
    member = transform.to_member("alpha-test", transform.decode_recipient(recipient_raw))
    assert member.status == status


def test_recipient_without_address_has_no_address():
    member = transform.to_member("alpha-test", transform.decode_recipient({"id": "abc"}))
    assert member == Member(program="alpha-test", member_id="abc", status="unknown")


def test_to_balance_maps_the_documented_recipient(make_program, recipient):
    program = make_program("alpha", points_per_unit=100, currency="GBP")

    balance = transform.to_balance(program, recipient, AS_OF)

    assert balance == Balance(
        program="alpha-test",
        member_id="OLMKne7Y3N",
        points=234,
        available_points=234,
        pending_points=0,
        held_points=0,
        value=Money(amount="2.34", currency="GBP"),
        expiring=[],
        as_of=AS_OF,
    )


def test_to_balance_without_balance_or_rate(make_program, recipient_raw):
    del recipient_raw["balance"]
    balance = transform.to_balance(
        make_program("alpha"), transform.decode_recipient(recipient_raw), AS_OF
    )
    assert (balance.points, balance.available_points, balance.value) == (0, 0, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-24 15:14:05", dt.datetime(2020, 1, 24, 15, 14, 5, tzinfo=UTC)),
        ("2020-01-24T15:14:05Z", dt.datetime(2020, 1, 24, 15, 14, 5, tzinfo=UTC)),
        ("2020-01-24T16:14:05+01:00", dt.datetime(2020, 1, 24, 15, 14, 5, tzinfo=UTC)),
        ("2020-01-24", dt.datetime(2020, 1, 24, tzinfo=UTC)),
        (None, None),
        ("", None),
        ("24/01/2020", None),
    ],
)
def test_parse_timestamp(text, expected):
    assert transform.parse_timestamp(text) == expected


# --- EnrollRequest -> create body --------------------------------------------------------


def test_create_body_matches_the_documented_template(load_fixture, wallace):
    template = load_fixture("alpha", "create_request")
    # "company" has no Member field: the gateway never sends it
    expected = {k: v for k, v in template.items() if k != "company"}

    assert transform.create_body(wallace) == expected


def test_create_body_lowercases_country_and_drops_fields_alpha_lacks(wallace):
    request = msgspec.structs.replace(
        wallace,
        birth_date=dt.date(1950, 8, 7),
        address=Address(line1="62 West Wallaby Street", region="Lancashire", country="GB"),
    )
    assert transform.create_body(request) == {
        "email": "wallace@example.com",
        "firstname": "Wallace",
        "surname": "Wensleydale",
        "telephone": "01942 992143",
        "address1": "62 West Wallaby Street",
        "country_code": "gb",
    }


def test_create_body_leaves_out_absent_fields():
    request = EnrollRequest(email="gromit@example.com", first_name="Gromit", last_name="Dog")
    body = transform.create_body(request)

    assert body == {"email": "gromit@example.com", "firstname": "Gromit", "surname": "Dog"}
    assert b"null" not in msgspec.json.encode(body)


def test_create_body_sends_card_number_as_public_key(wallace):
    body = transform.create_body(msgspec.structs.replace(wallace, card_number="dQw4w9WgXcQ"))
    assert body["public_key"] == "dQw4w9WgXcQ"


def test_create_body_uses_only_documented_recipient_fields(recipient_raw, wallace):
    request = msgspec.structs.replace(
        wallace,
        card_number="dQw4w9WgXcQ",
        address=Address(line1="a", line2="b", line3="c", city="d", postal_code="e", country="GB"),
    )
    assert set(transform.create_body(request)) <= set(recipient_raw)


def test_missing_required_names_every_required_field():
    assert transform.missing_required(EnrollRequest(phone="01942 992143")) == [
        FieldError(field="email", message="required by this program's provider"),
        FieldError(field="first_name", message="required by this program's provider"),
        FieldError(field="last_name", message="required by this program's provider"),
    ]


def test_missing_required_is_empty_for_a_complete_request(wallace):
    assert transform.missing_required(wallace) == []


def test_missing_required_names_only_what_is_missing():
    request = EnrollRequest(email="wallace@example.com", last_name="Wensleydale")
    assert [e.field for e in transform.missing_required(request)] == ["first_name"]


# --- MemberPatch -> update body ----------------------------------------------------------


def test_update_body_matches_the_documented_template(load_fixture):
    template = load_fixture("alpha", "update_request")
    expected = {k: v for k, v in template.items() if k != "company"}

    assert transform.update_body({"phone": "01942 112142"}) == (expected, [])


def test_update_body_sends_nothing_for_an_empty_patch():
    assert transform.update_body({}) == ({}, [])


def test_update_body_sends_null_to_clear():
    body, errors = transform.update_body({"phone": None})

    assert (body, errors) == ({"telephone": None}, [])
    assert msgspec.json.encode(body) == b'{"telephone":null}'


@pytest.mark.parametrize(
    ("field", "alpha_field"),
    [("email", "email"), ("first_name", "firstname"), ("last_name", "surname")],
)
def test_update_body_refuses_to_clear_required_fields(field, alpha_field):
    body, errors = transform.update_body({field: None, "phone": "01942 112142"})

    assert errors == [FieldError(field=field, message=CLEAR_MESSAGE)]
    assert body == {alpha_field: None, "telephone": "01942 112142"}


def test_update_body_reports_every_required_field_cleared():
    _, errors = transform.update_body({"last_name": None, "email": None, "first_name": None})
    assert [e.field for e in errors] == ["email", "first_name", "last_name"]


def test_update_body_address_null_clears_every_address_part():
    assert transform.update_body({"address": None}) == (
        {
            "address1": None,
            "address2": None,
            "address3": None,
            "town": None,
            "postcode": None,
            "country_code": None,
        },
        [],
    )


def test_update_body_partial_address_touches_only_given_parts():
    patch = {"address": {"city": "Wigan", "country": "GB", "line2": None, "region": "Lancs"}}
    assert transform.update_body(patch) == (
        {"town": "Wigan", "country_code": "gb", "address2": None},
        [],
    )


def test_update_body_from_a_decoded_merge_patch():
    request = msgspec.json.decode(
        b'{"email": "wallace@example.org", "birth_date": "1950-08-07",'
        b' "address": {"line1": "Top Bun Traditional Bakery", "postal_code": null}}',
        type=MemberPatchRequest,
    )
    assert transform.update_body(request.as_patch()) == (
        {
            "email": "wallace@example.org",
            "address1": "Top Bun Traditional Bakery",
            "postcode": None,
        },
        [],
    )


# --- 422 field errors --------------------------------------------------------------------


def test_field_errors_maps_the_documented_422(load_fixture):
    failure = msgspec.convert(load_fixture("alpha", "validation_error"), wire.ValidationFailure)

    assert failure.message == "The given data was invalid."
    assert transform.field_errors(failure) == [
        FieldError(field="email", message="The email field is required."),
        FieldError(field="first_name", message="The firstname field is required."),
        FieldError(field="last_name", message="The surname field is required."),
        FieldError(field="address.line1", message="The address1 field is required."),
        FieldError(field="address.city", message="The town field is required."),
        FieldError(field="address.postal_code", message="The postcode field is required."),
        FieldError(field="address.country", message="The selected country code is invalid."),
    ]


def test_field_errors_keeps_every_message_and_unknown_fields():
    failure = wire.ValidationFailure(
        errors={
            "public_key": ["The public key has already been taken.", "Too long."],
            "company": ["The company may not be greater than 255 characters."],
        }
    )
    assert transform.field_errors(failure) == [
        FieldError(field="card_number", message="The public key has already been taken."),
        FieldError(field="card_number", message="Too long."),
        FieldError(field="company", message="The company may not be greater than 255 characters."),
    ]


def test_field_map_round_trips():
    assert {v: k for k, v in transform.ALPHA_TO_MEMBER.items()} == transform.FIELD_MAP
