"""Rate limits across processes, member-scoped tokens, and request limits."""

from __future__ import annotations

import hashlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.infra.embedded_redis import free_tcp_port
from gateway.sandbox.process import GatewayProcess
from gateway.sandbox.world import DEMO_API_KEY, LIMITED_KEY, World

MINE = "alpha-store:OLMKne7Y3N"
SYW = "syw-rewards:7081207612717221"


def test_rate_limit_is_exact_across_two_processes(
    world: World, redis_url: str, tmp_path: Path
) -> None:
    prefix = "rl-" + uuid.uuid4().hex[:8]
    processes = []
    for i in range(2):
        port = free_tcp_port()
        config = tmp_path / f"gw-{i}.yaml"
        config.write_text(
            world.config_yaml(redis_url=redis_url, port=port, key_prefix=prefix), encoding="utf-8"
        )
        processes.append(GatewayProcess(str(config), port).start())
    try:

        def call(i: int) -> httpx.Response:
            return httpx.get(
                processes[i % 2].url + "/v1/programs",
                timeout=20,
                headers={"Authorization": f"Bearer {LIMITED_KEY}"},
            )

        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(pool.map(call, range(30)))
    finally:
        for process in processes:
            process.stop()
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 10  # the client's quota: 10 per 60 s
    assert statuses.count(429) == 20
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == '"client";q=10;w=60'
    allowed = next(a for a in answers if a.status_code == 200)
    assert allowed.headers["ratelimit"].startswith('"client";r=')


def _member(gateway_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=gateway_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


def test_member_token_reaches_its_own_membership(gateway_url: str, world: World) -> None:
    token = world.idp.mint([MINE, SYW])
    with _member(gateway_url, token) as client:
        assert client.get("/v1/programs/alpha-store/members/OLMKne7Y3N").status_code == 200
        assert client.get("/v1/programs/alpha-store/members/OLMKne7Y3N/balance").status_code == 200
        assert (
            client.get("/v1/programs/syw-rewards/members/7081207612717221/overview").json()[
                "complete"
            ]
            is True
        )
        programs = [p["id"] for p in client.get("/v1/programs").json()["data"]]
        assert sorted(programs) == ["alpha-store", "syw-rewards"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/programs/alpha-store/members/SOMEONEELS"),
        ("GET", "/v1/programs/alpha-store/members/SOMEONEELS/balance"),
        ("PATCH", "/v1/programs/alpha-store/members/SOMEONEELS"),
        ("GET", "/v1/programs/alpha-store/members/SOMEONEELS/activity"),
        ("GET", "/v1/programs/alpha-store/members/SOMEONEELS/offers"),
        ("GET", "/v1/programs/alpha-store/members/SOMEONEELS/overview"),
        ("POST", "/v1/programs/alpha-store/members/SOMEONEELS/earn"),
        ("POST", "/v1/programs/alpha-store/members/SOMEONEELS/redemptions"),
        ("POST", "/v1/programs/alpha-store/members/SOMEONEELS/redemptions/X/void"),
        ("GET", "/v1/programs/cafe-rewards/members/2059378440/balance"),
        ("GET", "/v1/programs/alpha-store/members?email=wallace@example.com"),
        ("POST", "/v1/programs/alpha-store/members"),
    ],
)
def test_member_token_cannot_reach_another_member(
    gateway_url: str, world: World, method: str, path: str
) -> None:
    token = world.idp.mint([MINE], scope="members:read points:redeem")
    calls = sum(len(s.requests) for s in (world.cp, world.alpha, world.irt, world.syw))
    with _member(gateway_url, token) as client:
        response = client.request(
            method, path, json={"points": 1}, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
    assert response.status_code in (403, 404), (path, response.status_code)
    assert sum(len(s.requests) for s in (world.cp, world.alpha, world.irt, world.syw)) == calls


def test_member_token_in_wallet_only_sees_its_own(gateway_url: str, world: World) -> None:
    token = world.idp.mint([MINE])
    with _member(gateway_url, token) as client:
        body = client.post(
            "/v1/wallet",
            json={
                "memberships": [
                    {"program": "alpha-store", "member_id": "OLMKne7Y3N"},
                    {"program": "alpha-store", "member_id": "SOMEONEELS"},
                    {"program": "cafe-rewards", "member_id": "2059378440"},
                ]
            },
        ).json()
    assert "data" in body["items"][0]
    assert body["items"][1]["error"]["code"] == "member_not_found"
    assert body["items"][2]["error"]["code"] == "program_not_found"


def test_member_token_scopes_are_capped(gateway_url: str, world: World) -> None:
    token = world.idp.mint([MINE], scope="members:read points:earn members:write")
    with _member(gateway_url, token) as client:
        patch = client.patch(
            "/v1/programs/alpha-store/members/OLMKne7Y3N", json={"first_name": "X"}
        )
    assert patch.status_code == 403  # members:write is not among identity.allowed_scopes


@pytest.mark.parametrize(
    "problem",
    [
        "expired",
        "audience",
        "signature",
        "issuer",
        "garbage",
        "lifetime",
        "lifetime_without_iat",
        "no_sub",
        "empty_sub",
        "wildcard",
        "wildcard_object",
    ],
)
def test_bad_member_tokens_are_401(gateway_url: str, world: World, problem: str) -> None:
    if problem == "lifetime":  # longer than identity.max_token_lifetime_seconds (24 h)
        token = world.idp.mint([MINE], lifetime=10**9)
    elif problem == "lifetime_without_iat":
        token = world.idp.mint([MINE], lifetime=2 * 86_400, omit=("iat",))
    elif problem == "no_sub":
        token = world.idp.mint([MINE], omit=("sub",))
    elif problem == "empty_sub":
        token = world.idp.mint([MINE], subject=" ")
    elif problem == "wildcard":  # would reach every program
        token = world.idp.mint(["*:OLMKne7Y3N"])
    elif problem == "wildcard_object":
        token = world.idp.mint([MINE, {"program": "*", "member_id": "x"}])  # type: ignore[list-item]
    elif problem == "expired":
        token = world.idp.mint([MINE], now=int(time.time()) - 3600, lifetime=60)
    elif problem == "audience":
        token = world.idp.mint([MINE], audience="someone-else")
    elif problem == "issuer":
        token = world.idp.mint([MINE], issuer="https://evil.example/")
    elif problem == "signature":
        token = world.idp.mint(
            [MINE], key=RSAKey.generate_key(2048, parameters={"kid": "sandbox-1"})
        )
    else:
        token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LWEtc2lnbmF0dXJl"
    with _member(gateway_url, token) as client:
        response = client.get("/v1/programs/alpha-store/members/OLMKne7Y3N")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert "invalid_token" in response.headers["www-authenticate"]


def test_wallet_items_count_against_the_programs_rate_limit(world: World, redis_url: str) -> None:
    capped_key = "capped-" + DEMO_API_KEY
    config = world.config_yaml(redis_url=redis_url, key_prefix=f"lg-cap-{uuid.uuid4().hex[:6]}")
    config = config.replace(
        "programs:\n  - id: cafe-rewards",
        "  - id: capped\n"
        f"    api_key_sha256: {hashlib.sha256(capped_key.encode()).hexdigest()}\n"
        '    programs: ["*"]\n'
        "    scopes: [members:read]\n"
        "    program_rate_limits: {cafe-rewards: {requests: 2, per_seconds: 60}}\n"
        "programs:\n  - id: cafe-rewards",
        1,
    )
    url = world.servers.add(create_app(parse_settings(config)))
    item = {"program": "cafe-rewards", "member_id": "2059378440"}
    other = {"program": "alpha-store", "member_id": "OLMKne7Y3N"}
    before = len(world.cp.requests)
    with httpx.Client(
        base_url=url, timeout=10, headers={"Authorization": f"Bearer {capped_key}"}
    ) as client:
        statuses = []
        for _ in range(4):
            body = client.post("/v1/wallet", json={"memberships": [item, item, other]}).json()
            first, again, alpha = body["items"]
            assert first == again  # one read per distinct membership
            statuses.append(first.get("error", {}).get("code", "ok"))
            assert "data" in alpha  # another program's limit is its own
        balance = client.get("/v1/programs/cafe-rewards/members/2059378440/balance")
    assert statuses == ["ok", "ok", "rate_limited", "rate_limited"]
    assert balance.status_code == 429  # the wallet used the program's budget up
    assert len(world.cp.requests) - before <= 2
