"""Connector helpers: provider error text, points value, money, static auth."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from gateway.connectors.common import (
    StaticAuth,
    check_static_auth,
    decode_json,
    error_message,
    money,
    points_value,
    static_auth_headers,
)
from gateway.domain.models import Money

# --- error_message -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(400, json={"Message": "No Balance Remaining"}), "No Balance Remaining"),
        (
            httpx.Response(422, json={"message": "The given data was invalid."}),
            "The given data was invalid.",
        ),
        (httpx.Response(400, json="Type is not valid"), "Type is not valid"),
        (httpx.Response(400, text="Not enrolled in Loyalty"), "Not enrolled in Loyalty"),
        (httpx.Response(401, json={"error": "invalid_token"}), "invalid_token"),
        (httpx.Response(400, json={"detail": "bad thing"}), "bad thing"),
        (httpx.Response(400, json={"ErrorMessage": "legacy"}), "legacy"),
    ],
    ids=["Message", "message", "json-string", "plain-text", "error", "detail", "ErrorMessage"],
)
def test_error_message_reads_the_provider_words(response, expected):
    assert error_message(response) == expected


def test_error_message_prefers_Message_over_message():
    response = httpx.Response(400, json={"message": "second", "Message": "first"})
    assert error_message(response) == "first"


def test_error_message_trims_whitespace():
    assert error_message(httpx.Response(400, json={"Message": "  padded \n"})) == "padded"
    assert error_message(httpx.Response(400, text="\n  padded  \n")) == "padded"


def test_error_message_is_capped_at_500_characters():
    assert error_message(httpx.Response(400, text="x" * 2000)) == "x" * 500
    assert error_message(httpx.Response(400, json={"message": "y" * 2000})) == "y" * 500


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(404), "Not Found"),
        (httpx.Response(500, content=b""), "Internal Server Error"),
        (httpx.Response(404, json={"message": ""}), "Not Found"),  # Alpha's documented 404
        (httpx.Response(400, json={"message": "   "}), "Bad Request"),
        (httpx.Response(502, text="<html><body>Bad gateway</body></html>"), "Bad Gateway"),
        (httpx.Response(503, json={"errors": ["x"]}), "Service Unavailable"),
        (httpx.Response(400, json=""), "Bad Request"),
    ],
    ids=["empty", "empty-500", "empty-message", "blank-message", "html", "no-known-key", "json-''"],
)
def test_error_message_falls_back_to_the_reason_phrase(response, expected):
    assert error_message(response) == expected


def test_error_message_for_a_status_without_reason_phrase():
    assert error_message(httpx.Response(599)) == "HTTP 599"


def test_decode_json():
    assert decode_json(httpx.Response(200, json={"a": 1})) == {"a": 1}
    assert decode_json(httpx.Response(204)) is None
    assert decode_json(httpx.Response(200, text="not json")) is None


# --- points_value and money --------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "per_unit", "amount"),
    [
        (504, 100, "5.04"),
        (1000, 100, "10.00"),
        (0, 100, "0.00"),
        (1, 200, "0.01"),  # 0.005 rounds half up
        (1, 300, "0.00"),  # 0.0033 rounds down
        (2, 300, "0.01"),  # 0.0066 rounds up
        (5, 1000, "0.01"),  # 0.005 rounds half up
        (4, 1000, "0.00"),
        (-5, 1000, "-0.01"),  # half away from zero
        (1234, 1, "1234.00"),
        (100_000_000, 3, "33333333.33"),
    ],
)
def test_points_value_rounding(make_program, points, per_unit, amount):
    program = make_program(points_per_unit=per_unit, currency="GBP")
    assert points_value(program, points) == Money(amount=amount, currency="GBP")


def test_points_value_without_a_rate(make_program):
    assert points_value(make_program(), 504) is None


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("10.00"), "10.00"),
        (10.0, "10.00"),
        (10, "10.00"),
        ("10.005", "10.01"),
        ("3.14159", "3.14"),
    ],
)
def test_money(make_program, amount, expected):
    assert money(make_program(points_per_unit=100, currency="EUR"), amount) == Money(
        amount=expected, currency="EUR"
    )


def test_money_defaults_to_usd_and_rejects_garbage(make_program):
    program = make_program()
    assert money(program, "7.5") == Money(amount="7.50", currency="USD")
    assert money(program, None) is None
    assert money(program, "ten") is None


# --- static auth -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "headers"),
    [
        (StaticAuth(type="bearer", token="t0k"), {"Authorization": "Bearer t0k"}),
        (StaticAuth(type="header", header="X-Api-Key", token="k3y"), {"X-Api-Key": "k3y"}),
        (StaticAuth(type="bearer"), {}),
        (StaticAuth(type="header", token="k3y"), {}),
        (StaticAuth(type="none", token="ignored"), {}),
        (StaticAuth(type="credentials"), {}),
    ],
)
def test_static_auth_headers(auth, headers):
    assert static_auth_headers(auth) == headers


@pytest.mark.parametrize(
    ("auth", "problem"),
    [
        (StaticAuth(type="bearer", token="t"), None),
        (StaticAuth(type="header", header="X-Key", token="t"), None),
        (StaticAuth(type="none"), None),
        (StaticAuth(type="bearer"), "auth.token: required for this auth type"),
        (StaticAuth(type="header", header="X-Key"), "auth.token: required for this auth type"),
        (StaticAuth(type="header", token="t"), "auth.header: required for auth type header"),
        (
            StaticAuth(type="jwt_bearer"),
            "auth.type: must be bearer, header or none for this provider",
        ),
    ],
)
def test_check_static_auth(auth, problem):
    assert check_static_auth(auth) == problem
