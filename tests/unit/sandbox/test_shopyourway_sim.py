"""The ShopYourWay simulator, driven in-process: Telluride's token server and Rewards API."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar.testing import TestClient

from gateway.connectors.shopyourway.simulator import (
    DEMO_MEMBER_NUMBER,
    GRANT_TYPE,
    INACTIVE_MEMBER_NUMBER,
    TOKEN_PATH,
    SYWState,
    create_app,
    seed_shopyourway,
)
from gateway.connectors.shopyourway.simulator.keys import (
    DEMO_PRIVATE_KEY_PEM,
    DEMO_PUBLIC_KEY_PEM,
    generate_key_pair,
)
from gateway.sandbox.common import DroppedConnection, Faults

CLIENT_ID = "EXT_PARTNER1"
TOKEN_URL = "https://oauth.uat.telluride.shopyourway.com" + TOKEN_PATH
HOUR_MS = 3_600_000


@pytest.fixture
def state() -> SYWState:
    state = SYWState(CLIENT_ID, DEMO_PUBLIC_KEY_PEM)
    state.token_url = TOKEN_URL
    seed_shopyourway(state)
    return state


@pytest.fixture
def client(state: SYWState) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(state)) as client:
        yield client


def now_ms() -> int:
    return int(time.time() * 1000)


def assertion(
    *,
    key: str = DEMO_PRIVATE_KEY_PEM,
    iss: str = CLIENT_ID,
    aud: str = TOKEN_URL,
    iat: Any = None,
    exp: Any = None,
) -> str:
    iat = now_ms() if iat is None else iat
    exp = iat + 5 * 60_000 if exp is None else exp
    claims = {"iss": iss, "scope": "", "aud": aud, "iat": iat, "exp": exp}
    return jwt.encode({"alg": "RS256", "typ": "JWT"}, claims, RSAKey.import_key(key))


def request_token(client: TestClient[Any], token_assertion: str, **extra: str) -> Any:
    return client.post(
        TOKEN_PATH, data={"grant_type": GRANT_TYPE, "assertion": token_assertion, **extra}
    )


@pytest.fixture
def headers(client: TestClient[Any]) -> dict[str, str]:
    answer = request_token(client, assertion())
    assert answer.status_code == 200, answer.text
    return {"client_id": CLIENT_ID, "access_token": answer.json()["access_token"]}


def call(client: TestClient[Any], headers: dict[str, str], path: str, body: Any) -> Any:
    answer = client.post(f"/tellurideAS/{path}", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- token server -----------------------------------------------------------------------------


def test_token_issued_for_a_good_assertion(client: TestClient[Any], state: SYWState) -> None:
    before = now_ms()
    answer = request_token(client, assertion())
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "exp", "iss"}
    assert re.fullmatch(r"[0-9a-f]{64}", body["access_token"])
    assert body["token_type"] == "Bearer"
    assert before <= body["iss"] <= now_ms()  # epoch milliseconds
    assert body["exp"] - body["iss"] == HOUR_MS
    assert state.token_requests == 1


def test_token_request_as_json_and_as_xml(client: TestClient[Any], state: SYWState) -> None:
    as_json = client.post(TOKEN_PATH, json={"grant_type": GRANT_TYPE, "assertion": assertion()})
    xml = (
        f"<request><grant_type>{GRANT_TYPE}</grant_type>"
        f"<assertion>{assertion()}</assertion></request>"
    )
    as_xml = client.post(TOKEN_PATH, content=xml, headers={"content-type": "application/xml"})
    assert as_json.status_code == 200, as_json.text
    assert as_xml.status_code == 200, as_xml.text
    assert state.token_requests == 2


def test_token_accepts_the_documents_assertion_spelling(client: TestClient[Any]) -> None:
    """The sample assertion: alg "SHA256withRSA", padded standard base64."""
    key = serialization.load_pem_private_key(DEMO_PRIVATE_KEY_PEM.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    iat = now_ms()
    header = base64.b64encode(b'{"typ":"JWT","alg":"SHA256withRSA"}').decode()
    claims = {"iss": CLIENT_ID, "aud": TOKEN_URL, "exp": iat + 60_000, "iat": iat}
    payload = base64.b64encode(json.dumps(claims).encode()).decode()
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    token_assertion = f"{header}.{payload}.{base64.b64encode(signature).decode()}"
    assert request_token(client, token_assertion).status_code == 200


def test_empty_token_url_accepts_any_aud_ending_with_the_token_path(state: SYWState) -> None:
    state.token_url = ""
    with TestClient(app=create_app(state)) as client:
        good = request_token(client, assertion(aud="http://127.0.0.1:5555" + TOKEN_PATH))
        bad = request_token(client, assertion(aud="http://127.0.0.1:5555/oauthAS/service/token"))
    assert good.status_code == 200
    assert bad.status_code == 401


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: assertion(key=generate_key_pair()[0]), "signature"),
        (lambda: assertion(iat=now_ms() // 1000, exp=now_ms() // 1000 + 300), "seconds"),
        (lambda: assertion(iat=now_ms(), exp=now_ms() + 4 * HOUR_MS + 60_000), "4 hours"),
        (lambda: assertion(iat=now_ms() - 10 * 60_000, exp=now_ms() - 60_000), "expired"),
        (lambda: assertion(iat=float(now_ms())), "integer"),
        (lambda: assertion(iss="SOMEONE_ELSE"), "iss"),
        (lambda: assertion(aud="https://elsewhere.example" + TOKEN_PATH), "aud"),
        (lambda: "not-a-jwt", "JWT"),
    ],
    ids=[
        "wrong-key",
        "seconds",
        "over-4h",
        "expired",
        "decimals",
        "wrong-iss",
        "wrong-aud",
        "junk",
    ],
)
def test_token_refused_for_bad_assertions(
    client: TestClient[Any], state: SYWState, make: Any, why: str
) -> None:
    answer = request_token(client, make())
    assert answer.status_code == 401
    body = answer.json()
    assert body["error"] == "invalid_grant"
    assert why in body["error_description"]
    assert state.token_requests == 1
    assert state.tokens == {}


def test_token_refused_for_wrong_grant_type(client: TestClient[Any]) -> None:
    answer = client.post(
        TOKEN_PATH, data={"grant_type": "client_credentials", "assertion": assertion()}
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "unsupported_grant_type"


def test_token_refused_for_hs256_with_the_public_key_as_secret(client: TestClient[Any]) -> None:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"iss": CLIENT_ID, "aud": TOKEN_URL, "iat": now_ms(), "exp": now_ms() + 60_000}
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(DEMO_PUBLIC_KEY_PEM.encode(), signing_input.encode(), hashlib.sha256)
    answer = request_token(client, f"{signing_input}.{b64(mac.digest())}")
    assert answer.status_code == 401
    assert "RS256" in answer.json()["error_description"]


# -- Rewards authentication ----------------------------------------------------------------


def _balance(client: TestClient[Any], headers: dict[str, str]) -> Any:
    return client.post(
        "/tellurideAS/profile/GetRewardBalance",
        json={"memberNumber": DEMO_MEMBER_NUMBER},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"client_id": None}, "CLIENT_ID_REQUIRED"),
        ({"client_id": "NOT_REGISTERED"}, "CLIENT_ID_INVALID"),
        ({"access_token": None}, "ACCESSTOKEN_REQUIRED"),
        ({"access_token": "0" * 64}, "ACCESSTOKEN_INVALID"),
    ],
)
def test_rewards_auth_errors(
    client: TestClient[Any], headers: dict[str, str], change: dict[str, Any], code: str
) -> None:
    sent = {k: v for k, v in {**headers, **change}.items() if v is not None}
    answer = _balance(client, sent)
    assert answer.status_code == 401
    assert answer.json()["code"] == code
    assert answer.json()["message"]


def test_expired_tokens_401_or_500(
    client: TestClient[Any], headers: dict[str, str], state: SYWState
) -> None:
    assert _balance(client, headers).status_code == 200
    state.expire_all_tokens()
    answer = _balance(client, headers)
    assert (answer.status_code, answer.json()["code"]) == (401, "ACCESSTOKEN_EXPIRED")
    assert answer.json()["message"] == "The current token is expired, need to refresh token."
    state.expired_token_as_http_500 = True
    answer = _balance(client, headers)
    assert (answer.status_code, answer.json()["code"]) == (500, "ACCESSTOKEN_EXPIRED")


def test_token_lifetime_is_honoured(client: TestClient[Any], state: SYWState) -> None:
    state.token_lifetime_seconds = 0
    answer = request_token(client, assertion()).json()
    assert answer["exp"] == answer["iss"]
    sent = {"client_id": CLIENT_ID, "access_token": answer["access_token"]}
    assert _balance(client, sent).json()["code"] == "ACCESSTOKEN_EXPIRED"


# -- Rewards API -----------------------------------------------------------------------------


def _new_member(**change: Any) -> dict[str, Any]:
    body = {
        "MemberNumber": "",
        "EmailAddress": "new.member@example.com",
        "FirstName": "Smithy",
        "MiddleInitial": "M",
        "LastName": "RRob",
        "ZipCode": "12345",
        "AddressOverride": "Y",
        "DOB": "1982-05-21",
        "CurrentDate": "2026-06-08",
        "CurrentTime": "01:26:59",
        "ClubMembershipCreatedBy": "0116",
        "ClubDNPStatus": "M",
        "ClubEmailOptStatus": "Y",
        "StoreNumber": "00001",
        "Terminal": "001",
        "TnCStatus": "Y",
        "RequestorID": "DEMO",
        "MessageVersion": "14",
        "PhoneNumbers": {"Phone": [{"PhoneNumber": "9169024998", "PhoneType": "M"}]},
    }
    body.update(change)
    return body


def _lookup(client: TestClient[Any], headers: dict[str, str], search: str, **fields: str) -> Any:
    body = {"RequestorID": "DEMO", "MessageVersion": "22", "SearchType": search, **fields}
    reply = call(client, headers, "profile/GetMemberLookup", body)
    return reply["GetMemberLookupResult"]["GetMemberLookupReply"][0]


def _redeem(number: str, function: str = "R", **change: Any) -> dict[str, Any]:
    body = {
        "OrderId": 8207,
        "Function": function,
        "RequestorID": "DEMO",
        "MemberNumber": number,
        "MessageVersion": "12",
        "RegisterNumber": "000",
        "TransactionDate": "2026-02-04",
        "TransactionTime": "10:19:14",
        "OrderStoreNumber": "09305",
        "PickUpStoreNumber": "00001",
        "TransactionNumber": 9957,
        "RedemptionPoints": "1500",
    }
    body.update(change)
    return body


def _bonus(number: str, points: str = "5000", **change: Any) -> dict[str, Any]:
    body = {
        "OfferId": "GATEWAY_BONUS",
        "PointsToAdd": points,
        "RequestorID": "DEMO",
        "StoreNumber": "00001",
        "MemberNumber": number,
        "TransactionTs": "2026-03-20T00:40:47",
        "MessageVersion": "07",
        "FileIdentifier": "DEMO",
        "TransactionNumber": "1111",
    }
    body.update(change)
    return body


def _today_window() -> dict[str, str]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    start = now - dt.timedelta(days=1)
    end = now + dt.timedelta(days=1)
    return {
        "StartDTTM": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "EndDTTM": end.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def test_member_lifecycle(
    client: TestClient[Any], headers: dict[str, str], state: SYWState
) -> None:
    created = call(client, headers, "profile/CreateMember", _new_member())
    reply = created["CreateMemberResult"]["GetMemberLookupReply"][0]
    assert reply["Additional"]["Status"] == "0"
    assert reply["NumRecordsReturned"] == 1
    member = reply["Members"]["Member"][0]
    number = member["MemberNumber"]
    assert re.fullmatch(r"7081\d{12}", number)
    assert (member["FirstName"], member["ClubStatus"], member["TotalRedeemablePoints"]) == (
        "Smithy",
        "A",
        0,
    )
    assert member["MemberEarnType"] == "BONUS"

    for search, field in (
        ("02", {"EmailAddress": "new.member@example.com"}),
        ("04", {"PhoneNumber": "9169024998"}),
        ("05", {"MemberNumber": number}),
    ):
        found = _lookup(client, headers, search, **field)
        assert found["Additional"]["Status"] == "0", search
        assert [m["MemberNumber"] for m in found["Members"]["Member"]] == [number]
        assert found["Members"]["Member"][0]["SearchType"] == search

    bonus = call(client, headers, "transaction/PostExternalBonus", _bonus(number, "5000"))
    assert (bonus["Status"], bonus["StatusText"], bonus["CurrentBalance"]) == ("0", "Success", 5000)
    balance = call(client, headers, "profile/GetRewardBalance", {"memberNumber": number})
    assert balance["additional"]["status"] == "0"
    channel = balance["totalAvailablePointsSummary"]["channelWisePointsSummary"]["channel"][0]
    assert (channel["availablePoints"], channel["availableDollars"]) == (5000, "5.00")

    redeemed = call(client, headers, "transaction/ProcessRedemption", _redeem(number))
    assert redeemed["Additional"]["Status"] == "0"
    code = redeemed["AuthorizationCode"]
    assert re.fullmatch(r"[A-Z0-9]{8}", code)
    assert (redeemed["RedemptionPoints"], redeemed["TotalAvailableRewardPoints"]) == (1500, 3500)
    assert (redeemed["TransactionNumber"], redeemed["OrderId"]) == ("9957", "8207")
    assert redeemed["RedemptionDollarValue"] == "1.50"

    void = _redeem(number, "V", AuthorizationCode=code, TransactionNumber="9958")
    voided = call(client, headers, "transaction/ProcessRedemption", void)
    assert voided["Additional"]["Status"] == "0"
    assert voided["TotalAvailableRewardPoints"] == 5000
    again = call(client, headers, "transaction/ProcessRedemption", void)
    assert (again["Additional"]["Status"], again["Additional"]["StatusText"]) == (
        "93",
        "Redemption already voided",
    )
    inquiry = call(client, headers, "transaction/ProcessRedemption", _redeem(number, "B"))
    assert inquiry["TotalAvailableRewardPoints"] == 5000

    body = {"MemberNumber": number, "MessageVersion": "13", "RequestorID": "DEMO"}
    activity = call(
        client, headers, "transaction/GetMemberActivityDetail", {**body, **_today_window()}
    )
    assert activity["Status"] == "0"
    entries = activity["TransactionDetails"]["TransactionDetail"]
    assert [(e["TransactionType"], e["TransactionNumber"]) for e in entries] == [
        ("V", "9958"),
        ("R", "9957"),
        ("P", "1111"),
    ]
    assert entries[2]["TotalPoints"] == 5000
    assert entries[1]["TotalPointsRedeemed"] == 1500
    assert entries[1]["OrderId"] == "8207"
    assert [e["PointBalance"] for e in entries] == [5000, 3500, 5000]
    assert [(e.kind, e.points, e.transaction_number) for e in state.ledger] == [
        ("earn", 5000, "1111"),
        ("redeem", -1500, "9957"),
        ("void", 1500, "9958"),
    ]


def test_create_member_refusals(client: TestClient[Any], headers: dict[str, str]) -> None:
    def status(body: dict[str, Any]) -> tuple[str, str]:
        reply = call(client, headers, "profile/CreateMember", body)
        extra = reply["CreateMemberResult"]["GetMemberLookupReply"][0]["Additional"]
        return extra["Status"], extra["StatusText"]

    assert status(_new_member(EmailAddress="crtestid01@automation.com")) == (
        "86",
        "EMAIL ADDRESS EXISTS ON AN ACTIVE MEMBER",
    )
    phone = {"Phone": [{"PhoneNumber": "8472002626", "PhoneType": "M"}]}
    assert status(_new_member(PhoneNumbers=phone))[0] == "87"
    assert status(_new_member(FirstName="")) == ("99", "FIRST NAME IS REQUIRED")
    assert status(_new_member(FirstName="A" * 31)) == ("81", "INVALID FIELD(FIRST NAME) ENTRY")
    assert status(_new_member(State="ILL"))[0] == "81"
    assert status(_new_member(ZipCode="")) == ("63", "Zip Code is required")
    assert status(_new_member(ZipCode="1234567")) == ("81", "PLEASE ENTER A VALID ZIPCODE")
    assert status(_new_member(EmailAddress="no-at-sign"))[0] == "80"
    assert status(_new_member(RequestorID=""))[1] == "REQUESTOR ID IS REQUIRED"
    assert status(_new_member(StoreNumber="")) == ("99", "STORE NUMBER IS INVALID")


def test_reward_balance_of_the_sample_member(
    client: TestClient[Any], headers: dict[str, str]
) -> None:
    balance = call(
        client, headers, "profile/GetRewardBalance", {"memberNumber": DEMO_MEMBER_NUMBER}
    )
    assert balance["memberNumber"] == int(DEMO_MEMBER_NUMBER)
    assert (balance["firstName"], balance["lastName"]) == ("BOB", "ROB")
    assert balance["additional"]["statusText"] == "Good Balance"
    summary = balance["totalAvailablePointsSummary"]
    assert summary["totalAvailablePoints"] == "11000"
    channel = summary["channelWisePointsSummary"]["channel"][0]
    assert channel["pointsPerCent"] == 10
    assert channel["availableDollars"] == "11.00"
    buckets = channel["availableMemberOwnPointsList"]["memberOwnPointsToExpire"]
    assert [b["memberOwnPoints"] for b in buckets] == ["5000", "6000"]
    assert all(re.fullmatch(r"\d{8}", b["memberOwnExpiryDate"]) for b in buckets)


def test_insufficient_points(
    client: TestClient[Any], headers: dict[str, str], state: SYWState
) -> None:
    body = _redeem(DEMO_MEMBER_NUMBER, RedemptionPoints="11001")
    reply = call(client, headers, "transaction/ProcessRedemption", body)
    assert (reply["Additional"]["Status"], reply["Additional"]["StatusText"]) == (
        "01",
        "Points Not Available",
    )
    assert state.members[DEMO_MEMBER_NUMBER].points == 11000
    assert state.ledger == []


def test_not_found_and_inactive_statuses(client: TestClient[Any], headers: dict[str, str]) -> None:
    nobody = "7081999999999999"
    assert _lookup(client, headers, "05", MemberNumber=nobody)["Additional"]["Status"] == "68"
    missing_email = _lookup(client, headers, "02", EmailAddress="nobody@example.com")
    assert (missing_email["Additional"]["Status"], missing_email["NumRecordsReturned"]) == ("65", 0)
    assert _lookup(client, headers, "04", PhoneNumber="5555555555")["Additional"]["Status"] == "66"
    balance = call(client, headers, "profile/GetRewardBalance", {"memberNumber": nobody})
    assert balance["additional"] == {**balance["additional"], "status": "44"}
    redeem = call(client, headers, "transaction/ProcessRedemption", _redeem(nobody))
    assert redeem["Additional"]["Status"] == "30"
    bonus = call(client, headers, "transaction/PostExternalBonus", _bonus(nobody))
    assert (bonus["Status"], bonus["StatusText"]) == ("44", "Club ID Not Found")
    activity = call(
        client,
        headers,
        "transaction/GetMemberActivityDetails",
        {"MemberNumber": nobody, "MessageVersion": "13", "RequestorID": "DEMO", **_today_window()},
    )
    assert activity["Status"] == "30"

    inactive = call(
        client, headers, "transaction/ProcessRedemption", _redeem(INACTIVE_MEMBER_NUMBER)
    )
    assert inactive["Additional"]["Status"] == "32"
    bonus = call(client, headers, "transaction/PostExternalBonus", _bonus(INACTIVE_MEMBER_NUMBER))
    assert (bonus["Status"], bonus["StatusText"]) == ("44", "Member is not Active")


def test_bonus_refusals(client: TestClient[Any], headers: dict[str, str], state: SYWState) -> None:
    def status(body: dict[str, Any]) -> tuple[str, str]:
        reply = call(client, headers, "transaction/PostExternalBonus", body)
        return reply["Status"], reply["StatusText"]

    assert status(_bonus(DEMO_MEMBER_NUMBER, OfferId="KenmoreEarnNP")) == (
        "2",
        "OfferId is not activated",
    )
    assert status(_bonus(DEMO_MEMBER_NUMBER, "0"))[0] == "99"
    assert status(_bonus(DEMO_MEMBER_NUMBER, "12.5")) == ("99", "Points should be numeric")
    assert status(_bonus(DEMO_MEMBER_NUMBER, FileIdentifier="")) == (
        "99",
        "FileIdentifier is a required field",
    )
    assert state.ledger == []
    removed = call(
        client, headers, "transaction/PostExternalBonus", _bonus(DEMO_MEMBER_NUMBER, "-6000")
    )
    assert removed["CurrentBalance"] == 5000
    assert state.members[DEMO_MEMBER_NUMBER].lots[0].points == 5000  # nearest bucket went first


def test_applicable_offers(client: TestClient[Any], headers: dict[str, str]) -> None:
    body = {
        "MessageVersion": "08",
        "MemberNumber": DEMO_MEMBER_NUMBER,
        "RequestorID": "DEMO",
        "OrderStoreNumber": "01001",
        "CurrentDTTM": "2026-01-17 10:08:14",
        "BenefitOnly": "N",
        "MaxBenefits": "10",
        "ProductList": {
            "Product": [{"HierarchyLevels": [], "ItemPrice": "10.00", "Quantity": "1"}]
        },
    }
    reply = call(client, headers, "transaction/GetApplicableOffers", body)
    assert reply["Status"] == "0"
    assert [o["OfferCode"] for o in reply["OffersSet"]["ApplicableOffer"]] == [
        "99768",
        "7.7GRB-subclub_noMG",
    ]
    potential = reply["RewardsSummary"]["RewardPotentialDetails"][0]["RewardPotential"]
    assert [p["RewardPotentialValue"] for p in potential] == ["102", "0.10"]


def test_seeded_activity_and_void_of_seeded_redemption(
    client: TestClient[Any], headers: dict[str, str]
) -> None:
    def status(body: dict[str, Any]) -> tuple[str, str]:
        extra = call(client, headers, "transaction/ProcessRedemption", body)["Additional"]
        return extra["Status"], extra["StatusText"]

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    body = {
        "MemberNumber": DEMO_MEMBER_NUMBER,
        "MessageVersion": "13",
        "RequestorID": "DEMO",
        "StartDTTM": (now - dt.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S"),
        "EndDTTM": now.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    activity = call(client, headers, "transaction/GetMemberActivityDetail", body)
    assert [e["PointBalance"] for e in activity["TransactionDetails"]["TransactionDetail"]] == [
        11000,
        12000,
        6000,
    ]
    wrong_points = _redeem(DEMO_MEMBER_NUMBER, "V", AuthorizationCode="TSKFCQ8K")  # 1500 != 1000
    assert status(wrong_points) == ("94", "Points not valid")
    void = _redeem(DEMO_MEMBER_NUMBER, "V", AuthorizationCode="TSKFCQ8K", RedemptionPoints="")
    voided = call(client, headers, "transaction/ProcessRedemption", void)
    assert voided["Additional"]["Status"] == "0"
    assert voided["TotalAvailableRewardPoints"] == 12000
    unknown = _redeem(DEMO_MEMBER_NUMBER, "V", AuthorizationCode="NOSUCHCD")
    assert status(unknown)[0] == "99"


# -- faults ------------------------------------------------------------------------------------


def test_drop_after_apply_keeps_the_write(
    client: TestClient[Any], headers: dict[str, str], state: SYWState
) -> None:
    state.faults.set(Faults(drop_after_apply_rate=1.0))
    with pytest.raises(DroppedConnection):
        client.post(
            "/tellurideAS/transaction/PostExternalBonus",
            json=_bonus(DEMO_MEMBER_NUMBER, "100"),
            headers=headers,
        )
    assert [(e.kind, e.points) for e in state.ledger] == [("earn", 100)]
    assert state.members[DEMO_MEMBER_NUMBER].points == 11100


def test_error_and_malformed_faults(
    client: TestClient[Any], headers: dict[str, str], state: SYWState
) -> None:
    state.faults.set(Faults(error_rate=1.0))
    path = "/tellurideAS/transaction/ProcessRedemption"
    failed = client.post(path, json=_redeem(DEMO_MEMBER_NUMBER), headers=headers)
    assert failed.status_code == 500
    assert state.ledger == []
    state.faults.set(Faults(malformed_rate=1.0))
    garbled = client.post(path, json=_redeem(DEMO_MEMBER_NUMBER), headers=headers)
    assert garbled.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbled.content)
    assert [(e.kind, e.points) for e in state.ledger] == [("redeem", -1500)]
