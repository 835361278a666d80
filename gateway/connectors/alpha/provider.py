"""The Alpha provider, as the registry lists it."""

from __future__ import annotations

from gateway.connectors.alpha.client import AlphaConnector
from gateway.connectors.provider import Provider

PROVIDER = Provider(
    name="alpha",
    title="Alpha",
    connector=AlphaConnector,
    simulator="gateway.connectors.alpha.simulator",
    document="alpha-recipients-api.txt",
    docs_page="docs/providers/alpha.md",
)
