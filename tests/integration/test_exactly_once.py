"""Exactly-once writes: concurrent duplicates and a chaos run with injected faults."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.sandbox.common import Faults
from gateway.sandbox.world import DEMO_API_KEY, World


@dataclass
class WriteCase:
    name: str
    setup: Callable[[World], tuple[str, dict[str, object]]]  # -> (path, body)
    applied: Callable[[World, str], int]  # how many times the target changed upstream


def _cp(world: World) -> tuple[str, dict[str, object]]:
    number = world.new_cp_customer()
    return f"/v1/programs/cafe-rewards/members/{number}/earn", {"points": 42}


def _irt(world: World) -> tuple[str, dict[str, object]]:
    card = world.new_irt_card()
    return f"/v1/programs/irt-rewards/members/{card}/earn", {"points": 42}


def _syw(world: World) -> tuple[str, dict[str, object]]:
    number = world.new_syw_member(points=10)
    return f"/v1/programs/syw-rewards/members/{number}/earn", {"points": 42}


def _alpha(world: World) -> tuple[str, dict[str, object]]:
    email = f"once-{uuid.uuid4().hex[:10]}@example.com"
    return "/v1/programs/alpha-store/members", {"email": email, "first_name": "O", "last_name": "N"}


CASES = [
    WriteCase(
        "cpextender-earn", _cp, lambda w, p: sum(1 for e in w.cp.ledger if e.customer_number in p)
    ),
    WriteCase("irt-earn", _irt, lambda w, p: sum(1 for e in w.irt.ledger if e.card in p)),
    WriteCase(
        "shopyourway-earn", _syw, lambda w, p: sum(1 for e in w.syw.ledger if e.member_number in p)
    ),
    WriteCase("alpha-enroll", _alpha, lambda w, p: 0),  # counted from the body below
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_20_concurrent_identical_requests_apply_once(
    gateway_url: str, world: World, case: WriteCase
) -> None:
    path, body = case.setup(world)
    key = str(uuid.uuid4())
    for state in (world.cp, world.irt, world.syw, world.alpha):
        state.faults.faults.latency_ms = 150  # keep the first one in flight
    try:

        def send(_: int) -> httpx.Response:
            return httpx.post(
                gateway_url + path,
                json=body,
                timeout=20,
                headers={"Authorization": f"Bearer {DEMO_API_KEY}", "Idempotency-Key": key},
            )

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(send, range(20)))
    finally:
        for state in (world.cp, world.irt, world.syw, world.alpha):
            state.faults.faults.latency_ms = 0
    assert {a.status_code for a in answers} <= {201, 409}
    created = [a for a in answers if a.status_code == 201]
    assert created
    assert len({a.content for a in created}) == 1  # every 201 is the same stored answer
    assert all(
        a.json()["code"] == "idempotency_request_in_progress"
        for a in answers
        if a.status_code == 409
    )
    if case.name == "alpha-enroll":
        matches = [r for r in world.alpha.recipients.values() if r["email"] == body["email"]]
        assert len(matches) == 1
    else:
        assert case.applied(world, path) == 1


@pytest.fixture
def chaos_gateway(world: World, redis_url: str) -> Iterator[str]:
    """A gateway whose breakers reopen quickly, so injected 500s do not stall the run."""
    # a short settle time: a write the provider refused with a 500 is re-sent soon
    config = world.config_yaml(
        redis_url=redis_url, circuit_open_seconds=0.05, reconcile="{settle_seconds: 0.2}"
    )
    return world.servers.add(create_app(parse_settings(config)))


def _until_final(
    client: httpx.Client, path: str, body: dict[str, object], key: str
) -> httpx.Response:
    """What a well-behaved kiosk does: retry with the same key until a final answer."""
    for _ in range(200):
        try:
            answer = client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            time.sleep(0.01)
            continue
        if answer.status_code in (409, 502, 503, 504):
            time.sleep(0.01)
            continue
        return answer
    raise AssertionError(f"no final answer for {path}")


def test_chaos_500s_and_dropped_connections_never_duplicate_or_lose(
    chaos_gateway: str, world: World
) -> None:
    setups = [_cp] * 200 + [_irt] * 150 + [_syw] * 150
    writes = []
    for i, setup in enumerate(setups):
        path, _ = setup(world)
        writes.append((path, {"points": 10 + i % 7, "reference": f"chaos-{i}"}, str(uuid.uuid4())))
    sent_before = len(world.cp.requests) + len(world.irt.requests) + len(world.syw.requests)
    for seed, state in enumerate((world.cp, world.irt, world.syw)):
        state.faults.set(Faults(error_rate=0.10, drop_after_apply_rate=0.05, seed=seed))
    try:
        with httpx.Client(
            base_url=chaos_gateway, timeout=20, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}
        ) as client:

            def run(write: tuple[str, dict[str, object], str]) -> httpx.Response:
                return _until_final(client, *write)

            with ThreadPoolExecutor(max_workers=16) as pool:
                answers = list(pool.map(run, writes))
    finally:
        for state in (world.cp, world.irt, world.syw):
            state.faults.set(Faults())
    assert [a.status_code for a in answers] == [201] * len(writes)
    sent = len(world.cp.requests) + len(world.irt.requests) + len(world.syw.requests)
    assert sent - sent_before > len(writes) * 1.1  # the faults really forced retries
    members = {path.split("/")[-2]: body["points"] for path, body, _ in writes}
    applied: Counter[str] = Counter()
    points: Counter[str] = Counter()
    for entry in world.cp.ledger:
        if entry.customer_number in members:
            applied[entry.customer_number] += 1
            points[entry.customer_number] += entry.points
    for irt_entry in world.irt.ledger:
        if irt_entry.card in members:
            applied[irt_entry.card] += 1
            points[irt_entry.card] += irt_entry.points
    for syw_entry in world.syw.ledger:
        if syw_entry.member_number in members:
            applied[syw_entry.member_number] += 1
            points[syw_entry.member_number] += syw_entry.points
    assert set(applied) == set(members)  # nothing acknowledged and missing
    assert max(applied.values()) == 1  # nothing applied twice
    assert dict(points) == members
