"""What ``/healthz`` and ``/readyz`` check: the process (and its embedded Redis, which is
part of it), then whether Redis is usable for the gateway's records."""

from __future__ import annotations

from redis.exceptions import RedisError

from gateway.domain.errors import ServiceUnavailable
from gateway.infra.store import Store


async def alive(store: Store, embedded: bool) -> dict[str, str]:
    """The liveness checks; with the embedded Redis, that Redis answering (503 while it is
    being restarted)."""
    if not embedded:
        return {}
    try:
        await store.ping()
    except RedisError:
        raise ServiceUnavailable(
            "The embedded Redis is not answering (it is restarted when it dies)."
        ) from None
    return {"embedded_redis": "ok"}


async def ready(store: Store) -> dict[str, str]:
    """The readiness checks (503 unless Redis is usable); a missing replica acknowledgement
    is reported, not refused: reads go on while writes answer 503."""
    try:
        checks = await store.topology.checks()
    except RedisError:
        raise ServiceUnavailable("Redis is not reachable.") from None
    failing = {k: v for k, v in checks.items() if v != "ok" and k != "replicas"}
    if failing:
        raise ServiceUnavailable(
            "Redis is not usable: " + "; ".join(f"{k}: {v}" for k, v in failing.items())
        )
    return {"config": "ok", **checks}
