"""Alpha's error answers (404, 422 with per-field messages, 401, 5xx) as contract errors."""

from __future__ import annotations

import httpx
import pytest

from gateway.connectors.alpha.errors import PROVIDER, map_error
from gateway.connectors.common import decode_json, error_message
from gateway.domain.errors import (
    FieldError,
    InvalidRequest,
    MemberAlreadyEnrolled,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)


def _map(response: httpx.Response, *, write: bool):
    """What the connector does with a non-success answer."""
    return map_error(
        response.status_code, error_message(response), decode_json(response), write=write
    )


def test_provider_name():
    assert PROVIDER == "alpha"


@pytest.mark.parametrize("write", [False, True])
def test_documented_404_is_member_not_found(load_fixture, write):
    response = httpx.Response(404, json=load_fixture("alpha", "recipient_not_found"))

    error = _map(response, write=write)

    assert type(error) is MemberNotFound
    assert (error.code, error.status, error.outcome) == ("member_not_found", 404, "answered")
    # the documented body's message is empty: the reason phrase stands in for it
    assert error.upstream == UpstreamDetail(provider="alpha", status=404, message="Not Found")


def test_documented_422_is_invalid_request_per_field(load_fixture):
    response = httpx.Response(422, json=load_fixture("alpha", "validation_error"))

    error = _map(response, write=True)

    assert type(error) is InvalidRequest
    assert (error.code, error.status, error.outcome) == ("invalid_request", 400, "answered")
    assert error.upstream == UpstreamDetail(
        provider="alpha", status=422, message="The given data was invalid."
    )
    assert error.errors == [
        FieldError(field="email", message="The email field is required."),
        FieldError(field="first_name", message="The firstname field is required."),
        FieldError(field="last_name", message="The surname field is required."),
        FieldError(field="address.line1", message="The address1 field is required."),
        FieldError(field="address.city", message="The town field is required."),
        FieldError(field="address.postal_code", message="The postcode field is required."),
        FieldError(field="address.country", message="The selected country code is invalid."),
    ]


def test_422_email_taken_is_member_already_enrolled():
    body = {
        "message": "The given data was invalid.",
        "errors": {
            "email": ["The email has already been taken."],
            "telephone": ["The telephone format is invalid."],
        },
    }

    error = _map(httpx.Response(422, json=body), write=True)

    assert type(error) is MemberAlreadyEnrolled
    assert (error.code, error.status, error.outcome) == (
        "member_already_enrolled",
        409,
        "answered",
    )
    assert error.errors == [FieldError(field="email", message="The email has already been taken.")]
    assert error.upstream == UpstreamDetail(
        provider="alpha", status=422, message="The given data was invalid."
    )


def test_422_public_key_taken_is_member_already_enrolled():
    body = {
        "message": "The given data was invalid.",
        "errors": {"public_key": ["The public key has already been taken."]},
    }

    error = _map(httpx.Response(422, json=body), write=True)

    assert error.code == "member_already_enrolled"
    assert error.errors == [
        FieldError(field="card_number", message="The public key has already been taken.")
    ]


def test_422_taken_on_another_field_is_not_a_duplicate_member():
    body = {
        "message": "invalid",
        "errors": {"telephone": ["The telephone has already been taken."]},
    }

    error = _map(httpx.Response(422, json=body), write=True)

    assert error.code == "invalid_request"
    assert error.errors == [
        FieldError(field="phone", message="The telephone has already been taken.")
    ]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(422, json={"message": "The given data was invalid."}),
        httpx.Response(422, json={"message": "The given data was invalid.", "errors": {}}),
        httpx.Response(422, text="The given data was invalid."),
    ],
    ids=["no-errors-key", "empty-errors", "plain-text"],
)
def test_422_without_field_errors_is_upstream_rejected(response):
    error = _map(response, write=True)

    assert type(error) is UpstreamRejected
    assert (error.code, error.status, error.outcome) == ("upstream_rejected", 422, "answered")
    assert error.errors is None
    assert error.upstream == UpstreamDetail(
        provider="alpha", status=422, message="The given data was invalid."
    )


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("write", [False, True])
def test_refused_credentials_are_upstream_unavailable(status, write):
    error = _map(httpx.Response(status, json={"message": "Unauthenticated."}), write=write)

    assert type(error) is UpstreamUnavailable
    assert (error.code, error.status, error.outcome) == ("upstream_unavailable", 503, "not_sent")
    assert error.upstream == UpstreamDetail(
        provider="alpha", status=status, message="Unauthenticated."
    )


@pytest.mark.parametrize(
    ("status", "write", "outcome"),
    [(500, True, "ambiguous"), (503, True, "ambiguous"), (500, False, "not_sent")],
)
def test_server_errors(status, write, outcome):
    error = _map(httpx.Response(status), write=write)

    assert type(error) is UpstreamUnavailable
    assert (error.code, error.status, error.outcome) == ("upstream_unavailable", 503, outcome)
    assert error.upstream is not None
    assert error.upstream.status == status


@pytest.mark.parametrize("status", [400, 409])
def test_other_rejections(status):
    error = _map(httpx.Response(status, json={"message": "Nope."}), write=True)

    assert type(error) is UpstreamRejected
    assert error.outcome == "answered"
    assert error.upstream == UpstreamDetail(provider="alpha", status=status, message="Nope.")
