"""CreateMember's rules, checked before any call: required fields, documented lengths,
countries, the phone format and the PIN length."""

from __future__ import annotations

from gateway.connectors.shopyourway.checks import enroll_errors
from gateway.domain.commands import EnrollRequest
from gateway.domain.models import Address

OK = EnrollRequest(
    email="ada@example.com",
    first_name="Ada",
    last_name="Lovelace",
    address=Address(postal_code="60179"),
)


def _fields(request: EnrollRequest, pin: str | None = None) -> list[str]:
    return [error.field for error in enroll_errors(request, pin)]


def test_a_complete_request_passes() -> None:
    assert _fields(OK) == []


def test_the_documents_required_fields() -> None:
    assert _fields(EnrollRequest(email="a@b.c")) == [
        "first_name",
        "last_name",
        "address.postal_code",
    ]


def test_lengths_countries_phone_and_pin() -> None:
    long = EnrollRequest(
        email="a@b.c",
        first_name="A" * 31,
        last_name="L",
        phone="555-0100",
        address=Address(postal_code="1234567", region="ILL", country="gb", line3="x"),
    )
    assert _fields(long, pin="123456789") == [
        "first_name",
        "address.region",
        "address.postal_code",
        "address.line3",
        "address.country",
        "phone",
        "X-Member-PIN",
    ]
    [message] = [e.message for e in enroll_errors(long, None) if e.field == "first_name"]
    assert message == "at most 30 characters (FirstName)"
