"""gateway/api/bodies.py: the strict body decoder, fed with the contract's bodies."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.api.bodies import MAX_DEPTH, NoBody, decode, depth_of, media_type_ok
from gateway.domain.commands import EarnRequest, EnrollRequest, MemberPatchRequest
from gateway.domain.errors import InvalidRequest


def _field(raw: bytes, body_type: type = EarnRequest) -> str:
    with pytest.raises(InvalidRequest) as caught:
        decode(raw, body_type)
    assert caught.value.errors is not None
    return caught.value.errors[0].field


def test_a_valid_body_decodes() -> None:
    assert decode(b'{"points": 5, "reason": "Survey"}', EarnRequest) == EarnRequest(
        points=5, reason="Survey"
    )
    enrolled = decode(b'{"email": "a@b.co", "birth_date": "1990-02-03"}', EnrollRequest)
    assert str(enrolled.birth_date) == "1990-02-03"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"points": "5"}', "points"),
        (b'{"points": 5.0}', "points"),
        (b'{"points": 1e2}', "points"),
        (b'{"points": true}', "points"),
        (b'{"points": 5, "points": 6}', "points"),
        (b'{"points": 5, "x": 1}', "body"),
        (b"", "body"),
        (b"   ", "body"),
        (b"[1]", "body"),
        (b"null", "body"),
        (b'{"points": NaN}', "body"),
        (b'{"points": 5', "body"),
        (b'{"points": 5, "reason": "\xff"}', "body"),
        (b'{"po\xffints": 5}', "body"),
    ],
)
def test_what_is_refused_and_the_field_named(raw: bytes, field: str) -> None:
    assert _field(raw) == field


def test_nested_fields_are_named_by_their_path() -> None:
    raw = b'{"address": {"city": 5}}'
    assert _field(raw, MemberPatchRequest) == "address.city"


def test_nesting_beyond_the_limit_is_refused_before_parsing() -> None:
    deep = b'{"points": 5, "reason": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert _field(deep) == "body"
    allowed = b'{"points": 5, "reason": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    assert _field(allowed) == "reason"  # deep enough to parse, then a type error


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert depth_of(b'{"reason": "[[[[{{{{\\"[[["}') == 1
    assert decode(b'{"points": 1, "reason": "' + b"[" * 100 + b'"}', EarnRequest).points == 1


def test_an_optional_body_may_be_empty_or_an_empty_object() -> None:
    assert decode(b"", NoBody, required=False) is None
    assert decode(b"{}", NoBody, required=False) == NoBody()
    with pytest.raises(InvalidRequest):
        decode(b'{"x": 1}', NoBody, required=False)


@pytest.mark.parametrize(
    ("content_type", "method", "ok"),
    [
        ("application/json", "POST", True),
        ("application/json; charset=utf-8", "POST", True),
        ("Application/JSON", "POST", True),
        ("application/vnd.api+json", "POST", True),
        ("text/plain", "POST", False),
        ("application/x-www-form-urlencoded", "POST", False),
        (None, "POST", False),
        ("application/merge-patch+json", "PATCH", True),
        ("application/json", "PATCH", True),
        ("application/vnd.api+json", "PATCH", False),
    ],
)
def test_media_types(content_type: str | None, method: str, ok: bool) -> None:
    assert media_type_ok(content_type, method) is ok


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=20,
)


@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_are_a_body_or_one_clear_refusal(raw: bytes) -> None:
    refused: InvalidRequest | None = None
    try:
        body = decode(raw, EarnRequest)
    except InvalidRequest as exc:  # the only exception decode may raise
        refused = exc
    if refused is not None:
        assert refused.status == 400
        assert refused.errors
        return
    assert isinstance(body, EarnRequest)
    assert type(body.points) is int


@given(st.integers(min_value=0, max_value=40))
def test_depth_is_counted_exactly(levels: int) -> None:
    assert depth_of(b"[" * levels + b"]" * levels) == levels
