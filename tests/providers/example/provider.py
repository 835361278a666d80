"""Example Stamps as the registry takes it."""

from __future__ import annotations

from gateway.connectors.provider import Provider
from tests.providers.example.client import ExampleConnector

PROVIDER = Provider(
    name="example",
    title="Example Stamps",
    connector=ExampleConnector,
    simulator="tests.providers.example.simulator",
    document="(none: a test-only provider)",
)
