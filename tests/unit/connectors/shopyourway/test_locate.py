"""Finding a write in GetMemberActivityDetail (connectors/shopyourway/locate.py), fed with
the document's activity sample, modified per case."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.connectors.shopyourway import locate

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "shopyourway"
NUMBER = "LG0123456789"
ORDER = "order-42"
CODE = "AUTH-7781"


def sample() -> dict[str, Any]:
    path = FIXTURES / "member_activity_details_response.json"
    return json.loads(path.read_text(encoding="utf-8"))


def the_row(activity: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = activity["TransactionDetails"]["TransactionDetail"][0]
    return row


def activity_of(*rows: dict[str, Any]) -> dict[str, Any]:
    activity = sample()
    activity["TransactionDetails"]["TransactionDetail"] = list(rows)
    return activity


def redemption_row(**changes: Any) -> dict[str, Any]:
    row = copy.deepcopy(the_row(sample()))
    row.update({"TransactionType": "R", "TotalPointsRedeemed": 1000, **changes})
    return row


def void_row(**changes: Any) -> dict[str, Any]:
    row = copy.deepcopy(the_row(sample()))
    row.update({"TransactionType": "V", "TotalPointsRedeemed": -1000, **changes})
    return row


def by_amount(points: int):
    return lambda row: locate.redeemed(row) == points


# --- rows / redeemed ---------------------------------------------------------------------


def test_rows_reads_the_documented_list():
    [row] = locate.rows(sample())
    assert row["TransactionID"] == "116624590EDCEA311EFE3EEC123F5890"
    assert locate.redeemed(row) == 0


def test_rows_accepts_a_single_detail_object_instead_of_a_list():
    activity = sample()
    activity["TransactionDetails"]["TransactionDetail"] = the_row(sample())
    [row] = locate.rows(activity)
    assert row["OrderId"] == "110017374"


@pytest.mark.parametrize(
    "activity",
    [None, {}, {"TransactionDetails": None}, {"TransactionDetails": {"TransactionDetail": "x"}}],
)
def test_rows_of_a_body_without_details_are_none(activity):
    assert locate.rows(activity) == []


def test_rows_skips_entries_that_are_not_objects():
    activity = activity_of(redemption_row(), "junk", 7)  # type: ignore[arg-type]
    assert [r["TransactionType"] for r in locate.rows(activity)] == ["R"]


def test_redeemed_reads_numbers_sent_as_strings():
    assert locate.redeemed({"TotalPointsRedeemed": "1,000"}) == 1000
    assert locate.redeemed({"TotalPointsRedeemed": "-250"}) == -250
    assert locate.redeemed({}) == 0


# --- find: redemptions ---------------------------------------------------------------------


def test_a_redemption_is_found_by_its_transaction_number():
    row = redemption_row(TransactionNumber=NUMBER, OrderId="someone-else")
    found, match = locate.find(activity_of(row), "R", NUMBER, ORDER, by_amount(5))
    assert found == "found"
    assert match is not None
    assert match["TransactionNumber"] == NUMBER


def test_a_redemption_is_found_by_order_id_and_amount_when_the_number_differs():
    row = redemption_row(OrderId=ORDER)  # TransactionNumber stays the sample's "0001"
    found, match = locate.find(activity_of(row), "R", NUMBER, ORDER, by_amount(1000))
    assert found == "found"
    assert match is not None
    assert (match["OrderId"], match["TransactionNumber"]) == (ORDER, "0001")


def test_the_field_tables_spelling_order_id_is_read_too():
    row = redemption_row()
    del row["OrderId"]
    row["OrderID"] = ORDER
    assert locate.find(activity_of(row), "R", NUMBER, ORDER, by_amount(1000))[0] == "found"


def test_the_same_order_with_another_amount_is_ambiguous():
    row = redemption_row(OrderId=ORDER, TotalPointsRedeemed=400)
    assert locate.find(activity_of(row), "R", NUMBER, ORDER, by_amount(1000)) == (
        "ambiguous",
        None,
    )


def test_another_order_is_absent():
    row = redemption_row(OrderId="another-order")
    assert locate.find(activity_of(row), "R", NUMBER, ORDER, by_amount(1000)) == ("absent", None)


def test_the_plain_sample_has_no_redemption():
    # a purchase row (type "P", nothing redeemed) even with our order and number
    row = the_row(sample())
    row.update(OrderId=ORDER, TransactionNumber=NUMBER)
    assert locate.find(activity_of(row), "R", NUMBER, ORDER, lambda r: True) == ("absent", None)


def test_a_row_of_another_type_with_points_redeemed_counts_as_a_redemption():
    row = redemption_row(TransactionType="P", TransactionNumber=NUMBER)
    assert locate.find(activity_of(row), "R", NUMBER, ORDER, by_amount(0))[0] == "found"


def test_a_void_row_is_never_taken_for_the_redemption():
    row = void_row(TransactionNumber=NUMBER, OrderId=ORDER)
    assert locate.find(activity_of(row), "R", NUMBER, ORDER, lambda r: True) == ("absent", None)


# --- find: voids -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["V", "P"])  # "P": the negative amount tells it is a void
def test_a_void_is_found_by_its_order_id_being_the_code(kind):
    row = void_row(TransactionType=kind, OrderId=CODE)
    other = void_row(OrderId="AUTH-0000")
    activity = activity_of(other, row)
    found, match = locate.find(activity, "V", NUMBER, CODE, lambda r: locate.voids(r, CODE))
    assert found == "found"
    assert match is not None
    assert match["OrderId"] == CODE


def test_a_void_of_another_authorization_is_absent():
    row = void_row(OrderId="AUTH-0000")
    activity = activity_of(row, redemption_row(OrderId=CODE))
    assert locate.find(activity, "V", NUMBER, CODE, lambda r: locate.voids(r, CODE)) == (
        "absent",
        None,
    )


def test_voids_compares_the_order_id_with_the_first_40_characters_of_the_code():
    code = "C" * 50
    assert locate.voids(void_row(OrderId="C" * 40), code)
    assert not locate.voids(void_row(OrderId="C" * 39), code)


def test_voids_reads_the_authorization_code_attribute():
    row = void_row(OrderId="unrelated")
    row["TransactionAttributes"]["TransactionAttribute"].append(
        {"TransactionAttributeKey": "authorizationCode", "TransactionAttributeValue": CODE}
    )
    assert locate.voids(row, CODE)
    assert not locate.voids(row, "AUTH-0000")


# --- authorization_code ------------------------------------------------------------------


def test_the_plain_sample_carries_no_authorization_code():
    assert locate.authorization_code(the_row(sample())) is None


def test_the_authorization_code_comes_from_a_transaction_attribute():
    row = the_row(sample())
    row["TransactionAttributes"]["TransactionAttribute"].append(
        {"TransactionAttributeKey": "authorizationCode", "TransactionAttributeValue": CODE}
    )
    assert locate.authorization_code(row) == CODE


@pytest.mark.parametrize("key", ["AUTHORIZATION_CODE", "authorization_code", "AuthorizationCode"])
def test_the_attribute_key_is_read_ignoring_case_and_underscores(key):
    row = the_row(sample())
    row["TransactionAttributes"] = {
        "TransactionAttribute": {"TransactionAttributeKey": key, "TransactionAttributeValue": CODE}
    }
    assert locate.authorization_code(row) == CODE


def test_without_the_attribute_a_row_level_authorization_code_is_used():
    row = the_row(sample())
    row["AuthorizationCode"] = " AUTH-9 "
    assert locate.authorization_code(row) == "AUTH-9"
