"""The document's response examples (gateway/api/examples.json) are real answers of the demo
world: every run asks a fresh demo world the same requests and compares each answer with its
example, times, request ids, latencies and generated ids aside. With
``LG_CAPTURE_EXAMPLES=1`` it writes the answers as the new examples instead (then run
``uv run gateway openapi``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
import pytest

from gateway.api import examples
from gateway.app import create_app
from gateway.cli import export_openapi
from gateway.config import parse_settings
from gateway.http_limits import uvicorn_options
from gateway.sandbox.world import DEMO_API_KEY, World

CAPTURE = os.environ.get("LG_CAPTURE_EXAMPLES") == "1"
SYW, IRT, ALPHA = "syw-rewards", "irt-rewards", "alpha-store"
SYW_MEMBER = "7081207612717221"
MEMBER = f"/v1/programs/{SYW}/members/{SYW_MEMBER}"

#: values that differ on every run: compared by type only
_VOLATILE_KEYS = {"request_id", "latency_ms", "checked_at", "enrolled_at", "occurred_at"}
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
#: dates too: the simulators seed expiry dates relative to today (a fixed one failed the
#: comparison two days after the capture)
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


@dataclass(frozen=True)
class Ask:
    operation: str
    summary: str
    method: str
    path: str | Callable[[dict[str, Any]], str]
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    #: fields the provider or the gateway makes anew each time (ids of what a write made)
    generated: tuple[str, ...] = ()


#: in order: reads of the demo members first, then writes, whose answers later ones use
ASKS = [
    Ask("HealthzHealthz", "The process is alive", "GET", "/healthz", 200),
    Ask("ReadyzReadyz", "Redis usable", "GET", "/readyz", 200),
    Ask("V1ProgramsListPrograms", "The demo's four programs", "GET", "/v1/programs", 200),
    Ask("V1ProgramsGetProgram", "ShopYourWay", "GET", f"/v1/programs/{SYW}", 200),
    Ask("V1ProgramsHealthProgramHealth", "Reachable", "GET", f"/v1/programs/{SYW}/health", 200),
    Ask(
        "V1ProgramsMembersLookup",
        "By card number",
        "GET",
        f"/v1/programs/{IRT}/members?card_number=6001000000000001",
        200,
        headers={"X-Member-PIN": "1234"},
    ),
    Ask("V1ProgramsMembersMemberIdGetMember", "A ShopYourWay member", "GET", MEMBER, 200),
    Ask("V1ProgramsMembersMemberIdBalanceBalance", "Points", "GET", MEMBER + "/balance", 200),
    Ask(
        "V1ProgramsMembersMemberIdActivityActivity",
        "Recent activity",
        "GET",
        MEMBER + "/activity?limit=2",
        200,
        generated=("id", "next_cursor"),  # the simulator numbers its history afresh
    ),
    Ask("V1ProgramsMembersMemberIdOffersOffers", "Offers", "GET", MEMBER + "/offers", 200),
    Ask(
        "V1ProgramsMembersMemberIdOverviewOverview",
        "Member, balance, activity and offers at once",
        "GET",
        MEMBER + "/overview",
        200,
        generated=("id", "next_cursor"),
    ),
    Ask(
        "V1WalletWallet",
        "Two memberships",
        "POST",
        "/v1/wallet",
        200,
        body={
            "memberships": [
                {"program": SYW, "member_id": SYW_MEMBER},
                {"program": ALPHA, "member_id": "OLMKne7Y3N"},
            ]
        },
    ),
    Ask(
        "V1ProgramsMembersEnroll",
        "A new ShopYourWay member",
        "POST",
        f"/v1/programs/{SYW}/members",
        201,
        body={
            "email": "ada.lovelace@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "address": {"postal_code": "60179"},
        },
        generated=("member_id",),
    ),
    Ask(
        "V1ProgramsMembersMemberIdUpdateMember",
        "A changed first name",
        "PATCH",
        "/v1/programs/alpha-store/members/OLMKne7Y3N",
        200,
        body={"first_name": "Wally"},
    ),
    Ask(
        "V1ProgramsMembersMemberIdEarnEarn",
        "100 points for an order",
        "POST",
        MEMBER + "/earn",
        201,
        body={"points": 100, "reason": "order", "reference": "order-1001"},
        generated=("id",),
    ),
    Ask(
        "V1ProgramsMembersMemberIdRedemptionsRedeem",
        "500 points redeemed",
        "POST",
        MEMBER + "/redemptions",
        201,
        body={"points": 500, "reference": "basket-2002"},
        generated=("id",),
    ),
    Ask(
        "V1ProgramsMembersMemberIdRedemptionsRedemptionIdVoidVoid",
        "The redemption voided",
        "POST",
        lambda seen: MEMBER + f"/redemptions/{seen['redeem']['id']}/void",
        200,
        generated=("id", "reference", "order_id"),
    ),
]


@pytest.fixture(scope="module")
def answers(redis_url: str) -> Iterator[dict[str, tuple[int, Any]]]:
    """Each Ask's status and JSON body, from a demo world of its own."""
    world = World()
    world.start()
    try:
        settings = parse_settings(world.config_yaml(redis_url=redis_url, key_prefix="lg-ex"))
        url = world.servers.add(create_app(settings), **uvicorn_options(settings.server))
        got: dict[str, tuple[int, Any]] = {}
        seen: dict[str, Any] = {}
        auth = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        with httpx.Client(base_url=url, headers=auth, timeout=15) as client:
            for n, ask in enumerate(ASKS):
                path = ask.path(seen) if callable(ask.path) else ask.path
                headers = {**(ask.headers or {})}
                if ask.method == "POST" and "/v1/wallet" not in path:
                    headers["Idempotency-Key"] = f"example-{n}"
                answer = client.request(ask.method, path, json=ask.body, headers=headers)
                got[ask.operation] = (answer.status_code, answer.json())
                seen[ask.operation.removeprefix("V1ProgramsMembersMemberIdRedemptions").lower()] = (
                    answer.json()
                )
        yield got
    finally:
        world.stop()


def _stable(value: Any, generated: tuple[str, ...] = (), key: str = "") -> Any:
    """``value`` with what changes from run to run replaced by its type."""
    if key in _VOLATILE_KEYS or key in generated:
        return f"<{type(value).__name__}>"
    if isinstance(value, dict):
        return {k: _stable(v, generated, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v, generated) for v in value]
    if isinstance(value, str) and _TIME.match(value):
        return "<time>"
    if isinstance(value, str) and _DATE.match(value):
        return "<date>"
    if key == "cache_status" and isinstance(value, str):
        return re.sub(r"ttl=\d+", "ttl=<n>", value)
    return value


def test_capture_or_compare_every_example(answers: dict[str, tuple[int, Any]]) -> None:
    if CAPTURE:
        captured = {
            ask.operation: {
                "status": str(answers[ask.operation][0]),
                "summary": ask.summary,
                "value": answers[ask.operation][1],
            }
            for ask in ASKS
        }
        examples.FILE.write_text(json.dumps(captured, indent=2) + "\n", encoding="utf-8")
        return
    stored = examples.load()
    assert set(stored) == {ask.operation for ask in ASKS}
    for ask in ASKS:
        status, body = answers[ask.operation]
        assert status == ask.status, (ask.operation, body)
        example = stored[ask.operation]
        assert example["status"] == str(status)
        assert _stable(example["value"], ask.generated) == _stable(body, ask.generated), (
            f"{ask.operation}: the example is no longer what the demo world answers; "
            "capture again (LG_CAPTURE_EXAMPLES=1, see the module docstring)"
        )


def test_every_operation_has_a_valid_example_in_the_document() -> None:
    document = export_openapi()
    operations = [
        op
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("get", "post", "patch")
    ]
    assert {op["operationId"] for op in operations} == {ask.operation for ask in ASKS}
    for op in operations:
        example = examples.load()[op["operationId"]]
        media = op["responses"][example["status"]]["content"]["application/json"]
        value = media["examples"]["demo"]["value"]
        validator = jsonschema.Draft202012Validator(
            {**media["schema"], "components": document["components"]}
        )
        problems = [e.message for e in validator.iter_errors(value)]
        assert not problems, (op["operationId"], problems)
