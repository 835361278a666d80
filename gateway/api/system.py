"""Probes and metrics: no API key needed (API.md "Operations")."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.api.openapi import problems
from gateway.api.state import services
from gateway.infra import metrics
from gateway.services import probes


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get(
    "/healthz",
    summary="Process is alive",
    description="With the embedded Redis (no `redis.url`) that Redis is part of the process: "
    "while it is down (being restarted) this answers 503.",
    tags=["operations"],
    responses=problems("healthz"),
)
async def healthz(request: Request[Any, Any, Any]) -> Health:
    svc = services(request)
    return Health(status="ok", checks=await probes.alive(svc.store, svc.embedded_store))


@get(
    "/readyz",
    summary="Config loaded and Redis usable",
    description="503 while Redis is unreachable, a Cluster has failing or unassigned slots, "
    "or a Sentinel master change is in progress. `checks.replicas` tells whether enough "
    "replicas acknowledge writes (`redis.replica_acks`); when not, writes answer 503 while "
    "reads go on, so it does not take the gateway out of service.",
    tags=["operations"],
    responses=problems("readyz"),
)
async def readyz(request: Request[Any, Any, Any]) -> Health:
    return Health(status="ok", checks=await probes.ready(services(request).store))


@get("/openapi.json", summary="The OpenAPI document", include_in_schema=False)
async def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return schema


#: prometheus-client's type already carries ``charset=utf-8``, and litestar adds one to every
#: text type: two charsets, which strict parsers (Go's mime, Prometheus's) refuse
_METRICS_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")


@get("/metrics", summary="Prometheus exposition", tags=["operations"], include_in_schema=False)
async def prometheus_metrics() -> Response[bytes]:
    return Response(metrics.exposition(), media_type=_METRICS_TYPE)
