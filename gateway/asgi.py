"""ASGI entry point for servers: ``uvicorn gateway.asgi:app`` with ``GATEWAY_CONFIG`` set."""

from __future__ import annotations

import os

from gateway.app import create_app
from gateway.settings import load_settings

_settings = load_settings(os.environ["GATEWAY_CONFIG"])
app = create_app(_settings)
