"""services/ratelimit.py: the GCRA parameters, the draft RateLimit headers, the refusal,
and failing open when Redis is unreachable (the Lua itself runs on a real Redis in
tests/integration/test_security.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.domain.errors import RateLimited
from gateway.infra import context
from gateway.infra.store import RateDecision
from gateway.services.ratelimit import RateLimiter
from gateway.settings import RateLimitSettings

TEN_A_MINUTE = RateLimitSettings(requests=10, per_seconds=60)


class Store:
    def __init__(self, decision: RateDecision | None) -> None:
        self.decision = decision
        self.asked: list[tuple[str, float, float]] = []

    async def rate_limit(self, name: str, emission_ms: float, tolerance_ms: float) -> Any:
        self.asked.append((name, emission_ms, tolerance_ms))
        if self.decision is None:
            raise RedisConnectionError("down")
        return self.decision


def _enforce(store: Store) -> dict[str, str]:
    async def run() -> dict[str, str]:
        ctx = context.begin("rl-test")
        await RateLimiter(store).enforce("demo", "client", TEN_A_MINUTE)
        return dict(ctx.response_headers)

    return asyncio.run(run())


def test_an_allowed_request_carries_the_policy_and_what_is_left() -> None:
    store = Store(RateDecision(allowed=True, remaining=7, retry_after_ms=0, reset_ms=4_200))
    headers = _enforce(store)
    assert store.asked == [("demo:client", 6_000.0, 54_000.0)]  # one per 6 s, burst of 10
    assert headers == {"RateLimit-Policy": '"client";q=10;w=60', "RateLimit": '"client";r=7;t=5'}


def test_a_used_up_limit_is_429_with_retry_after() -> None:
    store = Store(RateDecision(allowed=False, remaining=0, retry_after_ms=1_500, reset_ms=60_000))
    with pytest.raises(RateLimited) as refused:
        _enforce(store)
    assert refused.value.headers["Retry-After"] == "2"
    assert refused.value.headers["RateLimit"] == '"client";r=0;t=60'


def test_an_unreachable_redis_lets_the_request_on() -> None:
    assert _enforce(Store(None)) == {}
