"""What the ShopYourWay connector puts on the wire, checked on a fake transport.

Every test builds the connector as the gateway does (settings parsed from YAML, no Redis:
``store=None``) and hands it a ``HandlerTransport`` (tests/unit/connectors/transports.py),
which receives the bytes the production encoder made. The fake answers the token URL with
a fresh token each time (``tok-1``, ``tok-2``...) in the document's shape, and every
Rewards call with the next scripted reply. No network, no simulator.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.config import parse_settings
from gateway.connectors.shopyourway import transform
from gateway.connectors.shopyourway.client import ShopYourWayConnector
from gateway.connectors.shopyourway.oauth import GRANT_TYPE
from gateway.connectors.shopyourway.simulator.keys import DEMO_PRIVATE_KEY_PEM, DEMO_PUBLIC_KEY_PEM
from gateway.domain.commands import ActivityQuery, EarnCommand, EnrollRequest, RedeemCommand
from gateway.domain.errors import (
    GatewayError,
    MemberNotFound,
    UpstreamDetail,
    UpstreamUnavailable,
)
from gateway.domain.models import Address
from gateway.settings import ProgramSettings
from tests.unit.connectors.transports import HandlerTransport

from .test_transform import NOT_SENT

CLIENT_ID = "C"
TOKEN_URL = "http://oauth.test/oauthAS/service/oAuth/token.json"
BASE_URL = "http://rewards.test/tellurideAS"
MEMBER = "7081207612717221"
TOKEN = "0123456789abcdef0123456789abcdef"
OTHER_TOKEN = "fedcba9876543210fedcba9876543210"
FORM = "application/x-www-form-urlencoded"
SINCE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "shopyourway"

Reply = httpx.Response | Exception


def sample(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def program_yaml() -> str:
    key = textwrap.indent(DEMO_PRIVATE_KEY_PEM, " " * 10)
    return (
        "programs:\n"
        "  - id: syw-test\n"
        "    name: ShopYourWay test\n"
        "    provider: shopyourway\n"
        f"    base_url: {BASE_URL}\n"
        "    auth:\n"
        "      type: jwt_bearer\n"
        f"      client_id: {CLIENT_ID}\n"
        f"      token_url: {TOKEN_URL}\n"
        "      private_key: |\n"
        f"{key}"
        "    options: {requestor_id: DEMO, offer_id: OFFER1}\n"
    )


def make_syw_program() -> ProgramSettings:
    [program] = parse_settings(program_yaml(), {}).programs
    return program


def ok(name: str) -> httpx.Response:
    return httpx.Response(200, json=sample(name))


def auth_error(code: str, http_status: int = 401) -> httpx.Response:
    return httpx.Response(http_status, json={"code": code, "message": "refused"})


class FakeTelluride:
    """Records every request; issues a new token per token request, scripted Rewards replies."""

    def __init__(self, *replies: Reply, token_replies: list[httpx.Response] | None = None) -> None:
        self.replies = list(replies)
        self.token_replies = token_replies
        self.requests: list[httpx.Request] = []
        self.issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if str(request.url) == TOKEN_URL:
            if self.token_replies is not None:
                return self.token_replies.pop(0)
            self.issued += 1
            now_ms = int(time.time() * 1000)
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{self.issued}",
                    "token_type": "Bearer",
                    "exp": now_ms + 3_600_000,
                    "iss": now_ms,
                },
            )
        if not self.replies:
            raise AssertionError(f"unexpected extra request: {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    @property
    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) == TOKEN_URL]

    @property
    def calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) != TOKEN_URL]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.calls]

    @property
    def sequence(self) -> list[str]:
        """``token`` or the Rewards path plus the access token sent, in order."""
        return [
            "token"
            if str(r.url) == TOKEN_URL
            else f"{r.url.path.rsplit('/', 1)[-1]} {r.headers.get('access_token')}"
            for r in self.requests
        ]


def form_of(request: httpx.Request) -> dict[str, str]:
    pairs = parse_qsl(request.content.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    assert len(dict(pairs)) == len(pairs), f"a field was sent twice: {pairs}"
    return dict(pairs)


def run(fake: FakeTelluride, action: Callable[[ShopYourWayConnector], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        connector = ShopYourWayConnector(
            make_syw_program(), store=None, transport=HandlerTransport(fake)
        )
        try:
            return await action(connector)
        finally:
            await connector.aclose()

    return asyncio.run(main())


def fails(fake: FakeTelluride, action: Callable[[ShopYourWayConnector], Awaitable[Any]]) -> Any:
    with pytest.raises(GatewayError) as excinfo:
        run(fake, action)
    return excinfo.value


def earn_command(**changes: Any) -> EarnCommand:
    values: dict[str, Any] = {
        "points": 100,
        "reason": None,
        "reference": "order-1",
        "point_type": None,
        "idempotency_token": TOKEN,
    }
    values.update(changes)
    return EarnCommand(**values)


def redeem_command(**changes: Any) -> RedeemCommand:
    values: dict[str, Any] = {
        "points": 10000,
        "reference": "8207",
        "point_type": None,
        "idempotency_token": TOKEN,
    }
    values.update(changes)
    return RedeemCommand(**values)


ENROLL = EnrollRequest(
    email="ada@example.com",
    first_name="Ada",
    last_name="Lovelace",
    phone="8472002626",
    address=Address(postal_code="60179"),
)


def balance(c: ShopYourWayConnector) -> Awaitable[Any]:
    return c.balance(MEMBER)


def earn(c: ShopYourWayConnector) -> Awaitable[Any]:
    return c.earn(MEMBER, earn_command())


# --- the token request -------------------------------------------------------------------


def test_the_token_request_is_a_form_post_with_a_jwt_bearer_assertion():
    fake = FakeTelluride(ok("reward_balance_response"))

    run(fake, balance)

    token_request = fake.requests[0]
    assert str(token_request.url) == TOKEN_URL
    assert token_request.method == "POST"
    assert token_request.headers["content-type"] == FORM
    form = form_of(token_request)
    assert set(form) == set(sample("token_request")) == {"grant_type", "assertion"}
    assert form["grant_type"] == GRANT_TYPE == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    token = jwt.decode(
        form["assertion"], RSAKey.import_key(DEMO_PUBLIC_KEY_PEM), algorithms=["RS256"]
    )
    assert (token.claims["iss"], token.claims["aud"]) == (CLIENT_ID, TOKEN_URL)
    assert "access_token" not in token_request.headers


def test_a_token_is_fetched_once_and_reused():
    fake = FakeTelluride(ok("reward_balance_response"), ok("reward_balance_response"))

    async def twice(c: ShopYourWayConnector) -> None:
        await c.balance(MEMBER)
        await c.balance(MEMBER)

    run(fake, twice)

    assert fake.sequence == ["token", "GetRewardBalance tok-1", "GetRewardBalance tok-1"]


def test_concurrent_calls_share_one_token_request():
    fake = FakeTelluride(*[ok("reward_balance_response") for _ in range(5)])

    async def together(c: ShopYourWayConnector) -> None:
        await asyncio.gather(*(c.balance(MEMBER) for _ in range(5)))

    run(fake, together)

    assert len(fake.token_requests) == 1
    assert {r.headers["access_token"] for r in fake.calls} == {"tok-1"}


def test_a_refused_token_request_is_upstream_unavailable():
    refusal = httpx.Response(
        401, json={"error": "invalid_grant", "error_description": "bad signature"}
    )
    fake = FakeTelluride(token_replies=[refusal])

    error = fails(fake, balance)

    assert type(error) is UpstreamUnavailable
    assert error.upstream == UpstreamDetail(
        provider="shopyourway", status=401, code="invalid_grant", message="bad signature"
    )
    assert fake.calls == []


def test_probe_fetches_a_token():
    fake = FakeTelluride()

    run(fake, lambda c: c.probe())

    assert fake.sequence == ["token"]


# --- headers and bodies of the Rewards calls ---------------------------------------------


def test_rewards_calls_carry_client_id_and_access_token_headers():
    fake = FakeTelluride(ok("reward_balance_response"))

    run(fake, balance)

    [call] = fake.calls
    assert call.method == "POST"
    assert str(call.url) == f"{BASE_URL}/profile/GetRewardBalance"
    assert call.headers["client_id"] == CLIENT_ID
    assert call.headers["access_token"] == "tok-1"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["accept"] == "application/json"
    assert "authorization" not in call.headers


#: (action, reply sample, path, request sample, sample keys not sent, keys sent beyond the
#:  sample, message version key, document's MessageVersion)
OPERATIONS = [
    pytest.param(
        lambda c: c.get_member(MEMBER),
        "member_lookup_response",
        "/profile/GetMemberLookup",
        "member_lookup_request",
        set(),
        set(),
        "MessageVersion",
        "22",
        id="lookup",
    ),
    pytest.param(
        balance,
        "reward_balance_response",
        "/profile/GetRewardBalance",
        "reward_balance_request",
        set(),
        set(),
        "messageVersion",
        "16",
        id="balance",
    ),
    pytest.param(
        lambda c: c.enroll(ENROLL, TOKEN),
        "create_member_response",
        "/profile/CreateMember",
        "create_member_request",
        NOT_SENT | {"PinNumber"},  # no PIN given
        set(),
        "MessageVersion",
        "14",
        id="enroll",
    ),
    pytest.param(
        lambda c: c.redeem(MEMBER, redeem_command()),
        "process_redemption_response",
        "/transaction/ProcessRedemption",
        "process_redemption_request",
        {
            "Preview",
            "LineItems",
            "MaxRedeemablePoints",
            "ShowQualifiedOffers",
            "RedemptionDollarValue",
            "MaxRedeemableDollarValue",
        },
        {"AssociateID"},  # required by the request table, absent from the sample
        "MessageVersion",
        "12",
        id="redeem",
    ),
    pytest.param(
        earn,
        "post_external_bonus_response",
        "/transaction/PostExternalBonus",
        "post_external_bonus_request",
        {"PointsStartDate", "PointsEndDate"},
        set(),
        "MessageVersion",
        "07",
        id="earn",
    ),
    pytest.param(
        lambda c: c.offers(MEMBER),
        "applicable_offers_response",
        "/transaction/GetApplicableOffers",
        "applicable_offers_request",
        {"ProductList"},
        {"TimeZone"},  # documented (optional); sent because our times are UTC
        "MessageVersion",
        "08",
        id="offers",
    ),
    pytest.param(
        lambda c: c.activity(MEMBER, ActivityQuery()),
        "member_activity_details_response",
        "/transaction/GetMemberActivityDetail",
        "member_activity_details_request",
        {"StoreFormat"},
        set(),
        "MessageVersion",
        "13",
        id="activity",
    ),
]


@pytest.mark.parametrize(
    ("action", "reply", "path", "request_sample", "not_sent", "extra", "version_key", "version"),
    OPERATIONS,
)
def test_request_bodies_follow_the_documents_samples(
    action, reply, path, request_sample, not_sent, extra, version_key, version
):
    fake = FakeTelluride(ok(reply))

    run(fake, action)

    [call] = fake.calls
    [body] = fake.bodies
    documented = set(sample(request_sample))
    assert str(call.url) == BASE_URL + path
    assert not_sent <= documented
    assert set(body) == (documented - not_sent) | extra
    assert body[version_key] == version  # the document's sample MessageVersion
    requestor = "requestorID" if version_key == "messageVersion" else "RequestorID"
    assert body[requestor] == "DEMO"
    assert (call.headers["client_id"], call.headers["access_token"]) == (CLIENT_ID, "tok-1")


def test_lookup_by_email_and_phone_use_the_documents_search_types():
    lookup = ok("member_lookup_response")
    fake = FakeTelluride(lookup, ok("member_lookup_response"))

    async def both(c: ShopYourWayConnector) -> None:
        await c.lookup("email", "CRTestID01@automation.com")
        await c.lookup("phone", "(847) 200-2626")

    run(fake, both)

    by_email, by_phone = fake.bodies
    assert (by_email["SearchType"], by_email["EmailAddress"]) == (
        "02",
        "CRTestID01@automation.com",
    )
    assert (by_phone["SearchType"], by_phone["PhoneNumber"]) == ("04", "8472002626")


def test_get_member_reads_the_lookup_sample():
    fake = FakeTelluride(ok("member_lookup_response"))

    member = run(fake, lambda c: c.get_member(MEMBER))

    assert (member.program, member.member_id, member.status) == ("syw-test", MEMBER, "active")


def test_a_lookup_that_finds_nobody_is_member_not_found():
    reply = httpx.Response(
        200,
        json={
            "GetMemberLookupResult": {
                "GetMemberLookupReply": [
                    {"Additional": {"Status": "68", "StatusText": "CLUB MEMBER NOT FOUND"}}
                ]
            }
        },
    )
    fake = FakeTelluride(reply)

    error = fails(fake, lambda c: c.get_member(MEMBER))

    assert type(error) is MemberNotFound


def test_balance_reads_the_sample():
    fake = FakeTelluride(ok("reward_balance_response"))

    result = run(fake, balance)

    assert (result.points, result.available_points) == (10000, 7000)
    assert result.value.amount == "7.00"
    assert result.provider_data == sample("reward_balance_response")


# --- expired and refused tokens ----------------------------------------------------------


@pytest.mark.parametrize("http_status", [401, 500])
@pytest.mark.parametrize("code", ["ACCESSTOKEN_EXPIRED", "ACCESSTOKEN_INVALID"])
@pytest.mark.parametrize(
    ("action", "reply", "path"),
    [
        (balance, "reward_balance_response", "GetRewardBalance"),
        (earn, "post_external_bonus_response", "PostExternalBonus"),
    ],
    ids=["read", "write"],
)
def test_a_refused_token_is_replaced_once_and_the_call_retried(
    http_status, code, action, reply, path
):
    fake = FakeTelluride(auth_error(code, http_status), ok(reply))

    run(fake, action)

    assert fake.sequence == ["token", f"{path} tok-1", "token", f"{path} tok-2"]
    first, second = fake.calls
    assert first.content == second.content  # the same body, only the token changed


@pytest.mark.parametrize("http_status", [401, 500])
def test_a_second_expiry_in_a_row_is_upstream_unavailable(http_status):
    fake = FakeTelluride(
        auth_error("ACCESSTOKEN_EXPIRED", http_status),
        auth_error("ACCESSTOKEN_EXPIRED", http_status),
    )

    error = fails(fake, balance)

    assert type(error) is UpstreamUnavailable
    assert error.outcome == "not_sent"
    assert error.upstream == UpstreamDetail(
        provider="shopyourway", status=http_status, code="ACCESSTOKEN_EXPIRED"
    )
    assert fake.sequence == [
        "token",
        "GetRewardBalance tok-1",
        "token",
        "GetRewardBalance tok-2",
    ]


@pytest.mark.parametrize("http_status", [401, 500])
@pytest.mark.parametrize(
    "code",
    [
        "CLIENT_ID_INVALID",
        "CLIENT_ID_REQUIRED",
        "ACCESSTOKEN_REQUIRED",
        "APPLICATION_NOT_PERMITTED",
        "AUTHENTICATION EXCEPTION",
    ],
)
def test_other_auth_codes_are_upstream_unavailable_without_retry(http_status, code):
    fake = FakeTelluride(auth_error(code, http_status))

    error = fails(fake, balance)

    assert type(error) is UpstreamUnavailable
    assert error.upstream == UpstreamDetail(provider="shopyourway", status=http_status, code=code)
    assert fake.sequence == ["token", "GetRewardBalance tok-1"]


def test_client_id_invalid_on_a_write_is_not_retried():
    fake = FakeTelluride(auth_error("CLIENT_ID_INVALID"))

    error = fails(fake, earn)

    assert (error.code, error.outcome) == ("upstream_unavailable", "not_sent")
    assert error.upstream.code == "CLIENT_ID_INVALID"
    assert fake.sequence == ["token", "PostExternalBonus tok-1"]


def test_the_new_token_is_kept_for_later_calls():
    fake = FakeTelluride(
        auth_error("ACCESSTOKEN_EXPIRED"),
        ok("reward_balance_response"),
        ok("reward_balance_response"),
    )

    async def twice(c: ShopYourWayConnector) -> None:
        await c.balance(MEMBER)
        await c.balance(MEMBER)

    run(fake, twice)

    assert fake.sequence == [
        "token",
        "GetRewardBalance tok-1",
        "token",
        "GetRewardBalance tok-2",
        "GetRewardBalance tok-2",
    ]


# --- earn ----------------------------------------------------------------------------------


def test_earn_posts_external_bonus():
    fake = FakeTelluride(ok("post_external_bonus_response"))

    transaction = run(fake, earn)

    [body] = fake.bodies
    number = transform.transaction_number(TOKEN)
    assert body["OfferId"] == "OFFER1"
    assert body["PointsToAdd"] == "100"
    assert isinstance(body["PointsToAdd"], str)
    assert body["MemberNumber"] == MEMBER
    assert body["FileIdentifier"] == "DEMO"  # "pass value as RequestorId assigned"
    assert body["TransactionNumber"] == number
    assert len(number) == 16
    assert dt.datetime.strptime(body["TransactionTs"], "%Y-%m-%dT%H:%M:%S")
    assert (transaction.id, transaction.points, transaction.balance_after) == (number, 100, 6525)
    assert transaction.status == "completed"


def test_earn_transaction_number_follows_the_idempotency_token():
    fake = FakeTelluride(*[ok("post_external_bonus_response") for _ in range(3)])

    async def three(c: ShopYourWayConnector) -> None:
        await c.earn(MEMBER, earn_command())
        await c.earn(MEMBER, earn_command(points=5))
        await c.earn(MEMBER, earn_command(idempotency_token=OTHER_TOKEN))

    run(fake, three)

    first, same_token, other_token = (b["TransactionNumber"] for b in fake.bodies)
    assert first == same_token == transform.transaction_number(TOKEN)
    assert other_token == transform.transaction_number(OTHER_TOKEN) != first


# --- redeem / void -------------------------------------------------------------------------


def test_redeem_reads_the_sample():
    fake = FakeTelluride(ok("process_redemption_response"))

    redemption = run(fake, lambda c: c.redeem(MEMBER, redeem_command()))

    [body] = fake.bodies
    assert body["Function"] == "R"
    assert body["RedemptionPoints"] == "10000"
    assert body["TransactionNumber"] == transform.transaction_number(TOKEN)
    assert body["OrderId"] == "8207"
    assert "AuthorizationCode" not in body
    assert (redemption.id, redemption.points, redemption.status) == ("TSKFCQ8K", 10000, "completed")
    assert redemption.value.amount == "10.00"


def test_void_sends_function_v_with_the_authorization_code():
    fake = FakeTelluride(ok("process_redemption_response"))

    redemption = run(fake, lambda c: c.void(MEMBER, "TSKFCQ8K", OTHER_TOKEN))

    [call] = fake.calls
    [body] = fake.bodies
    assert str(call.url) == f"{BASE_URL}/transaction/ProcessRedemption"
    assert body["Function"] == "V"
    assert body["AuthorizationCode"] == "TSKFCQ8K"
    assert body["MemberNumber"] == MEMBER
    assert body["TransactionNumber"] == transform.transaction_number(OTHER_TOKEN)
    assert (redemption.id, redemption.status) == ("TSKFCQ8K", "voided")


def test_void_of_an_already_voided_redemption_is_voided():
    reply = httpx.Response(
        200,
        json={
            "MemberNumber": MEMBER,
            "Additional": {"Status": "93", "StatusText": "Redemption already voided"},
        },
    )
    fake = FakeTelluride(reply)

    redemption = run(fake, lambda c: c.void(MEMBER, "TSKFCQ8K", OTHER_TOKEN))

    assert (redemption.id, redemption.status) == ("TSKFCQ8K", "voided")
    assert len(fake.calls) == 1


def test_void_refused_for_another_reason_raises():
    reply = httpx.Response(
        200, json={"Additional": {"Status": "30", "StatusText": "No member found"}}
    )
    fake = FakeTelluride(reply)

    error = fails(fake, lambda c: c.void(MEMBER, "TSKFCQ8K", OTHER_TOKEN))

    assert type(error) is MemberNotFound
    assert error.upstream.code == "30"


def test_redeem_with_points_not_available():
    reply = httpx.Response(
        200, json={"Additional": {"Status": "01", "StatusText": "Points Not Available"}}
    )
    fake = FakeTelluride(reply)

    error = fails(fake, lambda c: c.redeem(MEMBER, redeem_command()))

    assert error.code == "insufficient_points"
    assert error.upstream == UpstreamDetail(
        provider="shopyourway", status=200, code="01", message="Points Not Available"
    )
    assert len(fake.calls) == 1


# --- enroll / activity / offers results ----------------------------------------------------


def test_enroll_returns_the_created_member():
    fake = FakeTelluride(ok("create_member_response"))

    member = run(fake, lambda c: c.enroll(ENROLL, TOKEN, pin="11111"))

    [body] = fake.bodies
    assert body["PinNumber"] == "11111"
    assert body["PhoneNumbers"]["Phone"][0]["PhoneNumber"] == "8472002626"
    assert (member.member_id, member.status) == ("7081460000037153", "active")


def test_enroll_of_a_known_email_is_member_already_enrolled():
    reply = httpx.Response(
        200,
        json={
            "CreateMemberResult": {
                "GetMemberLookupReply": [
                    {
                        "Additional": {
                            "Status": "86",
                            "StatusText": "EMAIL ADDRESS EXISTS ON AN ACTIVE MEMBER",
                        }
                    }
                ]
            }
        },
    )
    fake = FakeTelluride(reply)

    error = fails(fake, lambda c: c.enroll(ENROLL, TOKEN))

    assert error.code == "member_already_enrolled"
    assert error.upstream.code == "86"
    assert len(fake.calls) == 1


def test_activity_window_and_result():
    fake = FakeTelluride(ok("member_activity_details_response"))
    since = dt.datetime(2024, 1, 14, 0, 0, 0, tzinfo=dt.UTC)
    until = dt.datetime(2024, 1, 14, 23, 59, 59, tzinfo=dt.UTC)

    page = run(fake, lambda c: c.activity(MEMBER, ActivityQuery(since=since, until=until)))

    [body] = fake.bodies
    assert (body["StartDTTM"], body["EndDTTM"]) == ("2024-01-14T00:00:00", "2024-01-14T23:59:59")
    assert (body["MemberNumber"], body["BenefitOnly"]) == (MEMBER, "N")
    assert [(e.id, e.type, e.points) for e in page.data] == [
        ("116624590EDCEA311EFE3EEC123F5890", "earn", 60)
    ]


def test_find_earn_looks_for_the_transaction_number_in_the_activity():
    activity = sample("member_activity_details_response")
    detail = activity["TransactionDetails"]["TransactionDetail"][0]
    detail["TransactionNumber"] = transform.transaction_number(TOKEN)
    fake = FakeTelluride(httpx.Response(200, json=activity), ok("member_activity_details_response"))

    async def both(c: ShopYourWayConnector) -> tuple[Any, Any]:
        found = await c.find_earn(MEMBER, earn_command(), since=SINCE)
        missing = await c.find_earn(MEMBER, earn_command(), since=SINCE)  # sample: "0001"
        return found, missing

    found, missing = run(fake, both)

    assert found is not None
    assert (found.id, found.balance_after) == (transform.transaction_number(TOKEN), 45163106)
    assert missing is None
    assert [str(c.url) for c in fake.calls] == [
        f"{BASE_URL}/transaction/GetMemberActivityDetail"
    ] * 2
    # the search starts at ``since`` (before the key's first attempt)
    assert fake.bodies[0]["StartDTTM"] == "2024-01-01T00:00:00"


def test_offers_result():
    fake = FakeTelluride(ok("applicable_offers_response"))

    offers = run(fake, lambda c: c.offers(MEMBER))

    [body] = fake.bodies
    assert dt.datetime.strptime(body["CurrentDTTM"], "%Y-%m-%d %H:%M:%S")
    assert [o.code for o in offers] == ["99769-1", "99768", "7.7GRB-subclub_noMG"]
