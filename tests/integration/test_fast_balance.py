"""The balance read answered in front of litestar gives the very answers litestar gives.

Two gateways on the same simulators, each with its own cache (key prefix): one with the
fast path (the default), one without. Every request below goes to both, in the same order,
and status, headers and body must match. The requests the fast path must leave to litestar
are also checked one by one: for them ``fast_balance.answer`` sends nothing.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from gateway.api import fast_balance
from gateway.api.edge import Edge
from gateway.app import create_app
from gateway.config import parse_settings
from gateway.connectors.shopyourway import simulator as shopyourway
from gateway.domain.errors import Forbidden
from gateway.sandbox.inprocess import call, http_scope, running
from gateway.sandbox.world import DEMO_API_KEY, READER_KEY, World
from gateway.services.access import Rule, Target

KEY = [(b"authorization", f"Bearer {DEMO_API_KEY}".encode())]
CP = "/v1/programs/cafe-rewards/members/2059378440/balance"
ALPHA = "/v1/programs/alpha-store/members/OLMKne7Y3N/balance"
SYW = f"/v1/programs/syw-rewards/members/{shopyourway.DEMO_MEMBER_NUMBER}/balance"
IRT_UNKNOWN = "/v1/programs/irt-rewards/members/0000/balance"
CP_UNKNOWN = "/v1/programs/cafe-rewards/members/999999999/balance"
NO_CACHE = [(b"cache-control", b"no-cache")]

#: (path, query, headers) the fast path answers itself
ANSWERED = [
    (CP, b"", KEY),  # miss, stored
    (CP, b"", KEY),  # hit
    (CP, b"", KEY + NO_CACHE),  # forced fresh read
    (ALPHA, b"", KEY),
    (ALPHA, b"", KEY),
    (SYW, b"", KEY),
    (CP_UNKNOWN, b"", KEY),  # the provider's 404, as a problem
    (IRT_UNKNOWN, b"", KEY),
    # refusals of the access decision (services/access.py), the same one litestar's takes
    (CP, b"", []),  # no key: 401
    (CP, b"", [(b"authorization", b"Bearer not-a-key")]),
    (CP, b"", [(b"authorization", b"Basic abc")]),
    (CP, b"", [(b"authorization", f"Bearer {READER_KEY}".encode())]),  # foreign program: 404
    (CP, b"", [(b"authorization", f"Bearer limited-{DEMO_API_KEY}".encode())]),  # rate limit
    ("/v1/programs/cafe-rewards/members/.hidden/balance", b"", KEY),  # 400: the id rule
]
#: ... and those it leaves to litestar
LEFT = [
    (CP, b"include=provider_data", KEY),
    (CP, b"", [*KEY, (b"x-member-pin", b"1234")]),
    (CP, b"", KEY + KEY),  # a repeated header
    (CP + "/", b"", KEY),
    ("/v1/programs/no-such/members/1/balance", b"", KEY),
    ("/v1/programs/cafe-rewards/members/2059378440", b"", KEY),
]


def _scope(path: str, query: bytes, headers: list[tuple[bytes, bytes]], rid: str) -> Any:
    return http_scope(path, [(b"x-request-id", rid.encode()), *headers], query=query)


def _normal(answer: tuple[int, dict[str, str], bytes]) -> Any:
    """Seconds of freshness may differ by one between the two gateways, and a provider that
    stamps its answer with its own clock (ShopYourWay) may have moved on by a second."""
    status, headers, body = answer
    headers = {k: re.sub(r"ttl=\d+", "ttl=N", v) for k, v in headers.items()}
    return status, headers, re.sub(rb'"as_of":"[^"]*"', b'"as_of":"T"', body)


def _twins(world: World, redis_url: str, rules: list[Rule] | None = None) -> tuple[Edge, Edge]:
    def settings() -> Any:
        prefix = "twin-" + uuid.uuid4().hex[:8]
        return parse_settings(world.config_yaml(redis_url=redis_url, key_prefix=prefix))

    return (
        create_app(settings(), access_rules=rules or ()),
        create_app(settings(), fast_balance=False, access_rules=rules or ()),
    )


@pytest.fixture
def twins(world: World, redis_url: str) -> tuple[Edge, Edge]:
    return _twins(world, redis_url)


def test_answers_match_litestar_byte_for_byte(twins: tuple[Edge, Edge]) -> None:
    fast, slow = twins

    async def main() -> None:
        async with running(fast), running(slow):
            for n, (path, query, headers) in enumerate(ANSWERED + LEFT):
                rid = f"twin-{n}"
                quick = await call(fast, _scope(path, query, headers, rid))
                plain = await call(slow, _scope(path, query, headers, rid))
                assert _normal(quick) == _normal(plain), (path, query, headers)

    asyncio.run(main())


def test_which_requests_the_fast_path_answers(twins: tuple[Edge, Edge]) -> None:
    fast, _ = twins

    async def main() -> None:
        async with running(fast):
            for path, query, headers in ANSWERED + LEFT:
                sent: list[Any] = []

                async def send(message: Any, sent: list[Any] = sent) -> None:
                    sent.append(message)

                scope = _scope(path, query, headers, "decide")
                answered = await fast_balance.answer(fast.app, scope, send)
                expected = (path, query, headers) in ANSWERED
                assert answered is expected, (path, query, headers)
                assert bool(sent) is expected
            # metrics and logs label the route as litestar does
            plain = _scope(CP, b"", KEY, "template")
            await fast.app(plain, _receive, _drop)
            assert plain["path_template"] == fast_balance.ROUTE

    asyncio.run(main())


async def _receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _drop(message: Any) -> None:
    pass


def _refuse_one_member(caller: Any, scope: Any, target: Target) -> Forbidden | None:
    """A rule added once, to the access decision (services/access.py)."""
    if target.program == "cafe-rewards" and target.member_id == "2059378440":
        return Forbidden("Not this member, by the added rule.")
    return None


def test_a_rule_added_to_the_access_decision_holds_on_both_paths(
    world: World, redis_url: str
) -> None:
    fast, slow = _twins(world, redis_url, [_refuse_one_member])

    async def main() -> None:
        async with running(fast), running(slow):
            quick = await call(fast, _scope(CP, b"", KEY, "rule"))
            plain = await call(slow, _scope(CP, b"", KEY, "rule"))
            assert quick[0] == plain[0] == 403
            assert b"by the added rule" in quick[2]
            assert _normal(quick) == _normal(plain)
            # the fast path answered it itself (it did not hand it to litestar)
            sent: list[Any] = []

            async def send(message: Any) -> None:
                sent.append(message)

            assert await fast_balance.answer(fast.app, _scope(CP, b"", KEY, "r2"), send)
            assert sent[0]["status"] == 403
            other = await call(fast, _scope(ALPHA, b"", KEY, "rule-other"))
            assert other[0] == 200  # the rule refuses only what it names

    asyncio.run(main())
