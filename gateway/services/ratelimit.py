"""Per-client (and per client+program) rate limits shared by every replica through Redis.

GCRA in one Lua call: ``requests`` per ``per_seconds`` with a burst of ``requests``. Answers
carry the IETF draft's ``RateLimit-Policy`` and ``RateLimit`` headers; a refusal is
``429 rate_limited`` with ``Retry-After``. If Redis is unreachable the limit is not enforced
(logged): refusing every caller would turn a cache outage into a full outage.
"""

from __future__ import annotations

import math

import structlog
from redis.exceptions import RedisError

from gateway.domain.errors import RateLimited
from gateway.infra import context, metrics
from gateway.infra.store import Store
from gateway.settings import RateLimitSettings

_log = structlog.get_logger("gateway.ratelimit")


class RateLimiter:
    """The GCRA limits of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def enforce(self, client_id: str, scope: str, limit: RateLimitSettings) -> None:
        """Count one request against ``limit``; raise 429 when it is used up."""
        emission_ms = limit.per_seconds * 1000 / limit.requests
        tolerance_ms = emission_ms * (limit.requests - 1)
        try:
            decision = await self.store.rate_limit(
                f"{client_id}:{scope}", emission_ms, tolerance_ms
            )
        except RedisError as exc:
            _log.warning("rate_limit_unavailable", client=client_id, error=type(exc).__name__)
            return
        window = f"{limit.per_seconds:g}"
        remaining, reset = decision.remaining, math.ceil(decision.reset_ms / 1000)
        headers = {
            "RateLimit-Policy": f'"{scope}";q={limit.requests};w={window}',
            "RateLimit": f'"{scope}";r={remaining};t={reset}',
        }
        ctx = context.current()
        if ctx is not None:
            ctx.response_headers.update(headers)
        if not decision.allowed:
            metrics.child(metrics.RATE_LIMITED, client_id).inc()
            retry = max(1, math.ceil(decision.retry_after_ms / 1000))
            raise RateLimited(
                f"Too many requests for this client; retry in {retry} s.",
                headers={**headers, "Retry-After": str(retry)},
            )
