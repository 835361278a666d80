"""Every error the CP Extender document lists, mapped onto the contract's error codes."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from gateway.connectors.common import error_message
from gateway.connectors.cpextender.errors import PROVIDER, map_error
from gateway.domain.errors import (
    InsufficientPoints,
    MemberInactive,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)

#: Earn and Authorize change data upstream; BalanceCheck only reads.
WRITES = {"Earn": True, "Authorize": True, "BalanceCheck": False}

REQUIRED = "Required: Type, Ref, SaleId, and (RequestedAmount or RequestedPoints)"

#: (operation, status, message as documented) -> (error class, code, http status, outcome)
DOCUMENTED = [
    ("Earn", 400, "Bad Request", UpstreamRejected, "upstream_rejected", 422, "answered"),
    ("Earn", 401, "Not Authorized", UpstreamUnavailable, "upstream_unavailable", 503, "not_sent"),
    ("Earn", 404, "CustomerNumber Not Found", MemberNotFound, "member_not_found", 404, "answered"),
    (
        "Earn",
        500,
        "Internal Server Error",
        UpstreamUnavailable,
        "upstream_unavailable",
        503,
        "ambiguous",
    ),
    (
        "BalanceCheck",
        401,
        "Not Authorized",
        UpstreamUnavailable,
        "upstream_unavailable",
        503,
        "not_sent",
    ),
    ("BalanceCheck", 404, "Id not found", MemberNotFound, "member_not_found", 404, "answered"),
    (
        "BalanceCheck",
        500,
        "Internal Server Error",
        UpstreamUnavailable,
        "upstream_unavailable",
        503,
        "not_sent",
    ),
    ("Authorize", 400, REQUIRED, UpstreamRejected, "upstream_rejected", 422, "answered"),
    ("Authorize", 400, "Type is not valid", UpstreamRejected, "upstream_rejected", 422, "answered"),
    (
        "Authorize",
        400,
        "No Balance Remaining",
        InsufficientPoints,
        "insufficient_points",
        422,
        "answered",
    ),
    (
        "Authorize",
        400,
        "Not enrolled in Loyalty",
        MemberNotFound,
        "member_not_found",
        404,
        "answered",
    ),
    (
        "Authorize",
        401,
        "Not Authorized",
        UpstreamUnavailable,
        "upstream_unavailable",
        503,
        "not_sent",
    ),
    (
        "Authorize",
        500,
        "Internal Server Error",
        UpstreamUnavailable,
        "upstream_unavailable",
        503,
        "ambiguous",
    ),
]


def test_the_table_covers_every_documented_error(load_fixture):
    documented = {
        (operation, line["status"], line["message"])
        for operation, lines in load_fixture("cpextender", "errors").items()
        for line in lines
    }
    assert {(op, status, message) for op, status, message, *_ in DOCUMENTED} == documented
    assert len(DOCUMENTED) == len(documented)


@pytest.mark.parametrize(
    ("operation", "status", "message", "cls", "code", "http_status", "outcome"),
    DOCUMENTED,
    ids=[f"{row[0]}-{row[1]}-{row[2][:24]}" for row in DOCUMENTED],
)
def test_documented_error(operation, status, message, cls, code, http_status, outcome):
    error = map_error(status, message, write=WRITES[operation])

    assert type(error) is cls
    assert error.code == code
    assert error.status == http_status
    assert error.outcome == outcome
    assert error.upstream == UpstreamDetail(provider="cpextender", status=status, message=message)


def test_provider_name():
    assert PROVIDER == "cpextender"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(400, json={"Message": "No Balance Remaining"}),
        httpx.Response(400, json="No Balance Remaining"),
        httpx.Response(400, text="No Balance Remaining"),
    ],
    ids=["message-object", "json-string", "plain-text"],
)
def test_provider_words_survive_every_error_body_shape(response):
    error = map_error(response.status_code, error_message(response), write=True)

    assert error.code == "insufficient_points"
    assert error.upstream is not None
    assert error.upstream.message == "No Balance Remaining"


def test_empty_error_body_falls_back_to_the_reason_phrase():
    response = httpx.Response(404)
    error = map_error(response.status_code, error_message(response), write=False)

    assert error.code == "member_not_found"
    assert error.upstream == UpstreamDetail(provider="cpextender", status=404, message="Not Found")


@pytest.mark.parametrize(
    ("status", "message", "write", "cls", "outcome"),
    [
        (400, "Insufficient points", True, InsufficientPoints, "answered"),
        (400, "Customer account suspended", True, MemberInactive, "answered"),
        (400, "Customer is inactive", False, MemberInactive, "answered"),
        (403, "Forbidden", True, UpstreamUnavailable, "not_sent"),
        (409, "Duplicate SaleId", True, UpstreamRejected, "answered"),
        (422, "Unprocessable", True, UpstreamRejected, "answered"),
        (502, "Bad Gateway", True, UpstreamUnavailable, "ambiguous"),
        (503, "Service Unavailable", False, UpstreamUnavailable, "not_sent"),
        (418, "I'm a teapot", True, UpstreamUnavailable, "not_sent"),
    ],
)
def test_undocumented_answers(status, message, write, cls, outcome):
    error = map_error(status, message, write=write)

    assert type(error) is cls
    assert error.outcome == outcome
    assert error.upstream is not None
    assert error.upstream.message == message


def test_upstream_detail_serializes_without_empty_fields():
    error = map_error(400, "Type is not valid", write=True)
    assert msgspec.json.decode(msgspec.json.encode(error.upstream)) == {
        "provider": "cpextender",
        "status": 400,
        "message": "Type is not valid",
    }
