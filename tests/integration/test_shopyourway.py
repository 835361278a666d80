"""ShopYourWay Telluride behind the contract, against its simulator (JWT-bearer OAuth)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.connectors.shopyourway import simulator as shopyourway
from gateway.connectors.shopyourway.simulator.keys import generate_key_pair
from gateway.sandbox.world import DEMO_API_KEY, World

BASE = "/v1/programs/syw-rewards/members"
BOB = shopyourway.DEMO_MEMBER_NUMBER


def _member(world: World, points: int = 5000, status: str = "A") -> str:
    number = "7081" + str(uuid.uuid4().int)[:12]
    tag = uuid.uuid4().hex[:8]
    world.syw.add_member(
        number,
        points=points,
        club_status=status,
        profile={
            "EmailAddress": f"m{tag}@example.com",
            "FirstName": "Ann",
            "LastName": "Lee",
            "ZipCode": "60179",
        },
    )
    return number


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _sent(world: World, path_end: str) -> dict[str, object]:
    request = next(r for r in reversed(world.syw.requests) if r.path.endswith(path_end))
    body: dict[str, object] = json.loads(request.body)
    return body


def test_capabilities(api: httpx.Client) -> None:
    program = api.get("/v1/programs/syw-rewards").json()
    assert program["capabilities"] == [
        "enroll",
        "lookup",
        "profile",
        "balance",
        "earn",
        "redeem",
        "void",
        "activity",
        "offers",
    ]
    assert program["lookup_by"] == ["email", "phone", "card_number"]


def test_profile_and_lookups(api: httpx.Client, world: World) -> None:
    member = api.get(f"{BASE}/{BOB}").json()
    assert member["first_name"] == "BOB"
    assert member["status"] == "active"
    assert member["phone"] == "8472002626"
    for params, search_type in (
        ({"email": "CRTestID01@automation.com"}, "02"),
        ({"phone": "(847) 200-2626"}, "04"),
        ({"card_number": BOB}, "05"),
    ):
        found = api.get(BASE, params=params).json()["data"]
        assert [m["member_id"] for m in found] == [BOB]
        assert _sent(world, "GetMemberLookup")["SearchType"] == search_type
    assert api.get(BASE, params={"email": "nobody@example.com"}).json()["data"] == []
    missing = api.get(f"{BASE}/7081000000000000")
    assert missing.status_code == 404
    assert missing.json()["code"] == "member_not_found"


def test_requests_carry_client_id_token_and_configured_values(
    api: httpx.Client, world: World
) -> None:
    api.get(f"{BASE}/{BOB}/balance", headers={"Cache-Control": "no-cache"})
    request = next(r for r in reversed(world.syw.requests) if r.path.endswith("GetRewardBalance"))
    assert request.headers["client_id"] == "DEMO_PARTNER"
    assert request.headers["access_token"] in world.syw.tokens
    body = json.loads(request.body)
    assert body["requestorID"] == "DEMO"
    assert body["memberNumber"] == BOB
    assert body["messageVersion"] == "16"


def test_balance_uses_points_per_cent_and_expiring_buckets(api: httpx.Client, world: World) -> None:
    member = _member(world, points=12345)
    body = api.get(f"{BASE}/{member}/balance").json()
    assert body["points"] == 12345
    assert body["available_points"] == 12345
    assert body["value"] == {"amount": "12.35", "currency": "USD"}  # 10 points per cent
    assert sum(b["points"] for b in body["expiring"]) == 12345


def test_earn_redeem_void_and_activity(api: httpx.Client, world: World) -> None:
    member = _member(world, points=2000)
    earn = api.post(
        f"{BASE}/{member}/earn", json={"points": 500, "reason": "Survey"}, headers=_key()
    )
    assert earn.status_code == 201, earn.text
    tx = earn.json()
    assert tx["balance_after"] == 2500
    sent = _sent(world, "PostExternalBonus")
    assert sent["OfferId"] == "GATEWAY_BONUS"
    assert sent["PointsToAdd"] == "500"
    assert sent["TransactionNumber"] == tx["id"]
    redeem = api.post(
        f"{BASE}/{member}/redemptions",
        json={"points": 1000, "reference": "ORDER-77"},
        headers=_key(),
    )
    assert redeem.status_code == 201, redeem.text
    redemption = redeem.json()
    assert redemption["status"] == "completed"
    assert redemption["value"] == {"amount": "1.00", "currency": "USD"}
    assert _sent(world, "ProcessRedemption")["Function"] == "R"
    void = api.post(f"{BASE}/{member}/redemptions/{redemption['id']}/void", headers=_key())
    assert void.status_code == 200, void.text
    assert void.json()["status"] == "voided"
    voided = _sent(world, "ProcessRedemption")
    assert voided["Function"] == "V"
    assert voided["AuthorizationCode"] == redemption["id"]
    again = api.post(f"{BASE}/{member}/redemptions/{redemption['id']}/void", headers=_key())
    assert again.status_code == 200  # 93 "already voided" is the state the caller wants
    assert api.get(f"{BASE}/{member}/balance").json()["points"] == 2500
    kinds = [(e["type"], e["points"]) for e in api.get(f"{BASE}/{member}/activity").json()["data"]]
    assert ("earn", 500) in kinds
    assert ("redeem", -1000) in kinds


def test_redeem_insufficient_and_inactive(api: httpx.Client, world: World) -> None:
    poor = _member(world, points=10)
    short = api.post(f"{BASE}/{poor}/redemptions", json={"points": 5000}, headers=_key())
    assert short.status_code == 422
    assert short.json()["code"] == "insufficient_points"
    assert short.json()["upstream"]["code"] in ("01", "1")
    inactive = _member(world, points=5000, status="I")
    refused = api.post(f"{BASE}/{inactive}/redemptions", json={"points": 10}, headers=_key())
    assert refused.status_code == 422
    assert refused.json()["code"] == "member_inactive"


def test_offers(api: httpx.Client) -> None:
    offers = api.get(f"{BASE}/{BOB}/offers").json()["data"]
    assert offers
    assert all(o["code"] for o in offers)


def test_enroll_validates_then_creates(api: httpx.Client, world: World) -> None:
    tag = uuid.uuid4().hex[:8]
    body = {
        "email": f"n{tag}@example.com",
        "first_name": "Nia",
        "last_name": "Park",
        "phone": "8475550" + str(uuid.uuid4().int)[:3],
        "address": {"postal_code": "60179", "region": "IL"},
    }
    created = api.post(BASE, json=body, headers=_key())
    assert created.status_code == 201, created.text
    number = created.json()["member_id"]
    assert number in world.syw.members
    sent = _sent(world, "CreateMember")
    assert sent["RequestorID"] == "DEMO"
    assert sent["MessageVersion"] == "14"
    assert sent["ZipCode"] == "60179"
    duplicate = api.post(BASE, json=body, headers=_key())
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "member_already_enrolled"
    calls = len(world.syw.requests)
    too_long = api.post(BASE, json={**body, "first_name": "A" * 31}, headers=_key())
    no_zip = api.post(BASE, json={k: v for k, v in body.items() if k != "address"}, headers=_key())
    assert too_long.status_code == no_zip.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "first_name"
    assert no_zip.json()["errors"][0]["field"] == "address.postal_code"
    assert len(world.syw.requests) == calls  # refused before any upstream call


@pytest.mark.parametrize("as_http_500", [False, True])
def test_expired_token_is_refreshed_once_and_the_call_retried(
    api: httpx.Client, world: World, as_http_500: bool
) -> None:
    api.get(f"{BASE}/{BOB}/offers")  # a token is cached now
    world.syw.expired_token_as_http_500 = as_http_500
    try:
        world.syw.expire_all_tokens()
        before = world.syw.token_requests
        response = api.get(f"{BASE}/{BOB}/offers")
    finally:
        world.syw.expired_token_as_http_500 = False
    assert response.status_code == 200, response.text
    assert world.syw.token_requests == before + 1


def test_assertion_signed_with_the_wrong_key_is_a_clear_problem(
    world: World, redis_url: str, tmp_path: object
) -> None:
    private, _ = generate_key_pair()
    key_file = world.syw_key_file.parent / f"wrong-{uuid.uuid4().hex}.pem"
    key_file.write_text(private, encoding="utf-8")
    config = world.config_yaml(redis_url=redis_url, key_prefix="wrongkey-" + uuid.uuid4().hex)
    config = config.replace(str(world.syw_key_file), str(key_file))
    url = world.servers.add(create_app(parse_settings(config)))
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}) as api:
        response = api.get(f"{BASE}/{BOB}/offers")
    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "upstream_unavailable"
    assert problem["upstream"]["provider"] == "shopyourway"
    assert problem["upstream"]["status"] == 401
    assert problem["upstream"]["code"] == "invalid_grant"
    assert "PRIVATE KEY" not in response.text


def test_an_empty_activity_window_is_refused_before_the_provider(
    api: httpx.Client, world: World
) -> None:
    """ShopYourWay answers ``until`` before ``since`` with its own 422 ("Invalid EndDTTM");
    the gateway refuses it first, naming the field."""
    before = len(world.syw.requests)
    for until in ("2018-08-31T00:00:00Z", "2026-01-01T00:00:00Z"):
        answer = api.get(
            f"/v1/programs/syw-rewards/members/{BOB}/activity",
            params={"since": "2026-01-01T00:00:00Z", "until": until},
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"] == [{"field": "until", "message": "not later than since"}]
    assert len(world.syw.requests) == before


@pytest.mark.parametrize("value", ["0.5", "1700000000", "2026-01-01", "yesterday"])
def test_activity_bounds_are_iso_timestamps_only(api: httpx.Client, value: str) -> None:
    """litestar alone would read a number as a Unix timestamp; the document says date-time."""
    answer = api.get(f"/v1/programs/syw-rewards/members/{BOB}/activity", params={"until": value})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == "until"
