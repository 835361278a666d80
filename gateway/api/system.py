"""Probes and metrics: no API key needed (API.md "Operations")."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.api.state import services
from gateway.domain.errors import ServiceUnavailable
from gateway.infra import metrics


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get("/healthz", summary="Process is alive", tags=["operations"])
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", summary="Config loaded and Redis reachable", tags=["operations"])
async def readyz(request: Request[Any, Any, Any]) -> Health:
    try:
        await services(request).store.ping()
    except Exception:
        raise ServiceUnavailable("Redis is not reachable.") from None
    return Health(status="ok", checks={"config": "ok", "redis": "ok"})


@get("/openapi.json", summary="The OpenAPI document", include_in_schema=False)
async def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return schema


@get("/metrics", summary="Prometheus exposition", tags=["operations"], include_in_schema=False)
async def prometheus_metrics() -> Response[bytes]:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
