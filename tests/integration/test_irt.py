"""IRT behind the contract, end to end against its simulator (form RPC, status in body)."""

from __future__ import annotations

import urllib.parse
import uuid

import httpx
import pytest

from gateway.connectors.irt import simulator as irt
from gateway.sandbox.world import World

BASE = "/v1/programs/irt-rewards/members"
PIN = {"X-Member-PIN": "1234"}


def _card(world: World, **fields: object) -> str:
    number = "7" + str(uuid.uuid4().int)[:15]
    world.irt.add(irt.Card(number=number, **fields))  # type: ignore[arg-type]
    return number


@pytest.fixture
def enrolled(world: World) -> str:
    return _card(
        world,
        enrolled=True,
        pin="1234",
        spendable=1000,
        profile={
            "Email": "e@example.com",
            "FirstName": "Eve",
            "LastName": "Old",
            "Phone": "5550199",
            "City": "Town",
        },
    )


def last_form(world: World, call: str) -> dict[str, str]:
    for request in reversed(world.irt.requests):
        form = dict(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))
        if form.get("call") == call:
            return form
    raise AssertionError(f"no {call} call")


def test_capabilities(api: httpx.Client) -> None:
    program = api.get("/v1/programs/irt-rewards").json()
    assert program["capabilities"] == [
        "enroll",
        "lookup",
        "profile",
        "update",
        "balance",
        "earn",
        "redeem",
    ]
    assert program["lookup_by"] == ["card_number"]


def test_enroll_checks_then_registers(api: httpx.Client, world: World) -> None:
    card = _card(world)
    response = api.post(
        BASE,
        json={
            "card_number": card,
            "email": "new@example.com",
            "first_name": "New",
            "last_name": "Member",
            "birth_date": "1990-05-17",
            "address": {"city": "Springfield", "region": "IL"},
        },
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Member-PIN": "4321"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{BASE}/{card}"
    assert world.irt.cards[card].enrolled
    assert world.irt.cards[card].pin == "4321"
    form = last_form(world, "register")
    assert form["user"] == "irt-demo-user"
    assert form["pass"] == "irt-demo-pass"
    assert form["Email"] == "new@example.com"
    assert form["Birthday"] == "1990-05-17"
    assert form["State"] == "IL"
    assert "Phone" not in form  # not given: omitted, not blank
    assert last_form(world, "check_registered")["cardnumber"] == card


def test_enroll_already_enrolled_is_409(api: httpx.Client, enrolled: str) -> None:
    response = api.post(
        BASE, json={"card_number": enrolled}, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "member_already_enrolled"


def test_enroll_cancelled_card_is_rejected(api: httpx.Client) -> None:
    response = api.post(
        BASE,
        json={"card_number": "6001000000000003"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "upstream_rejected"
    assert problem["upstream"]["code"] == "1"


def test_enroll_needs_card_number(api: httpx.Client) -> None:
    response = api.post(
        BASE, json={"email": "x@example.com"}, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "card_number"


def test_lookup_by_card(api: httpx.Client, enrolled: str, world: World) -> None:
    found = api.get(BASE, params={"card_number": enrolled}).json()["data"]
    assert [m["member_id"] for m in found] == [enrolled]
    issued = _card(world)
    assert api.get(BASE, params={"card_number": issued}).json()["data"] == []
    assert api.get(BASE, params={"email": "e@example.com"}).status_code == 501


def test_profile_needs_pin(api: httpx.Client, enrolled: str) -> None:
    missing = api.get(f"{BASE}/{enrolled}")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "X-Member-PIN"
    wrong = api.get(f"{BASE}/{enrolled}", headers={"X-Member-PIN": "0000"})
    assert wrong.status_code == 422
    assert wrong.json()["upstream"]["code"] == "4"
    member = api.get(f"{BASE}/{enrolled}", headers=PIN).json()
    assert member["first_name"] == "Eve"
    assert member["email"] == "e@example.com"
    assert member["address"]["city"] == "Town"


def test_patch_absent_keeps_null_clears(api: httpx.Client, world: World, enrolled: str) -> None:
    response = api.patch(
        f"{BASE}/{enrolled}",
        content=b'{"last_name": "New", "email": null}',
        headers={**PIN, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    profile = world.irt.cards[enrolled].profile
    assert profile["LastName"] == "New"
    assert "Email" not in profile  # null: sent blank, cleared
    assert profile["FirstName"] == "Eve"  # absent: omitted, kept
    assert profile["Phone"] == "5550199"
    form = last_form(world, "update")
    assert form["Email"] == ""
    assert "FirstName" not in form
    assert response.json()["last_name"] == "New"
    assert response.json()["email"] is None


def test_balance(api: httpx.Client, enrolled: str) -> None:
    body = api.get(f"{BASE}/{enrolled}/balance").json()
    assert body["points"] == 1000
    assert body["value"] == {"amount": "10.00", "currency": "USD"}


def test_unknown_card_balance_is_404(api: httpx.Client) -> None:
    response = api.get(f"{BASE}/0000/balance")
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "member_not_found"
    assert problem["upstream"] == {
        "provider": "irt",
        "status": 200,
        "code": "1",
        "message": "Invalid card number.",
    }


def test_earn_forwards_a_stable_idempotency_key(
    api: httpx.Client, world: World, enrolled: str
) -> None:
    key = str(uuid.uuid4())
    body = {"points": 25, "reason": "Visit", "point_type": "annual"}
    first = api.post(f"{BASE}/{enrolled}/earn", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    tx = first.json()
    assert tx["balance_after"] == 1025
    assert tx["point_type"] == "annual"
    form = last_form(world, "issuepoints")
    assert form["pointType"] == "Annual"
    assert form["points"] == "25"
    sent_key = form["idempotencyKey"]
    assert sent_key
    assert key not in sent_key
    replay = api.post(f"{BASE}/{enrolled}/earn", json=body, headers={"Idempotency-Key": key})
    assert replay.headers["idempotent-replayed"] == "true"
    assert [e.points for e in world.irt.ledger if e.card == enrolled] == [25]


def test_redeem_and_insufficient(api: httpx.Client, world: World, enrolled: str) -> None:
    ok = api.post(
        f"{BASE}/{enrolled}/redemptions",
        json={"points": 300, "reference": "S-1"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "completed"
    assert world.irt.cards[enrolled].spendable == 700
    short = api.post(
        f"{BASE}/{enrolled}/redemptions",
        json={"points": 5000},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert short.status_code == 422
    assert short.json()["code"] == "insufficient_points"


def test_health_is_heartbeat(api: httpx.Client, world: World) -> None:
    assert api.get("/v1/programs/irt-rewards/health").json()["reachable"] is True
    assert last_form(world, "Heartbeat")["call"] == "Heartbeat"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", "/redemptions/X/void"), ("GET", "/activity"), ("GET", "/offers")],
)
def test_unsupported(api: httpx.Client, enrolled: str, method: str, suffix: str) -> None:
    response = api.request(
        method, f"{BASE}/{enrolled}{suffix}", headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 501
