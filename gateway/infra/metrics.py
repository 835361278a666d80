"""Prometheus metrics. Labels are bounded: route templates, program and client ids from the
configuration, fixed outcome words; never raw paths, member ids, emails or keys.

With several worker processes ``gateway serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` and the
exposition merges every worker's values (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "loyalty_gateway_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "loyalty_gateway_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
UPSTREAM_CALLS = Counter(
    "loyalty_gateway_upstream_calls_total",
    "Calls to providers, by provider, program, operation and outcome.",
    ["provider", "program", "operation", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_LATENCY = Histogram(
    "loyalty_gateway_upstream_call_duration_seconds",
    "Duration of calls to providers, by provider, program and operation.",
    ["provider", "program", "operation"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
BALANCE_CACHE = Counter(
    "loyalty_gateway_balance_cache_total",
    "Balance reads by cache result: hit, miss, stale (served after a provider failure), "
    "bypass (Redis unavailable).",
    ["program", "result"],
    registry=REGISTRY,
)
TOKEN_CACHE = Counter(
    "loyalty_gateway_token_cache_total",
    "Upstream OAuth token lookups by result: hit, refresh, failure.",
    ["program", "result"],
    registry=REGISTRY,
)
IDEMPOTENCY = Counter(
    "loyalty_gateway_idempotency_total",
    "State-changing requests by Idempotency-Key result: new, replayed, conflict, "
    "in_progress, recovered (an earlier attempt's outcome was checked), unknown, suspect "
    "(a new key checked upstream first because Redis lost data recently).",
    ["result"],
    registry=REGISTRY,
)
IDEMPOTENCY_STORE = Counter(
    "loyalty_gateway_idempotency_record_failures_total",
    "Idempotency records Redis could not keep durably, by step (claim: the write was refused "
    "with 503; settle: answered without it; renew; schedule: the reconcile schedule on "
    "Cluster) and reason (not_replicated: fewer replicas "
    "acknowledged than redis.replica_acks; unavailable).",
    ["step", "reason"],
    registry=REGISTRY,
)
UNKNOWN_OPEN = Gauge(
    "loyalty_gateway_unknown_writes_open",
    "Writes whose outcome is still unknown (kept, looked up by the reconciler), by program "
    "and operation; read from Redis, the same in every worker.",
    ["program", "operation"],
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
UNKNOWN_RESOLVED = Counter(
    "loyalty_gateway_unknown_writes_resolved_total",
    "Unknown write outcomes ended, by program, operation, result (found: applied, stored; "
    "absent: never applied, key freed or re-sent; refused: the provider refused it; "
    "gave_up: still unknown after idempotency.reconcile.give_up_seconds; applied / "
    "not_applied: settled by an operator) and via (retry, reconciler, operator).",
    ["program", "operation", "result", "via"],
    registry=REGISTRY,
)
CIRCUIT_STATE = Gauge(
    "loyalty_gateway_circuit_state",
    "Circuit breaker state per program and operation group: 0 closed, 1 half-open, 2 open "
    "(worst worker). Every group a program's connector uses exists from start.",
    ["program", "group"],
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
CIRCUIT_OPENED = Counter(
    "loyalty_gateway_circuit_opened_total",
    "Times a circuit opened (a probe that failed opens it again), by program and group.",
    ["program", "group"],
    registry=REGISTRY,
)
CIRCUIT_HALF_OPENED = Counter(
    "loyalty_gateway_circuit_half_opened_total",
    "Times an open circuit let a probe call through (half-open), by program and group.",
    ["program", "group"],
    registry=REGISTRY,
)
UPSTREAM_CONNECTIONS = Gauge(
    "loyalty_gateway_upstream_connections",
    "Calls to a program's provider by state: in_use (holding one of the pool's "
    "connections), waiting (queued for one) and limit (the pool size); summed over workers.",
    ["program", "state"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
UPSTREAM_SATURATED = Counter(
    "loyalty_gateway_upstream_saturated_total",
    "Calls answered 503 by the gateway itself because the program's connection pool was "
    "full: reason queue_timeout (no connection within connections.queue_timeout_seconds) "
    "or queue_full (connections.max_waiting already waiting). Never counted as a provider "
    "failure.",
    ["program", "reason"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "loyalty_gateway_rate_limited_total",
    "Requests refused with 429 rate_limited, by client.",
    ["client"],
    registry=REGISTRY,
)
CONNECTIONS_REFUSED = Counter(
    "loyalty_gateway_connections_refused_total",
    "Connections the server ended for a limit, before the app: silent (no byte within "
    "server.header_timeout_seconds), header_timeout and body_timeout (408), head_too_large "
    "(431), busy (503, server.max_connections_per_worker).",
    ["limit"],
    registry=REGISTRY,
)

CIRCUIT_VALUES = {"closed": 0, "half_open": 1, "open": 2}


def exposition() -> bytes:
    """The text exposition: this process's registry, or every worker's in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
    return generate_latest(REGISTRY)


_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, remembered: prometheus-client's ``labels()`` validates and
    takes a lock on every call, a few microseconds on each request's path. The label values
    are bounded (see above), so this map is too."""
    key = (id(metric), labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found
