"""What the IRT connector puts on the wire, checked on a fake transport (ActiveMerchant style).

Every test builds the connector exactly as the gateway does (settings parsed from YAML) but
hands it a ``HandlerTransport`` (tests/unit/connectors/transports.py), which receives the
bytes the production encoder made: the handler records each outgoing request and answers
with the next scripted reply. No network, no simulator.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from gateway.config import parse_settings
from gateway.connectors.irt.client import PIN_HEADER, IRTConnector
from gateway.domain.commands import EarnCommand, EnrollRequest, RedeemCommand
from gateway.domain.errors import (
    GatewayError,
    InvalidRequest,
    MemberAlreadyEnrolled,
    MemberNotFound,
    UpstreamDetail,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.domain.models import Member
from gateway.settings import ProgramSettings
from tests.unit.connectors.transports import HandlerTransport

CARD = "1234567812345678"
PIN = "4321"
TOKEN = "0123456789abcdef0123456789abcdef"
URL = "http://irt.test/api/"
FORM = "application/x-www-form-urlencoded"

Reply = httpx.Response | Exception


def program_yaml(options: str = "") -> str:
    return (
        "programs:\n"
        "  - id: irt-test\n"
        "    name: IRT test\n"
        "    provider: irt\n"
        "    base_url: http://irt.test/api/\n"
        "    auth: {type: credentials, username: u, password: p}\n" + options
    )


def make_irt_program(options: str = "") -> ProgramSettings:
    [program] = parse_settings(program_yaml(options), {}).programs
    return program


def ok(data: Any = None, message: str = "Success") -> httpx.Response:
    body: dict[str, Any] = {"status": 0, "message": message}
    if data is not None:
        body["data"] = data
    return httpx.Response(200, json=body)


def status(code: int | str, message: str) -> httpx.Response:
    return httpx.Response(200, json={"status": code, "message": message})


class FakeIRT:
    """Records every request; answers with the scripted replies in order."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected extra request: {form_of(request)}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            if isinstance(reply, httpx.RequestError):
                reply.request = request
            raise reply
        return reply

    @property
    def forms(self) -> list[dict[str, str]]:
        return [form_of(r) for r in self.requests]


def form_of(request: httpx.Request) -> dict[str, str]:
    pairs = parse_qsl(request.content.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    form = dict(pairs)
    assert len(form) == len(pairs), f"a field was sent twice: {pairs}"
    return form


def run(
    fake: FakeIRT,
    action: Callable[[IRTConnector], Awaitable[Any]],
    *,
    program: ProgramSettings | None = None,
) -> Any:
    async def main() -> Any:
        connector = IRTConnector(program or make_irt_program(), transport=HandlerTransport(fake))
        try:
            return await action(connector)
        finally:
            await connector.aclose()

    return asyncio.run(main())


def fails(
    fake: FakeIRT,
    action: Callable[[IRTConnector], Awaitable[Any]],
    *,
    program: ProgramSettings | None = None,
) -> GatewayError:
    with pytest.raises(GatewayError) as excinfo:
        run(fake, action, program=program)
    return excinfo.value


def earn_command(**changes: Any) -> EarnCommand:
    values: dict[str, Any] = {
        "points": 100,
        "reason": None,
        "reference": "order-1",
        "point_type": None,
        "idempotency_token": TOKEN,
        "pin": None,
    }
    values.update(changes)
    return EarnCommand(**values)


def redeem_command(**changes: Any) -> RedeemCommand:
    values: dict[str, Any] = {
        "points": 40,
        "reference": "sale-7",
        "point_type": None,
        "idempotency_token": TOKEN,
        "pin": None,
    }
    values.update(changes)
    return RedeemCommand(**values)


# --- The RPC envelope --------------------------------------------------------------------


def test_every_call_is_a_form_post_to_the_one_endpoint():
    fake = FakeIRT(ok({"balance": 620, "spendable": 500, "annual": 120}))

    run(fake, lambda c: c.balance(CARD))

    [request] = fake.requests
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.url.path == "/api/"
    assert request.url.query == b""
    assert request.headers["content-type"] == FORM
    assert fake.forms == [{"call": "getbalance", "user": "u", "pass": "p", "cardnumber": CARD}]


def test_credentials_travel_in_the_body_only():
    fake = FakeIRT(ok({"balance": 1}))

    run(fake, lambda c: c.balance(CARD))

    [request] = fake.requests
    assert "authorization" not in request.headers
    assert b"pass=p" in request.content
    assert PIN_HEADER.lower() not in request.headers


def test_options_path_is_appended_to_base_url():
    fake = FakeIRT(ok({"balance": 1}))

    run(fake, lambda c: c.balance(CARD), program=make_irt_program("    options: {path: /rpc}\n"))

    assert str(fake.requests[0].url) == "http://irt.test/api/rpc"


def test_balance_result():
    fake = FakeIRT(ok({"balance": 620, "spendable": 500, "annual": 120}))

    balance = run(fake, lambda c: c.balance(CARD))

    assert (balance.member_id, balance.points, balance.available_points) == (CARD, 620, 500)
    assert balance.provider_data == {"balance": 620, "spendable": 500, "annual": 120}


def test_balance_sends_the_pin_when_given():
    fake = FakeIRT(ok({"balance": 1}))

    run(fake, lambda c: c.balance(CARD, pin=PIN))

    assert fake.forms[0]["PIN"] == PIN


def test_a_status_sent_as_a_string_is_read():
    fake = FakeIRT(
        httpx.Response(200, json={"status": "0", "message": "OK", "data": {"balance": 7}})
    )

    assert run(fake, lambda c: c.balance(CARD)).points == 7


def test_probe_calls_heartbeat():
    fake = FakeIRT(ok(message="OK"))

    run(fake, lambda c: c.probe())

    assert fake.forms == [{"call": "Heartbeat", "user": "u", "pass": "p"}]


# --- earn / redeem -------------------------------------------------------------------------


def test_earn_sends_points_reference_and_the_idempotency_key():
    fake = FakeIRT(ok({"balance": 720, "loyalty_transaction_number": "TX1"}))

    transaction = run(fake, lambda c: c.earn(CARD, earn_command()))

    assert fake.forms == [
        {
            "call": "issuepoints",
            "user": "u",
            "pass": "p",
            "cardnumber": CARD,
            "points": "100",
            "reference": "order-1",
            "idempotencyKey": TOKEN,
        }
    ]
    assert (transaction.id, transaction.balance_after) == ("TX1", 720)


def test_earn_sends_point_type_reason_and_pin_when_given():
    fake = FakeIRT(ok({"balance": 720}))
    command = earn_command(point_type="annual", reason="Birthday bonus", pin=PIN)

    transaction = run(fake, lambda c: c.earn(CARD, command))

    form = fake.forms[0]
    assert form["pointType"] == "Annual"
    assert form["reason"] == "Birthday bonus"
    assert form["PIN"] == PIN
    assert form["idempotencyKey"] == command.idempotency_token
    assert transaction.id == TOKEN  # no loyalty_transaction_number in the answer
    assert transaction.point_type == "annual"


def test_redeem_sends_points_reference_and_the_idempotency_key():
    fake = FakeIRT(ok({"balance": 580, "loyalty_transaction_number": "RD1"}))

    redemption = run(fake, lambda c: c.redeem(CARD, redeem_command(point_type="SPENDABLE")))

    assert fake.forms == [
        {
            "call": "redeem",
            "user": "u",
            "pass": "p",
            "cardnumber": CARD,
            "points": "40",
            "reference": "sale-7",
            "idempotencyKey": TOKEN,
            "pointType": "Spendable",
        }
    ]
    assert (redemption.id, redemption.status) == ("RD1", "completed")


def test_redeem_with_insufficient_points():
    fake = FakeIRT(status(4, "Insufficient points balance."))

    error = fails(fake, lambda c: c.redeem(CARD, redeem_command()))

    assert error.code == "insufficient_points"
    assert len(fake.requests) == 1


# --- profile / update ----------------------------------------------------------------------


def test_get_member_sends_the_pin():
    fake = FakeIRT(ok({"FirstName": "Ada", "Country": "gb"}))

    member = run(fake, lambda c: c.get_member(CARD, pin=PIN))

    assert fake.forms == [
        {"call": "getinfo", "user": "u", "pass": "p", "cardnumber": CARD, "PIN": PIN}
    ]
    assert (member.member_id, member.first_name) == (CARD, "Ada")
    assert member.address is not None
    assert member.address.country == "GB"
    assert member.provider_data == {"FirstName": "Ada", "Country": "gb"}


@pytest.mark.parametrize("pin", [None, ""])
def test_get_member_without_a_pin_is_refused_before_sending(pin):
    fake = FakeIRT()

    error = fails(fake, lambda c: c.get_member(CARD, pin=pin))

    assert type(error) is InvalidRequest
    assert error.errors is not None
    assert error.errors[0].field == PIN_HEADER
    assert fake.requests == []


def test_update_sends_blank_for_none_and_omits_absent_keys():
    fake = FakeIRT(ok(message="Member Updated Successfully."), ok({"FirstName": "Ada"}))
    patch = {"first_name": "Ada", "email": None, "address": {"city": None, "region": "IL"}}

    member = run(fake, lambda c: c.update_member(CARD, patch, pin=PIN))

    update, getinfo = fake.forms
    assert update == {
        "call": "update",
        "user": "u",
        "pass": "p",
        "cardnumber": CARD,
        "PIN": PIN,
        "FirstName": "Ada",
        "Email": "",
        "City": "",
        "State": "IL",
    }
    for omitted in ("LastName", "Phone", "Birthday", "Address1", "Zip", "Country"):
        assert omitted not in update
    assert b"Email=&" in fake.requests[0].content or fake.requests[0].content.endswith(b"Email=")
    assert getinfo == {"call": "getinfo", "user": "u", "pass": "p", "cardnumber": CARD, "PIN": PIN}
    assert member.first_name == "Ada"


def test_update_without_a_pin_is_refused_before_sending():
    fake = FakeIRT()

    error = fails(fake, lambda c: c.update_member(CARD, {"email": None}))

    assert type(error) is InvalidRequest
    assert fake.requests == []


def test_update_rejected_for_a_used_phone():
    fake = FakeIRT(status(6, "Phone number is already used by another member."))

    error = fails(fake, lambda c: c.update_member(CARD, {"phone": "555 0100"}, pin=PIN))

    assert type(error) is MemberAlreadyEnrolled
    assert error.errors is not None
    assert error.errors[0].field == "phone"
    assert len(fake.requests) == 1  # no getinfo after a refused update


# --- enroll / lookup -----------------------------------------------------------------------


def test_enroll_checks_the_card_then_registers():
    fake = FakeIRT(
        status(5, "Card is not enrolled."), ok(message="Member Registered Successfully.")
    )
    request = EnrollRequest(
        card_number=CARD, first_name="Ada", email="ada@example.com", birth_date=dt.date(1990, 1, 5)
    )

    member = run(fake, lambda c: c.enroll(request, TOKEN, pin=PIN))

    check, register = fake.forms
    assert check == {"call": "check_registered", "user": "u", "pass": "p", "cardnumber": CARD}
    assert register == {
        "call": "register",
        "user": "u",
        "pass": "p",
        "cardnumber": CARD,
        "PIN": PIN,
        "FirstName": "Ada",
        "Email": "ada@example.com",
        "Birthday": "1990-01-05",
    }
    assert (member.member_id, member.status, member.first_name) == (CARD, "active", "Ada")


def test_enroll_of_a_registered_card_sends_no_register():
    fake = FakeIRT(ok(message="Card is registered."))

    error = fails(fake, lambda c: c.enroll(EnrollRequest(card_number=CARD), TOKEN))

    assert type(error) is MemberAlreadyEnrolled
    assert len(fake.requests) == 1


def test_enroll_of_an_invalid_card_is_rejected():
    fake = FakeIRT(status(1, "Invalid card number."))

    error = fails(fake, lambda c: c.enroll(EnrollRequest(card_number=CARD), TOKEN))

    assert type(error) is UpstreamRejected
    assert error.upstream == UpstreamDetail(
        provider="irt", status=200, code="1", message="Invalid card number."
    )
    assert len(fake.requests) == 1


def test_enroll_without_a_card_number_sends_nothing():
    fake = FakeIRT()

    error = fails(fake, lambda c: c.enroll(EnrollRequest(first_name="Ada"), TOKEN))

    assert type(error) is InvalidRequest
    assert fake.requests == []


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            ok(message="Card is registered."),
            [Member(program="irt-test", member_id=CARD, status="active")],
        ),
        (status(5, "Card is not enrolled."), []),
        (status(1, "Invalid card number."), []),
    ],
    ids=["registered", "not-enrolled", "invalid-card"],
)
def test_lookup_by_card_number(reply, expected):
    fake = FakeIRT(reply)

    assert run(fake, lambda c: c.lookup("card_number", CARD)) == expected
    assert fake.forms == [
        {"call": "check_registered", "user": "u", "pass": "p", "cardnumber": CARD}
    ]


# --- Status codes in the body ------------------------------------------------------------


def test_status_1_raises_member_not_found():
    fake = FakeIRT(status(1, "Invalid card number."))

    error = fails(fake, lambda c: c.balance(CARD))

    assert type(error) is MemberNotFound
    assert error.upstream == UpstreamDetail(
        provider="irt", status=200, code="1", message="Invalid card number."
    )


def test_a_refused_write_is_not_resent():
    fake = FakeIRT(status(1, "Invalid card number."))

    error = fails(fake, lambda c: c.earn(CARD, earn_command()))

    assert type(error) is MemberNotFound
    assert len(fake.requests) == 1


def test_unauthorized_is_upstream_unavailable():
    fake = FakeIRT(status(401, "Unauthorized"))

    error = fails(fake, lambda c: c.earn(CARD, earn_command()))

    assert (error.code, error.outcome) == ("upstream_unavailable", "not_sent")
    assert len(fake.requests) == 1


# --- Lost answers: one immediate re-send with the same idempotencyKey --------------------


def test_http_500_on_a_write_is_resent_once_with_the_identical_form():
    fake = FakeIRT(
        httpx.Response(500, json={"status": 4, "message": "Fatal error."}),
        ok({"balance": 720, "loyalty_transaction_number": "TX2"}),
    )
    command = earn_command(point_type="spendable", reason="Bonus")

    transaction = run(fake, lambda c: c.earn(CARD, command))

    first, second = fake.requests
    assert second.content == first.content
    assert fake.forms[0] == fake.forms[1]
    assert fake.forms[1]["idempotencyKey"] == TOKEN
    assert (transaction.id, transaction.balance_after) == ("TX2", 720)


def test_a_second_lost_answer_is_reported_as_ambiguous():
    fake = FakeIRT(httpx.Response(500), httpx.Response(500))

    error = fails(fake, lambda c: c.redeem(CARD, redeem_command()))

    assert type(error) is UpstreamUnavailable
    assert error.outcome == "ambiguous"
    assert error.upstream == UpstreamDetail(provider="irt", status=500)
    assert len(fake.requests) == 2


def test_the_resent_write_can_still_be_refused():
    fake = FakeIRT(httpx.Response(500), status(4, "Insufficient points balance."))

    error = fails(fake, lambda c: c.redeem(CARD, redeem_command()))

    assert error.code == "insufficient_points"
    assert len(fake.requests) == 2


def test_a_broken_connection_on_a_write_is_resent_once():
    fake = FakeIRT(httpx.ReadError("connection reset"), ok({"balance": 720}))

    transaction = run(fake, lambda c: c.earn(CARD, earn_command()))

    assert len(fake.requests) == 2
    assert fake.forms[0] == fake.forms[1]
    assert transaction.balance_after == 720


def test_an_unreadable_answer_to_a_write_is_resent_once():
    fake = FakeIRT(
        httpx.Response(200, text="<html>Service Unavailable</html>"), ok({"balance": 720})
    )

    transaction = run(fake, lambda c: c.earn(CARD, earn_command()))

    assert len(fake.requests) == 2
    assert fake.forms[0] == fake.forms[1]
    assert transaction.balance_after == 720


def test_a_connection_that_never_opened_is_retried_once_within_the_budget():
    # Nothing reached IRT, so the HTTP layer may retry; the retry budget allows one here.
    fake = FakeIRT(httpx.ConnectError("refused"), httpx.ConnectError("refused"))

    error = fails(fake, lambda c: c.earn(CARD, earn_command()))

    assert (error.code, error.outcome) == ("upstream_unavailable", "not_sent")
    assert len(fake.requests) == 2
    assert fake.forms[0] == fake.forms[1]


@pytest.mark.parametrize(
    ("before", "action"),
    [
        ([], lambda c: c.update_member(CARD, {"email": None}, pin=PIN)),
        # enroll asks check_registered first (answered 5); register then gets the 500
        (
            [status(5, "Card is not enrolled.")],
            lambda c: c.enroll(EnrollRequest(card_number=CARD), TOKEN),
        ),
    ],
    ids=["update", "register"],
)
def test_writes_without_an_idempotency_key_are_not_resent(before, action):
    fake = FakeIRT(*before, httpx.Response(500))

    error = fails(fake, action)

    assert (error.code, error.outcome) == ("upstream_unavailable", "ambiguous")
    assert "idempotencyKey" not in fake.forms[-1]
    assert len(fake.requests) == len(before) + 1


@pytest.mark.parametrize(
    "body",
    [b"<html>Service Unavailable</html>", b"", b'{"message": "no status"}', b"[]"],
    ids=["html", "empty", "no-status", "array"],
)
def test_a_non_json_answer_to_a_read_is_unavailable_and_not_retried(body):
    fake = FakeIRT(httpx.Response(200, content=body))

    error = fails(fake, lambda c: c.balance(CARD))

    assert type(error) is UpstreamUnavailable
    assert error.outcome == "not_sent"
    assert error.upstream == UpstreamDetail(provider="irt", status=200)
    assert len(fake.requests) == 1


def test_http_500_on_a_read_is_retried_once_within_the_budget():
    fake = FakeIRT(httpx.Response(500), httpx.Response(500))

    error = fails(fake, lambda c: c.balance(CARD))

    assert (error.code, error.outcome) == ("upstream_unavailable", "not_sent")
    assert len(fake.requests) == 2


def test_http_500_on_a_read_then_success():
    fake = FakeIRT(httpx.Response(500), ok({"balance": 7}))

    balance = run(fake, lambda c: c.balance(CARD))

    assert balance.points == 7


# --- security_mode -------------------------------------------------------------------------


HIGH = "    options: {security_mode: high}\n"


def test_high_security_balance_without_a_pin_is_refused_before_sending():
    fake = FakeIRT()

    error = fails(fake, lambda c: c.balance(CARD), program=make_irt_program(HIGH))

    assert type(error) is InvalidRequest
    assert error.status == 400
    assert error.errors is not None
    assert [e.field for e in error.errors] == [PIN_HEADER]
    assert fake.requests == []


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.earn(CARD, earn_command()),
        lambda c: c.redeem(CARD, redeem_command()),
        lambda c: c.enroll(EnrollRequest(card_number=CARD), TOKEN),
    ],
    ids=["earn", "redeem", "enroll"],
)
def test_high_security_points_calls_need_the_pin(action):
    # enroll asks check_registered first (no PIN on that call), then needs the PIN to register
    fake = FakeIRT(status(5, "Card is not enrolled."))

    error = fails(fake, action, program=make_irt_program(HIGH))

    assert type(error) is InvalidRequest
    assert all(form["call"] == "check_registered" for form in fake.forms)


def test_high_security_balance_with_a_pin_sends_it():
    fake = FakeIRT(ok({"balance": 3}))

    run(fake, lambda c: c.balance(CARD, pin=PIN), program=make_irt_program(HIGH))

    assert fake.forms[0]["PIN"] == PIN


@pytest.mark.parametrize(
    ("options", "cacheable"),
    [("", True), ("    options: {security_mode: low}\n", True), (HIGH, False)],
    ids=["default-medium", "low", "high"],
)
def test_balances_are_not_cached_in_high_security_mode(options, cacheable):
    connector = IRTConnector(make_irt_program(options), transport=HandlerTransport(FakeIRT()))
    try:
        assert connector.balance_cacheable is cacheable
    finally:
        asyncio.run(connector.aclose())


def test_default_options():
    connector = IRTConnector(make_irt_program(), transport=HandlerTransport(FakeIRT()))
    try:
        assert (connector.options.security_mode, connector.options.path) == ("medium", "/")
    finally:
        asyncio.run(connector.aclose())
