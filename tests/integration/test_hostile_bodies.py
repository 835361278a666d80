"""Hostile request bodies (API.md "Input rules"; issue 16) on every route that reads one, over
a raw connection: a clear 400 or 415 problem, never a 5xx, and nothing sent upstream."""

from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import urlsplit

import pytest

from gateway.sandbox.world import DEMO_API_KEY, World

BODIES = {
    "string points": b'{"points": "5"}',
    "float points": b'{"points": 5.0}',
    "exponent points": b'{"points": 1e2}',
    "boolean points": b'{"points": true}',
    "duplicate key": b'{"points": 5, "points": 6}',
    "empty": b"",
    "array": b"[]",
    "deep": b'{"points": 5, "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    "invalid utf-8": b'{"points": 5, "reason": "\xff\xfe"}',
    "truncated": b'{"points": 5',
    "NaN": b'{"points": NaN}',
}


def _routes(world: World) -> list[tuple[str, str]]:
    cp = world.new_cp_customer()
    syw = world.new_syw_member(points=100)
    return [
        ("POST", "/v1/programs/alpha-store/members"),
        ("PATCH", "/v1/programs/alpha-store/members/OLMKne7Y3N"),
        ("POST", f"/v1/programs/cafe-rewards/members/{cp}/earn"),
        ("POST", f"/v1/programs/cafe-rewards/members/{cp}/redemptions"),
        ("POST", f"/v1/programs/syw-rewards/members/{syw}/redemptions/ABC123/void"),
        ("POST", "/v1/wallet"),
    ]


def _sent(world: World) -> int:
    return sum(len(s.requests) for s in (world.cp, world.alpha, world.irt, world.syw))


def _raw(
    url: str, method: str, path: str, body: bytes, content_type: str | None
) -> tuple[int, dict]:  # type: ignore[type-arg]
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest(method, path)
        conn.putheader("Authorization", f"Bearer {DEMO_API_KEY}")
        conn.putheader("Idempotency-Key", str(uuid.uuid4()))
        if content_type:
            conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"{}")
    finally:
        conn.close()


def _type(method: str) -> str:
    return "application/merge-patch+json" if method == "PATCH" else "application/json"


@pytest.mark.parametrize("name", list(BODIES))
def test_a_hostile_body_is_a_clear_400_and_sends_nothing(
    gateway_url: str, world: World, name: str
) -> None:
    routes = _routes(world)
    before = _sent(world)
    for method, path in routes:
        if path.endswith("/void") and name == "empty":
            continue  # a void needs no body
        status, problem = _raw(gateway_url, method, path, BODIES[name], _type(method))
        assert status == 400, (name, method, path, status, problem)
        assert problem["code"] == "invalid_request"
        assert problem["errors"][0]["field"], problem
    assert _sent(world) == before


def test_the_field_of_a_type_error_is_named(gateway_url: str, world: World) -> None:
    method, path = _routes(world)[2]
    status, problem = _raw(gateway_url, method, path, b'{"points": "5"}', "application/json")
    assert (status, problem["errors"][0]["field"]) == (400, "points")
    assert "Expected `int`, got `str`" in problem["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_another_media_type_is_415(
    gateway_url: str, world: World, content_type: str | None
) -> None:
    before = _sent(world)
    for method, path in _routes(world):
        body = b'{"first_name": "A"}' if method == "PATCH" else b'{"points": 5}'
        status, problem = _raw(gateway_url, method, path, body, content_type)
        assert status == 415, (method, path, problem)
        assert problem["code"] == "unsupported_media_type"
    assert _sent(world) == before


def test_a_void_without_a_body_and_a_patch_as_json_still_work(
    gateway_url: str, world: World
) -> None:
    status, _ = _raw(
        gateway_url,
        "PATCH",
        "/v1/programs/alpha-store/members/OLMKne7Y3N",
        b'{"first_name": "Wallace"}',
        "application/json",
    )
    assert status == 200
    member = world.new_syw_member(points=100)
    status, problem = _raw(
        gateway_url,
        "POST",
        f"/v1/programs/syw-rewards/members/{member}/redemptions/NOSUCH1/void",
        b"",
        None,
    )
    assert status == 422, problem  # reached ShopYourWay, which does not know the code
