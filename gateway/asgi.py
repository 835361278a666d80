"""ASGI entry point for servers: ``uvicorn gateway.asgi:app`` with ``GATEWAY_CONFIG`` set."""

from __future__ import annotations

import os

from gateway.app import create_app
from gateway.settings import load_settings

_settings = load_settings(os.environ["GATEWAY_CONFIG"])
if _settings.redis.url is None and os.environ.get("LG_EMBEDDED_REDIS_URL"):
    _settings.redis.url = os.environ["LG_EMBEDDED_REDIS_URL"]  # shared by `gateway serve`
app = create_app(_settings)
