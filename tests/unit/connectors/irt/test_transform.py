"""IRT pure mappings: form fields out (omitted vs blank), ``data`` objects in."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.connectors.irt import transform
from gateway.domain.commands import EnrollRequest, MemberPatchRequest
from gateway.domain.models import Address, Balance, Member, Money, Redemption, Transaction

UTC = dt.UTC
AS_OF = dt.datetime(2024, 6, 27, 12, 0, tzinfo=UTC)
CARD = "1234567812345678"
TOKEN = "0123456789abcdef0123456789abcdef"
ADDRESS_FIELDS = ("Address1", "Address2", "Address3", "City", "State", "Zip", "Country")


@pytest.fixture
def program(make_program):
    return make_program("irt", points_per_unit=100, currency="USD")


# --- update: the document's omitted-vs-blank rule ----------------------------------------


def test_update_with_an_empty_patch_sends_no_profile_field():
    assert transform.update_fields({}) == {}


def test_absent_patch_keys_are_left_out_of_the_form():
    form = transform.update_fields({"first_name": "Ada"})

    assert form == {"FirstName": "Ada"}
    for name in ("Email", "LastName", "Phone", "Birthday", *ADDRESS_FIELDS):
        assert name not in form


def test_none_is_sent_as_a_blank_field():
    # the document's own example: clearing the email is "Email=" (present, no value)
    form = transform.update_fields({"email": None})

    assert form == {"Email": ""}


def test_every_member_field_maps_to_its_form_field():
    form = transform.update_fields(
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone": "+1 555 0100",
            "birth_date": dt.date(1990, 12, 10),
        }
    )

    assert form == {
        "Email": "ada@example.com",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Phone": "+1 555 0100",
        "Birthday": "1990-12-10",
    }


def test_mixed_patch_sets_clears_and_keeps():
    form = transform.update_fields({"first_name": "Ada", "phone": None, "birth_date": None})

    assert form == {"FirstName": "Ada", "Phone": "", "Birthday": ""}


def test_address_none_blanks_every_address_field():
    form = transform.update_fields({"address": None})

    assert form == dict.fromkeys(ADDRESS_FIELDS, "")


def test_nested_address_patch_touches_only_the_given_parts():
    form = transform.update_fields({"address": {"city": "Springfield", "line2": None}})

    assert form == {"City": "Springfield", "Address2": ""}


def test_full_address_patch():
    form = transform.update_fields(
        {
            "address": {
                "line1": "1 Main St",
                "line2": "Apt 2",
                "line3": "Rear",
                "city": "Springfield",
                "region": "IL",
                "postal_code": "62701",
                "country": "US",
            }
        }
    )

    assert form == {
        "Address1": "1 Main St",
        "Address2": "Apt 2",
        "Address3": "Rear",
        "City": "Springfield",
        "State": "IL",
        "Zip": "62701",
        "Country": "US",
    }


def test_empty_address_patch_sends_nothing():
    assert transform.update_fields({"address": {}}) == {}


def test_update_fields_from_a_decoded_merge_patch():
    """The path a real PATCH takes: MemberPatchRequest.as_patch() -> update_fields."""
    request = MemberPatchRequest(email=None, address=None)
    assert transform.update_fields(request.as_patch()) == {
        "Email": "",
        **dict.fromkeys(ADDRESS_FIELDS, ""),
    }


def test_form_values_are_always_strings():
    form = transform.update_fields(
        {"first_name": "Ada", "email": None, "birth_date": dt.date(2000, 1, 2), "address": None}
    )
    assert all(isinstance(value, str) for value in form.values())


# --- register ----------------------------------------------------------------------------


def test_register_leaves_out_absent_fields():
    form = transform.register_fields(EnrollRequest(card_number=CARD, first_name="Ada"))

    # nothing blank is sent on enroll: a blank would be an explicit "clear"
    assert form == {"FirstName": "Ada"}


def test_register_of_a_bare_card_sends_no_profile_field():
    assert transform.register_fields(EnrollRequest(card_number=CARD)) == {}


def test_register_maps_every_field():
    request = EnrollRequest(
        card_number=CARD,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="+1 555 0100",
        birth_date=dt.date(1990, 1, 5),
        address=Address(
            line1="1 Main St",
            line2="Apt 2",
            line3="Rear",
            city="Springfield",
            region="IL",
            postal_code="62701",
            country="US",
        ),
    )

    assert transform.register_fields(request) == {
        "Email": "ada@example.com",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Phone": "+1 555 0100",
        "Birthday": "1990-01-05",
        "Address1": "1 Main St",
        "Address2": "Apt 2",
        "Address3": "Rear",
        "City": "Springfield",
        "State": "IL",
        "Zip": "62701",
        "Country": "US",
    }


def test_register_formats_the_birth_date_as_iso():
    form = transform.register_fields(
        EnrollRequest(card_number=CARD, birth_date=dt.date(1985, 3, 9))
    )
    assert form == {"Birthday": "1985-03-09"}


def test_register_maps_region_to_state_and_postal_code_to_zip():
    request = EnrollRequest(card_number=CARD, address=Address(region="CA", postal_code="90210"))

    assert transform.register_fields(request) == {"State": "CA", "Zip": "90210"}


def test_register_does_not_send_the_card_number_as_a_profile_field():
    # ``cardnumber`` is added by the connector, not by the profile mapping
    form = transform.register_fields(EnrollRequest(card_number=CARD, email="a@b.co"))
    assert "cardnumber" not in form
    assert form == {"Email": "a@b.co"}


# --- pointType -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("annual", "Annual"),
        ("ANNUAL", "Annual"),
        ("Annual", "Annual"),
        ("spendable", "Spendable"),
        ("SPENDABLE", "Spendable"),
        ("SpEnDaBlE", "Spendable"),
        (None, None),
        ("", None),
    ],
)
def test_point_type(value, expected):
    assert transform.point_type(value) == expected


def test_field_map_uses_the_documents_email_spelling():
    # the document names ``Email`` (case-sensitive: "Email" and "email" differ)
    assert transform.FIELD_MAP["email"] == "Email"


# --- getinfo -> Member ---------------------------------------------------------------------


def test_to_member_reads_a_full_profile():
    data = {
        "cardnumber": CARD,
        "EnrollDate": "2024-06-01 09:30:00",
        "Email": "ada@example.com",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Phone": "+1 555 0100",
        "Birthday": "1990-12-10",
        "Address1": "1 Main St",
        "Address2": "",
        "Address3": "",
        "City": "Springfield",
        "State": "IL",
        "Zip": "62701",
        "Country": "us",
    }

    member = transform.to_member("irt-test", CARD, data)

    assert member == Member(
        program="irt-test",
        member_id=CARD,
        status="active",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="+1 555 0100",
        birth_date=dt.date(1990, 12, 10),
        address=Address(
            line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
        ),
        enrolled_at=dt.datetime(2024, 6, 1, 9, 30, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "data",
    [
        {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"},
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"},
        {"FIRSTNAME": "Ada", "LASTNAME": "Lovelace", "EMAIL": "ada@example.com"},
    ],
    ids=["lower", "documented", "upper"],
)
def test_to_member_reads_keys_case_insensitively(data):
    member = transform.to_member("irt-test", CARD, data)

    assert (member.first_name, member.last_name, member.email) == (
        "Ada",
        "Lovelace",
        "ada@example.com",
    )


@pytest.mark.parametrize("key", ["Country", "country", "COUNTRY"])
def test_to_member_upper_cases_the_country(key):
    member = transform.to_member("irt-test", CARD, {key: "gb"})

    assert member.address == Address(country="GB")


def test_to_member_treats_blank_fields_as_absent():
    data = {"FirstName": "", "Email": "", **dict.fromkeys(ADDRESS_FIELDS, "")}

    member = transform.to_member("irt-test", CARD, data)

    assert member.first_name is None
    assert member.email is None
    assert member.address is None


@pytest.mark.parametrize("data", [None, [], "Success", {}])
def test_to_member_without_a_data_object_is_a_bare_member(data):
    assert transform.to_member("irt-test", CARD, data) == Member(
        program="irt-test", member_id=CARD, status="active"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1990-12-10", dt.date(1990, 12, 10)), ("12/10/1990", dt.date(1990, 12, 10)), ("x", None)],
)
def test_to_member_birthday_formats(text, expected):
    assert transform.to_member("irt-test", CARD, {"Birthday": text}).birth_date == expected


def test_to_member_member_id_is_the_card_asked_for():
    member = transform.to_member("irt-test", CARD, {"cardnumber": "9999"})
    assert member.member_id == CARD


# --- getbalance -> Balance -----------------------------------------------------------------


def test_to_balance_maps_the_balance_object(program):
    data = {"balance": 620, "spendable": 500, "annual": 120}

    balance = transform.to_balance(program, CARD, data, AS_OF)

    assert balance == Balance(
        program="irt-test",
        member_id=CARD,
        points=620,
        available_points=500,
        pending_points=0,
        held_points=0,
        value=Money(amount="5.00", currency="USD"),
        expiring=[],
        as_of=AS_OF,
    )


def test_to_balance_reads_numbers_sent_as_strings_and_any_key_case(program):
    data = {"Balance": "620", "Spendable": "500", "Annual": "120"}

    balance = transform.to_balance(program, CARD, data, AS_OF)

    assert (balance.points, balance.available_points) == (620, 500)


def test_to_balance_without_spendable_has_everything_available(program):
    balance = transform.to_balance(program, CARD, {"balance": 75}, AS_OF)

    assert (balance.points, balance.available_points) == (75, 75)
    assert balance.value == Money(amount="0.75", currency="USD")


def test_to_balance_has_no_value_without_a_points_rate(make_program):
    balance = transform.to_balance(make_program("irt"), CARD, {"balance": 620}, AS_OF)
    assert balance.value is None


def test_to_balance_of_an_empty_answer_is_zero(program):
    balance = transform.to_balance(program, CARD, None, AS_OF)
    assert (balance.points, balance.available_points) == (0, 0)


# --- issuepoints -> Transaction ----------------------------------------------------------


def _transaction(data):
    return transform.to_transaction(
        "irt-test", CARD, 100, "Bonus", "order-1", "annual", TOKEN, data, AS_OF
    )


def test_to_transaction_takes_the_loyalty_transaction_number():
    transaction = _transaction({"balance": 720, "loyalty_transaction_number": "A1B2C3D4E5F6"})

    assert transaction == Transaction(
        id="A1B2C3D4E5F6",
        program="irt-test",
        member_id=CARD,
        points=100,
        reason="Bonus",
        reference="order-1",
        status="completed",
        created_at=AS_OF,
        balance_after=720,
        point_type="annual",
    )


def test_to_transaction_reads_the_number_case_insensitively():
    assert _transaction({"Loyalty_Transaction_Number": "X9"}).id == "X9"


@pytest.mark.parametrize(
    "data", [{"balance": 720}, {"loyalty_transaction_number": ""}, None], ids=str
)
def test_to_transaction_falls_back_to_the_idempotency_token(data):
    assert _transaction(data).id == TOKEN


def test_balance_after_comes_from_data_balance():
    assert _transaction({"balance": "720"}).balance_after == 720
    assert _transaction({"balance": 0}).balance_after == 0
    assert _transaction({"loyalty_transaction_number": "X"}).balance_after is None
    assert _transaction(None).balance_after is None


# --- redeem -> Redemption ----------------------------------------------------------------


def test_to_redemption(program):
    redemption = transform.to_redemption(
        program,
        CARD,
        200,
        "order-9",
        "spendable",
        TOKEN,
        {"balance": 420, "loyalty_transaction_number": "R1"},
        AS_OF,
    )

    assert redemption == Redemption(
        id="R1",
        program="irt-test",
        member_id=CARD,
        points=200,
        value=Money(amount="2.00", currency="USD"),
        reference="order-9",
        order_id="order-9",
        status="completed",
        created_at=AS_OF,
        point_type="spendable",
    )


def test_to_redemption_falls_back_to_the_idempotency_token(program):
    redemption = transform.to_redemption(
        program, CARD, 200, "order-9", None, TOKEN, {"balance": 420}, AS_OF
    )
    assert redemption.id == TOKEN
