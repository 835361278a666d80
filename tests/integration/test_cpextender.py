"""CP Extender behind the contract, end to end against its simulator."""

from __future__ import annotations

import uuid

import httpx
import pytest

from gateway.connectors.cpextender import simulator as cpextender
from gateway.sandbox.world import World

BASE = "/v1/programs/cafe-rewards/members"


@pytest.fixture
def customer(world: World) -> str:
    """A fresh CP customer with 2000 points, so tests do not share balances."""
    number = str(uuid.uuid4().int)[:10]
    world.cp.add_customer(
        cpextender.Customer(customer_number=number, display_number=f"CPOL-{number}", points=2000)
    )
    return number


def earn(api: httpx.Client, member: str, body: dict[str, object], key: str) -> httpx.Response:
    return api.post(f"{BASE}/{member}/earn", json=body, headers={"Idempotency-Key": key})


def test_balance_maps_held_points_and_value(api: httpx.Client) -> None:
    response = api.get(f"{BASE}/2059378440/balance", headers={"Cache-Control": "no-cache"})
    assert response.status_code == 200
    body = response.json()
    assert body["points"] == 1504
    assert body["available_points"] == 504
    assert body["held_points"] == 1000
    assert body["pending_points"] == 0
    assert body["value"] == {"amount": "5.04", "currency": "USD"}
    assert body["member_id"] == "2059378440"
    assert body["provider_data"] is None


def test_balance_is_cached_then_dropped_after_earn(
    api: httpx.Client, world: World, customer: str
) -> None:
    first = api.get(f"{BASE}/{customer}/balance")
    assert first.headers["cache-status"] == "loyalty-gateway; fwd=miss; stored"
    calls = len(world.cp.requests)
    second = api.get(f"{BASE}/{customer}/balance")
    assert second.headers["cache-status"].startswith("loyalty-gateway; hit; ttl=")
    assert int(second.headers["age"]) >= 0
    assert len(world.cp.requests) == calls  # served from Redis
    assert earn(api, customer, {"points": 5}, str(uuid.uuid4())).status_code == 201
    third = api.get(f"{BASE}/{customer}/balance")
    assert third.headers["cache-status"] == "loyalty-gateway; fwd=miss; stored"
    assert third.json()["points"] == 2005


def test_no_cache_forces_upstream_read(api: httpx.Client, customer: str) -> None:
    api.get(f"{BASE}/{customer}/balance")
    fresh = api.get(f"{BASE}/{customer}/balance", headers={"Cache-Control": "no-cache"})
    assert fresh.headers["cache-status"] == "loyalty-gateway; fwd=request; stored"


def test_provider_data_on_request(api: httpx.Client, customer: str) -> None:
    body = api.get(f"{BASE}/{customer}/balance?include=provider_data").json()
    assert body["provider_data"]["Loyalty"]["PointBalance"] == 2000
    bad = api.get(f"{BASE}/{customer}/balance?include=secrets")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_request"


def test_earn_applies_once_and_replays(api: httpx.Client, world: World, customer: str) -> None:
    key = str(uuid.uuid4())
    body = {"points": 100, "reason": "Facebook Share", "reference": "ORDER-1"}
    first = earn(api, customer, body, key)
    assert first.status_code == 201
    tx = first.json()
    assert tx["points"] == 100
    assert tx["reference"] == "ORDER-1"
    assert tx["status"] == "completed"
    assert tx["member_id"] == customer
    again = earn(api, customer, body, key)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    applied = [e for e in world.cp.ledger if e.customer_number == customer]
    assert len(applied) == 1
    assert applied[0].document == "ORDER-1"
    # what CP received is the document's Earn body
    sent = [r for r in world.cp.requests if r.path == "/Loyalty/Earn"][-1]
    assert sent.headers["authorization"] == "Bearer cp-demo-token"
    assert b'"CustomerNumber":"' + customer.encode() in sent.body


def test_key_reused_with_other_body_is_422(api: httpx.Client, customer: str) -> None:
    key = str(uuid.uuid4())
    assert earn(api, customer, {"points": 10}, key).status_code == 201
    other = earn(api, customer, {"points": 11}, key)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_key_order_and_whitespace_do_not_change_the_fingerprint(
    api: httpx.Client, customer: str
) -> None:
    key = str(uuid.uuid4())
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    first = api.post(
        f"{BASE}/{customer}/earn", content=b'{"points": 7, "reason": "a"}', headers=headers
    )
    second = api.post(
        f"{BASE}/{customer}/earn", content=b'{"reason":"a","points":7}', headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"


def test_earn_without_reference_gets_a_stable_one(
    api: httpx.Client, world: World, customer: str
) -> None:
    key = str(uuid.uuid4())
    tx = earn(api, customer, {"points": 3}, key).json()
    assert tx["reference"].startswith("lg-")
    assert world.cp.ledger[-1].document == tx["reference"]


def test_earn_unknown_member_is_404_and_replayed(api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    response = earn(api, "0000000000", {"points": 1}, key)
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "member_not_found"
    assert problem["upstream"]["provider"] == "cpextender"
    assert problem["upstream"]["status"] == 404
    assert problem["upstream"]["message"] == "CustomerNumber Not Found"
    assert earn(api, "0000000000", {"points": 1}, key).headers["idempotent-replayed"] == "true"


def test_redeem_authorizes(api: httpx.Client, world: World, customer: str) -> None:
    response = api.post(
        f"{BASE}/{customer}/redemptions",
        json={"points": 1000, "reference": "WB-101-10444"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201
    redemption = response.json()
    assert redemption["status"] == "authorized"
    assert redemption["id"].startswith("GDA")
    assert redemption["points"] == 1000
    assert redemption["value"] == {"amount": "10.00", "currency": "USD"}
    assert redemption["reference"] == redemption["order_id"] == "WB-101-10444"
    balance = api.get(f"{BASE}/{customer}/balance").json()
    assert balance["held_points"] == 1000
    assert balance["available_points"] == 1000


def test_redeem_more_than_available_is_insufficient_points(
    api: httpx.Client, customer: str
) -> None:
    response = api.post(
        f"{BASE}/{customer}/redemptions",
        json={"points": 999999},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "insufficient_points"
    assert problem["upstream"]["message"] == "No Balance Remaining"


def test_activity_newest_first_with_cursor(api: httpx.Client, customer: str) -> None:
    for i, points in enumerate((10, 20, 30)):
        earn(api, customer, {"points": points, "reference": f"R{i}"}, str(uuid.uuid4()))
    page = api.get(f"{BASE}/{customer}/activity", params={"limit": 2}).json()
    assert [e["points"] for e in page["data"]] == [30, 20]
    assert all(e["type"] == "earn" for e in page["data"])
    assert page["next_cursor"]
    rest = api.get(
        f"{BASE}/{customer}/activity", params={"limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [e["points"] for e in rest["data"]] == [10]
    assert rest["next_cursor"] is None
    assert len({e["id"] for e in page["data"] + rest["data"]}) == 3


def test_activity_document_sample(api: httpx.Client) -> None:
    entries = api.get(f"{BASE}/2059378440/activity").json()["data"]
    kinds = [(e["type"], e["points"], e["reference"]) for e in entries]
    assert ("hold", -1000, "WB-101-10444") in kinds
    assert ("earn", 100, "123456789") in kinds
    assert ("adjust", 1404, None) in kinds


def test_activity_bad_cursor_and_limit(api: httpx.Client, customer: str) -> None:
    bad = api.get(f"{BASE}/{customer}/activity", params={"cursor": "bm9wZQ"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "cursor"
    assert api.get(f"{BASE}/{customer}/activity", params={"limit": 0}).status_code == 400
    naive = api.get(f"{BASE}/{customer}/activity", params={"since": "2024-01-01T00:00:00"})
    assert naive.status_code == 400


def test_profile_from_balance_check(api: httpx.Client) -> None:
    member = api.get(f"{BASE}/2059378440").json()
    assert member["member_id"] == "2059378440"
    assert member["status"] == "active"
    assert member["program"] == "cafe-rewards"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", BASE, {"email": "a@example.com"}),
        ("GET", f"{BASE}?email=a@example.com", None),
        ("PATCH", f"{BASE}/2059378440", {"first_name": "A"}),
        ("POST", f"{BASE}/2059378440/redemptions/GDA1/void", None),
        ("GET", f"{BASE}/2059378440/offers", None),
    ],
)
def test_unsupported_operations_are_501(
    api: httpx.Client, world: World, method: str, path: str, body: object
) -> None:
    calls = len(world.cp.requests)
    response = api.request(method, path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 501
    assert response.json()["code"] == "operation_not_supported"
    assert len(world.cp.requests) == calls


def test_unknown_member_is_404_problem(api: httpx.Client) -> None:
    response = api.get(f"{BASE}/nobody/balance")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "member_not_found"
