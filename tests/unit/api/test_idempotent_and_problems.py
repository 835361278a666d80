"""Pure parts of the HTTP edge: a write's fingerprint, the Idempotency-Key header's rules,
and how any exception becomes a problem of the vocabulary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from gateway.api.auth import idempotency_key
from gateway.api.idempotent import fingerprint
from gateway.api.problems import problem_bytes, problem_headers, translate
from gateway.domain import errors as e


def test_the_fingerprint_ignores_key_order_and_whitespace_only() -> None:
    a = fingerprint("post", "/v1/x", b'{"points": 5, "reference": "r1"}')
    assert a == fingerprint("POST", "/v1/x", b'{"reference":"r1","points":5}')
    assert a != fingerprint("POST", "/v1/x", b'{"reference":"r1","points":6}')
    assert a != fingerprint("POST", "/v1/y", b'{"reference":"r1","points":5}')
    assert a != fingerprint("PATCH", "/v1/x", b'{"reference":"r1","points":5}')
    # not JSON: the bytes themselves; no body at all differs from an empty object
    assert fingerprint("POST", "/v1/x", b"not json") != fingerprint("POST", "/v1/x", b"not  json")
    assert fingerprint("POST", "/v1/x", b"") != fingerprint("POST", "/v1/x", b"{}")


class _Connection:
    def __init__(self, value: str | None) -> None:
        self.headers = {} if value is None else {"idempotency-key": value}


@pytest.mark.parametrize(
    ("raw", "key"),
    [("abc-123", "abc-123"), ('"quoted"', "quoted"), ("  padded  ", "padded"), ("x" * 255, None)],
)
def test_a_valid_idempotency_key(raw: str, key: str | None) -> None:
    assert idempotency_key(_Connection(raw)) == (key or raw)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_a_missing_idempotency_key(raw: str | None) -> None:
    with pytest.raises(e.IdempotencyKeyMissing):
        idempotency_key(_Connection(raw))


@pytest.mark.parametrize("raw", ["x" * 256, "has space", "tab\there", "é", '""'])
def test_an_invalid_idempotency_key(raw: str) -> None:
    with pytest.raises(e.InvalidRequest):
        idempotency_key(_Connection(raw))


def test_translate_keeps_the_vocabulary_and_maps_litestar() -> None:
    own = e.InsufficientPoints("no")
    assert translate(own) is own
    assert isinstance(translate(NotFoundException()), e.NotFound)
    limited = translate(HTTPException(status_code=429, headers={"Retry-After": "3"}))
    assert isinstance(limited, e.RateLimited)
    assert limited.headers == {"Retry-After": "3"}
    invalid = translate(
        ValidationException(extra=[{"message": "Expected `int` - at `$.points`", "key": "data"}])
    )
    assert isinstance(invalid, e.InvalidRequest)
    assert invalid.errors == [e.FieldError(field="points", message="Expected `int`")]
    bad_json = translate(HTTPException(status_code=400, detail="Expecting value"))
    assert bad_json.errors == [
        e.FieldError(field="body", message="not valid JSON: Expecting value")
    ]


def test_anything_else_is_a_bare_500_that_says_nothing_of_it() -> None:
    error = translate(KeyError("secret-token-in-a-message"))
    assert type(error) is e.GatewayError
    assert error.status == 500
    assert "secret" not in problem_bytes(error).decode()


def test_a_problem_carries_its_code_type_and_headers() -> None:
    error = e.UpstreamUnavailable("down", headers={"Retry-After": "2"})
    body = problem_bytes(error)
    problem: dict[str, Any] = json.loads(body)
    assert problem["code"] == "upstream_unavailable"
    assert problem["status"] == 503
    assert problem["type"].endswith("/upstream_unavailable")
    headers = dict(problem_headers(error, body))
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"retry-after"] == b"2"
