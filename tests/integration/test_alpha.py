"""Alpha behind the contract, end to end against its simulator."""

from __future__ import annotations

import uuid

import httpx
import pytest

from gateway.connectors.alpha import simulator as alpha
from gateway.sandbox.world import World

BASE = "/v1/programs/alpha-store/members"


def enroll(api: httpx.Client, body: dict[str, object], key: str | None = None) -> httpx.Response:
    return api.post(BASE, json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


@pytest.fixture
def new_member() -> dict[str, object]:
    tag = uuid.uuid4().hex[:8]
    return {
        "email": f"gromit-{tag}@example.com",
        "first_name": "Gromit",
        "last_name": "Dog",
        "phone": "01942 112142",
        "address": {
            "line1": "62 West Wallaby Street",
            "city": "Wigan",
            "postal_code": "WG7 7FU",
            "country": "GB",
        },
        "card_number": f"pk-{tag}",
    }


def test_enroll_creates_recipient(api: httpx.Client, world: World, new_member: dict) -> None:  # type: ignore[type-arg]
    response = enroll(api, new_member)
    assert response.status_code == 201
    member = response.json()
    assert response.headers["location"] == f"{BASE}/{member['member_id']}"
    assert member["email"] == new_member["email"]
    assert member["first_name"] == "Gromit"
    assert member["address"]["city"] == "Wigan"
    assert member["address"]["country"] == "GB"
    assert member["status"] == "active"
    stored = world.alpha.recipients[member["member_id"]]
    assert stored["firstname"] == "Gromit"
    assert stored["surname"] == "Dog"
    assert stored["country_code"] == "gb"
    assert stored["public_key"] == new_member["card_number"]


def test_enroll_same_key_replays_without_second_recipient(
    api: httpx.Client,
    world: World,
    new_member: dict,  # type: ignore[type-arg]
) -> None:
    key = str(uuid.uuid4())
    first = enroll(api, new_member, key)
    count = len(world.alpha.recipients)
    second = enroll(api, new_member, key)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert len(world.alpha.recipients) == count


def test_enroll_existing_email_is_409(api: httpx.Client) -> None:
    response = enroll(api, {"email": "wallace@example.com", "first_name": "W", "last_name": "W"})
    assert response.status_code == 409
    assert response.json()["code"] == "member_already_enrolled"


def test_enroll_missing_fields_reported_per_field(api: httpx.Client, world: World) -> None:
    calls = len(world.alpha.requests)
    response = enroll(api, {"phone": "0123 456"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid_request"
    assert {e["field"] for e in problem["errors"]} == {"email", "first_name", "last_name"}
    assert len(world.alpha.requests) == calls  # refused before any upstream call


def test_alpha_422_becomes_field_errors(api: httpx.Client, world: World, new_member: dict) -> None:  # type: ignore[type-arg]
    world.alpha.require_address = True
    try:
        del new_member["address"]
        response = enroll(api, new_member)
    finally:
        world.alpha.require_address = False
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid_request"
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"address.line1", "address.city", "address.postal_code"}
    assert problem["upstream"] == {
        "provider": "alpha",
        "status": 422,
        "message": "The given data was invalid.",
    }


def test_get_by_id_email_and_lookup(api: httpx.Client) -> None:
    member = api.get(f"{BASE}/OLMKne7Y3N").json()
    assert member["email"] == "wallace@example.com"
    assert member["last_name"] == "Wensleydale"
    assert member["enrolled_at"] == "2020-01-24T15:14:05Z"
    by_email = api.get(f"{BASE}/wallace@example.com").json()
    assert by_email["member_id"] == "OLMKne7Y3N"
    found = api.get(BASE, params={"email": "wallace@example.com"}).json()["data"]
    assert [m["member_id"] for m in found] == ["OLMKne7Y3N"]
    by_key = api.get(BASE, params={"card_number": "dQw4w9WgXcQ"}).json()["data"]
    assert [m["member_id"] for m in by_key] == ["OLMKne7Y3N"]
    none = api.get(BASE, params={"email": "nobody@example.com"})
    assert none.status_code == 200
    assert none.json()["data"] == []


def test_lookup_needs_exactly_one_supported_key(api: httpx.Client) -> None:
    assert api.get(BASE).status_code == 400
    both = api.get(BASE, params={"email": "a@example.com", "card_number": "x"})
    assert both.status_code == 400
    phone = api.get(BASE, params={"phone": "01942 992143"})
    assert phone.status_code == 501
    assert phone.json()["code"] == "operation_not_supported"


def test_merge_patch_absent_keeps_null_clears(
    api: httpx.Client,
    world: World,
    new_member: dict,  # type: ignore[type-arg]
) -> None:
    member_id = enroll(api, new_member).json()["member_id"]
    response = api.patch(
        f"{BASE}/{member_id}",
        content=b'{"phone": null, "address": {"line1": "1 New Road", "postal_code": null}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    stored = world.alpha.recipients[member_id]
    assert stored["telephone"] is None
    assert stored["address1"] == "1 New Road"
    assert stored["postcode"] is None
    assert stored["town"] == "Wigan"  # absent: kept
    assert stored["firstname"] == "Gromit"
    body = response.json()
    assert body["phone"] is None
    assert body["address"]["line1"] == "1 New Road"
    sent = world.alpha.requests[-2 if world.alpha.requests[-1].method == "GET" else -1]
    assert sent.method == "PUT"
    assert b"firstname" not in sent.body  # absent fields are not sent


def test_patch_cannot_clear_required_fields(api: httpx.Client) -> None:
    response = api.patch(f"{BASE}/OLMKne7Y3N", json={"email": None})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


def test_patch_rejects_unknown_fields_and_bad_types(api: httpx.Client) -> None:
    unknown = api.patch(f"{BASE}/OLMKne7Y3N", json={"nickname": "W"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid_request"
    bad_type = api.patch(f"{BASE}/OLMKne7Y3N", json={"first_name": 5})
    assert bad_type.status_code == 400
    assert bad_type.json()["errors"][0]["field"] == "first_name"


def test_balance(api: httpx.Client, world: World) -> None:
    world.alpha.add(
        alpha.recipient(
            id="BAL0000001", email="bal@example.com", firstname="B", surname="C", balance=1357
        )
    )
    body = api.get(f"{BASE}/BAL0000001/balance").json()
    assert body["points"] == 1357
    assert body["available_points"] == 1357
    assert body["value"] == {"amount": "13.57", "currency": "GBP"}


def test_earn_and_redeem_are_501_and_release_the_key(api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    for _ in range(2):  # not recorded: the same key simply runs again
        response = api.post(
            f"{BASE}/OLMKne7Y3N/earn", json={"points": 5}, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 501
        assert "idempotent-replayed" not in response.headers
    redeem = api.post(
        f"{BASE}/OLMKne7Y3N/redemptions", json={"points": 5}, headers={"Idempotency-Key": key}
    )
    assert redeem.status_code == 501


def test_unknown_recipient_is_404(api: httpx.Client) -> None:
    response = api.get(f"{BASE}/NOPE000000")
    assert response.status_code == 404
    assert response.json()["code"] == "member_not_found"
    assert response.json()["upstream"]["provider"] == "alpha"
