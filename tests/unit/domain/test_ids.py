"""gateway/domain/ids.py and the connectors' id rules: an id is one opaque path segment."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.connectors.alpha.client import AlphaConnector
from gateway.connectors.cpextender.client import CPExtenderConnector
from gateway.connectors.irt.client import IRTConnector
from gateway.connectors.shopyourway.client import ShopYourWayConnector
from gateway.domain.errors import InvalidRequest
from gateway.domain.ids import SEGMENT, check_id

CONNECTORS = [AlphaConnector, CPExtenderConnector, IRTConnector, ShopYourWayConnector]
BAD = [
    "",
    ".",
    "..",
    "....",
    "a/b",
    "a\\b",
    "a\x00b",
    "a\nb",
    "a b",
    "é",
    "x" * 129,
    "%2e",
    "a?b",
    "a#b",
]


@pytest.mark.parametrize("value", BAD)
def test_what_no_provider_accepts(value: str) -> None:
    for connector in CONNECTORS:
        with pytest.raises(InvalidRequest) as caught:
            check_id("member_id", value, connector.member_id_pattern)
        assert caught.value.errors is not None
        assert caught.value.errors[0].field == "member_id"


@pytest.mark.parametrize(
    ("connector", "good", "bad"),
    [
        (CPExtenderConnector, ["2059378440", "CPOL-123185", "a.b"], [".a", "-x", "x" * 65]),
        (AlphaConnector, ["OLMKne7Y3N", "ann@example.com", "r.1"], [".hidden", "x" * 129]),
        (IRTConnector, ["1234567812345678"], ["1234.5678", "x" * 33]),
        (ShopYourWayConnector, ["7081317704087522"], ["7081.1", "a_b", "x" * 65]),
    ],
)
def test_each_provider_has_its_own_alphabet_and_length(
    connector: type, good: list[str], bad: list[str]
) -> None:
    for value in good:
        assert check_id("member_id", value, connector.member_id_pattern) == value
    for value in bad:
        with pytest.raises(InvalidRequest):
            check_id("member_id", value, connector.member_id_pattern)


def test_the_redemption_id_is_named_in_its_error() -> None:
    with pytest.raises(InvalidRequest) as caught:
        check_id("redemption_id", "..", ShopYourWayConnector.redemption_id_pattern)
    assert caught.value.errors is not None
    assert caught.value.errors[0].field == "redemption_id"
    assert ".." not in caught.value.detail


@given(st.text(max_size=140))
def test_an_accepted_id_is_one_segment_no_client_rewrites(value: str) -> None:
    try:
        check_id("member_id", value)
    except InvalidRequest:
        return
    # as the CP and Alpha connectors build their paths
    path = f"/Loyalty/{quote(value, safe='')}/BalanceCheck"
    url = httpx.URL("http://provider.test" + path)
    assert url.raw_path.decode() == path  # not normalized away
    assert url.path.split("/") == ["", "Loyalty", value, "BalanceCheck"]
    assert value.strip(".")


@given(st.from_regex(SEGMENT, fullmatch=True))
def test_only_dots_are_refused_from_the_segment_alphabet(value: str) -> None:
    if re.fullmatch(r"\.+", value):
        with pytest.raises(InvalidRequest):
            check_id("member_id", value)
    else:
        assert check_id("member_id", value) == value
