"""ASGI entry point for servers: ``uvicorn gateway.asgi:app`` with ``GATEWAY_CONFIG`` set."""

from __future__ import annotations

import os

from gateway.app import create_app
from gateway.config import load_settings

_settings = load_settings(os.environ["GATEWAY_CONFIG"])
# the embedded Redis `gateway serve` started for its workers (when no redis.url is set)
app = create_app(_settings, embedded_url=os.environ.get("LG_EMBEDDED_REDIS_URL") or None)
