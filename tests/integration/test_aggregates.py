"""The BFF endpoints: overview per provider, wallet over all four, honest partial results."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.connectors.cpextender import simulator as cpextender
from gateway.connectors.shopyourway import simulator as shopyourway
from gateway.sandbox.world import DEMO_API_KEY, World

SYW = shopyourway.DEMO_MEMBER_NUMBER
DEADLINE = 0.5


def _cp_customer(world: World, points: int = 900) -> str:
    number = "3" + str(uuid.uuid4().int)[:9]
    world.cp.add_customer(
        cpextender.Customer(
            customer_number=number,
            display_number=number,
            points=points,
            history=[
                {
                    "Date": time.strftime("%m/%d/%Y"),
                    "PointAmount": points,
                    "Document": "D1",
                    "Reason": "Opening",
                }
            ],
        )
    )
    return number


def _calls(world: World, ending: str) -> int:
    states = (world.cp, world.alpha, world.irt, world.syw)
    return sum(1 for s in states for r in s.requests if r.path.endswith(ending))


def test_cp_overview_one_upstream_read_serves_three_parts(api: httpx.Client, world: World) -> None:
    member = _cp_customer(world)
    before = _calls(world, f"/Loyalty/{member}/BalanceCheck")
    response = api.get(f"/v1/programs/cafe-rewards/members/{member}/overview")
    assert response.status_code == 200
    body = response.json()
    assert body["complete"] is True
    assert response.headers["x-aggregate-complete"] == "true"
    assert body["member"]["data"]["member_id"] == member
    assert body["balance"]["data"]["points"] == 900
    assert body["balance"]["cache_status"].startswith("loyalty-gateway;")
    assert body["activity"]["data"][0]["points"] == 900
    assert body["offers"]["error"]["code"] == "operation_not_supported"
    assert _calls(world, f"/Loyalty/{member}/BalanceCheck") - before == 1


def test_alpha_overview(api: httpx.Client, world: World) -> None:
    before = _calls(world, "/recipients/OLMKne7Y3N")
    body = api.get("/v1/programs/alpha-store/members/OLMKne7Y3N/overview").json()
    assert body["member"]["data"]["last_name"] == "Wensleydale"
    assert "data" in body["balance"]
    assert body["activity"]["error"]["code"] == "operation_not_supported"
    assert body["offers"]["error"]["code"] == "operation_not_supported"
    assert body["complete"] is True
    assert _calls(world, "/recipients/OLMKne7Y3N") - before <= 1  # one GET, or a cache hit


def test_irt_overview_with_and_without_pin(api: httpx.Client) -> None:
    url = "/v1/programs/irt-rewards/members/6001000000000001/overview"
    without = api.get(url).json()
    assert without["member"]["error"]["code"] == "invalid_request"  # getinfo needs the PIN
    assert "data" in without["balance"]
    assert without["complete"] is False
    with_pin = api.get(url, headers={"X-Member-PIN": "1234"}).json()
    assert with_pin["member"]["data"]["first_name"] == "Ann"
    assert with_pin["complete"] is True


def test_syw_overview_every_part_once(api: httpx.Client, world: World) -> None:
    paths = (
        "GetMemberLookup",
        "GetRewardBalance",
        "GetMemberActivityDetail",
        "GetApplicableOffers",
    )
    before = {p: _calls(world, p) for p in paths}
    body = api.get(
        f"/v1/programs/syw-rewards/members/{SYW}/overview", headers={"Cache-Control": "no-cache"}
    ).json()
    assert body["complete"] is True
    assert body["member"]["data"]["first_name"] == "BOB"
    assert body["activity"]["data"]
    assert body["offers"]["data"]
    calls = {p: _calls(world, p) - before[p] for p in paths}
    assert calls["GetMemberLookup"] == calls["GetMemberActivityDetail"] == 1
    assert calls["GetApplicableOffers"] == 1
    assert calls["GetRewardBalance"] <= 1  # may be a cache hit


@pytest.fixture
def quick_gateway(world: World, redis_url: str) -> Iterator[httpx.Client]:
    """A gateway whose aggregate parts have a 0.5 s deadline."""
    config = world.config_yaml(
        redis_url=redis_url,
        part_deadline_seconds=DEADLINE,
        key_prefix="agg-" + uuid.uuid4().hex[:6],
    )
    url = world.servers.add(create_app(parse_settings(config)))
    with httpx.Client(
        base_url=url, timeout=20, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}
    ) as client:
        yield client


def test_wallet_slow_and_failing_providers(quick_gateway: httpx.Client, world: World) -> None:
    cp_member = _cp_customer(world, points=500)
    memberships = [
        {"program": "cafe-rewards", "member_id": cp_member},
        {"program": "alpha-store", "member_id": "OLMKne7Y3N"},
        {"program": "irt-rewards", "member_id": "6001000000000001"},
        {"program": "syw-rewards", "member_id": SYW},
    ]
    world.cp.faults.faults.latency_ms = 1500  # slower than the deadline
    world.alpha.faults.faults.error_rate = 1.0  # failing
    try:
        started = time.monotonic()
        response = quick_gateway.post("/v1/wallet", json={"memberships": memberships})
        elapsed = time.monotonic() - started
    finally:
        world.cp.faults.faults.latency_ms = 0
        world.alpha.faults.faults.error_rate = 0.0
    assert response.status_code == 200
    assert elapsed < DEADLINE + 0.7
    body = response.json()
    assert body["complete"] is False
    assert response.headers["x-aggregate-complete"] == "false"
    items = {i["program"]: i for i in body["items"]}
    assert items["cafe-rewards"]["error"]["code"] == "upstream_timeout"
    assert items["alpha-store"]["error"]["code"] == "upstream_unavailable"
    assert items["irt-rewards"]["data"]["points"] >= 0
    assert items["syw-rewards"]["data"]["points"] > 0
    expected = {items[p]["data"]["value"]["currency"] for p in ("irt-rewards", "syw-rewards")}
    assert {t["currency"] for t in body["totals"]} == expected


def test_wallet_over_all_four_and_totals(api: httpx.Client, world: World) -> None:
    cp_member = _cp_customer(world, points=250)
    body = api.post(
        "/v1/wallet",
        json={
            "memberships": [
                {"program": "cafe-rewards", "member_id": cp_member},
                {"program": "alpha-store", "member_id": "OLMKne7Y3N"},
                {"program": "irt-rewards", "member_id": "6001000000000001"},
                {"program": "syw-rewards", "member_id": SYW},
            ]
        },
    ).json()
    assert body["complete"] is True
    assert all("data" in item for item in body["items"])
    usd = [
        i["data"]["value"]["amount"]
        for i in body["items"]
        if i["data"]["value"] and i["data"]["value"]["currency"] == "USD"
    ]
    total = next(t for t in body["totals"] if t["currency"] == "USD")
    assert float(total["amount"]) == pytest.approx(sum(float(a) for a in usd))


def test_overview_slow_provider_times_out_within_deadline(
    quick_gateway: httpx.Client, world: World
) -> None:
    world.syw.faults.faults.latency_ms = 1500
    try:
        started = time.monotonic()
        response = quick_gateway.get(
            f"/v1/programs/syw-rewards/members/{SYW}/overview",
            headers={"Cache-Control": "no-cache"},
        )
        elapsed = time.monotonic() - started
    finally:
        world.syw.faults.faults.latency_ms = 0
    assert response.status_code == 200
    assert elapsed < DEADLINE + 0.7
    body = response.json()
    assert body["complete"] is False
    assert body["offers"]["error"]["code"] == "upstream_timeout"
    assert body["member"]["error"]["code"] == "upstream_timeout"


def test_wallet_request_errors(api: httpx.Client, reader: httpx.Client) -> None:
    assert api.post("/v1/wallet", json={"memberships": []}).status_code == 400
    too_many = [{"program": "alpha-store", "member_id": f"m{i}"} for i in range(21)]
    over = api.post("/v1/wallet", json={"memberships": too_many})
    assert over.status_code == 400
    assert over.json()["errors"][0]["field"] == "memberships"
    foreign = reader.post(
        "/v1/wallet",
        json={
            "memberships": [
                {"program": "cafe-rewards", "member_id": "2059378440"},
                {"program": "alpha-store", "member_id": "OLMKne7Y3N"},
            ]
        },
    )
    assert foreign.status_code == 200
    items = foreign.json()["items"]
    assert items[0]["error"]["code"] == "program_not_found"
    assert "data" in items[1]


def test_a_rule_added_to_the_access_decision_holds_for_each_wallet_item(
    world: World, redis_url: str
) -> None:
    """The wallet decides each item as GET …/balance is (services/access.py): a rule added
    once refuses that item, as its own problem, and leaves the others."""
    from gateway.domain.errors import Forbidden
    from gateway.services.access import Target
    from gateway.settings import ClientSettings

    def refuse_cafe(caller: ClientSettings, scope: object, target: Target) -> Forbidden | None:
        return Forbidden("Not by this rule.") if target.program == "cafe-rewards" else None

    settings = parse_settings(world.config_yaml(redis_url=redis_url, key_prefix="lg-rule"))
    url = world.servers.add(create_app(settings, access_rules=[refuse_cafe]))
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=10
    ) as client:
        answer = client.post(
            "/v1/wallet",
            json={
                "memberships": [
                    {"program": "cafe-rewards", "member_id": "2059378440"},
                    {"program": "alpha-store", "member_id": "OLMKne7Y3N"},
                ]
            },
        )
        balance = client.get("/v1/programs/cafe-rewards/members/2059378440/balance")
    assert balance.status_code == 403
    items = answer.json()["items"]
    assert items[0]["error"]["code"] == "forbidden"
    assert items[0]["error"]["detail"] == "Not by this rule."
    assert items[1]["data"]["points"] >= 0
