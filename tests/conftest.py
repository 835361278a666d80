"""Session-wide sandbox: a real Redis, the provider simulators and the gateway over HTTP.

Redis is the server named by ``REDIS_URL`` when set, else a private real redis-server.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.config import parse_settings
from gateway.http_limits import uvicorn_options
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.sandbox.world import DEMO_API_KEY, READER_KEY, World
from gateway.settings import Settings


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis().start()
    try:
        yield server.url
    finally:
        server.stop()


LOG_FILE = Path(tempfile.gettempdir()) / f"lg-test-logs-{os.getpid()}.jsonl"


@pytest.fixture(scope="session")
def log_file() -> Path:
    """Where every gateway of this test session writes its logs."""
    return LOG_FILE


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    """The simulators; every gateway configured from it logs at debug level to LOG_FILE,
    which the last integration test scans for leaked PII and secrets."""
    LOG_FILE.unlink(missing_ok=True)
    started = World()
    started.log_level = "debug"
    started.log_output = str(LOG_FILE)
    started.start()
    try:
        yield started
    finally:
        started.stop()
        LOG_FILE.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def settings(world: World, redis_url: str) -> Settings:
    return parse_settings(world.config_yaml(redis_url=redis_url))


@pytest.fixture(scope="session")
def gateway_url(world: World, settings: Settings) -> str:
    return world.servers.add(create_app(settings), **uvicorn_options(settings.server))


@pytest.fixture
def api(gateway_url: str) -> Iterator[httpx.Client]:
    """A client with every scope on every program."""
    with httpx.Client(
        base_url=gateway_url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def reader(gateway_url: str) -> Iterator[httpx.Client]:
    """A client limited to alpha-store with members:read only."""
    with httpx.Client(
        base_url=gateway_url, headers={"Authorization": f"Bearer {READER_KEY}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def anonymous(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        yield client


def new_key() -> str:
    return str(uuid.uuid4())
