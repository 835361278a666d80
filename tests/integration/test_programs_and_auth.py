"""Programs, caller authentication and authorization, over HTTP."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

PROBLEM = "application/problem+json"


def test_programs_lists_both_with_capabilities(api: httpx.Client) -> None:
    response = api.get("/v1/programs")
    assert response.status_code == 200
    programs = {p["id"]: p for p in response.json()["data"]}
    assert set(programs) == {"cafe-rewards", "alpha-store", "irt-rewards", "syw-rewards"}
    cp, alpha = programs["cafe-rewards"], programs["alpha-store"]
    assert cp["provider"] == "cpextender"
    assert cp["capabilities"] == ["profile", "balance", "earn", "redeem", "activity"]
    assert alpha["capabilities"] == ["enroll", "lookup", "profile", "update", "balance"]
    assert alpha["lookup_by"] == ["email", "card_number"]
    assert cp["points_value"] == {"points_per_unit": 100, "currency": "USD"}


def test_one_program(api: httpx.Client) -> None:
    response = api.get("/v1/programs/alpha-store")
    assert response.status_code == 200
    assert response.json()["name"] == "Alpha Reward Store"


def test_missing_key_is_401_problem(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/programs")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "unauthorized"
    assert body["status"] == 401
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_wrong_key_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/programs", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    # a key's hash is not a key
    digest = hashlib.sha256(b"demo-key-for-the-sandbox-only").hexdigest()
    response = anonymous.get("/v1/programs", headers={"Authorization": f"Bearer {digest}"})
    assert response.status_code == 401


def test_foreign_program_looks_absent(reader: httpx.Client) -> None:
    listed = reader.get("/v1/programs").json()["data"]
    assert [p["id"] for p in listed] == ["alpha-store"]
    for path in (
        "/v1/programs/cafe-rewards",
        "/v1/programs/cafe-rewards/members/2059378440/balance",
        "/v1/programs/no-such-program/members/x",
    ):
        response = reader.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "program_not_found"


def test_foreign_program_beats_missing_scope(reader: httpx.Client) -> None:
    response = reader.post(
        "/v1/programs/cafe-rewards/members/2059378440/earn",
        json={"points": 1},
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "program_not_found"


def test_missing_scope_is_403(reader: httpx.Client) -> None:
    response = reader.post(
        "/v1/programs/alpha-store/members",
        json={"email": "x@example.com"},
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_request_id_is_echoed_and_sent_upstream(api: httpx.Client, world) -> None:  # type: ignore[no-untyped-def]
    response = api.get(
        "/v1/programs/cafe-rewards/members/2059378440/balance",
        headers={"X-Request-ID": "trace-abc-123", "Cache-Control": "no-cache"},
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-abc-123"
    assert any(r.headers.get("x-request-id") == "trace-abc-123" for r in world.cp.requests)


@pytest.mark.parametrize("given", ["bad id with spaces", "x" * 129, "a" * 4096, 'id;<b>"x'])
def test_invalid_request_id_is_replaced(api: httpx.Client, given: str) -> None:
    response = api.get("/v1/programs", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] != given
    assert re.fullmatch(r"[a-z2-7]{26}", response.headers["x-request-id"])


def test_probes_and_docs_need_no_key(anonymous: httpx.Client) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"] == "ok"
    assert anonymous.get("/docs/openapi.json").status_code == 200
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "Loyalty Gateway"
    assert anonymous.get("/metrics").status_code == 200


def test_unknown_route_and_method_are_problems(api: httpx.Client) -> None:
    missing = api.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["code"] == "not_found"
    wrong = api.delete("/v1/programs")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


def test_program_health(api: httpx.Client) -> None:
    for program in ("cafe-rewards", "alpha-store"):
        body = api.get(f"/v1/programs/{program}/health").json()
        assert body["reachable"] is True
        assert body["circuit"] == "closed"
        assert body["latency_ms"] >= 0
