"""Prometheus metrics. Labels are bounded: route templates, never raw paths or ids."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

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
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
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
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
