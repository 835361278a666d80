"""Every status code the IRT document lists, mapped onto the contract's error codes.

IRT answers HTTP 200 whatever happened; the outcome is the body's ``status`` (document,
"Status Codes"). The document gives message text only for its two examples and for the
409 of the change log; the other messages below are placeholders in IRT's style.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from gateway.connectors.irt import wire
from gateway.connectors.irt.errors import PROVIDER, map_status
from gateway.domain.errors import (
    FieldError,
    GatewayError,
    InsufficientPoints,
    MemberAlreadyEnrolled,
    MemberInactive,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "irt"

#: the document's exact 409 message (change log v24.6.27)
MISMATCH = (
    "IDEMPOTENCY_KEY_HASH_MISMATCH: Request has changed since the original request on "
    "2022-03-05T21:12:38+00:00"
)

#: (status, message) -> (error class, contract code, HTTP status, outcome)
DOCUMENTED = [
    (1, "Invalid card number.", MemberNotFound, "member_not_found", 404, "answered"),
    (
        2,
        "Card is already enrolled.",
        MemberAlreadyEnrolled,
        "member_already_enrolled",
        409,
        "answered",
    ),
    (4, "Invalid API request.", UpstreamRejected, "upstream_rejected", 422, "answered"),
    (5, "Card is not enrolled.", MemberNotFound, "member_not_found", 404, "answered"),
    (
        6,
        "Phone number is already used by another member.",
        MemberAlreadyEnrolled,
        "member_already_enrolled",
        409,
        "answered",
    ),
    (
        7,
        "Phone verification required.",
        UpstreamRejected,
        "upstream_rejected",
        422,
        "answered",
    ),
    (8, "Invalid account.", MemberInactive, "member_inactive", 422, "answered"),
    (401, "Unauthorized", UpstreamUnavailable, "upstream_unavailable", 503, "not_sent"),
    (409, MISMATCH, UpstreamRejected, "upstream_rejected", 422, "answered"),
    (422, "INVALID_IDEMPOTENCY_KEY", UpstreamRejected, "upstream_rejected", 422, "answered"),
]


def _raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def _decode(body: bytes | str) -> wire.Reply:
    """How the connector reads every IRT answer."""
    return msgspec.json.decode(body, type=wire.Reply, strict=False)


def test_provider_name():
    assert PROVIDER == "irt"


def test_the_table_covers_every_documented_error_code(load_fixture):
    documented = {line["status"] for line in load_fixture("irt", "status_codes")}
    assert documented == {0, 1, 2, 4, 5, 6, 7, 8, 401, 409, 422}
    # 0 is success and never mapped; every other documented code has a row
    assert {row[0] for row in DOCUMENTED} == documented - {wire.OK}
    assert len(DOCUMENTED) == len(documented) - 1


def test_wire_constants_match_the_document():
    assert (wire.OK, wire.INVALID_CARD, wire.ALREADY_ENROLLED, wire.FATAL) == (0, 1, 2, 4)
    assert (wire.NOT_ENROLLED, wire.PHONE_USED, wire.PHONE_VERIFICATION) == (5, 6, 7)
    assert wire.INVALID_ACCOUNT == 8
    assert (wire.UNAUTHORIZED, wire.IDEMPOTENCY_MISMATCH, wire.INVALID_IDEMPOTENCY_KEY) == (
        401,
        409,
        422,
    )


@pytest.mark.parametrize(
    ("status", "message", "cls", "code", "http_status", "outcome"),
    DOCUMENTED,
    ids=[f"{row[0]}-{row[1][:24]}" for row in DOCUMENTED],
)
def test_documented_status(status, message, cls, code, http_status, outcome):
    error = map_status(status, message)

    assert type(error) is cls
    assert isinstance(error, GatewayError)
    assert error.code == code
    assert error.status == http_status
    assert error.outcome == outcome
    # IRT's HTTP status is always 200; its own code and words travel in ``upstream``
    assert error.upstream == UpstreamDetail(
        provider="irt", status=200, code=str(status), message=message
    )


@pytest.mark.parametrize(
    "message",
    [
        "Insufficient points balance.",
        "INSUFFICIENT POINTS",
        "Not enough points to redeem.",
        "Redemption exceeds the available balance.",
        "Balance too low.",
    ],
)
def test_fatal_error_about_the_balance_is_insufficient_points(message):
    error = map_status(wire.FATAL, message)

    assert type(error) is InsufficientPoints
    assert (error.code, error.status, error.outcome) == ("insufficient_points", 422, "answered")
    assert error.upstream == UpstreamDetail(provider="irt", status=200, code="4", message=message)


@pytest.mark.parametrize(
    "message", ["Invalid API request.", "Invalid card number or PIN.", "Invalid points value.", ""]
)
def test_other_fatal_errors_are_upstream_rejected(message):
    error = map_status(wire.FATAL, message)

    assert type(error) is UpstreamRejected
    assert error.code == "upstream_rejected"
    assert error.upstream is not None
    assert error.upstream.message == message


def test_phone_already_used_names_the_phone_field():
    message = "Phone number is already used by another member."
    error = map_status(wire.PHONE_USED, message)

    assert error.code == "member_already_enrolled"
    assert error.errors == [FieldError(field="phone", message=message)]


def test_phone_already_used_without_a_message_still_explains_the_field():
    error = map_status(wire.PHONE_USED, "")

    assert error.errors == [FieldError(field="phone", message="phone already used")]


@pytest.mark.parametrize(
    ("status", "message"),
    [(409, MISMATCH), (422, "INVALID_IDEMPOTENCY_KEY")],
    ids=["409-hash-mismatch", "422-invalid-key"],
)
def test_idempotency_key_refusals_are_reported_as_the_gateways_problem(status, message):
    error = map_status(status, message)

    assert type(error) is UpstreamRejected
    assert (error.code, error.status) == ("upstream_rejected", 422)
    # not the member's fault and not "insufficient" anything: the gateway derived the key
    assert "gateway" in error.detail.lower()
    assert "idempotency key" in error.detail.lower()
    assert "report" in error.detail.lower()
    assert error.upstream is not None
    assert error.upstream.message == message


def test_unauthorized_means_the_gateways_credentials_and_nothing_was_applied():
    error = map_status(wire.UNAUTHORIZED, "Unauthorized")

    assert error.code == "upstream_unavailable"
    assert error.outcome == "not_sent"
    assert "credentials" in error.detail


@pytest.mark.parametrize("status", [3, 9, 99, 500])
def test_undocumented_status_is_upstream_rejected(status):
    error = map_status(status, "Something else.")

    assert type(error) is UpstreamRejected
    assert error.upstream == UpstreamDetail(
        provider="irt", status=200, code=str(status), message="Something else."
    )


def test_upstream_detail_serializes_with_code_and_message():
    error = map_status(wire.NOT_ENROLLED, "Card is not enrolled.")
    assert msgspec.json.decode(msgspec.json.encode(error.upstream)) == {
        "provider": "irt",
        "status": 200,
        "code": "5",
        "message": "Card is not enrolled.",
    }


# --- The document's example replies ------------------------------------------------------


def test_success_example_decodes():
    reply = _decode(_raw("register_success"))

    assert reply == wire.Reply(status=0, message="Member Registered Successfully.", data=None)
    assert reply.status == wire.OK


def test_failure_example_decodes_and_maps():
    reply = _decode(_raw("invalid_api_request"))

    assert reply == wire.Reply(status=4, message="Invalid API request.")
    error = map_status(reply.status, reply.message)
    assert error.code == "upstream_rejected"
    assert error.upstream == UpstreamDetail(
        provider="irt", status=200, code="4", message="Invalid API request."
    )


def test_hash_mismatch_example_decodes_and_maps():
    reply = _decode(_raw("idempotency_key_hash_mismatch"))

    assert reply.status == wire.IDEMPOTENCY_MISMATCH
    assert reply.message == MISMATCH
    error = map_status(reply.status, reply.message)
    assert error.code == "upstream_rejected"
    assert error.upstream is not None
    assert error.upstream.message == MISMATCH


def test_fixtures_match_their_parsed_form(load_fixture):
    assert load_fixture("irt", "register_success") == {
        "status": 0,
        "message": "Member Registered Successfully.",
    }
    assert load_fixture("irt", "invalid_api_request") == {
        "status": 4,
        "message": "Invalid API request.",
    }
    assert load_fixture("irt", "idempotency_key_hash_mismatch") == {
        "status": 409,
        "message": MISMATCH,
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"status": "0", "message": "Member Registered Successfully."}', 0),
        ('{"status": "5", "message": "Card is not enrolled."}', 5),
        ('{"status": "409", "message": "x"}', 409),
    ],
)
def test_status_sent_as_a_string_decodes(body, status):
    reply = _decode(body)
    assert reply.status == status
    assert isinstance(reply.status, int)


def test_reply_keeps_data_and_ignores_unknown_keys():
    reply = _decode(b'{"status": 0, "message": "Success", "data": {"balance": 5}, "extra": 1}')
    assert reply.data == {"balance": 5}


def test_reply_without_message_decodes_with_an_empty_message():
    assert _decode(b'{"status": 0}') == wire.Reply(status=0, message="")


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Service Unavailable</html>",
        b'{"message": "no status"}',
        b'{"status": "zero", "message": "x"}',
        b"[0]",
        b"",
    ],
)
def test_replies_outside_the_document_do_not_decode(body):
    with pytest.raises((msgspec.DecodeError, msgspec.ValidationError)):
        _decode(body)
