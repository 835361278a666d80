"""Finding a CP Extender Authorize in the BalanceCheck History (transform.find_hold and
transform.located_redemption), fed with the CP Extender Loyalty document's sample."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from gateway.connectors.cpextender import transform, wire
from gateway.domain.models import Money, Redemption

MEMBER = "CPOL-123185"
SALE_ID = "WB-101-10444"

# The document's BalanceCheck "Response Body", copied verbatim (cp-extender-loyalty.txt).
BALANCE_CHECK: dict[str, Any] = {
    "Loyalty": {
        "CustomerNumber": "CPOL-123185",
        "ProgramName": "Loyalty program 1",
        "EarningDescription": "Return Listing of CP Earning Rule Descriptions",
        "RedemptionDescription": "Return Listing of CP Redemption Rule Descriptions",
        "Status": "active",
        "PointBalance": 1504,
        "OpenAuthorizations": 1000,
        "PendingPointsEarned": 0,
        "AvailablePointBalance": 504,
        "History": [
            {"Activity": "Historical Summary", "Date": "11/29/2015", "PointAmount": 1404},
            {
                "Date": "07/02/2020",
                "PointAmount": 100,
                "Document": "123456789",
                "Reason": "Facebook Share",
            },
            {
                "Activity": "Pending Charge",
                "Date": "07/02/2020",
                "PointAmount": 1000,
                "Location": "Web Order",
                "Document": "WB-101-10444",
            },
        ],
    }
}


def history(*extra: dict[str, Any], drop_hold: bool = False) -> list[wire.HistoryEntry]:
    body = copy.deepcopy(BALANCE_CHECK)
    lines = body["Loyalty"]["History"]
    if drop_hold:
        lines.pop()
    lines.extend(extra)
    return transform.decode_balance_check(body).history


@pytest.fixture
def program(make_program):
    return make_program("cpextender", points_per_unit=100, currency="USD")


def test_the_documented_pending_charge_is_found_by_its_sale_id_and_amount():
    found, line = transform.find_hold(history(), SALE_ID, 1000)
    assert found == "found"
    assert line == wire.HistoryEntry(
        date="07/02/2020",
        point_amount=1000,
        activity="Pending Charge",
        document=SALE_ID,
        location="Web Order",
    )


def test_a_found_hold_is_an_authorized_redemption_named_by_the_sale_id(program):
    _, line = transform.find_hold(history(), SALE_ID, 1000)
    assert line is not None
    redemption = transform.located_redemption(program, MEMBER, 1000, SALE_ID, line)
    assert redemption == Redemption(
        id=SALE_ID,
        program="cpextender-test",
        member_id=MEMBER,
        points=1000,
        value=Money(amount="10.00", currency="USD"),
        reference=SALE_ID,
        order_id=SALE_ID,
        status="authorized",
        created_at=dt.datetime(2020, 7, 2, tzinfo=dt.UTC),
    )


def test_without_a_points_rate_the_located_redemption_has_no_value(make_program):
    _, line = transform.find_hold(history(), SALE_ID, 1000)
    assert line is not None
    redemption = transform.located_redemption(make_program(), MEMBER, 1000, SALE_ID, line)
    assert redemption.value is None
    assert redemption.status == "authorized"


def test_another_sale_id_is_absent():
    assert transform.find_hold(history(), "WB-101-99999", 1000) == ("absent", None)


def test_an_empty_history_is_absent():
    assert transform.find_hold([], SALE_ID, 1000) == ("absent", None)


@pytest.mark.parametrize("points", [999, 500, 1001])
def test_the_same_sale_id_with_another_amount_is_ambiguous(points):
    assert transform.find_hold(history(), SALE_ID, points) == ("ambiguous", None)


def test_an_earn_line_with_the_same_document_does_not_count():
    # the sample's plain earn line (no Activity), with the reference of our Authorize
    earn = {"Date": "07/03/2020", "PointAmount": 1000, "Document": SALE_ID, "Reason": "Promo"}
    assert transform.find_hold(history(earn, drop_hold=True), SALE_ID, 1000) == ("absent", None)
    # and it does not make another amount ambiguous either
    assert transform.find_hold(history(earn, drop_hold=True), SALE_ID, 700) == ("absent", None)


def test_a_summary_line_with_the_same_document_does_not_count():
    summary = {"Activity": "Historical Summary", "Date": "07/03/2020", "PointAmount": 1000}
    summary["Document"] = SALE_ID
    assert transform.find_hold(history(summary, drop_hold=True), SALE_ID, 1000) == (
        "absent",
        None,
    )


def test_a_matching_line_wins_over_one_with_another_amount():
    partial = {"Activity": "Pending Charge", "Date": "07/01/2020", "PointAmount": 400}
    partial["Document"] = SALE_ID
    found, line = transform.find_hold(history(partial), SALE_ID, 400)
    assert found == "found"
    assert line is not None
    assert (line.date, line.point_amount) == ("07/01/2020", 400)


def test_a_charge_line_is_a_completed_redemption(program):
    charge = {
        "Activity": "Charge",
        "Date": "07/04/2020 10:15:00",
        "PointAmount": -300,
        "Document": "WB-101-20000",
    }
    found, line = transform.find_hold(history(charge), "WB-101-20000", 300)
    assert found == "found"
    assert line is not None
    assert line.activity == "Charge"
    redemption = transform.located_redemption(program, MEMBER, 300, "WB-101-20000", line)
    assert redemption.status == "completed"
    assert redemption.id == "WB-101-20000"
    assert redemption.points == 300
    assert redemption.value == Money(amount="3.00", currency="USD")
    assert redemption.created_at == dt.datetime(2020, 7, 4, 10, 15, tzinfo=dt.UTC)


def test_an_undated_line_gets_a_creation_time_of_now(program):
    line = wire.HistoryEntry(point_amount=1000, activity="Pending Charge", document=SALE_ID)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    redemption = transform.located_redemption(program, MEMBER, 1000, SALE_ID, line)
    assert before <= redemption.created_at <= dt.datetime.now(dt.UTC)
    assert redemption.created_at.microsecond == 0
