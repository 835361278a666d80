"""CP Extender pure mappings, fed with the payloads of the CP Extender Loyalty document."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import msgspec
import pytest

from gateway.connectors.cpextender import transform, wire
from gateway.domain.models import ActivityEntry, Balance, Member, Money, Redemption

UTC = dt.UTC
AS_OF = dt.datetime(2020, 7, 3, 12, 0, tzinfo=UTC)
MEMBER = "CPOL-123185"


@pytest.fixture
def balance_check(load_fixture):
    return load_fixture("cpextender", "balance_check_response")


@pytest.fixture
def loyalty(balance_check) -> wire.Loyalty:
    return transform.decode_balance_check(balance_check)


@pytest.fixture
def program(make_program):
    return make_program("cpextender", points_per_unit=100, currency="USD")


# --- BalanceCheck decoding ---------------------------------------------------------------


def test_decode_balance_check_reads_the_documented_response(loyalty):
    assert loyalty.customer_number == "CPOL-123185"
    assert loyalty.program_name == "Loyalty program 1"
    assert loyalty.status == "active"
    assert loyalty.point_balance == 1504
    assert loyalty.open_authorizations == 1000
    assert loyalty.pending_points_earned == 0
    assert loyalty.available_point_balance == 504
    assert loyalty.history == [
        wire.HistoryEntry(date="11/29/2015", point_amount=1404, activity="Historical Summary"),
        wire.HistoryEntry(
            date="07/02/2020", point_amount=100, document="123456789", reason="Facebook Share"
        ),
        wire.HistoryEntry(
            date="07/02/2020",
            point_amount=1000,
            activity="Pending Charge",
            document="WB-101-10444",
            location="Web Order",
        ),
    ]


def test_decode_balance_check_accepts_numbers_sent_as_strings(balance_check):
    body = balance_check["Loyalty"]
    body["PointBalance"] = "1504"
    body["OpenAuthorizations"] = "1000"
    body["PendingPointsEarned"] = "0"
    body["AvailablePointBalance"] = "504"
    for line in body["History"]:
        line["PointAmount"] = str(line["PointAmount"])

    loyalty = transform.decode_balance_check(balance_check)

    assert loyalty.point_balance == 1504
    assert loyalty.open_authorizations == 1000
    assert loyalty.pending_points_earned == 0
    assert loyalty.available_point_balance == 504
    assert [line.point_amount for line in loyalty.history] == [1404, 100, 1000]


def test_decode_balance_check_rejects_a_body_without_loyalty():
    with pytest.raises(msgspec.ValidationError):
        transform.decode_balance_check({"CustomerNumber": "CPOL-123185"})


def test_decode_balance_check_rejects_a_non_numeric_balance(balance_check):
    balance_check["Loyalty"]["PointBalance"] = "lots"
    with pytest.raises(msgspec.ValidationError):
        transform.decode_balance_check(balance_check)


# --- Balance and Member ------------------------------------------------------------------


def test_to_balance_maps_the_documented_response(program, loyalty):
    balance = transform.to_balance(program, MEMBER, loyalty, AS_OF)

    assert balance == Balance(
        program="cpextender-test",
        member_id=MEMBER,
        points=1504,
        available_points=504,
        pending_points=0,
        held_points=1000,
        value=Money(amount="5.04", currency="USD"),
        expiring=[],
        as_of=AS_OF,
    )


def test_to_balance_has_no_value_without_a_points_rate(make_program, loyalty):
    balance = transform.to_balance(make_program("cpextender"), MEMBER, loyalty, AS_OF)
    assert balance.value is None
    assert balance.available_points == 504


def test_to_balance_derives_available_points_when_missing(program, balance_check):
    del balance_check["Loyalty"]["AvailablePointBalance"]
    loyalty = transform.decode_balance_check(balance_check)

    balance = transform.to_balance(program, MEMBER, loyalty, AS_OF)

    assert balance.available_points == 1504 - 1000
    assert balance.value == Money(amount="5.04", currency="USD")


def test_to_member_maps_the_documented_status(loyalty):
    member = transform.to_member("cpextender-test", MEMBER, loyalty)
    assert member == Member(program="cpextender-test", member_id=MEMBER, status="active")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", "active"),
        (" Active ", "active"),
        ("INACTIVE", "inactive"),
        ("pending", "pending"),
        ("suspended", "inactive"),
        ("closed", "inactive"),
        ("cancelled", "inactive"),
        ("frozen-ish", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_member_status(status, expected):
    assert transform.member_status(status) == expected


# --- History -> activity -----------------------------------------------------------------


def _summary(entry: ActivityEntry) -> tuple[object, ...]:
    return (
        entry.type,
        entry.points,
        entry.occurred_at,
        entry.description,
        entry.reference,
        entry.location,
    )


def test_to_activity_maps_the_documented_history(loyalty):
    entries = transform.to_activity(loyalty.history)

    assert [_summary(e) for e in entries] == [
        (
            "adjust",
            1404,
            dt.datetime(2015, 11, 29, tzinfo=UTC),
            "Historical Summary",
            None,
            None,
        ),
        (
            "earn",
            100,
            dt.datetime(2020, 7, 2, tzinfo=UTC),
            "Facebook Share",
            "123456789",
            None,
        ),
        (
            "hold",
            -1000,
            dt.datetime(2020, 7, 2, tzinfo=UTC),
            "Pending Charge",
            "WB-101-10444",
            "Web Order",
        ),
    ]


def test_activity_ids_are_stable_across_reads(balance_check):
    first = transform.to_activity(transform.decode_balance_check(balance_check).history)
    second = transform.to_activity(transform.decode_balance_check(balance_check).history)

    assert [e.id for e in first] == [e.id for e in second]
    assert len({e.id for e in first}) == 3
    assert all(re.fullmatch(r"cpx_[0-9a-f]{24}", e.id) for e in first)


def test_activity_ids_differ_for_duplicate_lines(balance_check):
    history = balance_check["Loyalty"]["History"]
    history.append(dict(history[1]))  # the same Facebook Share line a second time
    entries = transform.to_activity(transform.decode_balance_check(balance_check).history)

    assert len(entries) == 4
    assert entries[1].id != entries[3].id
    assert _summary(entries[1]) == _summary(entries[3])
    assert len({e.id for e in entries}) == 4


def test_activity_ids_do_not_depend_on_position(loyalty, balance_check):
    before = transform.to_activity(loyalty.history)
    balance_check["Loyalty"]["History"].insert(
        0, {"Date": "07/01/2020", "PointAmount": 25, "Document": "X-1", "Reason": "Review"}
    )
    after = transform.to_activity(transform.decode_balance_check(balance_check).history)

    assert [e.id for e in after[1:]] == [e.id for e in before]


def test_to_activity_drops_undated_lines():
    history = [
        wire.HistoryEntry(point_amount=5, reason="no date"),
        wire.HistoryEntry(date="not a date", point_amount=6),
        wire.HistoryEntry(date="07/02/2020", point_amount=7),
    ]
    entries = transform.to_activity(history)
    assert [(e.points, e.occurred_at) for e in entries] == [
        (7, dt.datetime(2020, 7, 2, tzinfo=UTC))
    ]


@pytest.mark.parametrize(
    ("activity", "amount", "kind", "points"),
    [
        (None, 100, "earn", 100),
        (None, -40, "adjust", -40),
        ("Historical Summary", -12, "adjust", -12),
        ("Pending Charge", 1000, "hold", -1000),
        ("Authorization", 300, "hold", -300),
        ("Points Expired", 20, "expire", -20),
        ("Redemption", 50, "redeem", -50),
        ("Charge", 50, "redeem", -50),
        ("Bonus", 30, "earn", 30),
        ("Refund", -10, "adjust", -10),
        ("Something New", 7, "other", 7),
    ],
)
def test_history_line_classification(activity, amount, kind, points):
    line = wire.HistoryEntry(date="07/02/2020", point_amount=amount, activity=activity)
    [entry] = transform.to_activity([line])
    assert (entry.type, entry.points) == (kind, points)


# --- Dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07/02/2020", dt.datetime(2020, 7, 2, tzinfo=UTC)),
        ("07/03/2020 22:15:00.000", dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC)),
        ("01/01/2019 10:15:00.000", dt.datetime(2019, 1, 1, 10, 15, tzinfo=UTC)),
        ("07/03/2020 22:15:00.250", dt.datetime(2020, 7, 3, 22, 15, 0, 250_000, tzinfo=UTC)),
        ("07/03/2020 22:15:00", dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC)),
        ("07/03/2020 22:15", dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC)),
        (" 11/29/2015 ", dt.datetime(2015, 11, 29, tzinfo=UTC)),
        ("2020-07-03T22:15:00Z", dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC)),
        ("2020-07-03T22:15:00.123Z", dt.datetime(2020, 7, 3, 22, 15, 0, 123_000, tzinfo=UTC)),
        ("2020-07-03T22:15:00", dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC)),
        ("2020-07-03", dt.datetime(2020, 7, 3, tzinfo=UTC)),
    ],
)
def test_parse_date(text, expected):
    parsed = transform.parse_date(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", [None, "", "   ", "yesterday", "13/45/2020", "2020/07/03"])
def test_parse_date_rejects_what_it_cannot_read(text):
    assert transform.parse_date(text) is None


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC), "07/03/2020 22:15:00.000"),
        (dt.datetime(2019, 1, 1, 10, 15, 0, 123_456, tzinfo=UTC), "01/01/2019 10:15:00.123"),
        (dt.datetime(2020, 7, 3, 22, 15, 0, 999_999, tzinfo=UTC), "07/03/2020 22:15:00.999"),
        # converted to UTC first ("All dates use UTC")
        (
            dt.datetime(2020, 7, 4, 0, 15, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "07/03/2020 22:15:00.000",
        ),
    ],
)
def test_format_date(when, expected):
    formatted = transform.format_date(when)
    assert formatted == expected
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}\.\d{3}", formatted)


def test_format_date_round_trips_through_parse_date():
    when = dt.datetime(2021, 12, 31, 23, 59, 58, 7_000, tzinfo=UTC)
    assert transform.parse_date(transform.format_date(when)) == when


def test_date_window_encodes_to_the_documented_optional_body(load_fixture):
    window = wire.DateWindow(
        startDate=transform.format_date(dt.datetime(2019, 1, 1, 10, 15, tzinfo=UTC)),
        endDate=transform.format_date(dt.datetime(2020, 7, 3, 22, 15, tzinfo=UTC)),
    )
    encoded = msgspec.json.decode(msgspec.json.encode(window))
    assert encoded == load_fixture("cpextender", "balance_check_request")


# --- Request bodies ----------------------------------------------------------------------


def test_earn_body_encodes_to_the_documented_request(load_fixture):
    body = transform.earn_body("2059378440", 100, "Facebook Share", "123456789")
    encoded = msgspec.json.decode(msgspec.json.encode(body))

    assert encoded == load_fixture("cpextender", "earn_request")
    assert list(encoded) == ["CustomerNumber", "Points", "Reason", "Reference"]


def test_authorize_body_encodes_to_the_documented_request(load_fixture):
    body = transform.authorize_body(MEMBER, 1000, "WB-101-10444")
    encoded = msgspec.json.decode(msgspec.json.encode(body))

    assert encoded == load_fixture("cpextender", "authorize_request")
    assert list(encoded) == ["Type", "Ref", "SaleId", "RequestedPoints"]


# --- Authorize -> Redemption -------------------------------------------------------------


@pytest.fixture
def authorize_answer(load_fixture) -> wire.AuthorizeResponse:
    # the connector decodes the body to builtins first, then converts non-strictly
    raw = load_fixture("cpextender", "authorize_response")
    return msgspec.convert(raw, wire.AuthorizeResponse, strict=False)


def test_authorize_response_decodes(authorize_answer):
    assert authorize_answer.auth_code == "GDA17E1614ABBA6596E5B3BA3781B339B"
    assert authorize_answer.authorized_points == 1000
    assert authorize_answer.authorized_amount == Decimal("10.00")
    assert authorize_answer.request_id == "0cb3fb5b-6b65-4d52-860e-33297f97fa2e"
    assert authorize_answer.type == "loyalty"


def test_to_redemption_maps_the_documented_authorize_response(program, authorize_answer):
    redemption = transform.to_redemption(
        program, MEMBER, 1000, "WB-101-10444", authorize_answer, AS_OF
    )

    assert redemption == Redemption(
        id="GDA17E1614ABBA6596E5B3BA3781B339B",
        program="cpextender-test",
        member_id=MEMBER,
        points=1000,
        value=Money(amount="10.00", currency="USD"),
        reference="WB-101-10444",
        order_id="WB-101-10444",
        status="authorized",
        created_at=AS_OF,
    )


def test_to_redemption_reports_usd_without_a_points_rate(make_program, authorize_answer):
    redemption = transform.to_redemption(
        make_program("cpextender"), MEMBER, 1000, "WB-101-10444", authorize_answer, AS_OF
    )
    assert redemption.value == Money(amount="10.00", currency="USD")


def test_to_redemption_falls_back_to_requested_points_and_rate(make_program, load_fixture):
    raw = load_fixture("cpextender", "authorize_response")
    del raw["AuthorizedPoints"], raw["AuthorizedAmount"]
    answer = msgspec.convert(raw, wire.AuthorizeResponse, strict=False)
    program = make_program("cpextender", points_per_unit=200, currency="EUR")

    redemption = transform.to_redemption(program, MEMBER, 1000, "WB-101-10444", answer, AS_OF)

    assert redemption.points == 1000
    assert redemption.value == Money(amount="5.00", currency="EUR")


def test_authorize_response_without_auth_code_is_rejected(load_fixture):
    raw = load_fixture("cpextender", "authorize_response")
    del raw["AuthCode"]
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(raw, wire.AuthorizeResponse, strict=False)
