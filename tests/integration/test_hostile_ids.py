"""Hostile member and redemption ids (API.md "Input rules"; issue 16): every member route of
every provider, sent over a raw connection (an HTTP client would normalize dot segments
before sending), answers ``400 invalid_request`` and makes no upstream call at all — judged
by the simulators' own request logs."""

from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import urlsplit

import pytest

from gateway.sandbox.world import DEMO_API_KEY, World

PROGRAMS = ("cafe-rewards", "alpha-store", "irt-rewards", "syw-rewards")
HOSTILE = [
    ".",
    "..",
    "...",
    "%2e",
    "%2E%2E",
    "a%2Fb",
    "..%2F..%2Frecipients",
    "a%5Cb",
    "%00",
    "a%0Ab",
    "a%20b",
    "%C3%A9",
    "x" * 300,
]
# (method, path after /members/{id}, body)
ROUTES = [
    ("GET", "", None),
    ("PATCH", "", b'{"first_name": "X"}'),
    ("GET", "/balance", None),
    ("POST", "/earn", b'{"points": 5}'),
    ("POST", "/redemptions", b'{"points": 5}'),
    ("POST", "/redemptions/AUTH1/void", None),
    ("GET", "/activity", None),
    ("GET", "/offers", None),
    ("GET", "/overview", None),
]


def _sent(world: World) -> int:
    return sum(len(s.requests) for s in (world.cp, world.alpha, world.irt, world.syw))


def _raw(url: str, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, object]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)  # sent exactly as given
        conn.putheader("Authorization", f"Bearer {DEMO_API_KEY}")
        conn.putheader("Idempotency-Key", str(uuid.uuid4()))
        if method == "PATCH":
            conn.putheader("Content-Type", "application/merge-patch+json")
        elif body is not None:
            conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        conn.close()


@pytest.mark.parametrize("member_id", HOSTILE)
def test_a_hostile_member_id_never_reaches_a_provider(
    gateway_url: str, world: World, member_id: str
) -> None:
    before = _sent(world)
    for program in PROGRAMS:
        for method, rest, body in ROUTES:
            path = f"/v1/programs/{program}/members/{member_id}{rest}"
            status, problem = _raw(gateway_url, method, path, body)
            assert status == 400, (path, method, status, problem)
            assert problem["code"] == "invalid_request", problem
            assert problem["errors"][0]["field"] in ("member_id", "path"), problem
            if len(member_id) > 4:  # the value is never echoed
                assert member_id not in json.dumps(problem)
    assert _sent(world) == before  # no upstream call, of any kind


@pytest.mark.parametrize("redemption_id", [".", "..", "%2e", "a%2Fb", "%00", "x" * 200])
def test_a_hostile_redemption_id_never_reaches_shopyourway(
    gateway_url: str, world: World, redemption_id: str
) -> None:
    member = world.new_syw_member(points=100)
    before = _sent(world)
    path = f"/v1/programs/syw-rewards/members/{member}/redemptions/{redemption_id}/void"
    status, problem = _raw(gateway_url, "POST", path, None)
    assert status == 400, problem
    assert problem["errors"][0]["field"] in ("redemption_id", "path")
    assert _sent(world) == before


def test_a_hostile_id_in_a_wallet_names_its_item(gateway_url: str, world: World) -> None:
    body = json.dumps(
        {
            "memberships": [
                {"program": "cafe-rewards", "member_id": "2059378440"},
                {"program": "alpha-store", "member_id": ".."},
            ]
        }
    ).encode()
    before = _sent(world)
    status, problem = _raw(gateway_url, "POST", "/v1/wallet", body)
    assert status == 400, problem
    assert problem["errors"][0]["field"] == "memberships[1].member_id"
    assert _sent(world) == before


def test_a_valid_id_still_reaches_the_provider_encoded(gateway_url: str, world: World) -> None:
    number = world.new_cp_customer()
    status, _ = _raw(gateway_url, "GET", f"/v1/programs/cafe-rewards/members/{number}", None)
    assert status == 200
    assert world.cp.requests[-1].path == f"/Loyalty/{number}/BalanceCheck"
